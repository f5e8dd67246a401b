"""Hugo shortcodes: `{{< name args >}}` and `{{% name args %}}` calls rendered by Jinja templates.

A call is rendered by `shortcodes/NAME.html` from the site's `layouts/` or the theme's, so a
site adds or overrides a shortcode by dropping in a template; no Python is involved.
Templates see Hugo's shortcode context in Jinja spelling (`name`, `params`, `get()`,
`is_named_params`, `inner`, `position`, `parent`, `ordinal`, `page`, `site`, `ctx`).

As in Hugo, `{{% %}}` output becomes part of the markdown (its headings enter the table of
contents), while `{{< >}}` output is kept away from markdown: it is stored in
`ctx.html_blocks` and replaced by a marker that the link stage swaps back. Calls nest to any
depth; the innermost is rendered first and its output becomes part of its parent's `inner`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from qed.body import BodyContext
from qed.errors import Location, did_you_mean
from qed.markdown import mermaid_block
from qed.markers import marker, unwrap_block_markers
from qed.shortcodes_builtin import highlight_html, run_in, scope_css
from qed.shortcodes_syntax import (
    Call,
    Node,
    SyntaxProblem,
    Text,
    build_tree,
    params_of,
    tokenize,
)

__all__ = ["ShortcodeContext", "expand_shortcodes", "template_filters", "template_name",
           "template_uses_inner"]

_USES_INNER_RE = re.compile(r"\binner\b")
_JINJA_CODE_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_JINJA_COMMENT_RE = re.compile(r"\{#.*?#\}", re.DOTALL)
_INCLUDE_RE = re.compile(r"\{%-?\s*(?:include|extends|import|from)\b(.*?)%\}", re.DOTALL)
_QUOTED_RE = re.compile(r"[\"']([^\"']+)[\"']")
_URL_RE = re.compile(r"(?:/|https?://|\.{1,2}/|#)[^\s<>\"'`\\*\[\]()]*")
_BLOCK_MARKER_KINDS = frozenset({"sc"})
_INLINE_TAGS = frozenset({"span", "a", "em", "strong", "b", "i", "small", "code", "mark", "sub", "sup", "kbd"})


def template_name(name: str) -> str:
    """Where the template of shortcode `name` lives in the layouts folders."""
    return f"shortcodes/{name}.html"


@dataclass(eq=False)
class ShortcodeContext:
    """One call as its template sees it: Hugo's shortcode context (`.Get`, `.Inner`, ...)."""

    name: str
    params: dict[str, Any] | list[Any]
    position: Location
    ctx: BodyContext
    parent: ShortcodeContext | None = None
    ordinal: int = 0
    inner: str | None = None
    inner_position: Location | None = None
    is_named_params: bool = field(init=False)

    def __post_init__(self) -> None:
        self.is_named_params = isinstance(self.params, dict)

    @property
    def page(self) -> Any:
        return self.ctx.page

    @property
    def site(self) -> Any:
        return self.ctx.site

    def get(self, key: str | int, default: Any = None) -> Any:
        """Hugo's `.Get`: a named argument by key or a positional one by index; absent → default."""
        if isinstance(self.params, dict):
            return self.params.get(key, default) if isinstance(key, str) else default
        if isinstance(key, int) and -len(self.params) <= key < len(self.params):
            return self.params[key]
        return default

    def error(self, message: str) -> str:
        """Report a user mistake at the call; returns "" so `{{ error("...") }}` prints nothing."""
        self.ctx.diagnostics.error(message, self.position)
        return ""

    def warning(self, message: str) -> str:
        self.ctx.diagnostics.warning(message, self.position)
        return ""

    def add_css(self, rule: str) -> str:
        """Add a page-level CSS rule once, however many calls produce it."""
        if rule not in self.ctx.css:
            self.ctx.css.append(rule)
        return ""

    def add_script(self, code: str) -> str:
        """Add JavaScript for the end of the page once, however many calls produce it."""
        if code not in self.ctx.scripts:
            self.ctx.scripts.append(code)
        return ""

    def require(self, *keys: str | int) -> Any:
        """The first of `keys` given in the call; reports a missing required argument otherwise."""
        for key in keys:
            value = self.get(key)
            if value is not None:
                return value
        wanted = " or ".join(f"'{k}'" if isinstance(k, str) else f"#{k}" for k in keys)
        self.error(f"shortcode '{self.name}' is missing its required argument {wanted}")
        return None

    def template_vars(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "get": self.get,
            "is_named_params": self.is_named_params,
            "inner": self.inner,
            "inner_position": self.inner_position,
            "position": self.position,
            "parent": self.parent,
            "ordinal": self.ordinal,
            "page": self.page,
            "site": self.site,
            "ctx": self.ctx,
            "error": self.error,
            "warning": self.warning,
            "require": self.require,
            "add_css": self.add_css,
            "add_script": self.add_script,
            "shortcode": self,
        }


# ---------------------------------------------------------------- Jinja support


def template_filters() -> dict[str, Callable[..., Any]]:
    """The filters shortcode templates use (registered by `qed.templates.create_environment`).

    `markdownify` (block markdown → HTML, math included), `markdownify_inline`,
    `protect_math` (math only, for `raw`), `highlight` (Pygments, as code fences), and for
    `style`: `scope_css` (CSS with `&` nesting → rules under a selector) and `short_hash`;
    `run_in` (a proof's "Proof." and tombstone inside its first and last paragraphs);
    `mermaid` (a diagram's source as the theme draws it).
    """
    return {"markdownify": _markdownify, "markdownify_inline": _markdownify_inline, "protect_math": _protect_math,
            "highlight": _highlight, "scope_css": _scope_css, "short_hash": _short_hash, "run_in": _run_in,
            "mermaid": lambda source: Markup(mermaid_block(str(source or "")))}


def _origin(context: Any, text: str) -> Location:
    """Where `text` starts in the source: inside the call's inner content when it comes from it."""
    position: Location = context.get("position")
    inner = context.get("inner")
    start: Location | None = context.get("inner_position")
    if not inner or start is None or not text:
        return position
    index = inner.find(text)
    if index < 0:
        return position
    before = inner[:index]
    lines = before.count("\n")
    if lines:
        return Location(start.path, start.line + lines, index - before.rfind("\n"))
    return Location(start.path, start.line, start.col + index)


@jinja2.pass_context
def _markdownify(context: Any, text: Any) -> Markup:
    html = _render_markdown(context, text, inline=False)
    return Markup(unwrap_block_markers(html, _BLOCK_MARKER_KINDS))


@jinja2.pass_context
def _markdownify_inline(context: Any, text: Any) -> Markup:
    return Markup(_render_markdown(context, text, inline=True))


def _render_markdown(context: Any, text: Any, *, inline: bool) -> str:
    """The page's markdown (block or inline) on a template value, located in the source."""
    if text is None or text == "":
        return ""
    text = str(text)
    ctx: BodyContext = context["ctx"]
    render = ctx.markdown_inline if inline else ctx.markdown
    return render(text, _origin(context, text))


@jinja2.pass_context
def _protect_math(context: Any, text: Any) -> Markup:
    """Verbatim HTML with only its formulas swapped for math markers (what `raw` needs)."""
    if text is None:
        return Markup("")
    text = str(text)
    ctx: BodyContext = context["ctx"]
    if ctx.math is None:
        return Markup(text)
    return Markup(ctx.math.protect(text, _origin(context, text), escapes="verbatim"))


def _highlight(code: Any, lang: Any = "", options: Any = "") -> Markup:
    """Highlight like a code fence; Hugo's options `linenos`, `hl_lines`, `linenostart` honoured."""

    return Markup(highlight_html(str(code or ""), str(lang or ""), str(options or "")))


def _scope_css(css: Any, selector: str) -> list[str]:

    return scope_css(str(css or ""), selector)


def _run_in(body: Any, lead: Any, tail: Any) -> Markup:

    return Markup(run_in(str(body or ""), str(lead), str(tail)))


def _short_hash(text: Any) -> str:
    """A stable 8-hex-digit name for generated ids and classes (same input, same name)."""
    return hashlib.sha1(str(text).encode()).hexdigest()[:8]


# ---------------------------------------------------------------- expansion


def expand_shortcodes(body: str, origin: Location, ctx: BodyContext) -> str:
    """Expand every call in a page body; `origin` is the location of the body's first character.

    Returns markdown with `{{% %}}` output inlined and `{{< >}}` calls replaced by
    `marker("sc", key)` (HTML in `ctx.html_blocks[key]`) plus the newlines the call spanned.
    Every mistake goes to `ctx.diagnostics`; expansion carries on past it.
    """
    if "{{" not in body:
        return body
    return _Expansion(body, origin, ctx).run()


def _did_you_mean(name: str, env: jinja2.Environment) -> str:
    """"; did you mean 'admonition'?" when a known shortcode is spelled close to `name`."""
    known = [t.removeprefix("shortcodes/").removesuffix(".html")
             for t in env.list_templates(filter_func=lambda t: t.startswith("shortcodes/") and t.endswith(".html"))]
    return did_you_mean(name, known)


def template_uses_inner(env: jinja2.Environment, name: str) -> bool:
    """Hugo's test for "needs a closing tag": does the template (or what it includes) use `inner`?

    Only Jinja code counts, not comments or HTML text, so `<div class="inner">` does not.
    """
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen or env.loader is None:
            continue
        seen.add(current)
        try:
            source = env.loader.get_source(env, current)[0]
        except jinja2.TemplateNotFound:
            continue
        source = _JINJA_COMMENT_RE.sub("", source)
        if any(_USES_INNER_RE.search(code) for code in _JINJA_CODE_RE.findall(source)):
            return True
        for statement in _INCLUDE_RE.findall(source):
            pending.extend(_QUOTED_RE.findall(statement))
    return False


@dataclass
class _Template:
    template: jinja2.Template | None
    uses_inner: bool
    reported: bool = False  # a broken template is reported once, not as "unknown"
    unknown_message: str = ""  # for a name without template: the error, with its "did you mean"


class _Expansion:
    """One body's expansion: template lookups and ordinals are remembered only for this body."""

    def __init__(self, body: str, origin: Location, ctx: BodyContext):
        self.body = body
        self.ctx = ctx
        self.base = ctx.source.offset(origin.line, origin.col)
        self.templates: dict[str, _Template] = {}
        self.ordinals: dict[tuple[int, str], int] = {}

    def location(self, offset: int) -> Location:
        return self.ctx.source.location(self.base + offset)

    def run(self) -> str:
        problems: list[SyntaxProblem] = []
        tokens = tokenize(self.body, problems)
        tree = build_tree(tokens, self.takes_inner, problems, len(self.body))
        for problem in problems:
            self.ctx.diagnostics.error(problem.message, self.location(problem.offset))
        return self.render_all(tree, None)

    # -- templates

    def lookup(self, name: str, position: Location | None = None) -> _Template:
        """The call's template, loaded once; a broken template is reported at the first call."""
        found = self.templates.get(name)
        if found is not None:
            return found
        env: jinja2.Environment = self.ctx.templates
        try:
            template = env.get_template(template_name(name))
            found = _Template(template, template_uses_inner(env, template_name(name)))
        except jinja2.TemplateNotFound:
            found = _Template(None, False, unknown_message=(
                f"unknown shortcode '{name}'{_did_you_mean(name, env)} "
                f"(no template {template_name(name)} in the site's layouts/ or the theme's)"))
        except jinja2.TemplateSyntaxError as problem:
            self.ctx.diagnostics.error(
                f"shortcode '{name}': template {problem.filename or problem.name}:{problem.lineno}: "
                f"{problem.message}",
                position,
            )
            found = _Template(None, True, reported=True)
        self.templates[name] = found
        return found

    def takes_inner(self, call: Call, closing_follows: bool) -> bool:
        """Hugo's rule: a call needs a closing tag iff its template uses the inner content.

        For a shortcode without template, guess from whether a closing tag follows, so one
        unknown name gives one error rather than a cascade.
        """
        found = self.lookup(call.name, self.location(call.start))
        if found.template is not None:
            return found.uses_inner
        return call.closing or closing_follows

    # -- rendering

    def render_all(self, children: list[Text | Node], parent: ShortcodeContext | None) -> str:
        return "".join(
            child.text if isinstance(child, Text) else self.render_node(child, parent) for child in children
        )

    def next_ordinal(self, parent: ShortcodeContext | None, name: str) -> int:
        key = (id(parent), name)
        ordinal = self.ordinals.get(key, 0)
        self.ordinals[key] = ordinal + 1
        return ordinal

    def render_node(self, node: Node, parent: ShortcodeContext | None) -> str:
        call = node.call
        position = self.location(call.start)
        shortcode = ShortcodeContext(
            name=call.name,
            params=params_of(call),
            position=position,
            ctx=self.ctx,
            parent=parent,
            ordinal=self.next_ordinal(parent, call.name),
        )
        if node.closed:
            shortcode.inner_position = self.location(node.inner_start or 0)
            shortcode.inner = self.render_all(node.children, shortcode)
        spanned = self.body.count("\n", call.start, node.end)
        found = self.lookup(call.name, position)
        if found.template is None:
            if not found.reported:
                self.ctx.diagnostics.error(found.unknown_message, position)
            return "\n" * spanned
        output = self.render_template(found.template, shortcode)
        if call.notation == "%":
            return output + "\n" * max(0, spanned - output.count("\n"))
        return self.placeholder(output, spanned)

    def render_template(self, template: jinja2.Template, shortcode: ShortcodeContext) -> str:
        """Run the template; a failure in it is the site's template bug, reported at the call."""
        try:
            return template.render(shortcode.template_vars())
        except jinja2.TemplateError as problem:
            message = getattr(problem, "message", None) or str(problem)
            self.ctx.diagnostics.error(f"shortcode '{shortcode.name}': template error: {message}", shortcode.position)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as problem:
            self.ctx.diagnostics.error(
                f"shortcode '{shortcode.name}': template error: {type(problem).__name__}: {problem}",
                shortcode.position,
            )
        return ""

    def placeholder(self, html: str, spanned: int) -> str:
        """A marker for `{{< >}}` output, so markdown never sees it.

        A bare URL (what `ref`/`relref` return) is written directly instead: it is inert in
        markdown, and inside a link destination a marker would be percent-encoded.
        """
        stripped = html.strip()
        if spanned == 0 and stripped and _URL_RE.fullmatch(stripped):
            return stripped
        number = len(self.ctx.html_blocks)
        while str(number) in self.ctx.html_blocks:
            number += 1
        self.ctx.html_blocks[str(number)] = html
        return marker("sc", str(number)) + "\n" * spanned
