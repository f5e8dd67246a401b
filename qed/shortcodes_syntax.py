"""Hugo shortcode syntax: finding `{{< >}}` / `{{% %}}` calls in a page body and pairing them.

Split from `qed.shortcodes` so the grammar (which follows Hugo's `parser/pageparser`) can be
read and tested apart from rendering. Everything here works on offsets into the body; the
caller turns them into `Location`s. Calls inside code (fenced or indented blocks, inline
code spans) are left alone, as a reader of the rendered page would expect, but the
documentation escapes `{{</* x */>}}` are still turned into `{{< x >}}` there, because Hugo
sites write exactly that inside code blocks to show a call.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qed.codemap import CodeMap

Value = str | bool | int | float

_NAME_RE = re.compile(r"[A-Za-z0-9_][\w-]*(?:/[\w-]+)*")
_KEY_RE = re.compile(r"([A-Za-z0-9_][\w-]*)[ \t]*=[ \t]*")
_INT_RE = re.compile(r"[-+]?\d+")
_FLOAT_RE = re.compile(r"[-+]?\d*\.\d+")
_ESCAPED_CALL_RE = re.compile(r"\{\{(<|%)/\*(.*?)\*/(>|%)\}\}", re.DOTALL)
_INTERESTING_RE = re.compile(r"\{\{[<%]|`+")
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
_RIGHT = {"<": ">}}", "%": "%}}"}


@dataclass
class Argument:
    """One argument of a call; `key` is None for a positional one."""

    key: str | None
    value: Value
    offset: int


@dataclass
class Call:
    """One `{{< ... >}}` tag as written: opening, closing or self-closing."""

    name: str
    notation: str  # "<" (HTML, kept out of markdown) or "%" (markdown)
    start: int
    end: int  # offset just past the right delimiter
    closing: bool = False
    self_closing: bool = False
    args: list[Argument] = field(default_factory=list)

    def delimiters(self) -> tuple[str, str]:
        return "{{" + self.notation, _RIGHT[self.notation]

    def spelled_closing(self) -> str:
        left, right = self.delimiters()
        return f"{left} /{self.name} {right}"


@dataclass
class Text:
    """Literal body text between calls (escaped calls already unescaped)."""

    text: str


@dataclass
class Node:
    """A call with what it encloses; `end` is past its closing tag (or the tag itself)."""

    call: Call
    children: list[Text | Node] = field(default_factory=list)
    end: int = 0
    inner_start: int | None = None
    inner_end: int | None = None

    @property
    def closed(self) -> bool:
        return self.inner_start is not None


@dataclass(frozen=True)
class SyntaxProblem:
    """A user mistake found while reading calls, at an offset in the body."""

    message: str
    offset: int


class ShortcodeSyntaxError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


def unescape_calls(text: str) -> str:
    """`{{</* x */>}}` → `{{< x >}}`: Hugo's way of showing a call without running it."""
    return _ESCAPED_CALL_RE.sub(lambda m: "{{" + m.group(1) + m.group(2) + m.group(3) + "}}", text)


def typed_value(raw: str) -> Value:
    """Hugo's typing of an unquoted argument: true/false, ints and floats become values."""
    if raw in ("true", "false"):
        return raw == "true"
    if _INT_RE.fullmatch(raw):
        return int(raw)
    if _FLOAT_RE.fullmatch(raw):
        return float(raw)
    return raw


# ---------------------------------------------------------------- code regions


def _code_span_end(body: str, start: int, run: int, codes: CodeMap) -> int | None:
    """End of the inline code span opened by `run` backticks at `start`, within its paragraph."""
    limit_match = _BLANK_LINE_RE.search(body, start)
    limit = limit_match.start() if limit_match else len(body)
    next_code = codes.next_code_start(start)
    if next_code is not None:
        limit = min(limit, next_code)
    ticks = "`" * run
    pos = start + run
    while True:
        found = body.find(ticks, pos, limit)
        if found < 0:
            return None
        end = found + run
        while end < len(body) and body[end] == "`":
            end += 1
        if end - found == run:
            return end
        pos = end


def _is_backslash_escaped(body: str, offset: int) -> bool:
    count = 0
    while offset - count - 1 >= 0 and body[offset - count - 1] == "\\":
        count += 1
    return count % 2 == 1


# ---------------------------------------------------------------- lexing one call


class _CallLexer:
    """Reads one call starting at `{{<`/`{{%`, with Hugo's argument rules."""

    def __init__(self, body: str, start: int):
        self.body = body
        self.start = start
        self.notation = body[start + 2]
        self.right = _RIGHT[self.notation]
        self.pos = start + 3
        self.problems: list[SyntaxProblem] = []

    def fail(self, message: str, offset: int | None = None) -> ShortcodeSyntaxError:
        return ShortcodeSyntaxError(message, self.start if offset is None else offset)

    def skip_space(self) -> None:
        while self.pos < len(self.body) and self.body[self.pos] in " \t\r\n":
            self.pos += 1

    def at(self, text: str) -> bool:
        return self.body.startswith(text, self.pos)

    def read(self) -> Call:
        self.skip_space()
        closing = self.at("/")
        if closing:
            self.pos += 1
            self.skip_space()
        match = _NAME_RE.match(self.body, self.pos)
        if not match:
            raise self.fail(f"shortcode call without a name (write {{{{{self.notation} name ... {self.right})")
        call = Call(match.group(), self.notation, self.start, 0, closing=closing)
        self.pos = match.end()
        while True:
            self.skip_space()
            if self.pos >= len(self.body):
                raise self.fail(f"shortcode '{call.name}' is not terminated by {self.right}")
            if self.at(self.right):
                self.pos += len(self.right)
                break
            if self.at("/" + self.right) or (self.at("/") and self._only_space_then_right()):
                self.pos = self.body.index(self.right, self.pos) + len(self.right)
                call.self_closing = True
                break
            if closing:
                raise self.fail(f"closing tag of '{call.name}' takes no arguments", self.pos)
            argument = self.read_argument(call)
            if argument is not None:
                call.args.append(argument)
        call.end = self.pos
        return call

    def _only_space_then_right(self) -> bool:
        rest = self.pos + 1
        while rest < len(self.body) and self.body[rest] in " \t":
            rest += 1
        return self.body.startswith(self.right, rest)

    def read_argument(self, call: Call) -> Argument | None:
        offset = self.pos
        key_match = _KEY_RE.match(self.body, self.pos)
        key = None
        if key_match:
            key = key_match.group(1)
            self.pos = key_match.end()
        value = self.read_value()
        argument = Argument(key, value, offset)
        if call.args and (call.args[0].key is None) != (key is None):
            kind = "named" if key is not None else "positional"
            # not fatal: the call and its closing tag still pair up, so one mistake gives one error
            self.problems.append(SyntaxProblem(
                f"cannot mix named and positional arguments in shortcode '{call.name}' "
                f"(got {kind} argument {self.body[offset:self.pos]!r})",
                offset,
            ))
            return None
        if key is not None and any(arg.key == key for arg in call.args):
            # a second value would silently replace the first (a second verify= on a theorem)
            self.problems.append(SyntaxProblem(f"argument '{key}' is given twice in shortcode '{call.name}'", offset))
            return None
        return argument

    def read_value(self) -> Value:
        if self.at('"'):
            return self.read_quoted()
        if self.at("`"):
            return self.read_raw()
        start = self.pos
        other_right = _RIGHT["%" if self.notation == "<" else "<"]
        while self.pos < len(self.body) and self.body[self.pos] not in " \t\r\n\"`":
            if self.at(self.right) or self.at("/" + self.right):
                break
            self.pos += 1
        raw = self.body[start : self.pos]
        if not raw:
            raise self.fail("missing argument value", start)
        if raw.startswith("{{"):
            raise self.fail(f"shortcode call is not terminated by {self.right} before the next call")
        if raw.endswith(other_right):
            raise self.fail(f"shortcode opened with {{{{{self.notation} must end with {self.right}", start)
        return typed_value(raw)

    def read_quoted(self) -> str:
        """A double-quoted string; `\\"` is its only escape (as in Hugo), and it ends at the line."""
        quote = self.pos
        self.pos += 1
        chars: list[str] = []
        while True:
            if self.pos >= len(self.body) or self.body[self.pos] == "\n":
                raise self.fail("unterminated quoted string in shortcode argument", quote)
            char = self.body[self.pos]
            if char == "\\" and self.body.startswith('"', self.pos + 1):
                chars.append('"')
                self.pos += 2
                continue
            self.pos += 1
            if char == '"':
                return "".join(chars)
            chars.append(char)

    def read_raw(self) -> str:
        """A backtick raw string: no escapes, may span lines, keeps quotes."""
        end = self.body.find("`", self.pos + 1)
        if end < 0:
            raise self.fail("unterminated raw string (`...`) in shortcode argument", self.pos)
        value = self.body[self.pos + 1 : end]
        self.pos = end + 1
        return value


def _read_escape(body: str, start: int) -> tuple[str, int]:
    """An escaped call `{{</* ... */>}}`: its literal text and the offset past it."""
    notation = body[start + 2]
    right = _RIGHT[notation]
    close = body.find("*/" + right, start + 5)
    if close < 0:
        raise ShortcodeSyntaxError(f"escaped shortcode is not closed with */{right}", start)
    return "{{" + notation + body[start + 5 : close] + right, close + 2 + len(right)


# ---------------------------------------------------------------- tokens and tree


def tokenize(body: str, problems: list[SyntaxProblem]) -> list[Text | Call]:
    """Split the body into literal text and calls, skipping code; problems are appended."""
    if "{{" not in body:  # no call and no escaped call: nothing to find, no need to parse
        return [Text(body)] if body else []
    codes = CodeMap.of(body)
    tokens: list[Text | Call] = []
    text_start = pos = 0

    def flush(upto: int, code: bool = False) -> None:
        if upto > text_start:
            segment = body[text_start:upto]
            tokens.append(Text(unescape_calls(segment) if code else segment))

    while (match := _INTERESTING_RE.search(body, pos)) is not None:
        start = match.start()
        code = _code_at(body, match, codes)
        if code is not None:
            flush(code[0])
            text_start = code[0]
            flush(code[1], code=True)
            text_start = pos = code[1]
            continue
        if match.group().startswith("`"):  # a backtick run that opens no code span
            pos = match.end()
            continue
        try:
            token, end = _read_call_or_escape(body, start, problems)
        except ShortcodeSyntaxError as problem:
            problems.append(SyntaxProblem(problem.message, problem.offset))
            pos = start + 3
            continue
        flush(start)
        tokens.append(token)
        text_start = pos = end
    flush(len(body))
    return tokens


def _code_at(body: str, match: re.Match[str], codes: CodeMap) -> tuple[int, int] | None:
    """(start, end) of the code block or code span that begins at `match`, if there is one."""
    block = codes.code_block_at(match.start())
    if block is not None:
        return block[0], block[1]
    if not match.group().startswith("`") or _is_backslash_escaped(body, match.start()):
        return None
    span_end = _code_span_end(body, match.start(), len(match.group()), codes)
    return (match.start(), span_end) if span_end is not None else None


def _read_call_or_escape(body: str, start: int, problems: list[SyntaxProblem]) -> tuple[Text | Call, int]:
    """The call at `start`, or the literal text of an escaped one (`{{</* x */>}}`), and its end."""
    if body.startswith("/*", start + 3):
        literal, end = _read_escape(body, start)
        return Text(literal), end
    lexer = _CallLexer(body, start)
    call = lexer.read()
    problems.extend(lexer.problems)
    return call, call.end


MAX_NESTING = 100  # shortcodes inside shortcodes: real pages use a handful; rendering recurses


def build_tree(
    tokens: list[Text | Call],
    takes_inner: Callable[[Call, bool], bool],
    problems: list[SyntaxProblem],
    body_length: int,
) -> list[Text | Node]:
    """Pair opening and closing tags into nested `Node`s.

    `takes_inner(call, closing_follows)` says whether an opening tag without `/` expects a
    closing tag (Hugo: whether its template uses the inner content); `closing_follows` tells
    whether a closing tag of that name comes later, for names without a template.
    """
    root: list[Text | Node] = []
    stack: list[Node] = []
    open_names: Counter[str] = Counter()
    last_closing = {t.name: i for i, t in enumerate(tokens) if isinstance(t, Call) and t.closing}

    def current() -> list[Text | Node]:
        return stack[-1].children if stack else root

    for index, token in enumerate(tokens):
        if isinstance(token, Text):
            current().append(token)
            continue
        follows = last_closing.get(token.name, -1) > index
        if token.closing:
            _close(token, stack, open_names, problems, takes_inner(token, follows))
            continue
        node = Node(token, end=token.end)
        current().append(node)
        if token.self_closing:
            node.inner_start = node.inner_end = token.end
        elif takes_inner(token, follows):
            node.inner_start = token.end
            if len(stack) == MAX_NESTING:
                problems.append(SyntaxProblem(
                    f"shortcode '{token.name}' is nested {MAX_NESTING + 1} deep; qed allows {MAX_NESTING}",
                    token.start))
                return _close_all_at(root, stack, body_length)
            stack.append(node)
            open_names[token.name] += 1
    for node in reversed(stack):
        problems.append(SyntaxProblem(_unclosed_message(node.call), node.call.start))
    return _close_all_at(root, stack, body_length)


def _close_all_at(root: list[Text | Node], stack: list[Node], end: int) -> list[Text | Node]:
    for node in stack:
        node.inner_end = node.end = end
    return root


def _unclosed_message(call: Call) -> str:
    left, right = call.delimiters()
    return (
        f"shortcode '{call.name}' is not closed: its template uses the inner content, so add "
        f"{call.spelled_closing()} or self-close it as {left} {call.name} ... /{right}"
    )


def _close(token: Call, stack: list[Node], open_names: Counter[str], problems: list[SyntaxProblem],
           takes_inner: bool) -> None:
    if not open_names[token.name]:
        reason = (
            f"no '{token.name}' is open"
            if takes_inner
            else f"shortcode '{token.name}' takes no inner content (its template never uses inner)"
        )
        problems.append(SyntaxProblem(f"unexpected closing tag {token.spelled_closing()}: {reason}", token.start))
        return
    while stack[-1].call.name != token.name:
        inner = stack.pop()
        open_names[inner.call.name] -= 1
        problems.append(
            SyntaxProblem(
                f"closing tag {token.spelled_closing()} does not match the open shortcode "
                f"'{inner.call.name}' (close '{inner.call.name}' first)",
                token.start,
            )
        )
        inner.inner_end = inner.end = token.start
    node = stack.pop()
    open_names[token.name] -= 1
    node.inner_end = token.start
    node.end = token.end


def params_of(call: Call) -> dict[str, Any] | list[Any]:
    """Hugo's `.Params`: a dict for named arguments, a list for positional ones."""
    if call.args and call.args[0].key is not None:
        return {arg.key: arg.value for arg in call.args if arg.key is not None}
    return [arg.value for arg in call.args]
