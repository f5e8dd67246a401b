"""Rendering one page's body: shortcodes → markdown (with math protected) → markers.

The stages of a body share one `BodyContext`. Output that depends on the whole site
(shortcode HTML, formulas, theorem badges, references) is left as markers
(`qed.markers`) and filled in by the link stage once every page has been read.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qed import alerts, math, shortcodes, theorems
from qed.body import BodyContext
from qed.errors import Diagnostics, Location
from qed.markdown import HeadingIds, MarkdownOptions, build_toc, create_markdown, render_inline, render_markdown
from qed.markers import unwrap_block_markers
from qed.parallel import map_in_processes
from qed.templates import layout_dirs


@dataclass(frozen=True)
class BodyTools:
    """What every page body of a build is rendered with: built once, shared by all pages."""

    md: Any  # markdown_it.MarkdownIt from qed.markdown.create_markdown
    templates: Any
    math_settings: Any  # qed.math.MathSettings
    theorem_settings: Any  # qed.theorems.TheoremSettings


def render_bodies(site: Any, templates: Any, diagnostics: Diagnostics, progress: Callable[[str], None] | None = None,
                  *, jobs: int = 1, cache: Any = None) -> list[BodyContext]:
    """Render the body of every page read from a file (generated list pages have none),
    in `jobs` processes; messages come out in page order whatever the number of processes.

    With a `cache` (`qed.disk_cache.DiskCache`), a body rendered by an earlier build is
    reused when nothing it can depend on has changed (see `body_keys`)."""

    tools = create_body_tools(site, templates, diagnostics)
    pages = [page for page in site.all_pages if page.file is not None]
    keys = body_keys(site, pages) if cache is not None else [""] * len(pages)
    stored = cache.get_many(keys) if cache is not None else {}
    reused = {key: body for key in keys if (body := RenderedBody.restore(stored.get(key))) is not None}
    todo = [page for page, key in zip(pages, keys, strict=True) if key not in reused]

    def render_pickled(page: Any) -> bytes:
        """Pickled here, once: the same bytes cross the pipe and go into the cache."""
        page_diagnostics = Diagnostics()
        return RenderedBody.detach(render_body(page, site, tools, page_diagnostics), page_diagnostics).dumps()

    if progress:
        progress(f"rendering {len(todo)} of {len(pages)} pages")
    key_of = {id(page): key for page, key in zip(pages, keys, strict=True)}
    fresh: dict[int, RenderedBody] = {}
    for page, data in zip(todo, map_in_processes(render_pickled, todo, jobs), strict=True):
        body = fresh[id(page)] = pickle.loads(data)
        if cache is not None and not body.diagnostics.errors:
            cache.put(key_of[id(page)], data)
    if cache is not None:
        cache.close()
    return [(fresh.get(id(page)) or reused[key]).attach(page, site, tools, diagnostics)
            for page, key in zip(pages, keys, strict=True)]


def body_keys(site: Any, pages: list[Any]) -> list[str]:
    """Cache keys for page bodies: the page's file, and everything a body may read besides:
    the config, every template, every page's front matter and URL (references, `site.pages`),
    and the code that renders (qed and its markdown, template and highlighting libraries)."""
    shared = hashlib.sha256()
    for part in (_code_fingerprint(), json.dumps(site.config.raw, sort_keys=True, default=str),
                 _templates_fingerprint(site.project_root), _pages_fingerprint(site)):
        shared.update(part.encode() + b"\0")
    base = shared.hexdigest()
    return [hashlib.sha256(f"{base}\0{page.source_path}\0{page.file.text}".encode()).hexdigest() for page in pages]


def _code_fingerprint() -> str:
    import jinja2
    import markdown_it
    import mdit_py_plugins
    import pygments

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    versions = [jinja2.__version__, markdown_it.__version__, mdit_py_plugins.__version__, pygments.__version__]
    return digest.hexdigest() + ":".join(versions)


def _templates_fingerprint(site_root: Path) -> str:

    digest = hashlib.sha256()
    for folder in layout_dirs(site_root):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(folder)}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _pages_fingerprint(site: Any) -> str:
    rows = [[page.kind, page.source_path, page.path, page.permalink, page.title, page.section, page.date,
             page.lastmod, page.weight, page.draft, page.params, page.tags, page.categories, page.aliases,
             page.description, page.front_matter] for page in site.all_pages]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class RenderedBody:
    """A rendered body without its links to the site, so that it can come back from a
    worker process: the page's outputs, the context's findings, the page's messages."""

    ctx: BodyContext
    content: str
    toc: str
    title_html: str | None
    diagnostics: Diagnostics

    @classmethod
    def detach(cls, ctx: BodyContext, diagnostics: Diagnostics) -> RenderedBody:
        page = ctx.page
        ctx.page = ctx.site = ctx.templates = ctx.diagnostics = ctx.source = None
        ctx.markdown = ctx.markdown_inline = None  # type: ignore[assignment]
        if ctx.math is not None:
            ctx.math.detach()
        if ctx.claims is not None:
            ctx.claims.ctx = None
        return cls(ctx, page.content, page.toc, page.title_html, diagnostics)

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def restore(data: bytes | None) -> RenderedBody | None:
        """A body from the cache, or None when there is none or it cannot be read back."""
        if data is None:
            return None
        try:
            body = pickle.loads(data)
        except Exception:  # written by another version of qed: render again
            return None
        return body if isinstance(body, RenderedBody) else None

    def attach(self, page: Any, site: Any, tools: BodyTools, diagnostics: Diagnostics) -> BodyContext:
        """The context again, tied to this build's page, site and diagnostics."""
        ctx = self.ctx
        ctx.page, ctx.site, ctx.templates, ctx.diagnostics = page, site, tools.templates, diagnostics
        ctx.source = page.file
        page.content, page.toc, page.title_html = self.content, self.toc, self.title_html
        if ctx.math is not None:
            ctx.math.attach(ctx, page.file, diagnostics)
        if ctx.claims is not None:
            ctx.claims.ctx = ctx
        diagnostics.errors.extend(self.diagnostics.errors)
        diagnostics.warnings.extend(self.diagnostics.warnings)
        return ctx


def create_body_tools(site: Any, templates: Any, diagnostics: Diagnostics) -> BodyTools:
    """The markdown parser (with qed's plugins), shortcode support and math settings."""

    markup = site.config.section("markup")
    md = create_markdown(MarkdownOptions.from_markup(markup), [alerts.alerts_plugin, theorems.reference_plugin])
    shortcodes.install_shortcode_support(templates)
    settings = math.math_settings_from_config(site.config, diagnostics)
    theorem_settings = theorems.TheoremSettings.from_config(site.config.section("theorems"), diagnostics)
    return BodyTools(md=md, templates=templates, math_settings=settings, theorem_settings=theorem_settings)


def render_body(page: Any, site: Any, tools: BodyTools, diagnostics: Diagnostics) -> BodyContext:
    """Shortcodes, then markdown with math protected; the page's HTML still holds markers."""

    ids = HeadingIds()
    ctx = BodyContext(source=page.file, page=page, site=site, templates=tools.templates,
                      diagnostics=diagnostics, markdown=None, markdown_inline=None)  # type: ignore[arg-type]
    ctx.math = math.MathCollector(page.file, tools.math_settings, page.math, diagnostics, ctx)

    def markdown(text: str, origin: Location) -> str:
        html = render_markdown(tools.md, ctx.math.protect(text, origin), ids, ctx=ctx, origin=origin)
        return unwrap_block_markers(html, _BLOCK_MARKERS)

    def markdown_inline(text: str, origin: Location) -> str:
        return render_inline(tools.md, ctx.math.protect(text, origin), ctx, origin)

    ctx.markdown, ctx.markdown_inline = markdown, markdown_inline
    ctx.claims = theorems.PageClaims(ctx, tools.theorem_settings)
    origin = page.file.location(page.body_offset)
    expanded = shortcodes.expand_shortcodes(page.file.text[page.body_offset:], origin, ctx)
    protected = ctx.math.protect(expanded, origin)
    html = render_markdown(tools.md, protected, ids, collect_toc=True, ctx=ctx, origin=origin)
    page.content = unwrap_block_markers(html, _BLOCK_MARKERS)
    if "$" in page.title or "\\(" in page.title:  # math in a title is typeset with the body's
        page.title_html = markdown_inline(page.title, page.location("title"))
    page.toc = build_toc(ids.headings) if page.toc_enabled else ""
    return ctx


_BLOCK_MARKERS = frozenset({"sc"})
