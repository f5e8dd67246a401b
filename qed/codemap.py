"""What is code in a markdown text, and where its headings are, from markdown-it's own block
parse with the block extensions pages use (tables, footnotes, definition lists).

One answer for every stage that must leave code alone (shortcode calls and formulas inside
code stay text) or count headings outside it (theorem numbering per section), so that no
stage's idea of "code" can disagree with what the markdown renderer finally does.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

_MAY_HAVE_CODE_RE = re.compile(r"```|~~~|^(?: {4}|\t)", re.M)  # fences, or indented lines
_CODE_TOKENS = ("fence", "code_block")
_CELL_TOKENS = ("th_open", "td_open")


@functools.cache
def _block_parser() -> MarkdownIt:
    """Block structure only: inline parsing would double the cost of the page's real pass."""
    md = MarkdownIt("commonmark").enable("table").use(footnote_plugin).use(deflist_plugin)
    return md.disable(["inline", "text_join"], ignoreInvalid=True)


@dataclass(frozen=True)
class CodeMap:
    """Code blocks and headings of one text, by line; offsets are the text's."""

    line_starts: tuple[int, ...]
    length: int
    code_lines: tuple[tuple[int, int], ...]  # sorted [first_line, end_line) of each code block
    headings: tuple[tuple[int, int], ...]  # (line, level) of each heading outside code
    # (first_line, end_line, kind, quotes) of each block whose text a browser sees as text:
    # kind "inline" (paragraph, heading, list item...), "row" (a table row: one cell per pipe)
    # or "html" (a raw HTML block, left alone by markdown); quotes = how many `>` each of its
    # lines starts with; only with `with_blocks`
    text_blocks: tuple[tuple[int, int, str, int], ...] = ()

    @classmethod
    def of(cls, text: str, *, with_headings: bool = False, with_blocks: bool = False) -> CodeMap:
        """Parse `text` (skipped when it cannot hold code and headings are not wanted)."""
        starts = (0, *(m.end() for m in re.finditer("\n", text)))
        needed = with_headings or with_blocks or _MAY_HAVE_CODE_RE.search(text)
        tokens = _block_parser().parse(text) if needed else []
        code = sorted((t.map[0], t.map[1]) for t in tokens if t.type in _CODE_TOKENS and t.map)
        headings = [(t.map[0], int(t.tag[1])) for t in tokens if t.type == "heading_open" and t.map]
        blocks = _text_blocks(tokens) if with_blocks else ()
        return cls(starts, len(text), tuple(code), tuple(headings), blocks)

    def text_block_ranges(self) -> list[tuple[int, int, str, int]]:
        """(start, end, kind, quotes) of every text block (see `text_blocks`), in order, by
        offsets; a block's end excludes its last newline."""
        ranges = []
        for first, last, kind, quotes in self.text_blocks:
            end = self.line_starts[last] - 1 if last < len(self.line_starts) else self.length
            ranges.append((self._offset_of_line(first), end, kind, quotes))
        return ranges

    def line_of(self, offset: int) -> int:
        """0-based line of `offset`."""
        return bisect.bisect_right(self.line_starts, offset) - 1

    def _offset_of_line(self, line: int) -> int:
        return self.line_starts[line] if line < len(self.line_starts) else self.length

    def block_ranges(self) -> list[tuple[int, int]]:
        """(start, end) offsets of every code block, in order."""
        return [(self._offset_of_line(first), self._offset_of_line(last)) for first, last in self.code_lines]

    def code_block_at(self, offset: int) -> tuple[int, int] | None:
        """(start, end) offsets of the code block containing `offset`, if any."""
        line = self.line_of(offset)
        index = bisect.bisect_right(self.code_lines, (line, float("inf"))) - 1
        if index >= 0:
            first, last = self.code_lines[index]
            if first <= line < last:
                return self._offset_of_line(first), self._offset_of_line(last)
        return None

    def next_code_start(self, offset: int) -> int | None:
        """Offset of the first code block that starts on a later line than `offset`."""
        line = self.line_of(offset)
        index = bisect.bisect_right(self.code_lines, (line, float("inf")))
        return self._offset_of_line(self.code_lines[index][0]) if index < len(self.code_lines) else None

    def heading_lines(self, level: int) -> list[int]:
        """0-based lines of the headings of `level` (`##` is 2), setext ones included."""
        return [line for line, found in self.headings if found == level]


def _text_blocks(tokens: list) -> tuple[tuple[int, int, str, int], ...]:
    """Where a browser will find text of its own: each block of inline text (a table row
    once, for all its cells) and each raw HTML block, by lines, in document order."""
    blocks: list[tuple[int, int, str, int]] = []
    in_cell, quotes = False, 0
    for token in tokens:
        if token.type == "blockquote_open":
            quotes += 1
        elif token.type == "blockquote_close":
            quotes -= 1
        elif token.type in _CELL_TOKENS:
            in_cell = True
        elif token.type == "inline" and token.map:
            kind = "row" if in_cell else "inline"
            block = (token.map[0], token.map[1], kind, quotes)
            if not (kind == "row" and blocks and blocks[-1] == block):
                blocks.append(block)
            in_cell = False
        elif token.type == "html_block" and token.map:
            blocks.append((token.map[0], token.map[1], "html", quotes))
    return tuple(sorted(blocks))
