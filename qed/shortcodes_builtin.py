"""The Python behind built-in shortcodes that Jinja cannot do alone: `highlight`, `style`,
proofs' run-in heads, the embed policy (`params.embeds`) and chart/tree data in a body.

All are exposed to templates as filters (see `qed.shortcodes.template_filters`),
so the shortcodes themselves stay plain templates that a site can override.
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from typing import Any

import segno
import yaml
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

from qed.markdown import highlight_code

_LINE_RANGE_RE = re.compile(r"(\d+)(?:-(\d+))?")


# ---------------------------------------------------------------- highlight


def parse_highlight_options(options: str) -> dict[str, str]:
    """Hugo's option string `linenos=table,hl_lines=8 15-17,linenostart=199` as a dict."""
    result: dict[str, str] = {}
    for part in options.split(","):
        key, _, value = part.partition("=")
        if key.strip():
            result[key.strip().lower()] = value.strip().strip('"')
    return result


def _line_numbers(spec: str) -> list[int]:
    lines: list[int] = []
    for match in _LINE_RANGE_RE.finditer(spec):
        first = int(match.group(1))
        last = int(match.group(2) or first)
        lines.extend(range(first, last + 1))
    return lines


def highlight_html(code: str, lang: str, options: str = "") -> str:
    """Code highlighted like a code fence (qed.markdown's markup when there are no options)."""
    code = code.strip("\r\n") + "\n"
    settings = parse_highlight_options(options)
    if not settings:
        return highlight_code(code, lang, "")
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    linenos = settings.get("linenos", "false").lower()
    start = int(settings["linenostart"]) if settings.get("linenostart", "").isdigit() else 1
    hl_lines = _line_numbers(settings.get("hl_lines", ""))
    if linenos in ("table", "inline", "true"):
        formatter = HtmlFormatter(
            cssclass="highlight", wrapcode=True, linenos="inline" if linenos == "inline" else "table",
            linenostart=start, hl_lines=hl_lines,
        )
        return pygments_highlight(code, lexer, formatter)
    body = pygments_highlight(code, lexer, HtmlFormatter(nowrap=True, hl_lines=hl_lines))
    language = html.escape(lang)
    data = f' class="language-{language}" data-lang="{language}"' if lang else ""
    return f'<div class="highlight"><pre tabindex="0"><code{data}>{body}</code></pre></div>\n'


# ---------------------------------------------------------------- style


def _split_top_level(css: str) -> list[tuple[str, str | None]]:
    """Top-level items of a CSS snippet: ("decl", None) or (selector, block body)."""
    items: list[tuple[str, str | None]] = []
    buffer = ""
    index = 0
    while index < len(css):
        char = css[index]
        if char == ";":
            items.append((buffer, None))
            buffer = ""
        elif char == "{":
            depth, end = 1, index + 1
            while end < len(css) and depth:
                depth += {"{": 1, "}": -1}.get(css[end], 0)
                end += 1
            items.append((buffer, css[index + 1 : end - 1]))
            buffer = ""
            index = end
            continue
        elif char == "}":  # stray closing brace: ignore it rather than emit broken CSS
            pass
        else:
            buffer += char
        index += 1
    items.append((buffer, None))
    return [(head.strip(), body) for head, body in items if head.strip() or body is not None]


def _nest(parent: str, selector: str) -> str:
    """Sass's nesting: `&` stands for the parent; otherwise the rule is a descendant."""
    combined = []
    for outer in parent.split(","):
        for inner in selector.split(","):
            inner = inner.strip()
            combined.append(inner.replace("&", outer.strip()) if "&" in inner else f"{outer.strip()} {inner}")
    return ", ".join(combined)


def scope_css(css: str, selector: str) -> list[str]:
    """CSS declarations (with simple `&`/descendant nesting and `@media`) as rules under `selector`.

    `"text-align:right; strong{color:red}"` under `.x` → `[".x{text-align:right}",
    ".x strong{color:red}"]`, as LoveIt's `style` shortcode compiles it with Sass.
    """
    css = css.replace("</", "<\\/")  # never end the page's <style> element early
    declarations: list[str] = []
    nested: list[str] = []
    for head, body in _split_top_level(css):
        if body is None:
            declarations.append(head)
        elif head.startswith("@"):
            inner = "".join(scope_css(body, selector))
            if inner:
                nested.append(f"{head}{{{inner}}}")
        else:
            nested.extend(scope_css(body, _nest(selector, head)))
    rules = [f"{selector}{{{'; '.join(declarations)}}}"] if declarations else []
    return rules + nested


# ---------------------------------------------------------------- proofs

_FIRST_PARAGRAPH = re.compile(r"\A\s*<p>")
_LAST_PARAGRAPH = re.compile(r"</p>\s*\Z")


def run_in(body: str, lead: str, tail: str) -> str:
    """Put `lead` at the start of the body's first paragraph and `tail` at the end of its last,
    as amsthm sets "Proof." and the tombstone; a body that starts or ends with something else
    (display math, a list) gets them as paragraphs of their own."""
    if _FIRST_PARAGRAPH.match(body):
        body = _FIRST_PARAGRAPH.sub(lambda m: m.group(0) + lead + " ", body, count=1)
    else:
        body = f"<p>{lead}</p>\n{body}"
    if _LAST_PARAGRAPH.search(body):
        return _LAST_PARAGRAPH.sub(lambda m: tail + m.group(0), body, count=1)
    return f"{body}\n<p class=\"qed-qed-line\">{tail}</p>"


# ---------------------------------------------------------------- embeds and data


def embeds_allowed(params: Any, service: str) -> bool:
    """May a page load `service` (youtube, bilibili, music, echarts...) from the network?

    Only when the site says so in `params.embeds`: `true` for every service, or a mapping
    of service → true/false. Otherwise an embed is a link to the service and loads nothing.
    """
    setting = params.get("embeds") if isinstance(params, dict) else None
    if isinstance(setting, dict):
        return setting.get(service, setting.get("all", False)) is True
    return setting is True


def unmarshal(text: str) -> Any:
    """Hugo's `transform.Unmarshal` on a shortcode body, telling the format as Hugo does:
    JSON when wrapped in {} or [] (TOML when `[table]`s are not JSON), else TOML when an `=`
    comes before any `:`, else YAML.

    Raises ValueError naming what is wrong.
    """
    text = text.strip()
    if text[:1] + text[-1:] in ("{}", "[]"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as problem:
            json_problem = ValueError(f"invalid JSON: {problem.msg} (line {problem.lineno})")
        if text[0] == "{":
            raise json_problem
        try:  # `[table]` ... `]`: TOML that happens to end with an array
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            raise json_problem from None
    equals, colon = text.find("="), text.find(":")
    if equals >= 0 and (colon < 0 or equals < colon):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as problem:
            raise ValueError(f"invalid TOML: {problem}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"invalid YAML{where}") from None


def sorted_by_text(items: Any, key: str, reverse: bool = False) -> list[Any]:
    """Mappings in `items` ordered by `item[key]` read as text (YAML may give a date or a
    string for a timestamp; Hugo's `sort` orders them all the same)."""
    rows = [item for item in items or [] if isinstance(item, dict)]
    return sorted(rows, key=lambda item: str(item.get(key, "")), reverse=bool(reverse))


_QR_LEVELS = {"low": "l", "medium": "m", "quartile": "q", "high": "h"}


def qr_code(text: str, level: str = "medium", scale: int = 4) -> dict[str, Any]:
    """Hugo's qr shortcode drawn now: an SVG data URI and its size in pixels (`scale` per module,
    with the quiet zone a scanner needs). Raises ValueError for an unknown level or empty text."""
    if not text:
        raise ValueError("no text to encode")
    error = _QR_LEVELS.get(str(level).lower())
    if error is None:
        raise ValueError(f"level must be one of {', '.join(_QR_LEVELS)}, not '{level}'")
    code = segno.make(text, error=error, micro=False, boost_error=False)
    width, height = code.symbol_size(scale=scale)
    return {"src": code.svg_data_uri(scale=scale), "width": width, "height": height}
