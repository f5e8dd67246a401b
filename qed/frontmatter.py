"""Front matter: split a content file into its metadata block and body, and parse it.

YAML (`---`), TOML (`+++`) and JSON (`{...}`) are read as Hugo reads them; the config
reader uses the same parsers. Each key keeps where it was written (nested keys too), so a
wrong value is reported at `path:line:col`. Hostile input is refused with a located error
before it can run away: nesting deeper than `MAX_DEPTH`, YAML aliases that expand past
`ALIAS_BUDGET` values or into themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import tomllib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, ScalarEvent
from yaml.resolver import Resolver

from qed.errors import Location, QedError, SourceText

MAX_DEPTH = 100  # mappings and lists nested deeper than this are refused (parsers recurse)
ALIAS_BUDGET = 10_000  # values YAML aliases may add to a document, or its own size if larger

_FENCES = {"---": "yaml", "+++": "toml"}
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_LIBYAML_SAFE_DEPTH = 2000  # libyaml composes recursively in C; 20,000 levels still fit its stack

KeyPath = tuple[str, ...]
Positions = dict[KeyPath, tuple[int, int]]  # key path (as written) -> (line, col) of the key


class _Refused(Exception):
    """YAML refused while composing (too deep, aliases running away), at the event's mark."""

    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.mark = mark


class _BadValue(Exception):
    """A value YAML parses but Python cannot hold (2024-02-30, `!!int abc`), at its node."""

    def __init__(self, node: yaml.Node, problem: Exception):
        super().__init__(str(problem))
        self.node, self.problem = node, problem


_VALUE_FAILURES = (ValueError, TypeError, AttributeError, OverflowError, KeyError)


class _KeyPositions:
    """What both YAML loaders add to PyYAML's safe loader: every mapping key is text, as in
    Hugo (`1:` and `true:` are two keys, "1" and "true"), and the position of each is known."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)  # type: ignore[misc]  # its error
        self._refuse_duplicate_keys(node)
        self.flatten_mapping(node)  # type: ignore[attr-defined]  # merge keys (`<<: *a`)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[attr-defined]
            if not isinstance(key, Hashable):
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found unhashable key", key_node.start_mark)
            mapping[key_text(key)] = self.construct_object(value_node, deep=deep)  # type: ignore[attr-defined]
        return mapping

    def _refuse_duplicate_keys(self, node: yaml.MappingNode) -> None:
        """A key written twice in one mapping is an error at the second, as in Hugo: PyYAML
        would keep the last silently (`draft: true` then `draft: false` publishes). Keys a
        merge (`<<: *a`) brings in may be overridden; those come in after this check."""
        seen: set[str] = set()
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            name = key_node.value if key_node.tag == _STR_TAG else key_text(self.construct_object(key_node))  # type: ignore[attr-defined]
            if name in seen:
                raise _Refused(f"key '{_clip(name)}' is written twice in this mapping; keep one", key_node.start_mark)
            seen.add(name)

    def record_positions(self, node: yaml.Node, path: KeyPath, raw: SourceText, lines_before: int,
                         positions: Positions) -> None:
        """Where each mapping key below `node` is written, under the key as it was read
        (`yes` is True, `1.50` is 1.5); nesting is bounded by MAX_DEPTH."""
        if not isinstance(node, yaml.MappingNode):
            return
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            name = key_node.value if key_node.tag == _STR_TAG else key_text(self.construct_object(key_node))
            key = (*path, name)
            where = raw.location(key_node.start_mark.index)  # by index: YAML breaks lines at \r too
            positions.setdefault(key, (lines_before + where.line, where.col))
            self.record_positions(value_node, key, raw, lines_before, positions)


if yaml.__with_libyaml__:  # libyaml scans and parses ~8x faster than the pure-Python reader
    from yaml.cyaml import CParser

    class _Events(Composer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's events, composed in Python so that every node can be counted."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)

    class _FastLoader(_KeyPositions, yaml.CSafeLoader):  # type: ignore[misc]
        """All of it in libyaml: for text that can neither alias nor nest deep (`_is_plain`)."""
else:  # pragma: no cover - depends on how PyYAML was built
    _Events = yaml.SafeLoader  # type: ignore[misc,assignment]
    _FastLoader = None  # type: ignore[assignment,misc]


class _GuardedLoader(_KeyPositions, _Events):  # type: ignore[misc,valid-type]
    """YAML's safe loader, refusing nesting past MAX_DEPTH and aliases that repeat more than
    ALIAS_BUDGET values (or more than the document holds) or contain themselves, each at the
    event where it happens; a value Python cannot hold is reported at its node."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._written = 0  # nodes written out in the document
        self._values = 0  # nodes the document stands for, aliases expanded
        self._sizes: dict[str, int] = {}  # anchor -> values it stands for
        self._open: set[str] = set()  # anchors whose node is still being composed

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._expand_alias(event)
            return super().compose_node(parent, index)
        collection = not isinstance(event, ScalarEvent)
        self._depth += collection
        if self._depth > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep; qed refuses such input", event.start_mark)
        anchor = getattr(event, "anchor", None)
        before = self._values
        self._written += 1
        self._values += 1
        if anchor is not None:
            self._open.add(anchor)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = self._values - before
        self._depth -= collection
        return node

    def _expand_alias(self, event: AliasEvent) -> None:
        if event.anchor in self._open:
            raise _Refused(f"alias *{event.anchor} is inside the value it names (it would never end)",
                           event.start_mark)
        self._values += self._sizes.get(event.anchor, 0)
        if self._values - self._written > max(ALIAS_BUDGET, self._written):
            raise _Refused(f"YAML aliases here repeat more than {max(ALIAS_BUDGET, self._written):,} values "
                           "(an alias bomb?); qed refuses such input", event.start_mark)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)
        except _VALUE_FAILURES as problem:
            raise _BadValue(node, problem) from None


def _is_plain(raw: str) -> bool:
    """Can `raw` be composed by libyaml alone? Only without anchors (so no aliases) and with
    few enough collection starts (`[`, `{` and the block indicators `-`, `:`, `?` each
    collection needs) that it cannot nest deep enough to exhaust libyaml's C stack."""
    if _FastLoader is None or "&" in raw:
        return False
    return sum(raw.count(char) for char in "[{-:?") <= _LIBYAML_SAFE_DEPTH


def _nests_too_deep(node: yaml.Node) -> bool:
    """Are collections nested more than MAX_DEPTH deep below `node`? (A tree: no aliases.)"""
    level = [node]
    for _ in range(MAX_DEPTH):
        level = [child for item in level if isinstance(item, yaml.CollectionNode)
                 for child in (item.value if isinstance(item, yaml.SequenceNode)
                               else (part for pair in item.value for part in pair))]
        if not level:
            return False
    return any(isinstance(item, yaml.CollectionNode) for item in level)


@dataclass(frozen=True)
class Parsed:
    """A parsed mapping and where each of its keys, at any depth, is written in the file."""

    data: dict[str, Any]
    positions: Positions

    @property
    def key_lines(self) -> dict[str, int]:
        """The line of each top-level key."""
        return {path[0]: line for path, (line, _) in self.positions.items() if len(path) == 1}


@dataclass(frozen=True)
class FrontMatter:
    """Parsed metadata, the line of each top-level key, and where the body starts."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    body_offset: int
    format: str

    def location(self, source: SourceText, key: str) -> Location:
        """Where `key` was written, or the top of the file for a missing key."""
        line = self.key_lines.get(key, 1)
        return Location(source.path, line, 1)


def split_front_matter(source: SourceText) -> FrontMatter:
    """Find and parse the front matter block at the top of `source`."""
    text = source.text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0].rstrip()
    if first_line in _FENCES:
        return _parse_fenced(source, first_line)
    if text.startswith("{"):
        parsed, end = parse_json(source)
        while end < len(source.text) and source.text[end] in " \t\r":
            end += 1
        if end < len(source.text) and source.text[end] == "\n":
            end += 1
        return FrontMatter(parsed.data, parsed.key_lines, end, "json")
    return FrontMatter({}, {}, 0, "none")


def _parse_fenced(source: SourceText, fence: str) -> FrontMatter:
    text = source.text
    start = text.index("\n") + 1 if "\n" in text else len(text)
    closing = re.compile(r"^" + re.escape(fence) + r"[ \t]*$", re.M)
    match = closing.search(text, start)
    if match is None:
        raise QedError(f"front matter opened with '{fence}' is never closed", source.location(0))
    raw = text[start : match.start()]
    body_offset = min(match.end() + 1, len(text))
    kind = _FENCES[fence]
    reader = parse_yaml if kind == "yaml" else parse_toml
    parsed = reader(raw, source, first_line=2)
    return FrontMatter(parsed.data, parsed.key_lines, body_offset, kind)


def parse_yaml(raw: str, source: SourceText, first_line: int, what: str = "front matter") -> Parsed:
    """`raw` (which starts at `first_line` of `source`) as a YAML mapping; `what` names it in messages."""
    plain = _is_plain(raw)
    deep = None if plain else _bracket_depth_exceeded(raw, _TOML_SKIP)
    if deep is not None:  # found before libyaml's scanner, whose own limit differs between releases
        raise QedError(f"nested more than {MAX_DEPTH} levels deep; qed refuses such input",
                       _at_offset(source, first_line, raw, deep))
    try:
        loaded = _load(_FastLoader(raw), raw, source, first_line) if plain else None
        data, positions = loaded or _load(_GuardedLoader(raw), raw, source, first_line) or (None, {})
    except _Refused as refused:
        raise QedError(refused.args[0], _at_mark(source, first_line, raw, refused.mark)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _at_mark(source, first_line, raw, mark) if mark else Location(source.path, first_line, 1)
        raise QedError(f"{what} is not valid YAML: {exc.problem or exc}", where) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters)
        offset = len(raw.encode("utf-8")[: exc.position].decode("utf-8", "ignore"))
        where = _at_offset(source, first_line, raw, offset)
        raise QedError(f"{what} is not valid YAML: character U+{exc.character:04X} is not allowed "
                       "(control characters must be written as escapes in a double-quoted string)", where) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every error libyaml raises is one of the above
        raise QedError(f"{what} is not valid YAML: {exc}", Location(source.path, first_line, 1)) from None
    except _BadValue as bad:
        kind = bad.node.tag.rsplit(":", 1)[-1]
        why = f": {bad.problem}" if isinstance(bad.problem, ValueError) and len(str(bad.problem)) < 60 else ""
        raise QedError(f"{_clip(repr(bad.node.value))} is not a valid {kind}{why}",
                       _at_mark(source, first_line, raw, bad.node.start_mark)) from None
    if data is None:
        return Parsed({}, {})
    if not isinstance(data, dict):
        raise QedError(f"{what} must be a mapping of keys to values", Location(source.path, first_line, 1))
    return Parsed(data, positions)


def _load(loader: Any, raw: str, source: SourceText, first_line: int) -> tuple[Any, Positions] | None:
    """Compose and construct with `loader`, and record key positions. The fast loader gives
    None when the guarded one must say where a problem is (nesting past MAX_DEPTH, a value
    Python cannot hold)."""
    fast = not isinstance(loader, _GuardedLoader)
    positions: Positions = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, positions
        if fast and _nests_too_deep(node):
            return None
        try:
            data = loader.construct_document(node)
        except _VALUE_FAILURES:
            if fast:
                return None
            raise
        if isinstance(data, dict):
            loader.record_positions(node, (), SourceText(source.path, raw), first_line - 1, positions)
        return data, positions
    finally:
        loader.dispose()


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def key_text(key: object) -> str:
    """A mapping key as text, as Hugo keeps every key (`1: x`, `true: y`, `2024-01-01: z`)."""
    if type(key) is str:
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "" if key is None else str(key)


def _at_mark(source: SourceText, first_line: int, raw: str, mark: Any) -> Location:
    """A YAML mark as a location: by its character index, since YAML also breaks lines at
    characters other than newline (\r, U+0085, U+2028), and at the end of the last line
    for an error at the end of the text."""
    return _at_offset(source, first_line, raw, min(mark.index, len(raw.rstrip("\n"))))


def _at_offset(source: SourceText, first_line: int, raw: str, offset: int) -> Location:
    """The location of character `offset` of `raw`, which starts at `first_line` of `source`."""
    line = raw.count("\n", 0, offset)
    column = offset - (raw.rfind("\n", 0, offset) + 1)
    return Location(source.path, first_line + line, column + 1)


def parse_toml(raw: str, source: SourceText, first_line: int, what: str = "front matter") -> Parsed:
    """`raw` (which starts at `first_line` of `source`) as a TOML document."""
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        message = re.sub(r"\s*\((?:at line \d+, column \d+|at end of document)\)", "", str(exc))
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        if match:
            where = Location(source.path, first_line + int(match[1]) - 1, int(match[2]))
        else:  # "at end of document": the last line
            where = _at_offset(source, first_line, raw, len(raw.rstrip("\n")))
        raise QedError(f"{what} is not valid TOML: {message}", where) from None
    except RecursionError:
        data = None
    except ValueError:  # Python's limit on the digits of a whole number
        raise _too_long_number(raw, source, first_line) from None
    if data is None or _too_deep(data):
        raise QedError(f"nested more than {MAX_DEPTH} levels deep; qed refuses such input",
                       _deepest(raw, source, first_line)) from None
    return Parsed(data, _toml_positions(raw, first_line))


def parse_json(source: SourceText, what: str = "front matter") -> tuple[Parsed, int]:
    """The JSON object at the start of `source`, and the offset where it ends."""
    text = source.text
    deep = _bracket_depth_exceeded(text)
    if deep is not None:
        raise QedError(f"nested more than {MAX_DEPTH} levels deep; qed refuses such input", source.location(deep))
    try:
        data, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        raise QedError(f"{what} is not valid JSON: {exc.msg}", Location(source.path, exc.lineno, exc.colno)) from None
    except ValueError:  # Python's limit on the digits of a whole number
        raise _too_long_number(text, source, 1) from None
    if not isinstance(data, dict):
        raise QedError(f"{what} must be a JSON object", source.location(0))
    return Parsed(data, _json_positions(text[:end], source)), end


_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[\[\]{}]')
_TOML_SKIP = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"?|\'[^\'\n]*\'?|#[^\n]*|[\[\]{}]')


def _brackets(text: str, pattern: re.Pattern[str] = _STRING_OR_BRACKET) -> Iterator[tuple[int, int]]:
    """(offset, depth after it) of every bracket outside strings (and comments, for TOML)."""
    depth = 0
    for match in pattern.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(0, depth - 1)
        else:
            continue
        yield match.start(), depth


def _too_long_number(raw: str, source: SourceText, first_line: int) -> QedError:
    """The error for a whole number longer than Python converts (4,300 digits by default)."""
    limit = sys.get_int_max_str_digits()
    match = re.search(rf"[0-9_]{{{limit + 1},}}", raw)
    where = _at_offset(source, first_line, raw, match.start() if match else 0)
    return QedError(f"a number with more than {limit:,} digits; qed refuses such input", where)


def _bracket_depth_exceeded(text: str, pattern: re.Pattern[str] = _STRING_OR_BRACKET) -> int | None:
    """Offset of the first bracket nested past MAX_DEPTH (JSON stops at its first closed object)."""
    for offset, depth in _brackets(text, pattern):
        if depth > MAX_DEPTH:
            return offset
        if depth == 0 and pattern is _STRING_OR_BRACKET:
            return None
    return None


def _too_deep(data: Any) -> bool:
    """Does `data` nest mappings and lists more than MAX_DEPTH deep? (No recursion.)"""
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH + 1):
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return False
    return any(isinstance(item, (dict, list)) for item in level)


def _deepest(raw: str, source: SourceText, first_line: int) -> Location:
    """Where a TOML document nests too deep: the first bracket past the limit, else the key
    with the most dotted parts (`a.b.c...`), else the top of the block."""
    offset = _bracket_depth_exceeded(raw, _TOML_SKIP)
    if offset is None:
        dotted = max(_toml_key_lines(raw), key=lambda item: len(item[0]), default=None)
        offset = source.offset(first_line + dotted[1]) - source.offset(first_line) if dotted else 0
    return _at_offset(source, first_line, raw, offset)


_TOML_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\')'
_TOML_DOTTED = rf"{_TOML_KEY}(?:\s*\.\s*{_TOML_KEY})*"
_TOML_HEADER = re.compile(rf"\s*\[\[?\s*({_TOML_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_TOML_ASSIGN = re.compile(rf"\s*({_TOML_DOTTED})\s*=")
_TOML_PART = re.compile(_TOML_KEY)


def _toml_key_lines(raw: str) -> Iterator[tuple[KeyPath, int, int]]:
    """(full key path, line index, column) of every table header and key in a TOML text, found
    line by line (tomllib gives no positions); lines inside multi-line strings are skipped."""
    table: KeyPath = ()
    in_string = ""
    for number, line in enumerate(raw.split("\n")):
        if in_string:
            if line.count(in_string) % 2:
                in_string = ""
            continue
        header = _TOML_HEADER.match(line)
        assign = None if header else _TOML_ASSIGN.match(line)
        if header:
            table = _toml_parts(header[1])
            yield table, number, header.start(1) + 1
        elif assign:
            yield (*table, *_toml_parts(assign[1])), number, assign.start(1) + 1
            rest = line[assign.end():]
            for quotes in ('"""', "'''"):
                if rest.count(quotes) % 2:
                    in_string = quotes


def _toml_parts(dotted: str) -> KeyPath:
    return tuple(part.strip("\"'") if part[0] in "\"'" else part for part in _TOML_PART.findall(dotted))


def _toml_positions(raw: str, first_line: int) -> Positions:
    positions: Positions = {}
    for path, number, column in _toml_key_lines(raw):
        for depth in range(1, len(path) + 1):  # `[a.b]` also places `a` when it is not written alone
            positions.setdefault(path[:depth], (first_line + number, column))
    return positions


def _json_positions(text: str, source: SourceText) -> Positions:
    """Where each object key of a (valid) JSON text is written; keys inside lists are skipped."""
    positions: Positions = {}
    stack: list[KeyPath | None] = []  # per open bracket: the object's path, None inside a list
    key: tuple[str, int] | None = None
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]', text):
        token = match.group()
        if token == ":" and key is not None and stack and stack[-1] is not None:
            path = (*stack[-1], key[0])
            location = source.location(key[1])
            positions.setdefault(path, (location.line, location.col))
        elif token in "[{":
            parent = stack[-1] if stack else ()
            if token == "[" or parent is None:
                stack.append(None)
            else:
                stack.append((*parent, key[0]) if key is not None and len(stack) else ())
            key = None
            continue
        elif token in "]}":
            if stack:
                stack.pop()
        elif token.startswith('"'):
            key = (json.loads(token), match.start())
            continue
        if token != ":":
            key = None
    return positions


def to_datetime(value: Any) -> dt.datetime | None:
    """Hugo's date forms (YAML/TOML dates, ISO 8601 strings) as an aware-or-naive datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"expected a date like 2024-05-01 or 2024-05-01T10:00:00Z, got {value!r}")
