"""The body stage: each page's body, shortcodes → markdown (math protected), as a `RenderedBody`.

A page's body stages share one working `BodyContext` while it renders; what comes out is a
frozen record that holds nothing of the page or the site, so it crosses process
boundaries and goes into the body cache as it is. Output that depends on the whole site
(formulas, theorem badges, references) is left as markers (`qed.markers`) for the
finishing stage (`qed.page_text`).
"""

from __future__ import annotations

import html
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from qed import alerts, math, shortcodes, theorems
from qed.body import BodyContext, Label
from qed.body_cache import BodyCache
from qed.content import Page, Site
from qed.errors import Diagnostics, Location, QedError
from qed.markdown import HeadingIds, MarkdownOptions, build_toc, create_markdown, render_inline, render_markdown
from qed.markers import escape_text, unwrap_block_markers
from qed.parallel import map_in_processes

_BLOCK_MARKERS = frozenset({"sc"})


@dataclass(frozen=True)
class RenderedBody:
    """What the body stage made of one page: HTML with markers, and what the page defines."""

    source_path: str
    content: str  # HTML with markers
    toc: str
    title_html: str | None  # the title with its math protected, when it has math
    math: math.PageMath
    claims: tuple[theorems.Claim, ...]
    html_blocks: Mapping[str, str]  # HTML of `{{< >}}` shortcodes, by marker key
    css: tuple[str, ...]
    scripts: tuple[str, ...]
    labels: tuple[Label, ...]
    references: tuple[tuple[str, Location], ...]
    errors: tuple[QedError, ...]
    warnings: tuple[QedError, ...]


@dataclass(frozen=True)
class BodyTools:
    """What every page body of a build is rendered with: built once, shared by all pages."""

    md: object  # markdown_it.MarkdownIt from qed.markdown.create_markdown
    templates: object  # jinja2.Environment
    math_settings: math.MathSettings
    theorem_settings: theorems.TheoremSettings


BATCH_PER_PROCESS = 250  # pages each process renders between two stores into the body cache


def render_bodies(site: Site, templates: object, diagnostics: Diagnostics,
                  progress: Callable[[str], None] | None = None, *, jobs: int = 1,
                  cache: BodyCache | None = None) -> list[RenderedBody]:
    """The body of every page read from a file (generated list pages have none), in `jobs`
    processes; messages are reported in page order whatever the number of processes. A body
    in `cache` from an earlier build is reused when nothing it depends on has changed.

    With a cache, bodies come back in outline (`body_cache.outline`: no HTML) and the cache
    gives the whole one to whoever finishes the page; pages are rendered a batch at a time
    and stored, so that no process holds every page's HTML (memory stays flat in N)."""
    tools = create_body_tools(site, templates, diagnostics)
    pages = [page for page in site.all_pages if page.file is not None]
    stored = cache.lookup(site, pages) if cache is not None else {}
    todo = [page for page in pages if page.source_path not in stored]
    if progress:
        progress(f"rendering {len(todo)} of {len(pages)} pages")

    def render_pickled(page: Page) -> bytes:
        """Pickled here, once: the same bytes cross the pipe and go into the cache."""
        return pickle.dumps(render_body(page, site, tools), protocol=pickle.HIGHEST_PROTOCOL)

    fresh: dict[str, RenderedBody] = {}
    batch = BATCH_PER_PROCESS * max(jobs, 1) if cache is not None else len(todo)
    for start in range(0, len(todo), max(batch, 1)):
        chunk = todo[start:start + batch]
        for page, data in zip(chunk, map_in_processes(render_pickled, chunk, jobs), strict=True):
            body = pickle.loads(data)
            fresh[page.source_path] = cache.store(page.source_path, data, body) \
                if cache is not None and not body.errors else body
        if cache is not None:
            cache.flush()
    bodies = [stored.get(page.source_path) or fresh[page.source_path] for page in pages]
    for body in bodies:
        diagnostics.errors.extend(body.errors)
        diagnostics.warnings.extend(body.warnings)
    return bodies


def create_body_tools(site: Site, templates: object, diagnostics: Diagnostics) -> BodyTools:
    """The markdown parser (with qed's plugins), shortcode support and math settings."""
    markup = site.config.section("markup")
    options = MarkdownOptions.from_markup(markup, diagnostics, site.config.location("markup"))
    md = create_markdown(options, [alerts.alerts_plugin, theorems.reference_plugin])
    settings = math.math_settings_from_config(site.config, diagnostics)
    theorem_settings = theorems.TheoremSettings.from_config(site.config.section("theorems"), diagnostics,
                                                           site.config.location("theorems"))
    return BodyTools(md=md, templates=templates, math_settings=settings, theorem_settings=theorem_settings)


def render_body(page: Page, site: Site, tools: BodyTools) -> RenderedBody:
    """Shortcodes, then markdown with math protected; the HTML still holds markers."""
    diagnostics = Diagnostics()
    ids = HeadingIds()
    collector = math.MathCollector(page.file, tools.math_settings, page.math, diagnostics)

    def markdown(text: str, origin: Location) -> str:
        rendered = render_markdown(tools.md, collector.protect(text, origin), ids, ctx=ctx, origin=origin)
        return unwrap_block_markers(rendered, _BLOCK_MARKERS)

    def markdown_inline(text: str, origin: Location) -> str:
        return render_inline(tools.md, collector.protect(text, origin), ctx, origin)

    ctx = BodyContext(source=page.file, page=page, site=site, templates=tools.templates, diagnostics=diagnostics,
                      markdown=markdown, markdown_inline=markdown_inline, math=collector)
    ctx.claims = theorems.PageClaims(ctx, tools.theorem_settings)
    origin = page.file.location(page.body_offset)
    expanded = shortcodes.expand_shortcodes(escape_text(page.file.text[page.body_offset:]), origin, ctx)
    content = render_markdown(tools.md, collector.protect(expanded, origin), ids, collect_toc=True, ctx=ctx,
                              origin=origin)
    title_html = None
    if "$" in page.title or "\\(" in page.title:  # math in a title is typeset; the rest is text, as in Hugo
        title_html = html.escape(collector.protect(escape_text(page.title), page.location("title")), quote=False)
    toc = build_toc(ids.headings) if page.toc_enabled else ""
    return _record(ctx, unwrap_block_markers(content, _BLOCK_MARKERS), toc, title_html)


def _record(ctx: BodyContext, content: str, toc: str, title_html: str | None) -> RenderedBody:
    """The page's findings, equation labels and `\\eqref`s of its math included."""
    for label in ctx.math.labels(ctx.page.rel_permalink):
        ctx.define_label(label)
    references = (*ctx.references, *ctx.math.references)
    return RenderedBody(
        source_path=ctx.page.source_path, content=content, toc=toc, title_html=title_html,
        math=ctx.math.record(), claims=tuple(ctx.claims.claims), html_blocks=dict(ctx.html_blocks),
        css=tuple(dict.fromkeys(ctx.css)), scripts=tuple(dict.fromkeys(ctx.scripts)),
        labels=tuple(ctx.labels.values()), references=tuple(references),
        errors=tuple(ctx.diagnostics.errors), warnings=tuple(ctx.diagnostics.warnings))
