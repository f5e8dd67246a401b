"""Markdown to HTML with markdown-it-py: CommonMark plus the extensions a Hugo site expects.

Tables, strikethrough, footnotes, definition lists, task lists, heading ids (GitHub style,
or `{#id}` written after the heading), typographic quotes, raw HTML (Hugo's `unsafe`), and
fenced code highlighted by Pygments with CSS classes. Markers (`qed.markers`) pass through
untouched; headings are collected for the table of contents.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound

from qed.errors import Diagnostics, Location
from qed.markers import strip_markers
from qed.options import BOOL, Option, read_options, subsection

ENV_CTX = "qed_ctx"
"""Key of the page's `BodyContext` in markdown-it's `env`: the one spelling every plugin reads."""
ENV_ORIGIN = "qed_origin"
"""Key of the `Location` where the rendered text starts."""

_ATTRS_RE = re.compile(r"\s*\{((?:\s*[#.][\w:.-]+)+)\s*\}\s*$")
_FORMATTER = HtmlFormatter(nowrap=True)


@dataclass(frozen=True)
class MarkdownOptions:
    """Markdown settings from the config's `markup` section (Hugo's goldmark names)."""

    unsafe: bool = True
    typographer: bool = True
    line_numbers: bool = False

    @classmethod
    def from_markup(cls, markup: dict[str, Any], diagnostics: Diagnostics | None = None,
                    location: Location | None = None) -> MarkdownOptions:
        """Hugo's `markup:` keys that qed acts on; the many others Hugo has are let be."""
        def read(section: dict[str, Any], options: tuple[Option, ...], prefix: str) -> dict[str, Any]:
            return read_options(section, options, prefix, diagnostics, location, warn_unknown=False)

        goldmark = subsection(markup, "goldmark", "markup", diagnostics, location)
        renderer = read(subsection(goldmark, "renderer", "markup.goldmark", diagnostics, location),
                        (Option("unsafe", "unsafe", BOOL, True, "raw HTML in markdown is kept"),),
                        "markup.goldmark.renderer")
        extensions = read(subsection(goldmark, "extensions", "markup.goldmark", diagnostics, location),
                          (Option("typographer", "typographer", BOOL, True, "smart quotes and dashes"),),
                          "markup.goldmark.extensions")
        highlight = read(subsection(markup, "highlight", "markup", diagnostics, location),
                         (Option("lineNos", "line_numbers", BOOL, False, "number the lines of code blocks"),),
                         "markup.highlight")
        return cls(unsafe=renderer["unsafe"], typographer=extensions["typographer"],
                   line_numbers=highlight["line_numbers"])


@dataclass
class Heading:
    """A heading for the table of contents; `html` is its rendered inline content."""

    level: int
    id: str
    html: str


@dataclass
class HeadingIds:
    """Ids given out on one page, so every heading id is unique (`x`, `x-1`, `x-2`...)."""

    used: set[str] = field(default_factory=set)
    headings: list[Heading] = field(default_factory=list)
    last_suffix: dict[str, int] = field(default_factory=dict)  # so 10,000 equal headings stay linear

    def claim(self, wanted: str) -> str:
        base = wanted or "section"
        candidate, n = base, self.last_suffix.get(base, 0)
        if n:
            candidate = f"{base}-{n}"
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        self.last_suffix[base] = n
        return candidate


PluginFn = Callable[[MarkdownIt], None]


def create_markdown(options: MarkdownOptions, plugins: Sequence[PluginFn] = ()) -> MarkdownIt:
    """One parser per process: building it is costly, rendering with it is not."""
    md = MarkdownIt("commonmark", {"html": options.unsafe, "typographer": options.typographer})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.use(footnote_plugin).use(deflist_plugin).use(tasklists_plugin)
    md.core.ruler.push("heading_ids", _assign_heading_ids)
    for plugin in plugins:
        md.use(plugin)
    return md


def render_markdown(md: MarkdownIt, text: str, ids: HeadingIds, *, collect_toc: bool = False, ctx: Any = None,
                    origin: Any = None) -> str:
    """Render `text`; heading ids come from the page's `ids` so they stay unique across calls.

    Plugins find the page's `BodyContext` as `env[ENV_CTX]` and where `text` starts as
    `env[ENV_ORIGIN]`.
    """
    env = {"heading_ids": ids, "collect_toc": collect_toc, "md": md, ENV_CTX: ctx, ENV_ORIGIN: origin}
    return md.render(text, env)


def render_inline(md: MarkdownIt, text: str, ctx: Any = None, origin: Any = None) -> str:
    """Render one line of inline markdown (a title) without a wrapping paragraph."""
    return md.renderInline(text, {ENV_CTX: ctx, ENV_ORIGIN: origin})


def slugify(text: str) -> str:
    """GitHub's heading ids: lowercase, punctuation dropped, spaces to hyphens."""
    text = strip_markers(text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _assign_heading_ids(state: Any) -> None:
    ids: HeadingIds | None = state.env.get("heading_ids")
    if ids is None:
        return
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        explicit = _take_heading_attributes(token, inline)
        heading_id = ids.claim(explicit or slugify(_plain_text(inline)))
        token.attrSet("id", heading_id)
        if state.env.get("collect_toc"):
            md: MarkdownIt = state.env["md"]
            rendered = md.renderer.render(inline.children or [], md.options, state.env)
            ids.headings.append(Heading(int(token.tag[1]), heading_id, rendered))


def _take_heading_attributes(token: Token, inline: Token) -> str:
    """Strip a trailing `{#id .class}` from the heading text; return the id, if any."""
    children = inline.children or []
    if not children or children[-1].type != "text":
        return ""
    match = _ATTRS_RE.search(children[-1].content)
    if not match:
        return ""
    children[-1].content = children[-1].content[: match.start()]
    inline.content = _ATTRS_RE.sub("", inline.content)
    heading_id = ""
    for part in match.group(1).split():
        if part.startswith("#"):
            heading_id = part[1:]
        else:
            token.attrJoin("class", part[1:])
    return heading_id


def _plain_text(inline: Token) -> str:
    return "".join(child.content for child in inline.children or [] if child.type in ("text", "code_inline"))


def _render_fence(renderer: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    info = token.info.strip()
    if info.split()[:1] == ["mermaid"]:  # a diagram, as LoveIt and DoIt render it
        return mermaid_block(token.content)
    return highlight_code(token.content, info, "")


def _render_table_open(renderer: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """A table scrolls in a box of its own, so a wide one never widens the page on a phone;
    the box is focusable, so the keyboard can scroll it too."""
    return '<div class="qed-table-wrap" tabindex="0">' + renderer.renderToken(tokens, idx, options, env)


def _render_table_close(renderer: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return renderer.renderToken(tokens, idx, options, env) + "</div>\n"


def mermaid_block(source: str) -> str:
    """A Mermaid diagram's source, drawn in the browser by the theme's `partials/mermaid.html`."""
    return f'<pre class="mermaid">{html.escape(source.strip())}</pre>\n'


def highlight_code(code: str, lang: str, attrs: str) -> str:
    """Pygments highlighting with CSS classes, in Hugo's markup (`div.highlight > pre > code`)."""
    name = (lang or "").split()[0] if lang else ""
    try:
        lexer = get_lexer_by_name(name) if name else None
    except ClassNotFound:
        lexer = None
    body = highlight(code, lexer, _FORMATTER) if lexer else html.escape(code)
    language = html.escape(name)
    data = f' class="language-{language}" data-lang="{language}"' if name else ""
    return f'<div class="highlight"><pre tabindex="0"><code{data}>{body}</code></pre></div>\n'


def syntax_css(light: str = "friendly", dark: str = "monokai") -> str:
    """Stylesheet for highlighted code: a light style, and a dark one for dark mode (the
    theme's `data-theme="dark"`, or the system's when the reader has not chosen). Token
    colours too faint on the style's background are moved towards black or white until
    they reach WCAG's 4.5:1, so every style the site picks stays readable."""
    dark_css = _readable_style_defs(dark, ":root[data-theme=dark] .highlight")
    system_dark_css = _readable_style_defs(dark, ":root:not([data-theme=light]) .highlight")
    return (f"{_readable_style_defs(light, '.highlight')}\n{dark_css}\n"
            f"@media (prefers-color-scheme: dark) {{\n{system_dark_css}\n}}\n")


_CSS_COLOUR_RE = re.compile(r"(?<![-\w])color: (#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b")
MIN_CONTRAST = 4.5


def _readable_style_defs(name: str, selector: str) -> str:
    style = get_style_by_name(name)
    background = style.background_color or "#ffffff"
    lines = HtmlFormatter(style=style).get_style_defs(selector).splitlines()
    # Pygments leaves its line-number rules unscoped: scope them too, so one style's numbers
    # do not colour the other's; its bare `pre` rule is left out (main.css sets line height).
    scoped = [line if line.startswith(selector) else f"{selector} {line}"
              for line in lines if not line.startswith("pre ")]
    css = "\n".join(scoped)
    return _CSS_COLOUR_RE.sub(lambda m: "color: " + readable_colour(m.group(1), background), css)


def readable_colour(colour: str, background: str) -> str:
    """`colour`, or the nearest colour on its way to black (or white, on a dark background)
    with at least MIN_CONTRAST against `background`."""
    fg, bg = _rgb(colour), _rgb(background)
    target = (0.0, 0.0, 0.0) if _luminance(bg) > 0.18 else (255.0, 255.0, 255.0)
    step = 0
    mixed = fg
    while _contrast(mixed, bg) < MIN_CONTRAST + 0.05 and step < 20:
        step += 1
        mixed = tuple(c + (t - c) * step / 20 for c, t in zip(fg, target, strict=True))
    return colour if step == 0 else "#" + "".join(f"{round(c):02x}" for c in mixed)


def _rgb(colour: str) -> tuple[float, ...]:
    digits = colour.lstrip("#")
    digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
    return tuple(float(int(digits[i:i + 2], 16)) for i in (0, 2, 4))


def _luminance(rgb: tuple[float, ...]) -> float:
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


_TOC_OPEN = '<nav id="TableOfContents" aria-label="Contents">'  # Hugo's id; the label tells it from other navs


def build_toc(headings: list[Heading], min_level: int = 2, max_level: int = 4) -> str:
    """Nested `<ul>` of the page's headings, as Hugo's `.TableOfContents`."""
    items = [h for h in headings if min_level <= h.level <= max_level]
    if not items:
        return ""
    out, depth = [_TOC_OPEN], 0
    base = min(h.level for h in items) - 1
    for heading in items:
        level = heading.level - base
        while depth < level:
            out.append("<ul>")
            depth += 1
        while depth > level:
            out.append("</li></ul>")
            depth -= 1
        if out[-1] not in ("<ul>", _TOC_OPEN):
            out.append("</li>")
        out.append(f'<li><a href="#{heading.id}">{heading.html}</a>')
    while depth > 0:
        out.append("</li></ul>")
        depth -= 1
    out.append("</nav>")
    return "".join(out)
