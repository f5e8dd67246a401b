"""Markers: inert placeholders for content that is only known later in the build.

A stage that cannot produce its final HTML yet (a `{{< >}}` shortcode's output, a formula
awaiting KaTeX, a theorem badge awaiting its verifier, a cross-page reference) writes
`marker(kind, key)` into the text. Markdown leaves the marker alone (it is made of
private-use characters and word characters), and the link stage swaps every marker for
its HTML with `resolve_markers`.

Markers are made here only (`marker`, `marker_pattern`). The characters they are made of
may occur in what a user writes; `escape_text` hides them on the way in (each becomes
`ESCAPE` and a digit, which no stage reads as a marker) and `unescape_text` restores them
in the finished HTML, so user text can never be taken for a marker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

OPEN = "\ue000"
CLOSE = "\ue001"
ESCAPE = "\ue002"
_ESCAPED = {ESCAPE: ESCAPE + "0", OPEN: ESCAPE + "1", CLOSE: ESCAPE + "2"}
_UNESCAPED = {code: char for char, code in _ESCAPED.items()}
_TO_ESCAPE_RE = re.compile("[" + "".join(_ESCAPED) + "]")
_ESCAPE_RE = re.compile(ESCAPE + "[012]")
MARKER_RE = re.compile(OPEN + r"([a-z]+):([\w.:/#-]*)" + CLOSE)
_PARAGRAPH_RE = re.compile(r"<p>\s*(" + MARKER_RE.pattern + r")\s*</p>")


def marker(kind: str, key: str) -> str:
    """A placeholder for (kind, key); kind is lowercase letters, key has no spaces."""
    return f"{OPEN}{kind}:{key}{CLOSE}"


def marker_pattern(kind: str, key: str = r"[\w.:/#-]*") -> str:
    """A regular expression for the markers of `kind`, the key as group 1 (`key` its pattern)."""
    return OPEN + re.escape(kind) + ":(" + key + ")" + CLOSE


def escape_text(text: str) -> str:
    """User text with the characters markers are made of hidden (see `unescape_text`)."""
    return _TO_ESCAPE_RE.sub(lambda m: _ESCAPED[m.group()], text) if _TO_ESCAPE_RE.search(text) else text


def unescape_text(text: str) -> str:
    """Finished HTML with the user's own private-use characters back in place."""
    return _ESCAPE_RE.sub(lambda m: _UNESCAPED[m.group()], text) if ESCAPE in text else text


def find_markers(text: str, kind: str | None = None) -> list[tuple[str, str]]:
    """Every (kind, key) in `text`, in order, optionally of one kind."""
    return [(k, v) for k, v in MARKER_RE.findall(text) if kind is None or k == kind]


def unwrap_block_markers(html: str, kinds: frozenset[str]) -> str:
    """Drop the `<p>` markdown put around a marker of a block-level kind standing alone."""

    def unwrap(match: re.Match[str]) -> str:
        return match.group(1) if match.group(2) in kinds else match.group(0)

    return _PARAGRAPH_RE.sub(unwrap, html)


def resolve_markers(
    text: str, resolvers: Mapping[str, Callable[[str], str]], *, depth: int = 8
) -> str:
    """Replace markers with what their kind's resolver returns, in one scan of `text`.

    Resolved HTML may hold further markers (a shortcode body with a formula in it): those
    are resolved as they come out, down to `depth` levels. Kinds without a resolver are
    left in place for a later call.
    """
    if OPEN not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        resolve = resolvers.get(match.group(1))
        if resolve is None:
            return match.group(0)
        resolved = resolve(match.group(2))
        return resolve_markers(resolved, resolvers, depth=depth - 1) if depth > 1 else resolved

    return MARKER_RE.sub(replace, text)


def strip_markers(text: str) -> str:
    """Text with every marker removed: for slugs, word counts and plain-text summaries."""
    return MARKER_RE.sub("", text)
