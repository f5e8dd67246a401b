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
from qed.options import BOOL, POSITIVE_INT, STRING, Option, read_options

OPTIONS = (
    Option("enable", "enabled", BOOL, True, "write the search index and page"),
    Option("contentLength", "content_length", POSITIVE_INT, 4000, "characters of each page's text in the index"),
    Option("maxResultLength", "max_results", POSITIVE_INT, 10, "results shown"),
    Option("placeholder", "placeholder", STRING, "Search the notes", "the search box's placeholder"),
)


@dataclass(frozen=True)
class SearchSettings:
    enabled: bool = True
    content_length: int = 4000
    max_results: int = 10
    placeholder: str = "Search the notes"

    @classmethod
    def from_config(cls, config: Any, diagnostics: Diagnostics) -> SearchSettings:
        """LoveIt's `params.search`."""
        raw = config.params.get("search") if isinstance(config.params, dict) else None
        where = config.location("params")
        if raw is not None and not isinstance(raw, dict):
            diagnostics.error("params.search must be a mapping (enable, contentLength, maxResultLength, "
                              "placeholder)", where)
            raw = None
        return cls(**read_options(raw, OPTIONS, "params.search", diagnostics, where))


def search_index(site: Site, settings: SearchSettings) -> list[dict[str, Any]]:
    """One entry per regular page, in the site's order."""
    return [{
        "title": page.title,
        "url": page.rel_permalink,
        "date": page.date.date().isoformat() if page.date else "",
        "tags": list(page.tags),
        "content": page.plain_text[:settings.content_length],
    } for page in site.pages]
