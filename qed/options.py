"""Config options declared once: name, default, what values are allowed, what it does.

A stage that owns a config section lists its `Option`s and reads the section with
`read_options`; every section then reports mistakes the same way: an unknown key is a
warning, a bad value an error naming the option and what it must be, both at the
section's line in the config file, and the default is used instead.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qed.errors import Diagnostics, Location, did_you_mean


@dataclass(frozen=True)
class Kind:
    """What values an option takes: a test, and how to say what it must be."""

    accepts: Callable[[Any], bool]
    wanted: str  # completes "X must be ..."


BOOL = Kind(lambda v: isinstance(v, bool), "true or false")
POSITIVE_INT = Kind(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                    "a whole number of at least 1")
OPTIONAL_POSITIVE_INT = Kind(lambda v: v is None or POSITIVE_INT.accepts(v), "a whole number of at least 1")
STRING = Kind(lambda v: isinstance(v, str), "a string")
WHOLE_NUMBER = Kind(lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number")
MAPPING = Kind(lambda v: isinstance(v, dict), "a mapping")
NAME_MAP = Kind(lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                "a mapping of names to text (each value a string)")
STRING_OR_MAPPING = Kind(lambda v: isinstance(v, (str, dict)), "a string or a mapping")
STRINGS = Kind(lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
               "a name or a list of names")
OPTIONAL_STRING = Kind(lambda v: v is None or isinstance(v, str), "a string")
VERSION = Kind(lambda v: isinstance(v, (str, int, float)) and not isinstance(v, bool), "a version such as '0.16.21'")
URL_SEGMENT = Kind(lambda v: isinstance(v, str) and bool(v.strip("/")) and "/" not in v.strip("/"),
                   "one URL segment such as 'page'")


def one_of(*choices: str) -> Kind:
    return Kind(lambda v: v in choices, "one of " + ", ".join(choices))


@dataclass(frozen=True)
class Option:
    """One setting of a section; `field` is the settings dataclass field it fills."""

    name: str  # as users write it (matched without regard to case, as Hugo does)
    field: str
    kind: Kind
    default: Any
    doc: str
    aliases: tuple[str, ...] = ()  # other spellings users write (`enabled` for `enable`)

    @property
    def spellings(self) -> tuple[str, ...]:
        return tuple(name.lower() for name in (self.name, *self.aliases))


def read_options(section: Mapping[str, Any] | None, options: Sequence[Option], prefix: str,
                 diagnostics: Diagnostics | None, location: Location | None,
                 fallbacks: Mapping[str, Any] | None = None, *, handled: Collection[str] = (),
                 warn_unknown: bool = True) -> dict[str, Any]:
    """{field: value} for every option: the section's value when valid, else the fallback
    (an older spelling elsewhere in the config, or the settings being overridden) or the
    default; mistakes are reported. Keys in `handled` are the caller's (nested sections)."""
    given = {str(key).lower(): value for key, value in (section or {}).items()}
    known = sorted({*(o.name for o in options), *handled}, key=str.lower)
    report = diagnostics if diagnostics is not None else Diagnostics()
    unknown = set(given) - {name.lower() for name in known} - {a.lower() for o in options for a in o.aliases}
    for key in sorted(unknown) if warn_unknown else ():
        hint = did_you_mean(key, known, ignore_case=True)
        report.warning(f"unknown setting '{prefix}.{key}'; ignored (known: {', '.join(known)}){hint}",
                       _at(location, f"{prefix}.{key}"))
    values: dict[str, Any] = {}
    for option in options:
        fallback = (fallbacks or {}).get(option.field, option.default)
        written = [(name, given[name]) for name in option.spellings if name in given]
        value = written[-1][1] if written else fallback
        if not option.kind.accepts(value):
            where = _at(location, f"{prefix}.{written[-1][0]}" if written else prefix)
            report.error(f"{prefix}.{option.name} must be {option.kind.wanted}, not {value!r}", where)
            value = fallback if option.kind.accepts(fallback) else option.default
        values[option.field] = value
    return values


def subsection(section: Mapping[str, Any] | None, name: str, prefix: str, diagnostics: Diagnostics | None,
               location: Location | None) -> dict[str, Any]:
    """`section[name]` when it is a mapping (absent: empty); anything else is an error."""
    value = {str(k).lower(): v for k, v in (section or {}).items()}.get(name.lower())
    if value is None:
        return {}
    if not isinstance(value, dict):
        (diagnostics if diagnostics is not None else Diagnostics()).error(
            f"{prefix}.{name} must be a mapping, not {value!r}", _at(location, f"{prefix}.{name}"))
        return {}
    return value


def _at(location: Location | None, path: str) -> Location | None:
    """Where the key `path` is written, when `location` (a config section's) knows."""
    return location.of(path) if location is not None else None


def describe(options: Sequence[Option], prefix: str) -> list[str]:
    """One line per option, for documentation: `prefix.name` (default): what it does."""
    return [f"{prefix}.{o.name} (default {o.default!r}; {o.kind.wanted}): {o.doc}" for o in options]
