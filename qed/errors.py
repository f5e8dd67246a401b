"""User-facing errors with source positions: the one place that formats `path:line:col: message`.

Every stage reports bad input through these types so the CLI can print one line per
problem and exit 1; any other exception is a bug in qed (traceback only with --debug).
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """A point in a user's file; `line` and `col` count from 1, as editors do."""

    path: str
    line: int = 0
    col: int = 0
    # A config section's location also knows where each key below it is written, by dotted
    # path from the top of the config ("math.escapes"): see `of`.
    keys: Mapping[str, Location] | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        if self.col <= 0:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.col}"

    def of(self, path: str) -> Location:
        """Where the dotted key `path` (or its nearest written parent) is, when this location
        knows the keys below it; else this location."""
        if not self.keys:
            return self
        parts = path.lower().split(".")
        for depth in range(len(parts), 0, -1):
            found = self.keys.get(".".join(parts[:depth]))
            if found is not None:
                return found
        return self

    def shifted(self, lines: int = 0, col: int | None = None) -> Location:
        """The location `lines` further down; `col` replaces the column when given."""
        return Location(self.path, self.line + lines, self.col if col is None else col)


class QedError(Exception):
    """A mistake in the user's site, reported as `location: message` without a traceback."""

    def __init__(self, message: str, location: Location | None = None):
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class BuildFailed(Exception):
    """Raised at the end of a stage when errors were collected; carries all of them."""

    def __init__(self, errors: list[QedError], annotations: list[str] | None = None, notes: list[str] | None = None):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors
        self.annotations = annotations or []  # GitHub Actions lines to print with the errors
        self.notes = notes or []  # what else the errors caused (claims left unchecked), printed after them


@dataclass
class Diagnostics:
    """Collects every error and warning of a run, so all are reported, not only the first."""

    errors: list[QedError] = field(default_factory=list)
    warnings: list[QedError] = field(default_factory=list)

    def error(self, message: str, location: Location | None = None) -> None:
        self.errors.append(QedError(message, location))

    def warning(self, message: str, location: Location | None = None) -> None:
        self.warnings.append(QedError(message, location))

    def add(self, error: QedError) -> None:
        self.errors.append(error)

    def extend(self, other: Diagnostics) -> None:
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)

    def raise_if_failed(self) -> None:
        """End a stage: stop the build when anything went wrong in it."""
        if self.errors:
            raise BuildFailed(list(self.errors))


@dataclass(frozen=True)
class SourceText:
    """A file's full text and display path; turns character offsets into line:col on demand."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    def location(self, offset: int) -> Location:
        """Location of the character at `offset` (0-based) in the original file."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset)
        return Location(self.path, line, offset - self._line_starts[line - 1] + 1)

    def offset(self, line: int, col: int = 1) -> int:
        """Offset of a 1-based line and column: the inverse of `location`."""
        line = max(1, min(line, len(self._line_starts)))
        return self._line_starts[line - 1] + col - 1


def display_path(path: str | Path, root: str | Path | None = None) -> str:
    """`path` as messages and pages show it: relative to `root` (the working folder by
    default) when it lies inside, else as given."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path(root or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return str(path)


def read_source(path: Path, display: str) -> SourceText:
    """A user's text file as a `SourceText` (a leading byte-order mark dropped, as editors
    show it); not UTF-8 is an error at the first bad byte's line and column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QedError(f"cannot read this file: {exc.strerror or exc}", Location(display)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        where = Location(display, data.count(b"\n", 0, exc.start) + 1, column)
        raise QedError(f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8", where) from None
    return SourceText(display, text.removeprefix("\ufeff"))


def did_you_mean(name: str, known: Iterable[str], *, ignore_case: bool = False, cutoff: float = 0.75) -> str:
    """"; did you mean 'admonition'?" when one of `known` is spelled close to `name`, else ""."""
    choices = {(k.lower() if ignore_case else k): k for k in known}
    close = difflib.get_close_matches(name.lower() if ignore_case else name, list(choices), n=1, cutoff=cutoff)
    return f"; did you mean '{choices[close[0]]}'?" if close else ""


def reading_order(errors: Iterable[QedError]) -> list[QedError]:
    """Errors sorted by file, then line and column (errors without a place first), as an
    author reads them: the terminal and the serve overlay list them in this order."""
    def place(error: QedError) -> tuple[str, int, int]:
        where = error.location
        return (where.path, where.line, where.col) if where else ("", 0, 0)

    return sorted(errors, key=place)
