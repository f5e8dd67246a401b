"""GitHub and Obsidian alerts (`> [!NOTE]`, `> [!TIP]- Title`) rendered as admonitions.

DoIt and FixIt turn these blockquotes into the same box as the `admonition` shortcode, so a
post reads the same whichever syntax it uses; here they are drawn by the same template,
`partials/admonition.html`. The sign after the type folds the box: `+` open, `-` closed; no
sign gives a plain box that does not fold (a GitHub alert never folds).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

from qed.markdown import ENV_CTX
from qed.markers import marker
from qed.templates import default_theme_dir

__all__ = ["alerts_plugin"]

_ALERT_RE = re.compile(r"\[!([A-Za-z][\w-]*)\]([+-]?)[ \t]*([^\n]*)(?:\n|$)")
_PARTIAL = "partials/admonition.html"
_BODY_SENTINEL = marker("alert", "body")  # where the partial puts the body; cut there


def alerts_plugin(md: MarkdownIt) -> None:
    """Add alert blockquotes to `md`; rendering uses the Jinja env `env[ENV_CTX].templates`.

    Without one (markdown rendered outside a build) qed's own theme is used.
    """
    md.core.ruler.after("block", "qed_alerts", _find_alerts)

    def render_open(renderer: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
        return _render_alert_open(md, tokens[index].meta, env)

    md.add_render_rule("alert_open", render_open)
    md.add_render_rule("alert_close", _render_alert_close)


def _find_alerts(state: StateCore) -> None:
    """Retype `blockquote_open/close` of each alert and take the `[!TYPE]` line out of its text."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "blockquote_open" and _starts_with_alert(tokens, index):
            _convert(tokens, index)
        index += 1


def _starts_with_alert(tokens: list[Token], index: int) -> bool:
    return (
        index + 2 < len(tokens)
        and tokens[index + 1].type == "paragraph_open"
        and tokens[index + 2].type == "inline"
        and _ALERT_RE.match(tokens[index + 2].content) is not None
    )


def _matching_close(tokens: list[Token], index: int) -> int:
    depth = 0
    for position in range(index, len(tokens)):
        kind = tokens[position].type
        if kind == "blockquote_open":
            depth += 1
        elif kind == "blockquote_close":
            depth -= 1
            if depth == 0:
                return position
    return len(tokens) - 1


def _convert(tokens: list[Token], index: int) -> None:
    inline = tokens[index + 2]
    match = _ALERT_RE.match(inline.content)
    assert match is not None
    sign = match.group(2)
    meta = {
        "type": match.group(1),
        "title": match.group(3).strip(),
        "foldable": bool(sign),
        "open": sign != "-",
    }
    close = _matching_close(tokens, index)
    rest = inline.content[match.end() :]
    if rest.strip():
        inline.content = rest
    else:
        del tokens[index + 1 : index + 4]  # the paragraph held only the [!TYPE] line
        close -= 3
    meta["empty"] = close == index + 1
    for position, kind in ((index, "alert_open"), (close, "alert_close")):
        tokens[position].type = kind
        tokens[position].meta = meta


def _templates(env: Any) -> jinja2.Environment:
    """The page's template environment (so a site's own `partials/admonition.html` wins), or
    the default theme's outside a build."""
    ctx = env.get(ENV_CTX) if isinstance(env, dict) else None
    templates = getattr(ctx, "templates", None)
    return templates if templates is not None else _default_templates()


@functools.cache
def _default_templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(default_theme_dir() / "layouts")), autoescape=True)


def _render_alert_open(md: MarkdownIt, meta: dict[str, Any], env: Any) -> str:
    """The box up to its body; the rest is kept for `alert_close` (one template, split in two)."""
    title = meta["title"]
    title_html = Markup(md.renderInline(title, env)) if title else None
    html = _templates(env).get_template(_PARTIAL).render(
        adm_type=meta["type"],
        adm_title_html=title_html,
        adm_open=meta["open"],
        adm_foldable=meta["foldable"],
        adm_body_html=None if meta["empty"] else Markup(_BODY_SENTINEL),
        site=getattr(env.get(ENV_CTX) if isinstance(env, dict) else None, "site", None),  # T's language
    )
    head, _, tail = html.partition(_BODY_SENTINEL)
    meta["tail"] = tail
    return head + ("\n" if not meta["empty"] else "")


def _render_alert_close(renderer: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    return tokens[index].meta.get("tail", "") + "\n"
