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
from qed.options import BOOL, MAPPING, NAME_MAP, STRING, STRING_OR_MAPPING, WHOLE_NUMBER, Option

CONFIG_NAMES = ("config.yaml", "config.yml", "config.toml", "hugo.yaml", "hugo.yml", "hugo.toml")

# Keys are Hugo's, compared case-insensitively as Hugo does; sections (`math`, `pagination`...)
# are mappings here and declare their own options in the stage that owns them.
OPTIONS = (
    Option("baseURL", "baseURL", STRING, "/", "the site's address; its path is where pages live"),
    Option("title", "title", STRING, "My notes", "the site's title"),
    Option("languageCode", "languageCode", STRING, "en", "the pages' lang attribute"),
    Option("author", "author", STRING_OR_MAPPING, "", "the author, or a mapping of name, email, link"),
    Option("copyright", "copyright", STRING, "", "the footer's copyright line"),
    Option("params", "params", MAPPING, {}, "the theme's settings (Hugo's .Site.Params)"),
    Option("taxonomies", "taxonomies", NAME_MAP, {"tag": "tags", "category": "categories"}, "singular: plural"),
    Option("permalinks", "permalinks", NAME_MAP, {}, "URL patterns by section"),
    Option("markup", "markup", MAPPING, {}, "Hugo's markup settings (goldmark, highlight, math escapes)"),
    Option("summaryLength", "summaryLength", WHOLE_NUMBER, 70, "words in an automatic summary"),
    Option("menu", "menu", MAPPING, {}, "the site's menus"),
    Option("pagination", "pagination", MAPPING, {}, "see qed.pagination.OPTIONS"),
    Option("paginate", "paginate", WHOLE_NUMBER, 0, "Hugo < 0.128: pagination.pagerSize"),
    Option("paginatePath", "paginatePath", STRING, "", "Hugo < 0.128: pagination.path"),
    Option("math", "math", MAPPING, {}, "see qed.math.MATH_OPTIONS"),
    Option("verify", "verify", MAPPING, {}, "see qed.verification.model.OPTIONS"),
    Option("theorems", "theorems", MAPPING, {}, "see qed.theorems.OPTIONS"),
    Option("publishDir", "publishDir", STRING, "public", "the output folder"),
    Option("relativeURLs", "relativeURLs", BOOL, False, "links relative to each page, so the site opens from disk"),
    Option("buildDrafts", "buildDrafts", BOOL, False, "publish drafts too"),
    Option("buildFuture", "buildFuture", BOOL, False, "publish pages dated in the future"),
    Option("buildExpired", "buildExpired", BOOL, False, "publish expired pages"),
    Option("disablePathToLower", "disablePathToLower", BOOL, False, "keep capitals in URLs"),
    Option("timeZone", "timeZone", STRING, "", "the zone of dates written without one"),
)
_OPTIONS = {option.name: option for option in OPTIONS}
# Hugo keys a ported site may carry that qed does not act on: a softer warning than unknown.
_HUGO_IGNORED = {
    "theme", "themesdir", "defaultcontentlanguage", "enableemoji", "enablerobotstxt", "hascjklanguage",
    "enablegitinfo", "outputs", "outputformats", "mediatypes", "services", "minify", "module",
    "languages", "related", "imaging", "caches", "security", "privacy", "sitemap",
    "enableinlineshortcodes", "googleanalytics", "disqusshortname", "canonifyurls",
    "uglyurls", "build", "frontmatter", "cascade", "deployment", "server", "segments",
}
_CANONICAL = {key.lower(): key for key in _OPTIONS}


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
    raw = {option.name: _copy_default(option.default) for option in OPTIONS}
    canonical_lines: dict[str, int] = {}
    for key, value in data.items():
        where = Location(name, lines.get(key, 0))
        canonical = _CANONICAL.get(key.lower())
        if canonical is None:
            _warn_unknown(key, where, diagnostics)
            continue
        kind = _OPTIONS[canonical].kind
        if not kind.accepts(value):
            shown = _type_name(value) if not isinstance(value, dict) else _clip(repr(value))
            diagnostics.error(f"'{key}' must be {kind.wanted}, not {shown}", where)
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


def _type_name(value: Any) -> str:
    """What a wrong value is, in the words the messages use."""
    names = {str: "a string", int: "a whole number", bool: "true or false", dict: "a mapping",
             list: "a list", float: "a number", type(None): "empty"}
    return names.get(type(value), type(value).__name__)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _copy_default(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value
