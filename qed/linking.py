"""The link stage: what needs the whole site. Labels and references, verification, KaTeX, markers.

Runs after every page body has been rendered (with markers in place of late-bound HTML)
and before any template: each step here can fail the build, so nothing is written yet.
"""

from __future__ import annotations

import html
import math as _math
import re
from collections.abc import Callable
from typing import Any

from qed import katex
from qed.body import BodyContext, Label
from qed.errors import Diagnostics
from qed.katex import KatexRenderer
from qed.markers import resolve_markers, strip_markers
from qed.theorems import collect_claims
from qed.verification import VerifyOptions, verify_claims

WORDS_PER_MINUTE = 212
_TAG_RE = re.compile(r"<[^>]+>")
_MORE = "<!--more-->"
_BLOCK_END_RE = re.compile(r"</(?:p|ul|ol|dl|pre|div|table|blockquote|details|h[1-6])>\s*|<hr\s*/?>\s*")


def collect_labels(site: Any, bodies: list[BodyContext], diagnostics: Diagnostics) -> None:
    """Merge every page's labels site-wide and check each reference names one."""
    labels: dict[str, Label] = {}
    for ctx in bodies:
        for label in ctx.labels.values():
            earlier = labels.get(label.id)
            if earlier is not None:
                diagnostics.error(f"duplicate id '{label.id}' (first defined at {earlier.location})", label.location)
                continue
            labels[label.id] = label
    for ctx in bodies:
        for label_id, location in ctx.references:
            if label_id not in labels:
                diagnostics.error(f"unknown reference '{label_id}': no theorem or equation has this id", location)
    site.labels = labels


def verify(site: Any, bodies: list[BodyContext], options: Any, diagnostics: Diagnostics,
           progress: Callable[[str], None] | None = None) -> Any:
    """Run the verifiers of every claim on the site; None when the site states no claims."""

    claims = collect_claims(bodies)
    if not claims:
        return None

    verify_options = VerifyOptions(jobs=options.jobs, refresh=options.refresh or options.clean,
                                   strict=options.strict, timeout=options.timeout, junit=options.junit)
    report_progress = (lambda done, total: progress(f"verified {done}/{total} claims")) if progress else None
    return verify_claims(claims, project_root=site.project_root, cache_dir=site.config.cache_dir,
                         options=verify_options, diagnostics=diagnostics, progress=report_progress)


def typeset_math(site: Any, bodies: list[BodyContext], diagnostics: Diagnostics, *, refresh: bool = False,
                 jobs: int = 1, progress: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Render every page's formulas with KaTeX (cached on disk, emptied first on `refresh`);
    returns (formulas, rendered now)."""
    collectors = [ctx.math for ctx in bodies if ctx.math is not None and ctx.math.formulas]
    if not collectors:
        return 0, 0

    renderer = KatexRenderer(collectors[0].settings, site.config.cache_dir, diagnostics, refresh=refresh)
    renderer.render_pages(collectors, site.labels, jobs=jobs, progress=progress)
    renderer.close()
    return renderer.stats.total, renderer.stats.rendered


def resolve_bodies(site: Any, bodies: list[BodyContext], report: Any) -> None:
    """Swap every marker for its final HTML, then derive summaries, word counts and reading times."""
    for ctx in bodies:
        page = ctx.page
        raw_content = page.content
        resolvers = _resolvers(ctx, site, report)
        if ctx.math is not None:
            raw_content = ctx.math.glue_punctuation(raw_content)
        page.content = resolve_markers(raw_content, resolvers)
        page.toc = resolve_markers(page.toc, resolvers)
        page.title_html = resolve_markers(page.title_html, resolvers) if page.title_html else html.escape(page.title)
        page.word_count = count_words(strip_markers(raw_content))
        page.reading_time = max(1, _math.ceil(page.word_count / WORDS_PER_MINUTE))
        summary_html, page.truncated = summarize(raw_content, page, site.config["summaryLength"])
        page.summary = resolve_markers(summary_html, resolvers)
        page.head_html = katex.page_head_html(ctx.math) if ctx.math is not None and ctx.math.formulas else ""
        page.css = list(dict.fromkeys(ctx.css))
        page.scripts = list(dict.fromkeys(ctx.scripts))
        page.has_mermaid = MERMAID_MARK in page.content
        page.plain_text = plain_text(resolve_markers(raw_content, _text_resolvers(ctx)))


def _text_resolvers(ctx: BodyContext) -> dict[str, Callable[[str], str]]:
    """For the page as text: shortcodes' HTML, and formulas as their TeX (searchable)."""
    resolvers: dict[str, Callable[[str], str]] = {"sc": lambda key: ctx.html_blocks.get(key, "")}
    if ctx.math is not None:
        formulas = ctx.math.formulas
        resolvers["math"] = lambda key: f" {formulas[int(key)].tex.strip()} " if key.isdigit() and int(key) < len(
            formulas) else ""
    return resolvers


def plain_text(html_text: str) -> str:
    """What a reader reads, as text: tags, entities and markers (formulas, badges) removed."""
    return " ".join(html.unescape(_TAG_RE.sub(" ", strip_markers(html_text))).split())


MERMAID_MARK = '<pre class="mermaid">'  # what qed.markdown.mermaid_block writes


def _resolvers(ctx: BodyContext, site: Any, report: Any) -> dict[str, Callable[[str], str]]:
    def reference(label_id: str) -> str:
        label = site.labels.get(label_id)
        if label is None:
            return html.escape(label_id)
        return f'<a class="ref ref-{label.kind}" href="{html.escape(label.url)}">{html.escape(label.text)}</a>'

    def shortcode(key: str) -> str:
        block = ctx.html_blocks.get(key, "")
        return ctx.math.glue_punctuation(block) if ctx.math is not None else block

    resolvers: dict[str, Callable[[str], str]] = {"sc": shortcode, "ref": reference}
    if ctx.math is not None:
        resolvers["math"] = ctx.math.resolve
    if report is not None:
        resolvers["claim"] = report.resolve_claim
    return resolvers


def count_words(html_text: str) -> int:
    """Words a reader reads: text outside tags, code included, as Hugo counts."""
    return len(_TAG_RE.sub(" ", html_text).split())


def summarize(content: str, page: Any, length: int) -> tuple[str, bool]:
    """Hugo's summary: the part before `<!--more-->`, the front matter `summary`, or ~N words
    cut at the end of a block; returns (summary HTML, whether the content goes on)."""
    if _MORE in content:
        return content.split(_MORE, 1)[0].strip(), True
    written = page.params.get("summary") if isinstance(page.params.get("summary"), str) else None
    if written:
        return f"<p>{html.escape(written)}</p>", True
    words, end = 0, 0
    for match in _BLOCK_END_RE.finditer(content):
        words = count_words(strip_markers(content[: match.end()]))
        end = match.end()
        if words >= length:
            break
    if end == 0:
        return content, False
    summary = content[:end].strip()
    return summary, bool(content[end:].strip())
