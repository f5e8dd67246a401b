"""Typesetting formulas with KaTeX at build time, in an embedded V8 (mini-racer).

Rendering in the build instead of the browser means no flash of raw TeX, math that works
in feeds and summaries, and every TeX error reported as `path:line:col` before anything is
published. KaTeX costs about a millisecond per formula, so each page's formulas go to V8
in one call, and results are kept on disk (`qed.disk_cache`) keyed on everything that can change the output:
a second build renders only formulas it has not seen.

Where KaTeX comes from, first match wins: `math.katex.dist`, `$QED_KATEX_DIST` (both
exclusive: a wrong path is reported, not silently replaced), Debian's libjs-katex, a
pinned release already downloaded to the user cache, or that release downloaded once
(checked against its sha256). With none of them the pages keep their TeX for KaTeX's
auto-render in the browser, with one warning (an error under `math.strict`).

Nothing here is module-level mutable state: each process (parallel builds) makes its own
`KatexRenderer`, which starts V8 only when a formula actually needs rendering.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qed.disk_cache import DiskCache
from qed.errors import Diagnostics, Location
from qed.math import (
    _DEFINITION_RE,
    PINNED_KATEX_VERSION,
    Formula,
    MathSettings,
    PageMath,
    TypesetMath,
    client_side_html,
    substitute_references,
    wrap_html,
)

DEBIAN_DIST = Path("/usr/share/javascript/katex")
ENV_DIST = "QED_KATEX_DIST"
CDN = "https://cdn.jsdelivr.net/npm/katex@{version}/dist/"
TARBALL = "https://registry.npmjs.org/katex/-/katex-{version}.tgz"
CACHE_FORMAT = 1
_VERSION_RE = re.compile(rb'version:"(\d+\.\d+\.\d+)"')


@dataclass(frozen=True)
class Pin:
    """A KaTeX release we know the hashes of: its npm tarball and the CDN files we link."""

    tarball_sha256: str
    css: str  # SRI of dist/katex.min.css
    js: str
    copy_tex: str
    auto_render: str


PINS: dict[str, Pin] = {
    "0.16.21": Pin(
        "7764a23b6c42d0a260fc1c8dcfe91d73e07d802dfc0624c08997b33c02dac0cd",
        "sha384-zh0CIslj+VczCZtlzBcjt5ppRcsAmDnRem7ESsYwWwg3m/OaJ2l4x7YBZl9Kxxib",
        "sha384-Rma6DA2IPUwhNxmrB/7S3Tno0YY7sFu9WSYMCuulLhIqYSGZ2gKCJWIqhBWqMQfh",
        "sha384-HORx6nWi8j5/mYA+y57/9/CZc5z8HnEw4WUZWy5yOn9ToKBv1l58vJaufFAn9Zzi",
        "sha384-hCXGrW6PitJEwbkoStFjeJxv+fSOOQKOPbJxSfM6G5sWZjAyWhXiTIIAmQqnlLlh"),
    "0.16.4": Pin(
        "079333bb5ea5501b3636e40301f7af8b68663d7cd51d1b20eae02442b73c6973",
        "sha384-vKruj+a13U8yHIkAyGgK1J3ArTLzrFGBbBc0tDp4ad/EyewESeXE/Iv67Aj8gKZ0",
        "sha384-PwRUT/YqbnEjkZO0zZxNqcxACrXe+j766U2amXcgMg5457rve2Y7I6ZJSm2A0mS4",
        "sha384-ww/583aHhxWkz5DEVn6OKtNiIaLi2iBRNZXfJRiY1Ai7tnJ9UXpEsyvOITVpTl4A",
        "sha384-+VBxd3r6XgURycqtZ117nYw44OOcIax56Z4dCRWbxyPt0Koah1uHoK0o4+/RRE05"),
}


# -- locating KaTeX ----------------------------------------------------------------------

@dataclass(frozen=True)
class KatexDist:
    """A KaTeX distribution folder: katex.min.js (+ katex.min.css, fonts/, contrib/)."""

    root: Path
    version: str
    origin: str  # "config", "env", "debian", "cache", "download"

    @property
    def js(self) -> Path:
        return self.root / "katex.min.js"

    @property
    def css(self) -> Path:
        return self.root / "katex.min.css"

    @property
    def fonts(self) -> Path:
        return self.root / "fonts"

    @property
    def mhchem(self) -> Path | None:
        """contrib's mhchem (`\\ce`, `\\pu`): npm ships it minified, Debian not."""
        for name in ("mhchem.min.js", "mhchem.js"):
            if (self.root / "contrib" / name).is_file():
                return self.root / "contrib" / name
        return None

    @property
    def copy_tex(self) -> Path | None:
        for name in ("copy-tex.min.js", "copy-tex.js"):
            if (self.root / "contrib" / name).is_file():
                return self.root / "contrib" / name
        return None


def dist_at(root: Path, origin: str) -> KatexDist | None:
    """The distribution in `root`, or None when it has no katex.min.js."""
    js = root / "katex.min.js"
    if not js.is_file():
        return None
    match = _VERSION_RE.search(js.read_bytes())
    return KatexDist(root, match.group(1).decode() if match else "unknown", origin)


def user_cache_dir() -> Path:
    """Where downloaded KaTeX releases live: outside every project, shared by all of them."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qed" / "katex"


def locate_katex(settings: MathSettings, diagnostics: Diagnostics, *, user_cache: Path | None = None,
                 debian: Path = DEBIAN_DIST, url: str | None = None) -> tuple[KatexDist | None, str]:
    """(distribution, why not) — the first KaTeX found in the documented order."""
    configured = settings.katex_dist
    if configured:
        path = Path(os.path.expanduser(configured))
        if not path.is_absolute() and settings.project_root:
            path = Path(settings.project_root) / path
        found = dist_at(path, "config")
        return found, "" if found else f"math.katex.dist '{configured}' has no katex.min.js"
    env = os.environ.get(ENV_DIST)
    if env:
        found = dist_at(Path(env), "env")
        return found, "" if found else f"${ENV_DIST} '{env}' has no katex.min.js"
    found = dist_at(debian, "debian")
    if found:
        return found, ""
    found = dist_at((user_cache or user_cache_dir()) / settings.version, "cache")
    if found or not settings.download:
        return found, "" if found else "no KaTeX installed (libjs-katex) and math.katex.download is false"
    try:
        return fetch_katex(settings.version, user_cache=user_cache, url=url), ""
    except (OSError, ValueError, tarfile.TarError) as error:
        return None, f"KaTeX {settings.version} could not be downloaded ({error})"


def fetch_katex(version: str = PINNED_KATEX_VERSION, *, user_cache: Path | None = None,
                url: str | None = None) -> KatexDist:
    """A release in the user cache, downloaded and checked first if it is not there (what a
    build falls back to without Debian's KaTeX; CI fetches the pinned one for browser tests)."""
    target = (user_cache or user_cache_dir()) / version
    found = dist_at(target, "cache")
    if found is None:
        download_katex(version, target, url=url)
        found = dist_at(target, "download")
    if found is None:
        raise ValueError(f"KaTeX {version} in {target} has no katex.min.js")
    return found


def download_katex(version: str, target: Path, *, url: str | None = None, pins: dict[str, Pin] = PINS) -> None:
    """Fetch a pinned release once into `target`, refusing anything whose sha256 differs."""
    pin = pins.get(version)
    if pin is None:
        raise ValueError(f"no checksum known for KaTeX {version} (known: {', '.join(sorted(pins))})")
    with urllib.request.urlopen(url or TARBALL.format(version=version), timeout=30) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != pin.tarball_sha256:
        raise ValueError(f"checksum mismatch: got sha256 {digest}, expected {pin.tarball_sha256}")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".katex-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                _extract_dist_member(archive, member, staging)
        if target.exists():
            shutil.rmtree(staging)
            return
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _extract_dist_member(archive: tarfile.TarFile, member: tarfile.TarInfo, staging: Path) -> None:
    """Only regular files under package/dist/, written by name (no path tricks possible)."""
    prefix = "package/dist/"
    if not member.isfile() or not member.name.startswith(prefix):
        return
    relative = Path(member.name[len(prefix):])
    if relative.is_absolute() or ".." in relative.parts:
        return
    destination = staging / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = archive.extractfile(member)
    if source is not None:
        destination.write_bytes(source.read())


# -- rendering ---------------------------------------------------------------------------

_JS = r"""
var qedTrust = function (c) {
  return c.command === "\\href" && ["_relative", "http", "https"].indexOf(c.protocol) >= 0;
};
function qedRender(itemsJson, macrosJson, strictMode) {
  // Returns the results' JSON (errors, warnings), a NUL, then the HTML of each item joined by
  // NULs: 65 MB of HTML escaped into JSON and parsed back cost more than KaTeX's own work.
  var items = JSON.parse(itemsJson), macros = JSON.parse(macrosJson), out = [], htmls = [];
  for (var i = 0; i < items.length; i++) {
    var it = items[i], warnings = [], h = "";
    var opts = {displayMode: it.d, macros: macros, globalGroup: true, throwOnError: true,
                output: "htmlAndMathml", trust: qedTrust,
                strict: function (code, message) {
                  if (strictMode === "warn") { warnings.push(message); return "ignore"; }
                  return strictMode; }};
    try {
      if (it.def) {
        var before = Object.assign({}, macros);
        if (katex.__parse(it.t, opts).length === 0) { out.push({w: warnings}); htmls.push(""); continue; }
        for (var name in macros) { delete macros[name]; }
        Object.assign(macros, before);
        warnings = [];
      }
      h = it.k ? katex.renderToString(it.t, opts) : (katex.renderToString(it.t, opts), "");
      out.push(h.indexOf("\u0000") < 0 ? {w: warnings} : {w: warnings, h: h});  // a NUL: inside the JSON
    } catch (e) {
      out.push({e: String((e && e.message) || e), p: (e && e.position) || 0});
      h = "";
    }
    htmls.push(h.indexOf("\u0000") < 0 ? h : "");
  }
  return JSON.stringify(out) + "\u0000" + htmls.join("\u0000");
}
"""


@dataclass
class MathStats:
    """Counters for the progress line and the benchmark."""

    total: int = 0  # formulas given HTML
    rendered: int = 0  # typeset by KaTeX in this process
    cached: int = 0  # taken from the disk cache
    failed: int = 0  # formulas KaTeX could not typeset (errors, or warnings under math.errors: warning)
    seconds: float = 0.0  # time spent inside KaTeX
    rule: str = ""  # how the formulas were found (`MathSettings.rule`), for the summary

    def since(self, before: MathStats) -> MathStats:
        """What was counted after `before` was taken."""
        return MathStats(self.total - before.total, self.rendered - before.rendered, self.cached - before.cached,
                         self.failed - before.failed, self.seconds - before.seconds, self.rule)

    def add(self, other: MathStats) -> None:
        self.total += other.total
        self.rendered += other.rendered
        self.cached += other.cached
        self.failed += other.failed
        self.seconds += other.seconds


@dataclass
class _Step:
    index: int  # the formula's marker key
    formula: Formula
    tex: str
    key: str
    keep: bool  # False: run only for the macros it defines
    twins: list[int] = field(default_factory=list)  # same formula later on the page: same HTML


@dataclass
class _Work:
    """One page while it is typeset: its formulas, the labels `\\eqref` reads, the HTML so far."""

    page: PageMath
    labels: Mapping[str, Any] | None
    html: list[str | None]
    client_side: bool = False


class KatexRenderer:
    """Typesets the formulas of pages, one V8 call per page, through a disk cache."""

    def __init__(self, settings: MathSettings, cache_dir: Path | None, diagnostics: Diagnostics, *,
                 dist: KatexDist | str | None = "locate", user_cache: Path | None = None, refresh: bool = False):
        self.settings = settings
        self._cache = DiskCache(Path(cache_dir) / "katex.sqlite" if cache_dir is not None else None,
                                clear=refresh, diagnostics=diagnostics)
        self.diagnostics = diagnostics
        self.stats = MathStats(rule=settings.rule)
        self._user_cache = user_cache
        self._dist: KatexDist | str | None = dist
        self._why_missing = ""
        self._warned = False
        self._v8: Any = None
        self._fingerprint: str | None = None
        self._owner = os.getpid()
        self._forked: KatexRenderer | None = None
        self._unwritten = 0  # pages typeset since the cache was last written

    @property
    def dist(self) -> KatexDist | None:
        if self._dist == "locate":
            self._dist, self._why_missing = locate_katex(self.settings, self.diagnostics, user_cache=self._user_cache)
        return self._dist  # type: ignore[return-value]

    @property
    def version(self) -> str:
        return self.dist.version if self.dist is not None else self.settings.version

    def typeset_page(self, page: PageMath, labels: Mapping[str, Any] | None = None) -> TypesetMath:
        """Every formula of the page as HTML, in this process; TeX errors go to the diagnostics."""
        return self._typeset_one(_Work(page, labels, [None] * len(page.formulas)))

    def ready_to_fork(self) -> bool:
        """Prepare for pages typeset in forked processes (KaTeX located, the cache opened and,
        on `--clean`, emptied, here and once); whether they may be: V8 is not running here
        yet (its threads would not survive a fork) and KaTeX was found (without it, formulas
        are left for the browser with one warning, given here)."""
        self._cache.open()
        return self.dist is not None and not _v8_started()

    def typeset_in_process(self, page: PageMath, labels: Mapping[str, Any] | None, diagnostics: Diagnostics, *,
                           last: bool = False) -> tuple[TypesetMath, MathStats]:
        """One page's formulas in whatever process calls (a forked worker starts its own V8
        and cache connection), its messages given to `diagnostics`; with what it counted.
        `last`: the caller's final page in this process, after which its new formulas are
        written to the disk cache."""
        renderer = self if os.getpid() == self._owner else self._worker()
        before = replace(renderer.stats)
        kept, renderer.diagnostics = renderer.diagnostics, diagnostics
        try:
            typeset = renderer._typeset_one(_Work(page, labels, [None] * len(page.formulas)))
        finally:
            renderer.diagnostics = kept
        if last and renderer is not self:
            renderer._cache.flush()
        return typeset, renderer.stats.since(before)

    def _typeset_one(self, item: _Work) -> TypesetMath:
        """One page's formulas, from the cache or V8 (or left for the browser without KaTeX)."""
        if item.page.formulas:
            self.stats.total += len(item.page.formulas)
            if self.dist is None:
                self._client_side(item)
            else:
                self._typeset(self, item)
        version = self.dist.version if self.dist is not None else None
        return TypesetMath(item.page, tuple(h or "" for h in item.html), item.client_side, version)

    @staticmethod
    def _typeset(renderer: KatexRenderer, item: _Work) -> None:
        """Typeset what the cache does not have yet (an earlier page may have added some)."""
        steps = renderer._plan(item)
        if any(step.keep for step in steps):
            renderer._run(item, steps)
            renderer._unwritten += 1
            if renderer._unwritten >= FLUSH_PAGES:  # one transaction per batch of pages, not per page
                renderer._cache.flush()
                renderer._unwritten = 0

    def _worker(self) -> KatexRenderer:
        """This renderer's twin for a forked process: its own V8 and cache connection."""
        if self._forked is None or self._forked._owner != os.getpid():
            self._forked = KatexRenderer(self.settings, self._cache.path.parent if self._cache.path else None,
                                         Diagnostics(), dist=self.dist)
        return self._forked

    def _plan(self, item: _Work) -> list[_Step]:
        """Cached formulas get their HTML now; the rest (and every macro definition) go to V8."""
        macros = item.page.macros
        all_define = any(_DEFINITION_RE.search(body) for body in macros.values())
        base = hashlib.sha256(json.dumps([CACHE_FORMAT, self._katex_fingerprint(), self.settings.katex_strict,
                                          self.settings.mhchem, sorted(macros.items())]).encode()).hexdigest()
        defs = hashlib.sha256(base.encode())
        planned = []
        for index, formula in item.page.ordered():
            tex = substitute_references(formula.render_tex or formula.tex, item.labels)
            key = hashlib.sha256(f"{defs.hexdigest()}\0{int(formula.display)}\0{tex}".encode()).hexdigest()
            defines = all_define or formula.defines_macros
            planned.append((index, formula, tex, key, defines))
            if defines:
                defs.update(tex.encode() + b"\0")
        cached = self._cache.get_many(key for index, _, _, key, _ in planned if item.html[index] is None)
        steps: list[_Step] = []
        first: dict[str, _Step] = {}
        for index, formula, tex, key, defines in planned:
            if item.html[index] is None:
                html_text = cached.get(key)
                if html_text is not None:
                    item.html[index] = html_text if html_text == "" else wrap_html(formula, html_text)
                    self.stats.cached += 1
                elif key in first and not defines:
                    first[key].twins.append(index)
                else:
                    steps.append(_Step(index, formula, tex, key, keep=True))
                    if not defines:
                        first[key] = steps[-1]
            if defines and (not steps or steps[-1].formula is not formula):
                steps.append(_Step(index, formula, tex, key, keep=False))
        return steps

    def _run(self, item: _Work, steps: list[_Step]) -> None:
        items = [{"t": s.tex, "d": s.formula.display, "k": s.keep,
                  "def": bool(_DEFINITION_RE.search(s.tex))} for s in steps]
        started = time.perf_counter()
        raw = self._engine().call("qedRender", json.dumps(items), json.dumps(dict(item.page.macros)),
                                  self.settings.katex_strict)
        self.stats.seconds += time.perf_counter() - started
        results, _, joined = raw.partition("\0")
        for step, result, html_text in zip(steps, json.loads(results), joined.split("\0"), strict=True):
            if not step.keep:
                continue
            result.setdefault("h", html_text)
            if "e" in result:
                for index in (step.index, *step.twins):
                    item.html[index] = self._failed(item.page.formulas[index], result["e"], result.get("p") or 0)
                continue
            self.stats.rendered += 1
            for warning in result.get("w") or []:
                self.diagnostics.warning(f"TeX warning: {warning} in {_clip(step.formula.source)}",
                                         step.formula.location)
            if not result.get("w"):
                self._cache.put(step.key, result["h"])
            for index in (step.index, *step.twins):
                formula = item.page.formulas[index]
                item.html[index] = "" if result["h"] == "" else wrap_html(formula, result["h"])

    def _failed(self, formula: Formula, message: str, position: int) -> str:
        """Report a TeX error at its place; the formula shows as `error_html` draws it."""
        self.stats.failed += 1
        text = f"TeX error: {clean_katex_message(message)} in {_clip(formula.source)}"
        location = error_location(formula, position)
        if self.settings.errors == "warn":
            self.diagnostics.warning(text, location)
        else:
            self.diagnostics.error(text, location)
        return error_html(self.settings, formula, message)

    def _client_side(self, item: _Work) -> None:
        if not self._warned:
            self._warned = True
            message = (f"KaTeX is not available ({self._why_missing}): formulas are left for KaTeX's auto-render "
                       f"in the browser. Install Debian's libjs-katex, or set math.katex.dist / ${ENV_DIST}")
            (self.diagnostics.error if self.settings.strict else self.diagnostics.warning)(message, None)
        item.client_side = True
        item.html[:] = [client_side_html(formula) for formula in item.page.formulas]

    def _engine(self) -> Any:
        """V8 with KaTeX loaded: started once per renderer (so once per process), on first use."""
        if self._v8 is None:
            from py_mini_racer import MiniRacer

            engine = MiniRacer()
            engine.eval(self.dist.js.read_text(encoding="utf-8"))  # type: ignore[union-attr]
            if self.settings.mhchem:
                self._load_mhchem(engine)
            engine.eval(_JS)
            self._v8 = engine
        return self._v8

    def _load_mhchem(self, engine: Any) -> None:
        """KaTeX's mhchem extension into V8 (it registers `\\ce` and `\\pu` with the global katex)."""
        mhchem = self.dist.mhchem  # type: ignore[union-attr]
        if mhchem is None:
            self.diagnostics.warning(f"math.mhchem is on but the KaTeX in {self.dist.root} has no contrib/mhchem: "  # type: ignore[union-attr]
                                     "\\ce and \\pu cannot be typeset", None)
            return
        engine.eval(mhchem.read_text(encoding="utf-8"))

    def fingerprint(self) -> str:
        """What says which KaTeX typesets (or that none does: formulas left for the browser)."""
        return self._katex_fingerprint() if self.dist is not None else f"browser:{self.settings.version}"

    def _katex_fingerprint(self) -> str:
        """The KaTeX build itself, not just its version: Debian's rebuild may differ from npm's."""
        if self._fingerprint is None:
            digest = hashlib.sha256(self.dist.js.read_bytes()).hexdigest()[:16]  # type: ignore[union-attr]
            self._fingerprint = f"{self.version}:{digest}"
        return self._fingerprint

    def close(self) -> None:
        """Write what is left to the disk cache and let go of it, and of V8 (its heap is
        a good part of a process's memory: publishing should not carry it)."""
        self._cache.close()
        if self._v8 is not None:
            self._v8.close()
            self._v8 = None

    def head_html(self, has_math: bool, base_url: str, *, client_side: bool = False,
                  macros: dict[str, str] | None = None) -> str:
        return head_html(self.settings, has_math, base_url, client_side=client_side, macros=macros,
                         version=self.version)


def page_head_html(typeset: TypesetMath, base_url: str) -> str:
    """Stylesheet (and, without KaTeX at build time, scripts) for a page with math, for the
    KaTeX that rendered it."""
    page = typeset.page
    return head_html(page.settings, bool(page.formulas), base_url, client_side=typeset.client_side,
                     macros=dict(page.macros), version=typeset.katex_version)


FLUSH_PAGES = 50  # pages of new formulas buffered before they are written to the disk cache


def _v8_started() -> bool:
    """Whether this process already runs V8: its threads would not survive a fork."""
    try:
        from py_mini_racer import _dll
    except ImportError:
        return True
    return getattr(_dll, "_dll_handle", True) is not None


def error_html(settings: MathSettings, formula: Formula, message: str) -> str:
    """A formula KaTeX could not typeset, as the page shows it: under KaTeX's auto-render
    (LoveIt, DoIt, FixIt before 0.4) its text stays as it was, delimiters and all; as
    KaTeX's `throwOnError: false` draws it (FixIt's server side) its TeX in the error
    colour; qed's own: its source in red, the message as a tooltip."""
    reason = html.escape(clean_katex_message(message))
    if settings.error_style == "text":
        return html.escape(formula.shown if formula.shown is not None else formula.source, quote=False)
    if settings.error_style == "katex":
        return (f'<span class="katex-error" title="ParseError: KaTeX parse error: {reason}" '
                f'style="color:{html.escape(settings.error_color)}">{html.escape(formula.tex, quote=False)}</span>')
    return f'<span class="katex-error" title="{reason}">{html.escape(formula.source)}</span>'


def clean_katex_message(message: str) -> str:
    """KaTeX's message without its prefix and the underlined context (shown as the formula)."""
    message = re.sub(r"^(?:ParseError: )?KaTeX parse error: ", "", message.strip())
    match = re.match(r"(.*? (?:at position \d+|at end of input)):", message, re.S)
    return (match.group(1) if match else message).strip()


def error_location(formula: Formula, position: int) -> Location:
    """Where the error is: KaTeX's 0-based `position` in the source when the TeX is verbatim."""
    location = formula.location
    unchanged = formula.render_tex in (None, formula.tex)
    start = formula.source.find(formula.tex) if unchanged and formula.tex else -1
    if position <= 0 or start < 0:
        return location
    before = formula.source[: start + position]
    lines = before.count("\n")
    if lines == 0:
        return Location(location.path, location.line, location.col + len(before))
    return Location(location.path, location.line + lines, len(before) - before.rfind("\n"))


def _clip(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- page head and static files ------------------------------------------------------------

def head_html(settings: MathSettings, has_math: bool, base_url: str, *, client_side: bool = False,
              macros: dict[str, str] | None = None, version: str | None = None) -> str:
    """`<head>` additions for a page with math: KaTeX's CSS, ours, and copy-as-TeX.

    Self-hosted files live under `/katex/` (see `static_files`); otherwise the CDN copy of
    the version that rendered the HTML, with an SRI hash when we know it. Client-side
    rendering adds KaTeX and auto-render from the CDN with the site's macros.
    """
    if not has_math:
        return ""
    root = _base_path(base_url)
    version = version or settings.version
    pin = PINS.get(version)
    parts = []
    if settings.self_host and not client_side:
        parts.append(f'<link rel="stylesheet" href="{root}katex/katex.min.css">')
        parts.append(f'<script defer src="{root}katex/contrib/copy-tex.js"></script>')
    else:
        if client_side and version not in PINS:
            version, pin = settings.version, PINS.get(settings.version)
        cdn = CDN.format(version=version)
        parts.append(f'<link rel="stylesheet" href="{cdn}katex.min.css"{_sri(pin.css if pin else None)}>')
        parts.append(f'<script defer src="{cdn}contrib/copy-tex.min.js"{_sri(pin.copy_tex if pin else None)}>'
                     "</script>")
        if client_side:
            parts.append(f'<script defer src="{cdn}katex.min.js"{_sri(pin.js if pin else None)}></script>')
            parts.append(f'<script defer src="{cdn}contrib/auto-render.min.js"'
                         f'{_sri(pin.auto_render if pin else None)}></script>')
            parts.append(_auto_render_script(macros or settings.macro_dict))
    parts.append(f'<link rel="stylesheet" href="{root}css/math.css">')
    return "\n".join(parts)


def _sri(integrity: str | None) -> str:
    return f' integrity="{integrity}" crossorigin="anonymous"' if integrity else ""


def _auto_render_script(macros: dict[str, str]) -> str:
    options = {"delimiters": [{"left": "\\[", "right": "\\]", "display": True},
                              {"left": "\\(", "right": "\\)", "display": False}],
               "macros": macros, "globalGroup": True, "throwOnError": False, "trust": False}
    config = json.dumps(options).replace("</", "<\\/")
    return ("<script>document.addEventListener(\"DOMContentLoaded\", function () {"
            f"renderMathInElement(document.body, {config});}});</script>")


def _base_path(base_url: str) -> str:
    path = urllib.parse.urlparse(base_url).path if "://" in base_url else base_url
    path = path or "/"
    return path if path.endswith("/") else path + "/"


def static_files(settings: MathSettings) -> list[tuple[Path, str]]:
    """(source, path in the output) of KaTeX's CSS, fonts and copy-tex, when self-hosting."""
    if not settings.self_host:
        return []
    dist, _ = locate_katex(settings, Diagnostics())
    if dist is None:
        return []
    files = [(dist.css, "katex/katex.min.css")] if dist.css.is_file() else []
    if dist.fonts.is_dir():
        files += [(font, f"katex/fonts/{font.name}") for font in sorted(dist.fonts.iterdir()) if font.is_file()]
    if dist.copy_tex is not None:
        files.append((dist.copy_tex, "katex/contrib/copy-tex.js"))
    return files
