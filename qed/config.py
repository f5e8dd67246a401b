"""Site configuration: Hugo's config file and config directory, read into a typed `SiteConfig`.

Read as Hugo reads it: the root file (`hugo.toml`, `config.yaml`...), then every file of
`config/_default/` and then of `config/<environment>/` (`production` for a build), each
merged over what came before, key by key at every depth; a file's name is the top-level
key it holds (`params.toml` is `params`, `menus.en.toml` is `languages.en.menus`), and the
default language's `languages.<lang>` settings apply over the root. Every key keeps the file
and line it came from. Every problem is collected: a key qed cannot map is a warning naming
file, line and key (with a close known key when there is one), a wrongly typed value an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qed.errors import Diagnostics, Location, QedError, SourceText, did_you_mean, read_source
from qed.frontmatter import Parsed, parse_json, parse_toml, parse_yaml
from qed.options import BOOL, MAPPING, NAME_MAP, STRING, STRING_OR_MAPPING, STRINGS, WHOLE_NUMBER, Option

# Hugo's precedence: the first of these in the site folder is the root config file.
CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json",
                "config.toml", "config.yaml", "config.yml", "config.json")
CONFIG_DIR = "config"  # Hugo's configDir: config/_default/ and config/<environment>/
DEFAULT_ENVIRONMENT = "production"  # Hugo's for a build; `serve` uses "development", as `hugo server`
_FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_ROOT_FILE_STEMS = {"hugo", "config"}  # in the config directory: the whole config, not one key

# Keys are Hugo's, compared case-insensitively as Hugo does; sections (`math`, `pagination`...)
# are mappings here and declare their own options in the stage that owns them.
OPTIONS = (
    Option("baseURL", "baseURL", STRING, "/", "the site's address; its path is where pages live"),
    Option("title", "title", STRING, "My notes", "the site's title"),
    Option("languageCode", "languageCode", STRING, "en", "the pages' lang attribute"),
    Option("defaultContentLanguage", "defaultContentLanguage", STRING, "",
           "the language built (its `languages.<lang>` settings apply over the rest; en when unset) and of "
           "the theme's words (admonition titles; languageCode's when unset, as Hugo shows them)"),
    Option("languages", "languages", MAPPING, {}, "Hugo's settings per language"),
    Option("author", "author", STRING_OR_MAPPING, "", "the author, or a mapping of name, email, link"),
    Option("copyright", "copyright", STRING, "", "the footer's copyright line"),
    Option("params", "params", MAPPING, {}, "the theme's settings (Hugo's .Site.Params)"),
    Option("taxonomies", "taxonomies", NAME_MAP, {"tag": "tags", "category": "categories"}, "singular: plural"),
    Option("permalinks", "permalinks", NAME_MAP, {}, "URL patterns by section"),
    Option("markup", "markup", MAPPING, {}, "Hugo's markup settings (goldmark, highlight, math escapes)"),
    Option("summaryLength", "summaryLength", WHOLE_NUMBER, 70, "words in an automatic summary"),
    Option("menus", "menus", MAPPING, {}, "the site's menus", aliases=("menu",)),
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
    Option("theme", "theme", STRINGS, "", "the Hugo theme the site was made for: LoveIt, DoIt or FixIt choose "
           "how math is found, escaped and shown (see qed.math.hugo_defaults)"),
)
_OPTIONS = {option.name: option for option in OPTIONS}
_CANONICAL = {spelling: option.name for option in OPTIONS for spelling in option.spellings}
# Hugo keys a ported site may carry that qed does not act on: a softer warning than unknown.
_HUGO_IGNORED = {
    "themesdir", "enableemoji", "enablerobotstxt", "hascjklanguage", "contentdir",
    "enablegitinfo", "outputs", "outputformats", "mediatypes", "services", "minify", "module",
    "related", "imaging", "caches", "security", "privacy", "sitemap", "defaultcontentlanguageinsubdir",
    "enableinlineshortcodes", "googleanalytics", "disqusshortname", "canonifyurls",
    "uglyurls", "build", "frontmatter", "cascade", "deployment", "server", "segments",
}
# What a `languages.<lang>` block says about the language itself, not the site's settings.
_LANGUAGE_ITSELF = {"languagename", "weight", "languagedirection", "label", "locale", "disabled"}

KeyPath = tuple[str, ...]  # lower-case keys from the top of the config


@dataclass(frozen=True)
class SiteConfig:
    """The validated site configuration; `raw` keeps every value under its canonical key."""

    root: Path
    raw: dict[str, Any]
    path: Path | None = None  # the root config file, if any
    files: tuple[Path, ...] = ()  # every file read, in the order they were merged
    locations: dict[str, Location] = field(default_factory=dict)  # "params.search" -> where written

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
        """Where `key` (a dotted path such as `params.search`, any case) was written, for
        messages; a key never written is placed at its nearest written parent, or the config
        file. The location knows where every key is (`Location.of`), so that a stage's
        messages about `math.escapes` point at that key, whichever file set it."""
        top = Location(_display(self.path, self.root) if self.path else "config", keys=self.locations)
        return replace(top.of(key), keys=self.locations)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


@dataclass
class _Merged:
    """The config being assembled: values, and where each key path was last written."""

    data: dict[str, Any] = field(default_factory=dict)
    where: dict[KeyPath, Location] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def load_config(root: Path, diagnostics: Diagnostics, environment: str = DEFAULT_ENVIRONMENT) -> SiteConfig:
    """Read, merge and validate the site's config; a site without one gets the defaults."""
    merged = _Merged()
    root_files = list(_root_config_files(root))
    for ignored in root_files[1:]:
        diagnostics.warning(f"not read: {_display(root_files[0], root)} is the config file "
                            "(Hugo reads only the first of hugo.*, config.*)", Location(_display(ignored, root)))
    for path in root_files[:1]:
        _merge_file(merged, path, (), root, diagnostics)
    for path in _config_dir_files(root, environment):
        _merge_file(merged, path, _key_path_of(path), root, diagnostics)
    _apply_language(merged, diagnostics)
    raw, locations = _validate(merged, diagnostics)
    return SiteConfig(root=root, raw=raw, path=root_files[0] if root_files else None,
                      files=tuple(merged.files), locations=locations)


def _root_config_files(root: Path) -> Iterator[Path]:
    return (root / name for name in CONFIG_NAMES if (root / name).is_file())


def _config_dir_files(root: Path, environment: str) -> Iterator[Path]:
    """Config files of `config/_default/` then `config/<environment>/`, each folder walked in
    name order as Hugo walks it; files of other formats are not config."""
    for folder in ("_default", environment):
        base = root / CONFIG_DIR / folder
        if base.is_dir():
            yield from _walk(base)


def _walk(folder: Path) -> Iterator[Path]:
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.suffix.lower() in _FORMATS and not entry.name.startswith("."):
            yield entry


def _key_path_of(path: Path) -> KeyPath:
    """The key a config-directory file holds, as Hugo names it: `hugo.toml` the whole config,
    `params.toml` params, `menus.en.toml` languages.en.menus, `config.de.toml` languages.de."""
    stem = path.stem.lower()
    if stem in _ROOT_FILE_STEMS:
        return ()
    name, _, language = stem.rpartition(".")
    if not name:
        return (stem,)
    if name in ("menu", "menus", "params"):
        return ("languages", language, "menus" if name.startswith("menu") else name)
    return ("languages", language)


def _merge_file(merged: _Merged, path: Path, key_path: KeyPath, root: Path, diagnostics: Diagnostics) -> None:
    display = _display(path, root)
    try:
        parsed = _parse_file(read_source(path, display), _FORMATS[path.suffix.lower()])
    except QedError as error:
        diagnostics.add(error)
        return
    merged.files.append(path)
    data: dict[str, Any] = parsed.data
    where = {tuple(k.lower() for k in (*key_path, *p)): Location(display, line)
             for p, (line, _) in parsed.positions.items()}
    for depth in range(1, len(key_path) + 1):  # the file itself is where its key is written
        where[key_path[:depth]] = Location(display, 1)
    for key in data:  # a key the position scan missed (`"a\u0062" = 1`) is at least in its file
        where.setdefault((*key_path, str(key).lower())[:1], Location(display))
    for key in reversed(key_path):
        data = {key: data}
    _rename_menu(data, (), where)
    languages = _get(data, "languages")
    for name, block in languages.items() if isinstance(languages, dict) else ():
        if isinstance(block, dict):
            _rename_menu(block, ("languages", str(name).lower()), where)
    _merge_into(merged.data, data, (), merged.where, where)


def _rename_menu(data: dict[str, Any], path: KeyPath, where: dict[KeyPath, Location]) -> None:
    """Hugo's `menu` is `menus` since 0.53, as written in a file; both spellings mean the same."""
    for key in [k for k in data if str(k).lower() == "menu"]:
        menus = next((k for k in data if str(k).lower() == "menus"), None)
        value = data.pop(key)
        old, new = (*path, "menu"), (*path, "menus")
        moved = {(*new, *p[len(old):]): loc for p, loc in where.items() if p[: len(old)] == old}
        if menus is not None and isinstance(data[menus], dict) and isinstance(value, dict):
            data[menus] = {**value, **data[menus]}
        else:
            data["menus"] = value
        where.update({p: loc for p, loc in moved.items() if p not in where})


def _parse_file(source: SourceText, kind: str) -> Parsed:
    if kind == "toml":
        return parse_toml(source.text, source, first_line=1, what="the config")
    if kind == "yaml":
        return parse_yaml(source.text, source, first_line=1, what="the config")
    if not source.text.strip():
        return Parsed({}, {})
    parsed, end = parse_json(source, what="the config")
    extra = len(source.text) - len(source.text[end:].lstrip())
    if extra < len(source.text):
        raise QedError("the config is not valid JSON: more after the object", source.location(extra))
    return parsed


def _merge_into(target: dict[str, Any], source: dict[str, Any], path: KeyPath,
                where: dict[KeyPath, Location], source_where: dict[KeyPath, Location]) -> None:
    """Hugo's merge of config files: a later value replaces an earlier one, except that two
    mappings merge key by key, at any depth; keys match without regard to case."""
    spelled = {str(key).lower(): key for key in target}
    for key, value in source.items():
        lower = str(key).lower()
        here = (*path, lower)
        earlier = spelled.get(lower)
        if earlier is not None and isinstance(target[earlier], dict) and isinstance(value, dict):
            _merge_into(target[earlier], value, here, where, source_where)
        else:
            if earlier is not None:
                del target[earlier]
                for stale in [p for p in where if p[: len(here)] == here]:
                    del where[stale]
            target[key] = value
            spelled[lower] = key
            where.update((p, loc) for p, loc in source_where.items() if p[: len(here)] == here)
        if here in source_where:
            where[here] = source_where[here]


def _apply_language(merged: _Merged, diagnostics: Diagnostics) -> None:
    """Hugo builds one site per language; qed builds the default one, whose `languages.<lang>`
    settings (title, params, menus...) are merged over the rest. Others are named in a warning."""
    languages = _get(merged.data, "languages")
    if not isinstance(languages, dict) or not languages:
        return
    wanted = _get(merged.data, "defaultContentLanguage")
    wanted = wanted.lower() if isinstance(wanted, str) else "en"
    if wanted not in {str(k).lower() for k in languages} and len(languages) == 1:
        wanted = str(next(iter(languages))).lower()
    for name, block in languages.items():
        here = ("languages", str(name).lower())
        where = merged.where.get(here) or merged.where.get(("languages",))
        if str(name).lower() != wanted:
            diagnostics.warning(f"languages.{name} is not built: qed builds one language, the default "
                                f"('{wanted}', defaultContentLanguage)", where)
        elif isinstance(block, dict):
            settings = {k: v for k, v in block.items() if str(k).lower() not in _LANGUAGE_ITSELF}
            lifted = {p[len(here):]: loc for p, loc in merged.where.items() if p[: len(here)] == here}
            _merge_into(merged.data, settings, (), merged.where, lifted)
        else:
            diagnostics.error(f"languages.{name} must be a mapping, not {_type_name(block)}", where)


def _get(data: dict[str, Any], key: str) -> Any:
    return next((v for k, v in data.items() if str(k).lower() == key.lower()), None)


def _validate(merged: _Merged, diagnostics: Diagnostics) -> tuple[dict[str, Any], dict[str, Location]]:
    raw = {option.name: _copy_default(option.default) for option in OPTIONS}
    locations = {".".join(path): where for path, where in merged.where.items()}
    for key, value in merged.data.items():
        where = merged.where.get((str(key).lower(),), Location("config"))
        canonical = _CANONICAL.get(str(key).lower())
        if canonical is None:
            _warn_unknown(str(key), where, diagnostics)
            continue
        kind = _OPTIONS[canonical].kind
        if not kind.accepts(value):
            shown = _type_name(value) if not isinstance(value, dict) else _clip(repr(value))
            diagnostics.error(f"'{key}' must be {kind.wanted}, not {shown}", where)
            continue
        raw[canonical] = value
        locations[canonical.lower()] = where
    raw["baseURL"] = raw["baseURL"] if raw["baseURL"].endswith("/") else raw["baseURL"] + "/"
    return raw, locations


def _warn_unknown(key: str, where: Location, diagnostics: Diagnostics) -> None:
    if key.lower() in _HUGO_IGNORED:
        diagnostics.warning(f"Hugo setting '{key}' has no effect in qed; ignored", where)
    else:
        hint = did_you_mean(key, [o.name for o in OPTIONS], ignore_case=True)
        diagnostics.warning(f"unknown setting '{key}'; ignored{hint}", where)


def _display(path: Path, root: Path) -> str:
    """A config file as messages name it: relative to the site folder."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _type_name(value: Any) -> str:
    """What a wrong value is, in the words the messages use."""
    names = {str: "a string", int: "a whole number", bool: "true or false", dict: "a mapping",
             list: "a list", float: "a number", type(None): "empty"}
    return names.get(type(value), type(value).__name__)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _copy_default(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value
