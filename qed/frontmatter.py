"""Front matter: split a content file into its metadata block and body, and parse it.

YAML (`---`), TOML (`+++`) and JSON (`{...}`) are read as Hugo reads them. Each key keeps
the line it was written on, so a wrong value is reported at `path:line:col`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any

import yaml

from qed.errors import Location, QedError, SourceText

try:  # libyaml's loader is ~8x faster than the pure-Python one
    _YamlLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _YamlLoader = yaml.SafeLoader

_FENCES = {"---": "yaml", "+++": "toml"}


class _BadValue(Exception):
    """A value YAML parses but Python cannot hold (2024-02-30, `!!int abc`), at its node."""

    def __init__(self, node: yaml.Node, problem: Exception):
        super().__init__(str(problem))
        self.node, self.problem = node, problem


class _Constructor(_YamlLoader):  # type: ignore[misc,valid-type]
    """YAML's safe constructor, with each value's failure reported at that value's node."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError) as problem:
            raise _BadValue(node, problem) from None


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
        return _parse_json(source)
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
    if kind == "yaml":
        data, lines = _parse_yaml(raw, source, first_line=2)
    else:
        data, lines = _parse_toml(raw, source, first_line=2)
    return FrontMatter(data, lines, body_offset, kind)


def _parse_yaml(raw: str, source: SourceText, first_line: int) -> tuple[dict, dict[str, int]]:
    loader = _Constructor(raw)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(source.path, first_line + mark.line, mark.column + 1) if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise QedError(f"front matter is not valid YAML: {problem}", where) from None
    except _BadValue as bad:
        mark = bad.node.start_mark
        kind = bad.node.tag.rsplit(":", 1)[-1]
        why = f": {bad.problem}" if isinstance(bad.problem, ValueError) and len(str(bad.problem)) < 60 else ""
        raise QedError(f"{bad.node.value!r} is not a valid {kind}{why}",
                       Location(source.path, first_line + mark.line, mark.column + 1)) from None
    finally:
        loader.dispose()
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise QedError("front matter must be a mapping of keys to values", Location(source.path, first_line, 1))
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            lines[str(key_node.value)] = first_line + key_node.start_mark.line
    return {str(k): v for k, v in data.items()}, lines


def _parse_toml(raw: str, source: SourceText, first_line: int) -> tuple[dict, dict[str, int]]:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line.*\)", "", str(exc))
        where = Location(source.path, first_line + int(match[1]) - 1, int(match[2])) if match else None
        raise QedError(f"front matter is not valid TOML: {message}", where) from None
    return data, _key_lines(raw, first_line, r"^\s*[\"']?([\w-]+)[\"']?\s*=")


def _parse_json(source: SourceText) -> FrontMatter:
    decoder = json.JSONDecoder()
    try:
        data, end = decoder.raw_decode(source.text)
    except json.JSONDecodeError as exc:
        where = Location(source.path, exc.lineno, exc.colno)
        raise QedError(f"front matter is not valid JSON: {exc.msg}", where) from None
    if not isinstance(data, dict):
        raise QedError("front matter must be a JSON object", source.location(0))
    lines = _key_lines(source.text[:end], 1, r'^\s*"([^"]+)"\s*:')
    while end < len(source.text) and source.text[end] in " \t\r":
        end += 1
    if end < len(source.text) and source.text[end] == "\n":
        end += 1
    return FrontMatter(data, lines, end, "json")


def _key_lines(raw: str, first_line: int, pattern: str) -> dict[str, int]:
    """Line of each top-level key, found by pattern (TOML and JSON parsers give no positions)."""
    lines: dict[str, int] = {}
    for number, line in enumerate(raw.split("\n")):
        if line.lstrip().startswith("["):
            break  # a TOML table: keys below are not top-level
        match = re.match(pattern, line)
        if match and match[1] not in lines:
            lines[match[1]] = first_line + number
    return lines


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
