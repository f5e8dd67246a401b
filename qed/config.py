"""Site configuration: `config.yaml` (or Hugo's `hugo.toml`...) read into a typed `SiteConfig`.

Hugo's key names are accepted so a Hugo site's config works. Every problem in the file is
collected: an unknown key is a warning naming the key, a wrongly typed value an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qed.errors import Diagnostics, Location, QedError, SourceText
from qed.frontmatter import _parse_toml, _parse_yaml

CONFIG_NAMES = ("config.yaml", "config.yml", "config.toml", "hugo.yaml", "hugo.yml", "hugo.toml")

# key: (expected type(s), default). Keys are Hugo's, compared case-insensitively as Hugo does.
_SCHEMA: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "baseURL": (str, "/"),
    "title": (str, "My notes"),
    "languageCode": (str, "en"),
    "author": ((str, dict), ""),
    "copyright": (str, ""),
    "params": (dict, {}),
    "taxonomies": (dict, {"tag": "tags", "category": "categories"}),
    "permalinks": (dict, {}),
    "markup": (dict, {}),
    "summaryLength": (int, 70),
    "menu": (dict, {}),
    "pagination": (dict, {}),
    "paginate": (int, 0),  # Hugo < 0.128: pagination.pagerSize
    "paginatePath": (str, ""),  # Hugo < 0.128: pagination.path
    "math": (dict, {}),
    "verify": (dict, {}),
    "theorems": (dict, {}),
    "publishDir": (str, "public"),
    "buildDrafts": (bool, False),
    "buildFuture": (bool, False),
    "buildExpired": (bool, False),
    "disablePathToLower": (bool, False),
    "timeZone": (str, ""),
}
# Hugo keys a ported site may carry that qed does not act on: a softer warning than unknown.
_HUGO_IGNORED = {
    "theme", "themesdir", "defaultcontentlanguage", "enableemoji", "enablerobotstxt", "hascjklanguage",
    "enablegitinfo", "outputs", "outputformats", "mediatypes", "services", "minify", "module",
    "languages", "related", "imaging", "caches", "security", "privacy", "sitemap",
    "enableinlineshortcodes", "googleanalytics", "disqusshortname", "relativeurls", "canonifyurls",
    "uglyurls", "build", "frontmatter", "cascade", "deployment", "server", "segments",
}
_CANONICAL = {key.lower(): key for key in _SCHEMA}


@dataclass(frozen=True)
class SiteConfig:
    """The validated site configuration; `raw` keeps every value under its canonical key."""

    root: Path
    raw: dict[str, Any]
    path: Path | None = None
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.raw["baseURL"]

    @property
    def title(self) -> str:
        return self.raw["title"]

    @property
    def params(self) -> dict[str, Any]:
        return self.raw["params"]

    @property
    def taxonomies(self) -> dict[str, str]:
        return self.raw["taxonomies"]

    @property
    def permalinks(self) -> dict[str, str]:
        return self.raw["permalinks"]

    @property
    def cache_dir(self) -> Path:
        return self.root / ".qed-cache"

    def section(self, name: str) -> dict[str, Any]:
        """The raw dict of a stage's own section (`math`, `verify`, `theorems`, `markup`)."""
        return self.raw.get(name) or {}

    def location(self, key: str) -> Location:
        """Where `key` is written in the config file, for error messages."""
        name = self.path.name if self.path else "config"
        return Location(name, self.key_lines.get(key, 0))

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


def find_config_file(root: Path) -> Path | None:
    """The first config file Hugo would read, or None for a site with no config."""
    for name in CONFIG_NAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def load_config(root: Path, diagnostics: Diagnostics) -> SiteConfig:
    """Read and validate the site's config; a site without one gets the defaults."""
    path = find_config_file(root)
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    if path is not None:
        source = SourceText(path.name, path.read_text(encoding="utf-8"))
        try:
            reader = _parse_toml if path.suffix == ".toml" else _parse_yaml
            data, lines = reader(source.text, source, first_line=1)
        except QedError as error:
            diagnostics.add(error)
    raw, canonical_lines = _validate(data, lines, path.name if path else "config", diagnostics)
    return SiteConfig(root=root, raw=raw, path=path, key_lines=canonical_lines)


def _validate(
    data: dict[str, Any], lines: dict[str, int], name: str, diagnostics: Diagnostics
) -> tuple[dict[str, Any], dict[str, int]]:
    raw = {key: _copy_default(default) for key, (_, default) in _SCHEMA.items()}
    canonical_lines: dict[str, int] = {}
    for key, value in data.items():
        where = Location(name, lines.get(key, 0))
        canonical = _CANONICAL.get(key.lower())
        if canonical is None:
            _warn_unknown(key, where, diagnostics)
            continue
        expected, _ = _SCHEMA[canonical]
        if not _has_type(value, expected):
            diagnostics.error(f"'{key}' must be {_type_name(expected)}, not {_type_name(type(value))}", where)
            continue
        raw[canonical] = value
        canonical_lines[canonical] = where.line
    raw["baseURL"] = raw["baseURL"] if raw["baseURL"].endswith("/") else raw["baseURL"] + "/"
    return raw, canonical_lines


def _warn_unknown(key: str, where: Location, diagnostics: Diagnostics) -> None:
    if key.lower() in _HUGO_IGNORED:
        diagnostics.warning(f"Hugo setting '{key}' has no effect in qed; ignored", where)
    else:
        diagnostics.warning(f"unknown setting '{key}'; ignored", where)


def _has_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool) and expected is int:
        return False  # YAML's `true` is not a number
    return isinstance(value, expected)


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", dict: "a mapping",
             list: "a list", float: "a number", type(None): "empty"}
    if isinstance(expected, tuple):
        return " or ".join(names.get(t, t.__name__) for t in expected)
    return names.get(expected, expected.__name__)


def _copy_default(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value
