"""Site search without a server: an index of every page's text, and a page that searches it.

`search/index.json` lists each regular page's title, URL, date, tags and first
`contentLength` characters of text (formulas left out); the theme's `search.html` fetches it
and ranks pages in the browser. LoveIt's settings are read: `params.search.enable`
(default true here), `contentLength` (4000), `maxResultLength` (10) and `placeholder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qed.content import Site
from qed.errors import Diagnostics


@dataclass(frozen=True)
class SearchSettings:
    enabled: bool = True
    content_length: int = 4000
    max_results: int = 10
    placeholder: str = "Search the notes"

    @classmethod
    def from_config(cls, config: Any, diagnostics: Diagnostics) -> SearchSettings:
        raw = config.params.get("search") if isinstance(config.params, dict) else None
        if raw is None:
            return cls()
        where = config.location("params")
        if not isinstance(raw, dict):
            diagnostics.error("params.search must be a mapping (enable, contentLength, maxResultLength, "
                              "placeholder)", where)
            return cls()
        values = {key.lower(): value for key, value in raw.items()}
        settings = cls(
            enabled=_typed(values, "enable", bool, cls.enabled, diagnostics, where),
            content_length=_typed(values, "contentlength", int, cls.content_length, diagnostics, where),
            max_results=_typed(values, "maxresultlength", int, cls.max_results, diagnostics, where),
            placeholder=_typed(values, "placeholder", str, cls.placeholder, diagnostics, where),
        )
        return settings


def _typed(values: dict[str, Any], key: str, kind: type, default: Any, diagnostics: Diagnostics, where: Any) -> Any:
    value = values.get(key, default)
    if isinstance(value, kind) and not (kind is int and (isinstance(value, bool) or value < 1)):
        return value
    wanted = {bool: "true or false", int: "a whole number of at least 1", str: "a string"}[kind]
    diagnostics.error(f"params.search.{key} must be {wanted}, not {value!r}", where)
    return default


def search_index(site: Site, settings: SearchSettings) -> list[dict[str, Any]]:
    """One entry per regular page, in the site's order."""
    return [{
        "title": page.title,
        "url": page.rel_permalink,
        "date": page.date.date().isoformat() if page.date else "",
        "tags": list(page.tags),
        "content": page.plain_text[:settings.content_length],
    } for page in site.pages]
