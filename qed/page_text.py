"""The finishing stage: each body's markers become final HTML, with what is derived from it
(summary, word count, reading time, search text), as a `PageText` per page.

Runs once every page has been read, labels merged, claims verified and formulas typeset,
so every marker can be resolved; nothing here can fail.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping

from qed.bodies import RenderedBody
from qed.body import Label, PageText
from qed.content import Page
from qed.errors import Diagnostics
from qed.katex import KatexRenderer, MathStats, page_head_html
from qed.markers import escape_text, resolve_markers, strip_markers, unescape_text
from qed.math import TypesetMath

WORDS_PER_MINUTE = 212
MERMAID_MARK = '<pre class="mermaid">'  # what qed.markdown.mermaid_block writes
_TAG_RE = re.compile(r"<[^>]+>")
_MORE = "<!--more-->"
_BLOCK_END_RE = re.compile(r"</(?:p|ul|ol|dl|pre|div|table|blockquote|details|h[1-6])>\s*|<hr\s*/?>\s*")

ClaimResolver = Callable[[str], str]


def typeset_and_finish(page: Page, body: RenderedBody, renderer: KatexRenderer | None, labels: Mapping[str, Label],
                   resolve_claim: ClaimResolver | None, base_url: str, summary_length: int, *,
                   last: bool = False) -> tuple[PageText, Diagnostics, MathStats]:
    """`finish_page` after the page's formulas are typeset in this process (a forked worker
    starts its own V8; `last`: its final page, after which it writes the KaTeX cache): the
    text, the page's KaTeX messages and what its math counted. Builds and `serve` both."""
    messages, math_html, counted = Diagnostics(), TypesetMath(body.math, ()), MathStats()
    if body.math.formulas and renderer is not None:
        math_html, counted = renderer.typeset_in_process(body.math, labels, messages, last=last)
    return finish_page(page, body, math_html, labels, resolve_claim, base_url, summary_length), messages, counted


def finish_page(page: Page, body: RenderedBody, math_html: TypesetMath, labels: Mapping[str, Label],
                resolve_claim: ClaimResolver | None, base_url: str, summary_length: int) -> PageText:
    """The page's body for the reader: every marker resolved, punctuation kept by its formula."""
    resolvers = _resolvers(body, math_html, labels, resolve_claim)
    marked = math_html.glue_punctuation(body.content)
    content = resolve_markers(marked, resolvers)
    word_count = count_words(strip_markers(marked))
    summary_html, truncated = summarize(marked, page, summary_length)
    title = body.title_html or escape_text(html.escape(page.title))
    title_html = resolve_markers(title, resolvers)
    return PageText(
        content=unescape_text(content), summary=unescape_text(resolve_markers(summary_html, resolvers)),
        truncated=truncated, toc=unescape_text(resolve_markers(body.toc, resolvers)),
        title_html=unescape_text(title_html), word_count=word_count,
        reading_time=max(1, math.ceil(word_count / WORDS_PER_MINUTE)),
        head_html=page_head_html(math_html, base_url) if body.math.formulas else "",
        css=body.css, scripts=body.scripts, has_mermaid=MERMAID_MARK in content,
        plain_text=unescape_text(plain_text(resolve_markers(marked, _text_resolvers(body, math_html)))))


def _resolvers(body: RenderedBody, math_html: TypesetMath, labels: Mapping[str, Label],
               resolve_claim: ClaimResolver | None) -> dict[str, Callable[[str], str]]:
    def reference(label_id: str) -> str:
        label = labels.get(label_id)
        if label is None:
            return html.escape(label_id)
        return f'<a class="ref ref-{label.kind}" href="{html.escape(label.url)}">{html.escape(label.text)}</a>'

    def shortcode(key: str) -> str:
        return math_html.glue_punctuation(body.html_blocks.get(key, ""))

    resolvers: dict[str, Callable[[str], str]] = {"sc": shortcode, "ref": reference, "math": math_html.resolve}
    if resolve_claim is not None:
        resolvers["claim"] = resolve_claim
    return resolvers


def _text_resolvers(body: RenderedBody, math_html: TypesetMath) -> dict[str, Callable[[str], str]]:
    """For the page as text: shortcodes' HTML, and formulas as their TeX (searchable)."""
    return {"sc": lambda key: body.html_blocks.get(key, ""), "math": math_html.tex}


def plain_text(html_text: str) -> str:
    """What a reader reads, as text: tags, entities and markers (formulas, badges) removed."""
    return " ".join(html.unescape(_TAG_RE.sub(" ", strip_markers(html_text))).split())


def count_words(html_text: str) -> int:
    """Words a reader reads: text outside tags, code included, as Hugo counts."""
    return len(_TAG_RE.sub(" ", html_text).split())


def summarize(content: str, page: Page, length: int) -> tuple[str, bool]:
    """Hugo's summary: the part before `<!--more-->`, the front matter `summary`, or ~N words
    cut at the end of a block; returns (summary HTML, whether the content goes on)."""
    if _MORE in content:
        return content.split(_MORE, 1)[0].strip(), True
    written = page.params.get("summary") if isinstance(page.params.get("summary"), str) else None
    if written:
        return f"<p>{escape_text(html.escape(written))}</p>", True
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
