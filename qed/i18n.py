"""The theme's words in the site's language (Hugo's `T`): admonition titles, badge labels.

The words live in one data file, `theme/i18n/strings.yaml` (language → key → text, the
meanings of LoveIt's `i18n/*.toml`); a site adds or overrides words with its own
`i18n/<lang>.toml|yaml|json` in Hugo's format (`[note]\nother = "..."` or `note = "..."`).
The language is the site's `defaultContentLanguage`, else its `languageCode` (checked against
Hugo + LoveIt: `languageCode = "zh-CN"` alone shows 注意), as a LoveIt site names it (`zh-cn`,
`zh-CN`, `zh`); a word missing in that language is the English one.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from qed.errors import Location, QedError

__all__ = ["Translations", "i18n_dirs", "load_translations", "site_language"]

DEFAULT_LANGUAGE = "en"
_THEME_FILE = "strings.yaml"
_SITE_SUFFIXES = (".toml", ".yaml", ".yml", ".json")
# Chinese scripts and regions that read the traditional characters of LoveIt's zh-TW file.
_TRADITIONAL = frozenset({"zh-tw", "zh-hk", "zh-mo", "zh-hant"})


def i18n_dirs(site_root: Path, themes: list[Path]) -> list[Path]:
    """Where words come from, weakest first: each theme's `i18n/` (qed's own first), then the site's."""
    folders = [*(theme / "i18n" for theme in dict.fromkeys(themes)), site_root / "i18n"]
    return [folder for folder in folders if folder.is_dir()]


def normalize_language(name: object) -> str:
    """Hugo's spelling of a language name: lower case, `-` between parts ("zh_CN" → "zh-cn")."""
    return str(name or "").strip().lower().replace("_", "-")


def site_language(config: Any) -> str:
    """The language whose words a site's pages get (`defaultContentLanguage`, else `languageCode`)."""
    raw: Mapping[str, Any] = getattr(config, "raw", None) or {}
    for key in ("defaultContentLanguage", "languageCode"):
        name = normalize_language(raw.get(key))
        if name:
            return name
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translations:
    """Every known word: language → key → text."""

    table: Mapping[str, Mapping[str, str]]

    def resolve_language(self, language: str) -> str:
        """The table's language for a site's language: exact, then its script or region sibling
        (`zh-hant` → `zh-tw`, `zh`/`zh-sg` → `zh-cn`, `pt` → `pt-br`), else English."""
        language = normalize_language(language)
        if language in self.table:
            return language
        if language in _TRADITIONAL and "zh-tw" in self.table:
            return "zh-tw"
        base = language.split("-")[0]
        if base in self.table:
            return base
        siblings = sorted(name for name in self.table if name.split("-")[0] == base)
        return siblings[0] if siblings else DEFAULT_LANGUAGE

    def translate(self, key: str, language: str) -> str:
        """The word for `key` in `language`, else in English, else "" (as Hugo's `T`)."""
        for name in (self.resolve_language(language), DEFAULT_LANGUAGE):
            text = self.table.get(name, {}).get(key)
            if text:
                return text
        return ""

    @jinja2.pass_context
    def __call__(self, context: Any, key: object) -> str:
        """`T("note")` in a template: the word in the language of the site being rendered."""
        return self.translate(str(key), site_language(_site_config(context)))


def _site_config(context: Any) -> Any:
    site = context.get("site")
    if site is None:
        site = getattr(context.get("ctx"), "site", None)
    return getattr(site, "config", None)


def load_translations(folders: list[Path]) -> Translations:
    """Every word in `folders`, later folders overriding earlier ones key by key.

    A file that does not parse is a `QedError` at its line (`i18n/zh-CN.toml:3: ...`).
    """
    table: dict[str, dict[str, str]] = {}
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.name == _THEME_FILE:
                for language, words in (_read_words(path) or {}).items():
                    table.setdefault(normalize_language(language), {}).update(_flatten(words))
            elif path.suffix in _SITE_SUFFIXES and path.is_file():
                table.setdefault(normalize_language(path.stem), {}).update(_flatten(_read_words(path)))
    return Translations(table)


def _read_words(path: Path) -> Any:
    """A words file in Hugo's formats (TOML, YAML, JSON), its mistakes located."""
    text = path.read_text(encoding="utf-8")
    shown = f"{path.parent.name}/{path.name}"
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text) or {}
    except tomllib.TOMLDecodeError as problem:
        line = getattr(problem, "lineno", None) or _toml_line(str(problem))
        raise QedError(f"cannot read the translations: {problem}", Location(shown, line)) from None
    except json.JSONDecodeError as problem:
        where = Location(shown, problem.lineno, problem.colno)
        raise QedError(f"cannot read the translations: {problem.msg}", where) from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = Location(shown, mark.line + 1, mark.column + 1) if mark is not None else Location(shown, 0)
        reason = getattr(problem, "problem", None) or problem
        raise QedError(f"cannot read the translations: {reason}", where) from None


def _toml_line(message: str) -> int:
    """The line tomllib names in its message ("... (at line 3, column 5)"), else 0."""
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 0


def _flatten(words: Any, prefix: str = "") -> dict[str, str]:
    """Hugo's translation shapes as key → text: `k: text`, `k: {other: text}`, nested tables
    as dotted keys (`[admonition] note = ...` → `admonition.note`)."""
    flat: dict[str, str] = {}
    if isinstance(words, list):  # Hugo's older list form: [{id: k, translation: text}]
        for item in words:
            if isinstance(item, dict) and "id" in item:
                flat[prefix + str(item["id"])] = str(item.get("translation", ""))
        return flat
    if not isinstance(words, dict):
        return flat
    for key, value in words.items():
        if isinstance(value, dict) and "other" in value:
            flat[prefix + str(key)] = str(value["other"])
        elif isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif value is not None:
            flat[prefix + str(key)] = str(value)
    return flat
