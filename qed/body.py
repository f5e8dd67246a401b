"""The value types of a page's body: `Label`, the working `BodyContext`, the final `PageText`.

A leaf module: it imports nothing of qed above errors and markers, so every body stage
(shortcodes, markdown, math, theorems) can name these types without importing the module
that orchestrates them (`bodies`), and a `Page` can hold its `PageText`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qed.errors import Diagnostics, Location, SourceText
from qed.markers import marker

MarkdownFn = Callable[[str, Location], str]


@dataclass(frozen=True)
class Label:
    """Something a reference can point at: a numbered theorem or equation."""

    id: str
    text: str  # what a reference prints: "Theorem 3", "(2)"
    url: str  # page URL with fragment: "/posts/x/#thm:chain-rule"
    location: Location
    kind: str = "claim"  # "claim" or "equation"


@dataclass(frozen=True)
class PageText:
    """A page's body as the reader gets it, made once by the finishing stage (`qed.page_text`)
    when every marker can be resolved; a page without a body keeps the empty one."""

    content: str = ""  # final HTML
    summary: str = ""
    truncated: bool = False  # the content goes on after the summary
    toc: str = ""
    title_html: str = ""  # the title with its math typeset ("" for pages without a body)
    word_count: int = 0
    reading_time: int = 0  # minutes
    head_html: str = ""  # stylesheet links the content needs (KaTeX)
    css: tuple[str, ...] = ()  # page-scoped rules from `style` shortcodes
    scripts: tuple[str, ...] = ()  # `script` shortcode bodies, for the end of the page
    has_mermaid: bool = False  # the page draws Mermaid diagrams: the theme loads Mermaid
    plain_text: str = ""  # the body as text, formulas as $TeX$: for the search index


@dataclass
class BodyContext:
    """What rendering a page body needs, and what it gathers on the way: the working state
    of the body stage inside one process, never sent anywhere (`bodies.RenderedBody` is).

    `markdown(text, origin)` renders block markdown to HTML with math protected, where
    `origin` is the location of `text`'s first character (newlines in `text` match the
    source's, so later lines are reported right). `markdown_inline` is the same without
    the enclosing `<p>`.
    """

    source: SourceText
    page: Any  # qed.content.Page
    site: Any  # qed.content.Site
    templates: Any  # jinja2.Environment with theme + site layouts
    diagnostics: Diagnostics
    markdown: MarkdownFn
    markdown_inline: MarkdownFn
    math: Any = None  # qed.math.MathCollector
    claims: Any = None  # qed.theorems.PageClaims
    html_blocks: dict[str, str] = field(default_factory=dict)
    """HTML of `{{< >}}` shortcodes, by marker key (marker kind "sc")."""
    css: list[str] = field(default_factory=list)
    """Page-level CSS rules (from `style`), emitted once in the page head."""
    scripts: list[str] = field(default_factory=list)
    """JavaScript (from `script`), emitted once at the end of the page."""
    labels: dict[str, Label] = field(default_factory=dict)
    """Ids this page defines (theorems, equations), merged site-wide by the pipeline."""
    references: list[tuple[str, Location]] = field(default_factory=list)
    """Every `ref` marker written on this page, with where it was written."""

    def define_label(self, label: Label) -> None:
        """Record a label; a second definition of the same id on the page is an error."""
        earlier = self.labels.get(label.id)
        if earlier is not None:
            self.diagnostics.error(f"duplicate id '{label.id}' (first defined at {earlier.location})", label.location)
            return
        self.labels[label.id] = label

    def reference(self, label_id: str, location: Location) -> str:
        """A `ref` marker for `label_id`, checked once every page has been read."""
        self.references.append((label_id, location))
        return marker("ref", label_id)
