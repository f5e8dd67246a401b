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
markdown runs (`qed.math`) and each keeps its place in the file for messages. Emphasis is
matched as CommonMark matches it (a formula `$x^*y + z^*$` is split by the `<em>` Goldmark
makes of it), and inline links and images are elements. What is not reproduced: reference
links (`[text][ref]`), and Goldmark's typographer (`f'` becomes `f’` in Hugo).
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
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
        special = "\\\\`<&*_!\\[\\]" + re.escape(MARKER_RE.pattern[0]) + "".join(
            re.escape(d.left[0]) for d in self.passthrough)
        self._inline_special = re.compile(f"[{special}\n]")
        # a block holding none of these has no formula: no opener, escape or entity
        self._may_hold_math = re.compile("[&\\\\" + "".join(
            re.escape(d.left[0]) for d in (*self.delimiters, *self.passthrough)) + "]")
        self._html_special = re.compile("[<&]")
        self._collecting = False  # the first pass over a block: emphasis delimiters only
        self._runs: list[_DelimiterRun] = []
        self._tags: dict[int, int] = {}  # emphasis: source offset -> delimiter characters that are tags
        self._link_closes: dict[int, int] = {}  # a link's `]` -> the end of its `(destination)`
        self._pairs: dict[int, int] | None = None  # brackets and parentheses of the block, matched
        self._ends: dict[str, re.Pattern[str]] = {}
        self._continuations: dict[int, re.Pattern[str]] = {0: re.compile("[ \t]*")}
        self._triggers = frozenset(d.left[0] for d in self.passthrough)
        # (closer, end) -> (searched from, first match from there): the answer for every start up to that match
        self._searched: dict[tuple[str, int], tuple[int, re.Match[str] | None]] = {}
        self._backtick_runs: dict[int, tuple[int, dict[int, list[int]]]] = {}  # end -> (from, runs by length)

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
        if not self._may_hold_math.search(self.text):  # a title, most admonition bodies: no parse
            return self.found
        for start, end, kind, quotes in CodeMap.of(self.text, with_blocks=True).text_block_ranges():
            if kind == "html":
                self.html_text(start, end)
            elif kind == "row":
                for cell_start, cell_end in _cells(self.text, start, end):
                    self.inline(cell_start, cell_end)
            else:
                self.inline(start, end, quotes)
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
                pos = self._entity(node, p, end, decode=True)
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

    def inline(self, start: int, end: int, quotes: int = 0) -> None:
        """Markdown inline text: Goldmark's escapes, code spans, raw HTML, line breaks and
        passthrough formulas decide where its text nodes are and what they hold. A line's
        leading whitespace (and `>` in a quote) and the spaces before a newline are not text."""
        if not self._may_hold_math.search(self.text, start, end):
            return
        continuation = self._continuations.get(quotes)
        if continuation is None:
            continuation = self._continuations[quotes] = re.compile(f"(?:[ ]{{0,3}}>[ ]?){{0,{quotes}}}[ \t]*")
        self._tags = {}
        if _EMPHASIS_RE.search(self.text, start, end):  # emphasis is matched over the whole block first
            self._collecting, self._runs = True, []
            self._inline_nodes(start, end, continuation)
            self._collecting = False
            self._tags = _match_emphasis(self._runs)
        self._inline_nodes(start, end, continuation)

    def _inline_nodes(self, start: int, end: int, continuation: re.Pattern[str]) -> None:
        text, node, pos = self.text, _TextNode(), start
        self._link_closes, self._pairs = {}, None
        while pos < end:
            m = self._inline_special.search(text, pos, end)
            if m is None:
                break
            p = m.start()
            ch = text[p]
            if ch == "\n":
                trailing = p
                while trailing > pos and text[trailing - 1] in " \t":
                    trailing -= 1
                node.copy(text, pos, trailing)
                after = continuation.match(text, p + 1, end).end()
                if text.startswith("  ", p - 2) and trailing <= p - 2:  # two spaces before it: <br>
                    self.split(node)
                    node = _TextNode()
                else:
                    node.put("\n", trailing, after - trailing)
                pos = after
                continue
            node.copy(text, pos, p)
            if ch in "*_":
                node, pos = self._delimiter_run(node, p, start, end)
                continue
            if ch in "[]!":
                after = self._link_part(p, end)
                if after is None:
                    node.copy(text, p, p + 1)
                    pos = p + 1
                else:
                    self.split(node)
                    node, pos = _TextNode(), after
                continue
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

    def _link_part(self, p: int, end: int) -> int | None:
        """Where scanning goes on after a part of an inline link `[text](destination)`, which
        is an element (`<a>`) to the browser: its `[` (the text is a node of its own), its
        `](destination)`, or a whole image `![alt](src)`; None for a bracket that is text."""
        text = self.text
        if text[p] == "]":
            return self._link_closes.pop(p, None)
        image = text[p] == "!"
        if image and not text.startswith("[", p + 1):
            return None
        bracket = p + 1 if image else p
        if self._pairs is None:
            self._pairs = _matching(text, bracket, end)
        close = self._pairs.get(bracket)
        if close is None or not text.startswith("(", close + 1) or close + 1 not in self._pairs:
            return None
        stop = self._pairs[close + 1] + 1
        if image:
            return stop
        self._link_closes[close] = stop
        return bracket + 1

    def _delimiter_run(self, node: _TextNode, p: int, start: int, end: int) -> tuple[_TextNode, int]:
        """A run of `*` or `_`: recorded on the first pass; on the second, the characters
        emphasis made tags end the text node, the others stay text."""
        text, ch, k = self.text, self.text[p], p
        while k < end and text[k] == ch:
            k += 1
        if self._collecting:
            before = text[p - 1] if p > start else " "
            after = text[k] if k < end else " "
            self._runs.append(_DelimiterRun(p, k - p, ch, *_can_open_close(ch, before, after)))
        q = p
        while q < k:
            used = self._tags.get(q)
            if used:
                self.split(node)
                node = _TextNode()
                q += used
            else:
                node.copy(text, q, q + 1)
                q += 1
        return node, k

    def _inline_at(self, node: _TextNode, p: int, end: int) -> tuple[int, bool]:
        """(where to go on, whether a text node ends here) for the character at `p`."""
        text, ch = self.text, self.text[p]
        if ch == "\\":
            nxt = text[p + 1: p + 2]
            if nxt == "\n":  # a hard line break: <br>
                return p + 2 + len(self._continuations[0].match(text, p + 2, end).group(0)), True
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
            return self._entity(node, p, end, decode=self.unescape), False
        marker = MARKER_RE.match(text, p, end)
        if marker is not None:
            return marker.end(), True  # a shortcode's HTML: an element of its own
        node.copy(text, p, p + 1)
        return p + 1, False

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
        listed = self._backtick_runs.get(end)
        if listed is None or listed[0] > start:
            by_length: dict[int, list[int]] = {}
            for run in _BACKTICKS_RE.finditer(self.text, start, end):
                by_length.setdefault(run.end() - run.start(), []).append(run.start())
            listed = self._backtick_runs[end] = (start, by_length)
        starts = listed[1].get(length, [])
        index = bisect.bisect_left(starts, start)
        return starts[index] if index < len(starts) else -1

    def _html_tag(self, p: int, end: int) -> re.Match[str] | None:
        """The tag or comment at `p` in raw HTML; every one ends with `>`, and a comment
        with `-->`: known missing, they are not looked for again at each `<`."""
        if self._find(">", p + 1, end) < 0:
            return None
        if self.text.startswith("<!--", p) and self._find("-->", p + 4, end) < 0:
            return _HTML_TAG_NO_COMMENT_RE.match(self.text, p, end)
        return _HTML_TAG_RE.match(self.text, p, end)

    def _inline_tag(self, p: int, end: int) -> re.Match[str] | None:
        """Raw inline HTML or an autolink at `p`; a comment, CDATA section, processing
        instruction or declaration whose end is missing is not looked for again."""
        for opener, closer, after in _INLINE_HTML_ENDS:
            if self.text.startswith(opener, p):
                if self._find(closer, p + after, end) < 0:
                    return None
                break
        return _TAG_RE.match(self.text, p, end)

    def _entity(self, node: _TextNode, p: int, end: int, *, decode: bool) -> int:
        """An entity: one character of the text node when decoded (the browser decodes them in
        HTML; Goldmark in markdown), as written otherwise."""
        entity = _ENTITY_RE.match(self.text, p, end)
        if entity is None or not decode:
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
        if not self._collecting:
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
        if not node.parts or self._left_re is None or self._collecting:
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


_EMPHASIS_RE = re.compile(r"[*_]")


def _matching(text: str, start: int, end: int) -> dict[int, int]:
    """Every `[` and `(` in [start, end) -> its matching `]` or `)` (unmatched ones absent),
    backslash escapes skipped: one pass, whatever the nesting."""
    pairs: dict[int, int] = {}
    stacks: dict[str, list[int]] = {"]": [], ")": []}
    i = start
    while i < end:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "[(":
            stacks["]" if ch == "[" else ")"].append(i)
        elif ch in "])" and stacks[ch]:
            pairs[stacks[ch].pop()] = i
        i += 1
    return pairs


@dataclass
class _DelimiterRun:
    """A run of `*` or `_` in a block's text, as CommonMark's emphasis algorithm sees it."""

    start: int
    length: int
    char: str
    can_open: bool
    can_close: bool
    left: int = 0  # characters not yet used by a match


def _is_punctuation(ch: str) -> bool:
    return ch in _PUNCTUATION or unicodedata.category(ch)[0] in "PS"


def _can_open_close(ch: str, before: str, after: str) -> tuple[bool, bool]:
    """CommonMark's flanking rules; `_` inside a word neither opens nor closes."""
    left = not after.isspace() and (not _is_punctuation(after) or before.isspace() or _is_punctuation(before))
    right = not before.isspace() and (not _is_punctuation(before) or after.isspace() or _is_punctuation(after))
    if ch == "*":
        return left, right
    return (left and (not right or _is_punctuation(before)), right and (not left or _is_punctuation(after)))


def _match_emphasis(runs: list[_DelimiterRun]) -> dict[int, int]:
    """CommonMark's process_emphasis: which delimiter characters become `<em>`/`<strong>`
    tags (source offset -> how many), each closer with the nearest opener it may close.

    `stack` holds the runs that may still open, in order; a closer's search stops at the
    height where the last failed search for its kind stopped (CommonMark's openers_bottom),
    so a block full of unmatched closers costs no more than its length."""
    tags: dict[int, int] = {}
    stack: list[_DelimiterRun] = []
    bottom: dict[tuple[str, bool, int], int] = {}
    for closer in runs:
        closer.left = closer.length
        key = (closer.char, closer.can_open, closer.length % 3)
        while closer.can_close and closer.left > 0:
            floor = min(bottom.get(key, 0), len(stack))
            found = next((j for j in range(len(stack) - 1, floor - 1, -1) if _may_match(stack[j], closer)), None)
            if found is None:
                bottom[key] = len(stack)
                break
            opener = stack[found]
            used = 2 if opener.left >= 2 and closer.left >= 2 else 1
            opener.left -= used
            tags[opener.start + opener.left] = used
            tags[closer.start + closer.length - closer.left] = used
            closer.left -= used
            del stack[found + 1:]  # delimiters between opener and closer stay text
            if opener.left == 0:
                stack.pop()
        if closer.can_open and closer.left > 0:
            stack.append(closer)
    return tags


def _may_match(opener: _DelimiterRun, closer: _DelimiterRun) -> bool:
    """Same character, an opener with characters left, and not against the rule of 3."""
    if opener.char != closer.char or not opener.can_open or opener.left <= 0:
        return False
    if (opener.can_close or closer.can_open) and (opener.length + closer.length) % 3 == 0:
        return opener.length % 3 == 0 and closer.length % 3 == 0
    return True


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
