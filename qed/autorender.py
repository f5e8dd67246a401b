"""Finding math as Hugo + LoveIt, DoIt and FixIt do: KaTeX's auto-render over Goldmark's HTML.

Those themes never see the markdown. Goldmark turns it into HTML first (backslash escapes
applied, entities decoded, raw HTML blocks left alone, optionally with its passthrough
extension keeping chosen delimiters verbatim); then auto-render walks the page's text
nodes and, in each one on its own, cuts formulas at the theme's delimiters. So a formula
never spans two text nodes: not two table cells, paragraphs or list items, not a code
span, an HTML tag or a shortcode; `$ x $` with spaces is math (auto-render has no
pandoc rule), and an opener without its closer makes the rest of its text node plain
text. Nothing inside script, noscript, style, textarea, pre, code or option is searched.

`find_math` reproduces that on the markdown source, so formulas are still cut out before
markdown runs (`qed.math`) and each keeps its place in the file for messages. What is
not reproduced: emphasis that Goldmark starts inside a formula (`a^*b^*`) and links
split text nodes in the theme, not here; the typographer's curly quotes are not applied.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qed.codemap import CodeMap
from qed.markers import MARKER_RE


@dataclass(frozen=True)
class Delimiter:
    """One pair of delimiters, as auto-render's `delimiters` option and Goldmark's
    passthrough `delimiters.block` / `delimiters.inline` lists give them."""

    left: str
    right: str
    display: bool


@dataclass(frozen=True)
class Found:
    """A formula found in the source: where it is (delimiters included) and what KaTeX gets."""

    start: int
    end: int
    tex: str
    display: bool
    shown: str  # the text a reader sees when KaTeX cannot typeset it (auto-render's rawData)
    passthrough: bool = False


# auto-render's delimiters as LoveIt (and FixIt before 0.4) configure them, display first
ENVIRONMENT_DELIMITERS = tuple(
    Delimiter(f"\\begin{{{name}}}", f"\\end{{{name}}}", True)
    for name in ("equation", "equation*", "align", "align*", "alignat", "alignat*", "gather", "CD"))
LOVEIT_DELIMITERS = (Delimiter("$$", "$$", True), Delimiter("\\[", "\\]", True), *ENVIRONMENT_DELIMITERS,
                     Delimiter("$", "$", False), Delimiter("\\(", "\\)", False))
DOIT_DELIMITERS = (Delimiter("$$", "$$", True), Delimiter("\\[", "\\]", True), Delimiter("$", "$", False),
                   Delimiter("\\(", "\\)", False))
# auto-render never searches inside these elements (its default `ignoredTags`)
IGNORED_TAGS = ("script", "noscript", "style", "textarea", "pre", "code", "option")

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ATTRIBUTE = r"""(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""
# CommonMark's raw inline HTML and autolinks: each is an element (or comment) to the browser
_TAG_RE = re.compile(
    r"<(?:(?P<open>[A-Za-z][A-Za-z0-9-]*)" + _ATTRIBUTE + r"*\s*/?>"
    r"|/[A-Za-z][A-Za-z0-9-]*\s*>"
    r"|!--(?:-?>|[\s\S]*?-->)|\?[\s\S]*?\?>|![A-Za-z][^>]*>|!\[CDATA\[[\s\S]*?\]\]>"
    r"|[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>"
    r"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>)")
_HTML_TAG_RE = re.compile(r"<(?:(?P<open>[A-Za-z][A-Za-z0-9-]*)[^>]*>|/[A-Za-z][^>]*>|!--[\s\S]*?-->|[?!][^>]*>)")
_BACKTICKS_RE = re.compile("`+")
_HTML_TAG_NO_COMMENT_RE = re.compile(r"<(?:(?P<open>[A-Za-z][A-Za-z0-9-]*)[^>]*>|/[A-Za-z][^>]*>|[?!][^>]*>)")
# What each inline construct whose end may be far away needs after it (and from where,
# counted from its `<`): without it, `_TAG_RE` cannot match there.
_INLINE_HTML_ENDS = (("<!--", "-->", 2), ("<![CDATA[", "]]>", 9), ("<?", "?>", 2), ("<!", ">", 3))


class _TextNode:
    """One text node being built: its text (as the browser has it) and, piece by piece,
    where each piece came from in the source, so a formula found in it can be cut there."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.out_starts: list[int] = []
        self.src_starts: list[int] = []
        self.src_lengths: list[int] = []  # -1: the piece is the source as is (char for char)
        self.length = 0

    def copy(self, text: str, start: int, end: int) -> None:
        """Source characters that reach the text node unchanged."""
        if end > start:
            self._add(text[start:end], start, -1)

    def put(self, value: str, start: int, src_length: int) -> None:
        """`value` in the text node for `src_length` source characters (an escape, an entity)."""
        self._add(value, start, src_length)

    def _add(self, value: str, start: int, src_length: int) -> None:
        self.parts.append(value)
        self.out_starts.append(self.length)
        self.src_starts.append(start)
        self.src_lengths.append(src_length)
        self.length += len(value)

    def source_start(self, index: int) -> int:
        piece = bisect.bisect_right(self.out_starts, index) - 1
        if self.src_lengths[piece] < 0:
            return self.src_starts[piece] + index - self.out_starts[piece]
        return self.src_starts[piece]

    def source_end(self, index: int) -> int:
        """Where the source of text-node characters [.., index) ends."""
        piece = bisect.bisect_right(self.out_starts, index - 1) - 1
        if self.src_lengths[piece] < 0:
            return self.src_starts[piece] + index - self.out_starts[piece]
        return self.src_starts[piece] + self.src_lengths[piece]


class _Finder:
    """One search of one text: text nodes are built block by block and split at delimiters."""

    def __init__(self, text: str, delimiters: Sequence[Delimiter], passthrough: Sequence[Delimiter], *,
                 unescape: bool, passthrough_unescape: bool):
        self.text = text
        self.delimiters = tuple(delimiters)
        self.passthrough = tuple(passthrough)
        self.unescape = unescape
        self.passthrough_unescape = passthrough_unescape
        self.found: list[Found] = []
        self._left_re = (re.compile("|".join(re.escape(d.left) for d in self.delimiters))
                         if self.delimiters else None)
        special = "\\\\`<&" + re.escape(MARKER_RE.pattern[0]) + "".join(
            re.escape(d.left[0]) for d in self.passthrough)
        self._inline_special = re.compile(f"[{special}]|  \n")
        # a block holding none of these has no formula: no opener, escape or entity
        self._may_hold_math = re.compile("[&\\\\" + "".join(
            re.escape(d.left[0]) for d in (*self.delimiters, *self.passthrough)) + "]")
        self._html_special = re.compile("[<&]")
        self._ends: dict[str, re.Pattern[str]] = {}
        self._triggers = frozenset(d.left[0] for d in self.passthrough)
        # (closer, end) -> (searched from, first match from there): the answer for every start up to that match
        self._searched: dict[tuple[str, int], tuple[int, re.Match[str] | None]] = {}
        self._runs: dict[int, tuple[int, dict[int, list[int]]]] = {}  # end -> (from, backtick runs by length)

    def _search(self, closer: re.Pattern[str], start: int, end: int) -> re.Match[str] | None:
        """`closer`'s first match in [start, end). The last answer is kept, so a block with
        a thousand openers and one closer far away (or none) is searched once, not once
        per opener (issue 13)."""
        key = (closer.pattern, end)
        searched = self._searched.get(key)
        if searched is not None and searched[0] <= start and (searched[1] is None or start <= searched[1].start()):
            return searched[1]
        found = closer.search(self.text, start, end)
        self._searched[key] = (start, found)
        return found

    def _find(self, closer: str, start: int, end: int) -> int:
        """Where the text `closer` first occurs in [start, end), or -1 (see `_search`)."""
        found = self._search(re.compile(re.escape(closer)), start, end)
        return found.start() if found else -1

    # -- blocks ---------------------------------------------------------------------------

    def markdown(self) -> list[Found]:
        for start, end, kind in CodeMap.of(self.text, with_blocks=True).text_block_ranges():
            if kind == "html":
                self.html_text(start, end)
            elif kind == "row":
                for cell_start, cell_end in _cells(self.text, start, end):
                    self.inline(cell_start, cell_end)
            else:
                self.inline(start, end)
        return self.found

    def html_text(self, start: int, end: int) -> list[Found]:
        """Raw HTML: text nodes between tags, taken as written (entities decoded, as the
        browser does); the contents of ignored tags are skipped."""
        text, node, pos = self.text, _TextNode(), start
        while pos < end:
            m = self._html_special.search(text, pos, end)
            if m is None:
                break
            p = m.start()
            node.copy(text, pos, p)
            if text[p] == "&":
                pos = self._entity(node, p, end)
                continue
            tag = self._html_tag(p, end)
            if tag is None:
                node.copy(text, p, p + 1)
                pos = p + 1
                continue
            self.split(node)
            node = _TextNode()
            pos = self._after_ignored(tag, end)
        node.copy(text, pos, end)
        self.split(node)
        return self.found

    def _html_tag(self, p: int, end: int) -> re.Match[str] | None:
        """The tag or comment at `p` in raw HTML; every one ends with `>`, and a comment
        with `-->`: known missing, they are not looked for again at each `<`."""
        if self._find(">", p + 1, end) < 0:
            return None
        if self.text.startswith("<!--", p) and self._find("-->", p + 4, end) < 0:
            return _HTML_TAG_NO_COMMENT_RE.match(self.text, p, end)
        return _HTML_TAG_RE.match(self.text, p, end)

    def inline(self, start: int, end: int) -> None:
        """Markdown inline text: Goldmark's escapes, code spans, raw HTML, hard breaks and
        passthrough formulas decide where its text nodes are and what they hold."""
        text, node, pos = self.text, _TextNode(), start
        if not self._may_hold_math.search(text, start, end):
            return
        while pos < end:
            m = self._inline_special.search(text, pos, end)
            if m is None:
                break
            p = m.start()
            node.copy(text, pos, p)
            ch = text[p]
            after: int | None = None
            if ch in self._triggers or ch == "\\":
                after = self._passthrough(p, end)
                if after is not None and after < 0:  # an escaped or unclosed opener: plain text
                    after = self._plain(node, p, -after)
                    pos = after
                    continue
            if after is None:
                after, boundary = self._inline_at(node, p, end)
            else:
                boundary = True
            if boundary:
                self.split(node)
                node = _TextNode()
            pos = after
        node.copy(text, pos, end)
        self.split(node)

    def _inline_at(self, node: _TextNode, p: int, end: int) -> tuple[int, bool]:
        """(where to go on, whether a text node ends here) for the character at `p`."""
        text, ch = self.text, self.text[p]
        if ch == "\\":
            nxt = text[p + 1: p + 2]
            if nxt == "\n":
                return p + 2, True  # a hard line break: <br>
            if nxt and nxt in _PUNCTUATION:
                if self.unescape:
                    node.put(nxt, p, 2)
                else:
                    node.copy(text, p, p + 2)
                return p + 2, False
            node.copy(text, p, p + 1)
            return p + 1, False
        if ch == "`":
            return self._code_span(node, p, end)
        if ch == "<":
            tag = self._inline_tag(p, end)
            if tag is None:
                node.copy(text, p, p + 1)
                return p + 1, False
            return self._after_ignored(tag, end), True
        if ch == "&":
            return self._entity(node, p, end), False
        if ch == " ":  # two spaces before a newline: <br>
            return p + 3, True
        marker = MARKER_RE.match(text, p, end)
        if marker is not None:
            return marker.end(), True  # a shortcode's HTML: an element of its own
        node.copy(text, p, p + 1)
        return p + 1, False

    def _inline_tag(self, p: int, end: int) -> re.Match[str] | None:
        """Raw inline HTML or an autolink at `p`; a comment, CDATA section, processing
        instruction or declaration whose end is missing is not looked for again."""
        for opener, closer, after in _INLINE_HTML_ENDS:
            if self.text.startswith(opener, p):
                if self._find(closer, p + after, end) < 0:
                    return None
                break
        return _TAG_RE.match(self.text, p, end)

    def _plain(self, node: _TextNode, p: int, end: int) -> int:
        """Source [p, end) as text, with its escapes applied."""
        text, pos = self.text, p
        while pos < end:
            if text[pos] == "\\" and pos + 1 < end and text[pos + 1] in _PUNCTUATION and self.unescape:
                node.put(text[pos + 1], pos, 2)
                pos += 2
            else:
                node.copy(text, pos, pos + 1)
                pos += 1
        return end

    def _code_span(self, node: _TextNode, p: int, end: int) -> tuple[int, bool]:
        text, k = self.text, p
        while k < end and text[k] == "`":
            k += 1
        close = self._closing_run(k - p, k, end)
        if close < 0:
            node.copy(text, p, k)
            return k, False
        return close + k - p, True

    def _closing_run(self, length: int, start: int, end: int) -> int:
        """Where the first run of exactly `length` backticks in [start, end) begins, or -1.
        The runs of a block are listed once, by length: a block of many unclosed runs of
        different lengths is scanned once, not once per run (issue 13)."""
        listed = self._runs.get(end)
        if listed is None or listed[0] > start:
            by_length: dict[int, list[int]] = {}
            for run in _BACKTICKS_RE.finditer(self.text, start, end):
                by_length.setdefault(run.end() - run.start(), []).append(run.start())
            listed = self._runs[end] = (start, by_length)
        starts = listed[1].get(length, [])
        index = bisect.bisect_left(starts, start)
        return starts[index] if index < len(starts) else -1

    def _entity(self, node: _TextNode, p: int, end: int) -> int:
        entity = _ENTITY_RE.match(self.text, p, end)
        if entity is None or not self.unescape:
            node.copy(self.text, p, p + 1)
            return p + 1
        node.put(html.unescape(entity.group(0)), p, entity.end() - p)
        return entity.end()

    def _after_ignored(self, tag: re.Match[str], end: int) -> int:
        """After a tag; after its closing tag too when auto-render ignores the element."""
        name = (tag.group("open") or "").lower()
        if name not in IGNORED_TAGS or tag.group(0).endswith("/>"):
            return tag.end()
        close = re.compile(f"</{name}\\s*>", re.I).search(self.text, tag.end(), end)
        return close.end() if close else end

    # -- passthrough ----------------------------------------------------------------------

    def _passthrough(self, p: int, end: int) -> int | None:
        """Goldmark's passthrough at `p`: None when it does not apply, the end of a formula
        it found, or minus the end of an escaped or unclosed opener (then plain text).

        Its rules: block delimiters are tried before inline ones; `\\\\` before an opener
        escapes it; the closer is the first occurrence of the closing delimiter, escaped or
        not (`\\$` closes a `$` formula); an empty formula is no formula."""
        text = self.text
        opener = self._opener(p)
        if opener is None:
            if text.startswith("\\\\", p):
                escaped = self._opener(p + 2)
                if escaped is not None:
                    return -(p + 2 + len(escaped.left))
            return None
        body = p + len(opener.left)
        close = self._find(opener.right, body, end)
        if close < 0:
            return -body
        if close == body:
            return None
        formula = text[body:close]
        tex = _unescape(formula) if self.passthrough_unescape else formula
        stop = close + len(opener.right)
        self.found.append(Found(p, stop, tex, opener.display, text[p:stop], passthrough=True))
        return stop

    def _opener(self, p: int) -> Delimiter | None:
        for delimiter in self.passthrough:
            if self.text.startswith(delimiter.left, p):
                return delimiter
        return None

    # -- auto-render ----------------------------------------------------------------------

    def split(self, node: _TextNode) -> None:
        """auto-render's splitAtDelimiters over one text node: the leftmost opener (the first
        delimiter of the list that starts there), its closer outside braces; an opener with
        no closer leaves the rest of the node as text."""
        if not node.parts or self._left_re is None:
            return
        text = "".join(node.parts)
        pos = 0
        while True:
            m = self._left_re.search(text, pos)
            if m is None:
                return
            index = m.start()
            delimiter = next(d for d in self.delimiters if text.startswith(d.left, index))
            close = self._end_of_math(delimiter.right, text, index + len(delimiter.left))
            if close < 0:
                return
            stop = close + len(delimiter.right)
            raw = text[index:stop]
            tex = raw if raw.startswith("\\begin{") else text[index + len(delimiter.left):close]
            self.found.append(Found(node.source_start(index), node.source_end(stop), tex, delimiter.display, raw))
            pos = stop

    def _end_of_math(self, right: str, text: str, start: int) -> int:
        """auto-render's findEndOfMath: the closer at brace level 0; a backslash skips a character."""
        pattern = self._ends.get(right)
        if pattern is None:
            pattern = self._ends[right] = re.compile("[\\\\{}" + re.escape(right[0]) + "]")
        level, index, n = 0, start, len(text)
        while index < n:
            m = pattern.search(text, index)
            if m is None:
                return -1
            index = m.start()
            ch = text[index]
            if level <= 0 and text.startswith(right, index):
                return index
            if ch == "\\":
                index += 1
            elif ch == "{":
                level += 1
            elif ch == "}":
                level -= 1
            index += 1
        return -1


def _unescape(text: str) -> str:
    return re.sub(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])", r"\1", text)


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The cells of a table row: the text between unescaped pipes (a pipe inside a code
    span or a formula splits the cell too, as in GitHub's tables and Goldmark)."""
    cells, cell_start, pos = [], start, start
    while True:
        bar = text.find("|", pos, end)
        if bar < 0:
            break
        if bar > start and text[bar - 1] == "\\":
            pos = bar + 1
            continue
        cells.append((cell_start, bar))
        cell_start = pos = bar + 1
    cells.append((cell_start, end))
    return [(a, b) for a, b in cells if text[a:b].strip()]


def find_math(text: str, delimiters: Sequence[Delimiter], passthrough: Sequence[Delimiter] = (), *,
              unescape: bool = True, passthrough_unescape: bool = False, html_only: bool = False) -> list[Found]:
    """Every formula the theme would show in markdown `text` (or, with `html_only`, in HTML
    such as the body of LoveIt's `raw` shortcode), in source order.

    `delimiters` are auto-render's, `passthrough` Goldmark's (block ones first, then inline);
    `unescape` applies Goldmark's backslash escapes and entities to what auto-render sees
    (the double-escaped style), `passthrough_unescape` to passthrough formulas too."""
    finder = _Finder(text, delimiters, passthrough, unescape=unescape, passthrough_unescape=passthrough_unescape)
    found = finder.html_text(0, len(text)) if html_only else finder.markdown()
    return sorted(found, key=lambda f: f.start)
