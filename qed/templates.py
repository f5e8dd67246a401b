"""Templates: the Jinja2 environment over the site's and the theme's `layouts/`, and Hugo's lookup.

A site's `layouts/` overrides the theme file of the same name. Which template renders a
page follows Hugo's lookup order (section-specific, then `_default/`, then the generic
name), so themes can be as small or as specific as they like.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import shutil
import traceback
from pathlib import Path
from typing import Any

import jinja2

from qed.content import Page, Site, base_path, term_path, urlize
from qed.errors import Diagnostics, Location, QedError, display_path, read_source
from qed.i18n import Translations, i18n_dirs, load_translations
from qed.markers import marker
from qed.shortcodes import template_filters

DEFAULT_THEME = Path(__file__).resolve().parent.parent / "theme"
_PACKAGED_THEME = Path(__file__).resolve().parent / "_theme"


def default_theme_dir() -> Path:
    """qed's own theme: the repository's `theme/`, or the copy shipped inside the package."""
    return DEFAULT_THEME if (DEFAULT_THEME / "layouts").is_dir() else _PACKAGED_THEME


def theme_dir(site_root: Path) -> Path:
    """The site's own `theme/` when it has one, else qed's default theme."""
    own = site_root / "theme"
    return own if (own / "layouts").is_dir() else default_theme_dir()


def layout_dirs(site_root: Path) -> list[Path]:
    """Template folders in lookup order: the site's `layouts/`, then the theme's."""
    dirs = [site_root / "layouts", theme_dir(site_root) / "layouts"]
    return [d for d in dirs if d.is_dir()]


class LayoutLoader(jinja2.FileSystemLoader):
    """Jinja's file loader, except that a layout which is not UTF-8 is a located error (its
    first bad byte) rather than a decoding exception from inside Jinja."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError:
            pieces = jinja2.loaders.split_template_path(template)
            for folder in self.searchpath:
                path = Path(folder, *pieces)
                if path.is_file():
                    read_source(path, display_path(path))  # raises the located error
            raise


def create_environment(site_root: Path, base_url: str, *, search_enabled: bool = False,
                       cache_dir: Path | None = None, clear: bool = False) -> jinja2.Environment:
    """The one Jinja2 environment of a build: strict about undefined names, autoescaping HTML;
    with `cache_dir`, templates compiled by an earlier build are loaded, not compiled again
    (`clear`: the kept ones are dropped first, as `--clean` drops every cache)."""
    loader = LayoutLoader([str(d) for d in layout_dirs(site_root)])
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "xml"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             auto_reload=False, cache_size=-1)
    words = load_translations(i18n_dirs(site_root, [default_theme_dir(), theme_dir(site_root)]))
    install_template_functions(env, base_url, search_enabled=search_enabled, translations=words, site_root=site_root)
    if cache_dir is not None:
        env.bytecode_cache = CompiledTemplates(cache_dir / f"templates-{_compiled_key(env)}", clear=clear)
    return env


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled by earlier builds (compiling every layout is a fifth of a warm
    build), each checked against its source by Jinja; a file that cannot be read or written
    only costs the compile."""

    def __init__(self, folder: Path, *, clear: bool = False):
        if clear:
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
        super().__init__(str(folder))

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled_key(env: jinja2.Environment) -> str:
    """What compiled code depends on besides its source: Jinja's version, this module (where
    the environment's options are set) and the filters and tests a template may name."""
    parts = [jinja2.__version__, Path(__file__).read_text(encoding="utf-8"), *sorted(env.filters), "|",
             *sorted(env.tests)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def install_template_functions(env: jinja2.Environment, base_url: str = "/", *, search_enabled: bool = False,
                               translations: Translations | None = None, site_root: Path | None = None) -> None:
    """The one place where template filters and globals are registered (`T`: the theme's words
    in the site's language, qed's own theme's words when no `translations` are given)."""
    prefix = base_path(base_url).rstrip("/")
    env.filters["relurl"] = lambda path: prefix + "/" + str(path).lstrip("/")
    env.filters["absurl"] = lambda path: base_url.rstrip("/") + "/" + str(path).lstrip("/")
    env.filters["urlize"] = urlize
    env.filters["safe_url"] = safe_url
    env.filters["date"] = format_date
    env.filters["isodate"] = lambda when: when.isoformat() if when else ""
    env.globals["term_url"] = lambda taxonomy, term: prefix + term_path(taxonomy, term)
    env.globals["now"] = dt.datetime.now
    env.globals["search_url"] = env.filters["relurl"]("search/") if search_enabled else ""
    env.globals["marker"] = marker
    env.globals["T"] = translations or load_translations([default_theme_dir() / "i18n"])
    env.globals["favicons"] = favicons(site_root)
    env.globals["menu_items"] = menu_items
    env.filters.update(template_filters())


_FAVICON_TYPES = {"favicon.svg": "image/svg+xml", "favicon.png": "image/png", "favicon.ico": "image/x-icon"}


def favicons(site_root: Path | None) -> list[tuple[str, str]]:
    """(path, type) of the icons a page links: the site's own `static/favicon.*` when it has
    any (so the theme's never hides them), else the theme's."""
    folders = ([site_root / "static"] if site_root is not None else []) + [default_theme_dir() / "static"]
    if site_root is not None:
        folders.insert(1, theme_dir(site_root) / "static")
    for folder in folders:
        found = [(name, kind) for name, kind in _FAVICON_TYPES.items() if (folder / name).is_file()]
        if found:
            return found
    return []


def menu_items(site: Site, name: str = "main") -> list[tuple[str, str]]:
    """(label, URL) of a menu from the config's `menu:` (Hugo's entries: name, url or pageRef,
    weight), in Hugo's order: weight (unweighted last), then name."""
    menus = site.config["menus"] if isinstance(site.config["menus"], dict) else {}
    entries = [e for e in menus.get(name) or [] if isinstance(e, dict)]
    items = []
    for entry in sorted(entries, key=lambda e: (not e.get("weight"), e.get("weight") or 0, str(e.get("name", "")))):
        target = site.get_page(str(entry["pageRef"])) if entry.get("pageRef") else None
        url = target.rel_permalink if target is not None else str(entry.get("url") or "/")
        items.append((str(entry.get("name") or (target.title if target is not None else url)), url))
    return items


_SAFE_SCHEMES = ("http", "https", "mailto")
UNSAFE_URL = "#ZgotmplZ"  # what Hugo's (Go's html/template) puts in place of a refused URL


def safe_url(url: object) -> str:
    """`url` when it is relative or http(s)/mailto; `javascript:`, `data:` and the like are
    replaced as Hugo's templates replace them, so a shortcode argument cannot run code."""
    text = str(url or "")
    scheme = re.match(r"\s*([A-Za-z][A-Za-z0-9+.-]*):", text.replace("\t", "").replace("\n", ""))
    if scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES:
        return text
    return UNSAFE_URL


def check_templates(env: jinja2.Environment, diagnostics: Diagnostics) -> None:
    """Compile every template now, so that a syntax error stops the build before the slow
    stages (verifiers, KaTeX) instead of after them."""
    for name in env.list_templates(extensions=("html", "xml")):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            diagnostics.add(template_error(exc))
        except QedError as error:  # a layout that is not UTF-8
            diagnostics.add(error)


def format_date(when: dt.datetime | None, fmt: str = "%B %-d, %Y") -> str:
    """A date for readers ("January 2, 2006" by default); empty for a page without one."""
    return when.strftime(fmt) if when else ""


def lookup_names(page: Page) -> list[str]:
    """Candidate template names for a page, most specific first (Hugo's lookup order)."""
    section = page.section
    layout = page.layout
    if page.kind == "page":
        names = [layout, "single"] if layout else ["single"]
        found = [f"{section}/{n}.html" for n in names if section]
        return [*found, *(f"_default/{n}.html" for n in names), *(f"{n}.html" for n in names)]
    generic = {
        "home": ["home", "index", "list"],
        "section": ["section", "list"],
        "taxonomy": ["taxonomy", "terms", "list"],
        "term": ["term", "taxonomy", "list"],
    }[page.kind]
    specific = [f"{section}/{n}.html" for n in ("list",) if section and page.kind == "section"]
    return [*specific, *(f"_default/{n}.html" for n in generic), *(f"{n}.html" for n in generic)]


def select_template(env: jinja2.Environment, page: Page) -> jinja2.Template:
    """The first template of the lookup order that exists."""
    names = lookup_names(page)
    try:
        return env.select_template(names)
    except jinja2.TemplatesNotFound:
        raise QedError(f"no template for this {page.kind} page (looked for {', '.join(names)})",
                       page.location()) from None
    except jinja2.TemplateSyntaxError as exc:
        raise template_error(exc) from None


def render_page(env: jinja2.Environment, page: Page, site: Site, extra: dict[str, Any] | None = None) -> str:
    """Render a page's HTML document; a template mistake is reported at its template line."""
    template = select_template(env, page)
    context = {"page": page, "site": site, "config": site.config, **(extra or {})}
    try:
        return template.render(context)
    except jinja2.TemplateError as exc:
        raise template_error(exc) from None


def render_named(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render a template by name (404 page, verification page, feed)."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateError as exc:
        raise template_error(exc) from None


_GO_TEMPLATE_RE = re.compile(r"\{\{-?\s*(?:\.[A-Z]|define\s+\"|block\s+\"|partial\s+\"|end\s*-?\}\}|range\s|with\s)")
_GO_TEMPLATE_HINT = ("; this looks like a Hugo (Go) template, and qed's templates are Jinja2: port it "
                     "(`{{ .Title }}` becomes `{{ page.title }}`) or move it out of layouts/ to use qed's theme")


def template_error(exc: jinja2.TemplateError) -> QedError:
    """Turn a Jinja error into `template:line: message`, finding the template frame."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        hint = _GO_TEMPLATE_HINT if exc.source and _GO_TEMPLATE_RE.search(exc.source) else ""
        return QedError(f"template error: {exc.message}{hint}", Location(display_path(exc.filename), exc.lineno or 0))
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".xml")):
            return QedError(f"template error: {exc}", Location(display_path(frame.filename), frame.lineno or 0))
    return QedError(f"template error: {exc}")
