"""Finding math in page text and hiding it from markdown until KaTeX typesets it.

Markdown knows nothing about TeX: left in the text, `\\{` loses its backslash, `a_1 * b_2`
turns into emphasis and a `|` splits a table cell (the five-year Hugo complaint). So every
formula is cut out *before* markdown runs and replaced by an inert `math` marker; the link
stage swaps the marker for KaTeX's HTML (`qed.katex`).

Two escape conventions exist in the wild. `verbatim` (the default) hands the author's TeX
to KaTeX exactly as written. `commonmark` reproduces what Hugo + LoveIt users had to write
because Goldmark ate one level of backslashes (`\\\\{` for a brace, `\\\\\\\\` for a row break):
it applies CommonMark's backslash unescaping to the formula, so old posts render as before.

Equations are numbered here because KaTeX cannot: a label (`\\label{eq:x}` or a
`{#eq:x}` after `$$...$$`) and every row of a numbered environment (`align`, `equation`,
...) gets an explicit `\\tag{n}`, in document order, and labels become `Label`s that
`\\eqref{eq:x}` in prose (a `ref` marker) or inside math (a link) points at.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from qed.autorender import DOIT_DELIMITERS, LOVEIT_DELIMITERS, Delimiter, find_math
from qed.body import Label
from qed.codemap import CodeMap
from qed.errors import Diagnostics, Location, SourceText
from qed.markers import marker, marker_pattern
from qed.options import BOOL, OPTIONAL_STRING, VERSION, Kind, Option, one_of, read_options

ESCAPE_MODES = ("verbatim", "commonmark")
FIND_RULES = ("pandoc", "auto-render")  # qed's own rule; KaTeX auto-render's over Goldmark's HTML
THEMES = ("loveit", "doit", "fixit")  # the Hugo themes whose math qed reproduces
# Environments KaTeX understands that may stand on their own, without `$$` around them.
ENVIRONMENTS = ("equation", "equation*", "align", "align*", "alignat", "alignat*", "gather", "gather*",
                "multline", "multline*", "CD")
# LaTeX numbers each row of these (KaTeX would use a CSS counter that ignores our labels).
NUMBERED_ENVIRONMENTS = ("equation", "align", "alignat", "gather", "multline")
PINNED_KATEX_VERSION = "0.16.21"

_ID = r"[A-Za-z0-9_][\w.:/-]*"
_ID_RE = re.compile(_ID + r"\Z")
_ATTR_RE = re.compile(r"[ \t]*\{#(" + _ID + r")\}")
_ENV_BEGIN_RE = re.compile(r"\\begin\{(" + "|".join(re.escape(e) for e in ENVIRONMENTS) + r")\}")
_ENV_TAG_RE = re.compile(r"\\(begin|end)\{([^{}\\]*)\}")
_TEXT_REF_RE = re.compile(r"\\(eqref|ref)\{(" + _ID + r")\}")
_MATH_REF_RE = re.compile(r"\\(eqref|ref)\{\s*([^{}]*?)\s*\}")
_LABEL_RE = re.compile(r"\\label\{\s*([^{}]*?)\s*\}")
_TAG_RE = re.compile(r"\\tag\*?\{([^{}]*)\}")
_NOTAG_RE = re.compile(r"\\(?:notag|nonumber)(?![A-Za-z])")
_DEFINITION_RE = re.compile(r"\\(?:[gex]?def|(?:re|provide)?newcommand|renewcommand|let|futurelet|global)(?![A-Za-z])")
_DOUBLE_ESCAPE_RE = re.compile(r"\\\\[{}_,;!|#%&]")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_UNESCAPE_RE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_MACRO_NAME_RE = re.compile(r"\\(?:[A-Za-z]+|.)\Z")
_NEWLINE_RE = re.compile("\n")
# punctuation, or a hyphenated suffix as in "$i$-th" or "$n$-dimensional"
_MATH_THEN_PUNCTUATION_RE = re.compile(marker_pattern("math", r"\d+") + r"((?:[.,;:!?)\]’”]|-\w*)+)")


@dataclass(frozen=True)
class MathSettings:
    """The `math:` config section, validated; one per site, overridden per page by front matter."""

    enabled: bool = True
    escapes: str = "verbatim"
    macros: tuple[tuple[str, str], ...] = ()
    katex_dist: str | None = None
    self_host: bool = False
    version: str = PINNED_KATEX_VERSION
    download: bool = True
    strict: bool = False  # no KaTeX (client-side fallback) is an error, not a warning
    errors: str = "error"  # "warn": a TeX error is a warning and the formula shows as `error_style` says
    katex_strict: str = "warn"  # KaTeX's own `strict` (LaTeX-compatibility complaints)
    project_root: str | None = None  # relative `katex.dist` paths are resolved against it
    find: str = "pandoc"  # how formulas are found: FIND_RULES
    delimiters: tuple[Delimiter, ...] = LOVEIT_DELIMITERS  # auto-render's, for find "auto-render"
    passthrough: tuple[Delimiter, ...] = ()  # Goldmark's passthrough delimiters (block ones first)
    passthrough_escapes: str = "verbatim"  # passthrough keeps TeX as written unless math.escapes says
    theme: str = ""  # the Hugo theme whose math this site follows (THEMES), if any
    mhchem: bool = False  # KaTeX's mhchem extension (\ce, \pu) loaded
    error_style: str = "qed"  # a formula KaTeX cannot typeset: "qed" red source, "text" as auto-render
    # leaves it (plain text), "katex" as KaTeX's throwOnError: false draws it (FixIt's server side)
    error_color: str = "#cc0000"

    @property
    def macro_dict(self) -> dict[str, str]:
        return dict(self.macros)

    @property
    def rule(self) -> str:
        """Which rule finds formulas, in words, for the build summary."""
        if self.find == "pandoc":
            return f"found by pandoc's rule, {self.escapes} escapes"
        who = _THEME_NAMES.get(self.theme, "KaTeX auto-render")
        parts = [f"found as {who} does"]
        if self.delimiters:
            lefts = dict.fromkeys("\\begin{…}" if d.left.startswith("\\begin{") else d.left for d in self.delimiters)
            parts.append(f"auto-render {' '.join(lefts)} ({self.escapes} escapes)")
        if self.passthrough:
            parts.append(f"passthrough {' '.join(d.left for d in self.passthrough)} ({self.passthrough_escapes})")
        return ", ".join(parts)


@dataclass
class Formula:
    """One formula of a page, in the order `protect` met it (marker key = its index)."""

    tex: str  # what KaTeX is given, after unescaping (labels still in)
    display: bool
    location: Location
    source: str  # as written, delimiters included (for messages and client-side rendering)
    labels: list[str] = field(default_factory=list)
    render_tex: str | None = None  # tex with labels turned into \tag{n}; set by numbering
    shown: str | None = None  # what the page shows if KaTeX fails, under auto-render (else source)

    @property
    def defines_macros(self) -> bool:
        return bool(_DEFINITION_RE.search(self.tex))


@dataclass(frozen=True)
class PageMath:
    """What the body stage found of a page's math, numbered: the input of typesetting."""

    settings: MathSettings  # the site's, with the page's front matter applied
    macros: Mapping[str, str]  # site macros overridden by the page's: what every formula starts with
    formulas: tuple[Formula, ...]

    def ordered(self) -> list[tuple[int, Formula]]:
        """(index, formula) in document order: the order macros (`\\gdef`) and numbers follow."""
        return sorted(enumerate(self.formulas), key=lambda pair: (pair[1].location.line, pair[1].location.col,
                                                                  pair[0]))


@dataclass(frozen=True)
class TypesetMath:
    """A page's formulas as HTML (index = marker key), from KaTeX or for its in-browser fallback."""

    page: PageMath
    html: tuple[str, ...]
    client_side: bool = False  # KaTeX was not available at build time
    katex_version: str | None = None

    def resolve(self, key: str) -> str:
        """The HTML for marker key `key` (the resolver of marker kind "math")."""
        index = int(key) if key.isdigit() else -1
        return self.html[index] if 0 <= index < len(self.html) else ""

    def tex(self, key: str) -> str:
        """The TeX of marker key `key` between dollars, as a reader would search for it and
        read it in a search result."""
        index = int(key) if key.isdigit() else -1
        return f" ${self.page.formulas[index].tex.strip()}$ " if 0 <= index < len(self.html) else ""

    def glue_punctuation(self, text: str) -> str:
        """Keep the punctuation (or a suffix, as in "$i$-th") after an inline formula on the
        formula's line: Chromium may break after KaTeX's last box and start a line with it.

        A formula of one box goes with its suffix into a no-wrap span. A longer one keeps its
        earlier break points: only its last box is made no-wrap, which holds for punctuation
        (a hyphen may still move, rarely). The marker is resolved here, since the formula's
        HTML is needed."""

        def glue(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if index >= len(self.html) or self.page.formulas[index].display or not self.html[index]:
                return match.group(0)
            formula_html = self.html[index]
            if formula_html.count(_LAST_BOX) <= 1:
                return f'<span class="math-tail">{formula_html}{match.group(2)}</span>'
            return _nobreak_last_box(formula_html) + match.group(2)

        return _MATH_THEN_PUNCTUATION_RE.sub(glue, text)


class MathCollector:
    """The formulas of one page while its body renders: `protect` cuts them out of text.

    `protect` may be called many times per page and not in document order (a `raw` or
    admonition body is protected before the text around it), so numbering and macro order
    use the formulas' source locations, not the order of calls. `record()` gives what was
    found, numbered, as a `PageMath`; `labels(url)` and `references` what it defines and cites.
    """

    def __init__(self, source: SourceText, settings: MathSettings, page_math: Any = None,
                 diagnostics: Diagnostics | None = None):
        self.source = source
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        location = Location(source.path, 1, 1)
        self.settings, self.page_macros = page_settings(settings, page_math, self.diagnostics, location)
        self.formulas: list[Formula] = []
        self.references: list[tuple[str, Location]] = []
        self._numbers: dict[str, str] = {}
        self._numbered = -1  # how many formulas the last numbering saw

    # -- finding -------------------------------------------------------------------------

    def protect(self, text: str, origin: Location, *, escapes: str | None = None) -> str:
        """`text` with each formula replaced by `marker("math", index)`; `\\eqref` by a ref marker."""
        if not self.settings.enabled or not text:
            return text
        if self.settings.find == "auto-render":
            return self._protect_as_theme(text, origin, escapes)
        return _Scanner(self, text, origin, escapes or self.settings.escapes).run()

    def _protect_as_theme(self, text: str, origin: Location, escapes: str | None) -> str:
        """Formulas found as the theme finds them (`qed.autorender`); `escapes="verbatim"`
        is HTML taken as written (LoveIt's `raw`), searched by auto-render alone."""
        settings = self.settings
        html_only = escapes == "verbatim"
        found = find_math(text, settings.delimiters, () if html_only else settings.passthrough,
                          unescape=not html_only and settings.escapes == "commonmark",
                          passthrough_unescape=settings.passthrough_escapes == "commonmark", html_only=html_only)
        if not found:
            return text
        out, copied = [], 0
        lines = _LineMap(text, origin)
        for formula in found:
            out.append(text[copied:formula.start])
            out.append(self.add(formula.tex, formula.display, lines.location(formula.start),
                                text[formula.start:formula.end], check_escapes=False, shown=formula.shown))
            copied = formula.end
        out.append(text[copied:])
        return "".join(out)

    def add(self, tex: str, display: bool, location: Location, source: str, label: str | None = None,
            *, escapes: str = "verbatim", check_escapes: bool = True, shown: str | None = None) -> str:
        """Record one formula found by a scanner; returns its marker."""
        if escapes == "commonmark":
            tex = commonmark_unescape(tex)
        elif check_escapes and not display and _DOUBLE_ESCAPE_RE.search(tex):
            self.diagnostics.warning(
                f"math looks double-escaped for Hugo/LoveIt ({_DOUBLE_ESCAPE_RE.search(tex).group(0)!r} in "
                f"{_clip(source)}); write single backslashes, or set `math: {{escapes: commonmark}}`", location)
        formula = Formula(tex, display, location, source, shown=shown)
        labels = [m.group(1) for m in _LABEL_RE.finditer(tex)] + ([label] if label else [])
        for name in labels:
            if not _ID_RE.match(name):
                self.diagnostics.error(f"invalid equation label '{name}' (letters, digits, _ . : / - only)", location)
            elif not display:
                self.diagnostics.error(f"label '{name}' needs display math ($$...$$), not inline math", location)
            else:
                formula.labels.append(name)
        for m in _MATH_REF_RE.finditer(tex):
            self.reference(m.group(2), location)
        self.formulas.append(formula)
        return marker("math", str(len(self.formulas) - 1))

    def reference(self, label_id: str, location: Location) -> str:
        """A `ref` marker for `\\eqref{label_id}` in prose; recorded to be checked site-wide."""
        self.references.append((label_id, location))
        return marker("ref", label_id)

    # -- numbering -----------------------------------------------------------------------

    def ordered(self) -> list[Formula]:
        """Formulas in document order: the order macros (`\\gdef`) and numbers follow."""
        return [formula for _, formula in self.record().ordered()]

    def number_equations(self) -> None:
        """Give every numbered row and labelled display formula its `\\tag{n}`, in document order
        (again only when formulas were added since: labels and the record both ask)."""
        if self._numbered == len(self.formulas):
            return
        self._numbered = len(self.formulas)
        counter = [0]
        self._numbers = {}
        for _, formula in PageMath(self.settings, {}, tuple(self.formulas)).ordered():
            if formula.display:
                formula.render_tex = _number_formula(formula, counter, self._numbers, self.diagnostics)
            else:
                formula.render_tex = formula.tex

    def labels(self, url: str = "") -> list[Label]:
        """The page's equation labels, numbered, `url` being the page's."""
        self.number_equations()
        result = []
        for formula in self.formulas:
            for name in formula.labels:
                if name in self._numbers:
                    result.append(Label(name, self._numbers[name], f"{url}#{name}", formula.location, "equation"))
        return result

    def record(self) -> PageMath:
        """The page's formulas, numbered: what typesetting needs, and nothing of the page."""
        self.number_equations()
        return PageMath(self.settings, self.macros, tuple(self.formulas))

    @property
    def macros(self) -> dict[str, str]:
        """Site macros overridden by the page's: what every formula of the page starts with."""
        return {**self.settings.macro_dict, **self.page_macros}


class _LineMap:
    """Offsets of one text as `Location`s in its file (`origin` = its first character)."""

    def __init__(self, text: str, origin: Location):
        self.origin = origin
        self._line_starts = [0] + [m.end() for m in _NEWLINE_RE.finditer(text)]

    def location(self, offset: int) -> Location:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        if line == 0:
            return Location(self.origin.path, self.origin.line, max(self.origin.col, 1) + offset)
        return Location(self.origin.path, self.origin.line + line, offset - self._line_starts[line] + 1)


class _Scanner:
    """One left-to-right pass over a text: code is skipped, formulas go to the collector."""

    def __init__(self, collector: MathCollector, text: str, origin: Location, mode: str):
        self.c = collector
        self.text = text
        self.origin = origin
        self.mode = mode
        self.out: list[str] = []
        self.code = CodeMap.of(text).block_ranges()
        self._code_starts = [start for start, _ in self.code]
        self._lines = _LineMap(text, origin)
        # Searches that found no closer, so a later search from an earlier point fails too:
        # closer -> the offset where the failed search stopped (what keeps the scan linear).
        self._no_closer_before: dict[str, int] = {}
        self._environments: dict[int, int | None] | None = None

    def location(self, offset: int) -> Location:
        return self._lines.location(offset)

    def run(self) -> str:
        text, pos, n = self.text, 0, len(self.text)
        copied = 0
        special = re.compile(r"[`$\\]")
        while pos < n:
            m = special.search(text, pos)
            if m is None:
                break
            p = m.start()
            block_end = self._code_end(p)
            if block_end is not None:
                pos = block_end
                continue
            handled = self._at(p)
            if handled is None:
                pos = p + 1
                continue
            end, replacement = handled
            if replacement is not None:
                self.out.append(text[copied:p])
                self.out.append(replacement)
                copied = end
            pos = end
        self.out.append(text[copied:])
        return "".join(self.out)

    def _code_end(self, p: int) -> int | None:
        i = bisect.bisect_right(self._code_starts, p) - 1
        if i >= 0 and p < self.code[i][1]:
            return self.code[i][1]
        return None

    def _at(self, p: int) -> tuple[int, str | None] | None:
        """(end, replacement or None to copy as is) for what starts at `p`, or None."""
        ch = self.text[p]
        if ch == "`":
            return self._code_span(p), None
        if ch == "$":
            return self._dollar(p)
        return self._backslash(p)

    def _code_span(self, p: int) -> int:
        text = self.text
        k = p
        while k < len(text) and text[k] == "`":
            k += 1
        run = k - p
        key = "`" * run
        if k <= self._no_closer_before.get(key, -1):
            return k
        close = re.compile(f"(?<!`)`{{{run}}}(?!`)").search(text, k)
        if close is None:
            self._no_closer_before[key] = len(text)
            return k
        return close.end()

    def _backslash(self, p: int) -> tuple[int, str | None] | None:
        text = self.text
        nxt = text[p + 1: p + 2]
        if self.mode == "commonmark" and text.startswith(("\\\\(", "\\\\["), p):
            return self._delimited(p, 3, "\\\\)" if text[p + 2] == "(" else "\\\\]", text[p + 2] == "[")
        if nxt in ("(", "["):
            return self._delimited(p, 2, "\\)" if nxt == "(" else "\\]", nxt == "[")
        if nxt == "b":
            env = _ENV_BEGIN_RE.match(text, p)
            if env:
                return self._environment(p, env.group(1))
        if nxt in ("e", "r"):
            ref = _TEXT_REF_RE.match(text, p)
            if ref:
                return ref.end(), self.c.reference(ref.group(2), self.location(p))
        return (p + 2, None) if nxt else None  # an escaped character: `\$`, `\``, `\\`

    def _dollar(self, p: int) -> tuple[int, str | None] | None:
        text = self.text
        if text.startswith("$$", p):
            close = self._find_close(p + 2, "$$", allow_blank=True)
            if close is None or not text[p + 2: close].strip():
                return p + 2, None
            return self._emit(p, p + 2, close, close + 2, display=True)
        nxt = text[p + 1: p + 2]
        if not nxt or nxt.isspace():
            return p + 1, None
        close = self._find_inline_dollar(p + 1)
        if close is None:
            return p + 1, None
        return self._emit(p, p + 1, close, close + 1, display=False)

    def _find_inline_dollar(self, start: int) -> int | None:
        """Pandoc's rule: a closing `$` has no space before it and no digit after it."""
        return self._search("$", start, allow_blank=False, inline_dollar=True)

    def _find_close(self, start: int, closer: str, *, allow_blank: bool) -> int | None:
        """Index of `closer` after `start`, skipping backslash escapes (`\\$` is no closer)."""
        return self._search(closer, start, allow_blank=allow_blank)

    def _search(self, closer: str, start: int, *, allow_blank: bool, inline_dollar: bool = False) -> int | None:
        """The first closer from `start` on, or None at a blank line (unless allowed) or the end.

        Every search starts just after an opener, which is never a backslash, so a search
        from an earlier start steps on every later start: once one has failed, every search
        that starts before the point where it stopped fails too, and is not run again.
        """
        key = "pandoc$" if inline_dollar else closer
        if start <= self._no_closer_before.get(key, -1):
            return None
        text, i, n = self.text, start, len(self.text)
        first = closer[0]
        while i < n:
            ch = text[i]
            if ch == first and text.startswith(closer, i) and (
                    not inline_dollar or (not text[i - 1].isspace() and not text[i + 1: i + 2].isdigit())):
                return i
            if ch == "\\":
                i += 2
                continue
            if ch == "\n" and not allow_blank and _blank_line_follows(text, i):
                break
            i += 1
        self._no_closer_before[key] = i
        return None

    def _delimited(self, p: int, width: int, closer: str, display: bool) -> tuple[int, str | None]:
        close = self._find_close(p + width, closer, allow_blank=display)
        if close is None:
            return p + width, None
        return self._emit(p, p + width, close, close + len(closer), display=display)

    def _environment(self, p: int, env: str) -> tuple[int, str | None]:
        if self._environments is None:
            self._environments = _matching_environments(self.text)
        end = self._environments.get(p)
        if end is None:
            return p + 1, None
        return self._emit(p, p, end, end, display=True)

    def _emit(self, start: int, body_start: int, body_end: int, end: int, *, display: bool) -> tuple[int, str]:
        label = None
        if display:
            attr = _ATTR_RE.match(self.text, end)
            if attr:
                label, end = attr.group(1), attr.end()
        tex = self.text[body_start:body_end]
        return end, self.c.add(tex, display, self.location(start), self.text[start:end], label, escapes=self.mode)


def _matching_environments(text: str) -> dict[int, int | None]:
    """Where each `\\begin{env}` starts -> where its own `\\end{env}` ends (None if unclosed).

    One pass for every environment name, so a text full of unclosed or nested `\\begin`s
    costs no more than its length.
    """
    open_by_name: dict[str, list[int]] = {}
    matched: dict[int, int | None] = {}
    for m in _ENV_TAG_RE.finditer(text):
        kind, name = m.group(1), m.group(2)
        stack = open_by_name.setdefault(name, [])
        if kind == "begin":
            stack.append(m.start())
            matched[m.start()] = None
        elif stack:
            matched[stack.pop()] = m.end()
    return matched


def _blank_line_follows(text: str, newline: int) -> bool:
    nxt = text.find("\n", newline + 1)
    line = text[newline + 1: nxt if nxt != -1 else len(text)]
    return not line.strip()


def commonmark_unescape(tex: str) -> str:
    """What Goldmark left of a formula: backslash-escaped punctuation and entities decoded."""
    tex = _UNESCAPE_RE.sub(r"\1", tex)
    return _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), tex) if "&" in tex else tex


# -- equation numbers --------------------------------------------------------------------

def _number_formula(formula: Formula, counter: list[int], numbers: dict[str, str],
                    diagnostics: Diagnostics) -> str:
    """`formula.tex` with `\\label`s removed and `\\tag{n}` added where LaTeX would number."""
    tex = formula.tex
    env = _single_environment(tex)
    if env is not None and env[0] in NUMBERED_ENVIRONMENTS:
        name, head, body, tail = env
        rows = [body] if name in ("equation", "multline") else _split_rows(body)
        attr_labels = [x for x in formula.labels if x not in _LABEL_RE.findall(tex)]
        new_rows = []
        if len(rows) > 1 and not rows[-1].strip():
            rows, trailing = rows[:-1], [rows[-1]]  # KaTeX drops an empty last row: no number for it
        else:
            trailing = []
        for index, row in enumerate(rows):
            extra = attr_labels if index == len(rows) - 1 else []
            new_rows.append(_number_row(row, counter, numbers, extra, formula, diagnostics, always=True))
        return head + "\\\\".join(new_rows + trailing) + tail
    if not formula.labels:
        return tex
    return _number_row(tex, counter, numbers, [x for x in formula.labels if x not in _LABEL_RE.findall(tex)],
                       formula, diagnostics, always=False)


def _number_row(row: str, counter: list[int], numbers: dict[str, str], extra_labels: list[str],
                formula: Formula, diagnostics: Diagnostics, *, always: bool) -> str:
    labels = [m for m in _LABEL_RE.findall(row) if _ID_RE.match(m)] + extra_labels
    row = _LABEL_RE.sub("", row)
    if _NOTAG_RE.search(row) and not labels:
        return row
    if not always and not labels:
        return row
    if len(labels) > 1:
        diagnostics.error(f"one equation (row) has several labels: {', '.join(labels)}", formula.location)
    tag = _TAG_RE.search(row)
    if tag:
        text = f"({tag.group(1)})"
    else:
        counter[0] += 1
        text = f"({counter[0]})"
        row = _NOTAG_RE.sub("", row).rstrip() + f" \\tag{{{counter[0]}}}" + ("\n" if row.endswith("\n") else "")
    for name in labels:
        numbers[name] = text
    return row


def _single_environment(tex: str) -> tuple[str, str, str, str] | None:
    """(name, `\\begin{..}{args}`, body, `\\end{..}`) when `tex` is one environment, else None."""
    stripped = tex.strip()
    m = re.match(r"\\begin\{([A-Za-z]+\*?)\}", stripped)
    if not m:
        return None
    name = m.group(1)
    end = f"\\end{{{name}}}"
    if not stripped.endswith(end):
        return None
    head_end = m.end()
    if name == "alignat":  # its column count argument
        arg = re.match(r"\s*\{[^{}]*\}", stripped[head_end:])
        if arg:
            head_end += arg.end()
    body = stripped[head_end: len(stripped) - len(end)]
    if re.search(r"\\(?:begin|end)\{" + re.escape(name) + r"\}", body):
        return None
    return name, stripped[:head_end], body, end


def _split_rows(body: str) -> list[str]:
    """Rows of an environment body: split at `\\\\` outside braces and nested environments."""
    rows, depth, start, i, n = [], 0, 0, 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "\\":
            if body.startswith("\\\\", i) and depth == 0:
                rows.append(body[start:i])
                i += 2
                start = i
                continue
            if body.startswith("\\begin{", i):
                depth += 1
            elif body.startswith("\\end{", i):
                depth -= 1
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        i += 1
    rows.append(body[start:])
    return rows


def substitute_references(tex: str, labels: Mapping[str, Any] | None) -> str:
    """`\\eqref{id}` inside math, which KaTeX lacks, as a link showing the number."""
    if "ref{" not in tex:
        return tex

    def link(m: re.Match[str]) -> str:
        label = labels.get(m.group(2)) if labels else None
        if label is None:
            return "\\text{(??)}"
        text = label.text if m.group(1) == "eqref" else label.text.strip("()")
        return f"\\href{{{label.url}}}{{\\text{{{_tex_text(text)}}}}}"

    return _MATH_REF_RE.sub(link, tex)


def _tex_text(text: str) -> str:
    return re.sub(r"([\\{}$&#%_^~])", lambda m: "\\" + m.group(1) if m.group(1) not in "\\^~" else " ", text)


# -- settings ----------------------------------------------------------------------------



def math_settings_from_config(section: Any, diagnostics: Diagnostics, location: Location | None = None,
                              *, escapes: str | None = None) -> MathSettings:
    """Validate the config's `math:` section. `escapes` is `markup.math.escapes` (Hugo-style
    placement); `math.escapes` wins over it. A `SiteConfig` may be passed instead of a dict:
    then a site made for LoveIt, DoIt or FixIt (its `theme`), or with Goldmark's passthrough
    enabled, starts from what the theme does (`hugo_defaults`) and `math:` overrides that."""
    project_root = None
    settings = MathSettings()
    if not isinstance(section, dict) and hasattr(section, "section"):
        config = section
        markup = config.section("markup") or {}
        markup_math = _lower(markup).get("math")
        escapes = escapes or (_lower(markup_math).get("escapes") if isinstance(markup_math, dict) else None)
        location = location or _config_location(config)
        project_root = str(getattr(config, "root", "") or "") or None
        settings = hugo_defaults(config, diagnostics)
        section = config.section("math") or {}
    section = section if isinstance(section, dict) else {}
    settings = replace(settings, project_root=project_root)
    if escapes is not None:
        settings = _with_escapes(settings, escapes, diagnostics, location, "markup.math.escapes")
    settings = _apply_section(settings, section, diagnostics, location, "math")
    written = {str(key).lower() for key in section}
    explicit_escapes = escapes is not None or "escapes" in written
    if explicit_escapes:
        settings = replace(settings, passthrough_escapes=settings.escapes)
        if settings.escapes == "commonmark" and "find" not in written:  # a ported site's posts
            settings = replace(settings, find="auto-render")
    return settings


_THEME_NAMES = {"loveit": "LoveIt", "doit": "DoIt", "fixit": "FixIt"}


def theme_family(theme: Any) -> str:
    """"loveit", "doit" or "fixit" when the config's `theme` (a name, a module path or a
    list of them) is one of those themes or a copy of one; "" otherwise."""
    names = theme if isinstance(theme, list) else [theme]
    for name in names:
        last = str(name or "").lower().rstrip("/").rsplit("/", 1)[-1]
        for family in THEMES:
            if family in last:
                return family
    return ""


def hugo_defaults(config: Any, diagnostics: Diagnostics) -> MathSettings:
    """What Hugo and the site's theme do with math, as qed settings: Goldmark's passthrough
    delimiters (verbatim), the theme's auto-render delimiters over Goldmark's escaped text,
    its macros and mhchem, and a formula KaTeX cannot typeset shown as the theme shows it
    (a warning, not an error). A site with neither theme nor passthrough gets qed's own."""
    raw = getattr(config, "raw", {}) or {}
    theme = theme_family(raw.get("theme"))
    passthrough = goldmark_passthrough(config, diagnostics)
    if not theme and not passthrough:
        return MathSettings()
    params = _lower(getattr(config, "params", {}) or {})
    math = {**_lower(params.get("math")), **_lower(_lower(params.get("page")).get("math"))}
    katex = _lower(math.get("katex"))
    server_side = theme == "fixit" and ("type" in math or "katex" in math)  # FixIt 0.4+: passthrough + ToMath
    if theme == "doit":
        delimiters = _custom_delimiters(DOIT_DELIMITERS, math, replace_defaults=True)
    elif server_side:
        delimiters = ()
        if not passthrough:
            diagnostics.warning("FixIt typesets math only through Goldmark's passthrough, which this config does not "
                                "enable (markup.goldmark.extensions.passthrough): no formulas are found, as in Hugo",
                                _config_location(config, "params"))
    else:
        delimiters = _custom_delimiters(LOVEIT_DELIMITERS, math, replace_defaults=False)
    macros = {**_macros(math.get("macros") or {}, "params.math.macros", diagnostics, None),
              **_macros(katex.get("macros") or {}, "params.math.katex.macros", diagnostics, None)}
    settings = MathSettings(find="auto-render", escapes="commonmark", delimiters=delimiters,
                            passthrough=passthrough, theme=theme, macros=tuple(sorted(macros.items())))
    if not theme:
        return settings
    throw = katex.get("throwonerror", katex.get("throw_on_error", False))
    color = katex.get("errorcolor", katex.get("error_color", "#ff4949"))
    return replace(settings, mhchem=math.get("mhchem", True) is not False, errors="error" if throw is True else "warn",
                   error_style="katex" if server_side else "text", error_color=str(color),
                   katex_strict="warn" if server_side else "ignore")


def _custom_delimiters(defaults: tuple[Delimiter, ...], math: dict[str, Any], *,
                       replace_defaults: bool) -> tuple[Delimiter, ...]:
    """The theme's list with `blockLeftDelimiter`... from its params: DoIt's pair replaces
    the defaults of its kind; LoveIt's and FixIt's is added after them (and their inline
    pair is built from `inlineRightDelimiter` twice, a bug of the theme kept here)."""
    blocks = [d for d in defaults if d.display]
    inlines = [d for d in defaults if not d.display]
    block = (math.get("blockleftdelimiter"), math.get("blockrightdelimiter"))
    inline = (math.get("inlineleftdelimiter"), math.get("inlinerightdelimiter"))
    if all(isinstance(x, str) and x for x in block):
        custom = Delimiter(block[0], block[1], True)
        blocks = [custom] if replace_defaults else [*blocks, custom]
    if all(isinstance(x, str) and x for x in inline):
        custom = Delimiter(inline[0] if replace_defaults else inline[1], inline[1], False)
        inlines = [custom] if replace_defaults else [*inlines, custom]
    return (*blocks, *inlines)


def goldmark_passthrough(config: Any, diagnostics: Diagnostics) -> tuple[Delimiter, ...]:
    """`markup.goldmark.extensions.passthrough` when enabled: its block delimiters, then its
    inline ones (the order Goldmark tries them in); a malformed pair is an error."""
    markup = _lower(config.section("markup") if hasattr(config, "section") else {})
    extension = _lower(_lower(_lower(markup.get("goldmark")).get("extensions")).get("passthrough"))
    if extension.get("enable") is not True:
        return ()
    where = _config_location(config, "markup")
    lists = _lower(extension.get("delimiters"))
    found: list[Delimiter] = []
    for kind, display in (("block", True), ("inline", False)):
        pairs = lists.get(kind) or []
        for pair in pairs if isinstance(pairs, list) else [pairs]:
            if (not isinstance(pair, list) or len(pair) != 2
                    or not all(isinstance(x, str) and x for x in pair)):
                diagnostics.error(f"markup.goldmark.extensions.passthrough.delimiters.{kind}: each entry must be "
                                  f"a pair of delimiters such as ['\\[', '\\]'], not {pair!r}", where)
                continue
            found.append(Delimiter(pair[0], pair[1], display))
    return tuple(found)


def _lower(value: Any) -> dict[str, Any]:
    """A mapping with its keys lowercased (Hugo's keys are case-insensitive); {} for anything else."""
    return {str(key).lower(): item for key, item in value.items()} if isinstance(value, dict) else {}


def _config_location(config: Any, key: str = "math") -> Location | None:
    try:
        return config.location(key)
    except Exception:  # a config without locations is fine: messages then name no line
        return None


ESCAPES = one_of(*ESCAPE_MODES)  # `math.escapes` and Hugo's placement, `markup.math.escapes`
ERRORS = Kind(lambda v: v in ("error", "warn", "warning"), "one of error, warning")
MATH_OPTIONS = (
    Option("enable", "enabled", BOOL, True, "find and typeset math at all", aliases=("enabled",)),
    Option("escapes", "escapes", ESCAPES, "verbatim",
           "verbatim: TeX as written; commonmark: backslashes as Hugo + Goldmark ate them"),
    Option("find", "find", one_of(*FIND_RULES), "pandoc",
           "pandoc: qed's rule; auto-render: as LoveIt, DoIt and FixIt find math (their sites' default)"),
    Option("strict", "strict", BOOL, False, "no KaTeX at build time is an error, not a warning"),
    Option("errors", "errors", ERRORS, "error",
           "error: a TeX error fails the build; warning: it is reported and the formula shows as the theme "
           "shows it (the default for LoveIt, DoIt and FixIt sites)"),
    Option("mhchem", "mhchem", BOOL, False, "load KaTeX's mhchem extension (\\ce, \\pu); the themes' default is on"),
)
KATEX_OPTIONS = (
    Option("dist", "katex_dist", OPTIONAL_STRING, None, "a KaTeX dist folder to use instead of looking"),
    Option("self_host", "self_host", BOOL, False, "publish KaTeX's CSS and fonts with the site, not from the CDN"),
    Option("version", "version", VERSION, PINNED_KATEX_VERSION, "the KaTeX release to download and link"),
    Option("download", "download", BOOL, True, "download the pinned KaTeX once when none is installed"),
    Option("strict", "katex_strict", one_of("warn", "ignore", "error"), "warn", "KaTeX's own `strict` option"),
)


def _apply_section(settings: MathSettings, section: dict, diagnostics: Diagnostics, location: Location | None,
                   where: str) -> MathSettings:
    """`settings` overridden by what `section` sets (site config, or a page's front matter)."""
    current = {option.field: getattr(settings, option.field) for option in MATH_OPTIONS}
    values = read_options(section, MATH_OPTIONS, where, diagnostics, location, current, handled=("macros", "katex"))
    settings = replace(settings, **{**values, "errors": "warn" if values["errors"] == "warning" else values["errors"]})
    if "macros" in section:
        merged = {**settings.macro_dict, **_macros(section["macros"], f"{where}.macros", diagnostics, location)}
        settings = replace(settings, macros=tuple(sorted(merged.items())))
    katex = section.get("katex")
    if katex is not None:
        settings = _apply_katex(settings, katex, diagnostics, location, f"{where}.katex")
    return settings


def _apply_katex(settings: MathSettings, katex: Any, diagnostics: Diagnostics, location: Location | None,
                 where: str) -> MathSettings:
    if not isinstance(katex, dict):
        diagnostics.error(f"{where} must be a mapping (dist, self_host, version, download, strict)", location)
        return settings
    current = {o.field: getattr(settings, o.field) for o in KATEX_OPTIONS}
    values = read_options(katex, KATEX_OPTIONS, where, diagnostics, location, current)
    return replace(settings, **{**values, "katex_dist": str(values["katex_dist"]) if values["katex_dist"] else None,
                                "version": str(values["version"])})


def _with_escapes(settings: MathSettings, value: Any, diagnostics: Diagnostics, location: Location | None,
                  where: str) -> MathSettings:
    """`markup.math.escapes`, Hugo's placement of the same option."""
    if not ESCAPES.accepts(value):
        diagnostics.error(f"{where} must be {ESCAPES.wanted}, not {value!r}", location)
        return settings
    return replace(settings, escapes=value)


def _macros(value: Any, where: str, diagnostics: Diagnostics, location: Location | None) -> dict[str, str]:
    """`{"\\R": "\\mathbb{R}"}`; a name without its backslash (`R:`) is accepted too."""
    if not isinstance(value, dict):
        diagnostics.error(f"{where} must be a mapping of macro names to TeX", location)
        return {}
    macros = {}
    for name, body in value.items():
        name = str(name)
        if not name.startswith("\\"):
            name = "\\" + name
        if not _MACRO_NAME_RE.match(name) or not isinstance(body, (str, int, float)):
            diagnostics.error(f"{where}: bad macro {name!r} (want \\name: TeX text)", location)
            continue
        macros[name] = str(body)
    return macros


def page_settings(settings: MathSettings, page_math: Any, diagnostics: Diagnostics,
                  location: Location | None = None) -> tuple[MathSettings, dict[str, str]]:
    """A page's settings and macros from its front matter `math:` (true, false or a mapping).

    As in the themes, a page may set its own delimiters (`blockLeftDelimiter`...) and, as
    FixIt allows, its own `katex.macros`; `escapes: commonmark` on one page of a qed site
    (a ported post) also finds its math as the themes do, unless it says `find:`."""
    if page_math is None or page_math is True:
        return settings, {}
    if page_math is False:
        return replace(settings, enabled=False), {}
    if not isinstance(page_math, dict):
        diagnostics.error(f"front matter 'math' must be true, false or a mapping, not {page_math!r}", location)
        return settings, {}
    page_only = {k: v for k, v in page_math.items() if k in ("enable", "enabled", "escapes", "find")}
    unknown = set(page_math) - {"enable", "enabled", "escapes", "find", "macros", "katex"}
    for key in sorted(unknown):
        if key not in _LOVEIT_PAGE_KEYS:
            diagnostics.warning(f"unknown key 'math.{key}' in front matter", location)
    page = _apply_section(settings, page_only, diagnostics, location, "math")
    if page_math.get("escapes") == "commonmark" and "find" not in page_math:
        page = replace(page, find="auto-render", passthrough_escapes="commonmark")
    lowered = _lower(page_math)
    if page.theme and any(key in lowered for key in _DELIMITER_KEYS):
        defaults = DOIT_DELIMITERS if page.theme == "doit" else LOVEIT_DELIMITERS
        page = replace(page, delimiters=_custom_delimiters(defaults, lowered, replace_defaults=page.theme == "doit"))
    macros = _macros(page_math["macros"], "math.macros", diagnostics, location) if "macros" in page_math else {}
    katex = _lower(page_math.get("katex"))
    if "macros" in katex:
        macros.update(_macros(katex["macros"], "math.katex.macros", diagnostics, location))
    return page, macros


# LoveIt's per-page math keys: accepted; the delimiters count on a LoveIt/DoIt/FixIt site.
_LOVEIT_PAGE_KEYS = {"copyTex", "mhchem", "inlineLeftDelimiter", "inlineRightDelimiter", "blockLeftDelimiter",
                     "blockRightDelimiter", "type"}
_DELIMITER_KEYS = ("inlineleftdelimiter", "inlinerightdelimiter", "blockleftdelimiter", "blockrightdelimiter")


# -- HTML without KaTeX ------------------------------------------------------------------

def client_side_html(formula: Formula) -> str:
    """The formula for KaTeX's auto-render in the browser: escaped TeX with `\\(`/`\\[` delimiters."""
    tex = html.escape(formula.render_tex if formula.render_tex is not None else formula.tex, quote=False)
    if formula.display:
        return f'<span class="math display"{_id_attr(formula)}>\\[{tex}\\]</span>'
    return f'<span class="math inline">\\({tex}\\)</span>'


def _id_attr(formula: Formula) -> str:
    return f' id="{html.escape(formula.labels[0])}"' if formula.labels else ""


def wrap_html(formula: Formula, katex_html: str) -> str:
    """KaTeX's output in a span that carries the label's anchor (extra labels get empty anchors)."""
    if not formula.display:
        return f'<span class="math inline">{katex_html}</span>'
    anchors = "".join(f'<span id="{html.escape(name)}"></span>' for name in formula.labels[1:])
    return f'<span class="math display"{_id_attr(formula)}>{anchors}{_group_before_tag(katex_html)}</span>'


_HTML_PART = '<span class="katex-html" aria-hidden="true">'
_TAG = '<span class="tag">'


def _group_before_tag(katex_html: str) -> str:
    """Wrap a numbered formula's pieces in one span, so that CSS can move its tag to a line of
    its own when formula and tag do not fit side by side (KaTeX would draw one over the other)."""
    start, tag = katex_html.find(_HTML_PART), katex_html.rfind(_TAG)
    if start < 0 or tag < start:
        return katex_html
    start += len(_HTML_PART)
    return f'{katex_html[:start]}<span class="qed-tagged">{katex_html[start:tag]}</span>{katex_html[tag:]}'


_LAST_BOX = '<span class="base">'
_INLINE_END = "</span></span></span>"  # closes .katex-html, .katex, .math.inline


def _nobreak_last_box(inline_html: str) -> str:
    """An inline formula's HTML with its last box in a no-wrap span (see `glue_punctuation`)."""
    start = inline_html.rfind(_LAST_BOX)
    if start < 0 or not inline_html.endswith(_INLINE_END):
        return inline_html
    end = len(inline_html) - len(_INLINE_END)
    return (f'{inline_html[:start]}<span class="math-nobreak">{inline_html[start:end]}</span>'
            f"{inline_html[end:]}")


def _clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
