"""Site search without a server: an index of every page's text, and a page that searches it.

`search/index.json` lists each regular page's title, URL, date, tags and its whole text,
formulas as `$TeX$` (so a reader finds `\nabla` and a word at the end of a long post); the
theme's `search.html` fetches it and ranks pages in the browser. Our own index rather than
Pagefind: it needs no binary, works offline, and for notes (hundreds of pages, a few MB) one
JSON file loads in well under a second. LoveIt's settings are read: `params.search.enable`
(default true here), `contentLength` (a cap on each page's text; default none, where LoveIt
cuts at 4000 characters), `maxResultLength` (10) and `placeholder`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qed.content import Site
from qed.errors import Diagnostics
from qed.options import BOOL, OPTIONAL_POSITIVE_INT, POSITIVE_INT, STRING, Option, read_options

OPTIONS = (
    Option("enable", "enabled", BOOL, True, "write the search index and page"),
    Option("contentLength", "content_length", OPTIONAL_POSITIVE_INT, None,
           "at most this many characters of each page's text in the index (default: all of it)"),
    Option("maxResultLength", "max_results", POSITIVE_INT, 10, "results shown"),
    Option("placeholder", "placeholder", STRING, "Search the notes", "the search box's placeholder"),
)


@dataclass(frozen=True)
class SearchSettings:
    enabled: bool = True
    content_length: int | None = None
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


def search_index(site: Site, settings: SearchSettings) -> str:
    """`search/index.json`: one entry per regular page, in the site's order. Encoded entry by
    entry: the whole text of every page is held once (in the result), not twice."""
    return "[" + ",".join(json.dumps({
        "title": page.title,
        "url": page.rel_permalink,
        "date": page.date.date().isoformat() if page.date else "",
        "tags": list(page.tags),
        "content": page.plain_text[:settings.content_length],
    }, ensure_ascii=False, separators=(",", ":")) for page in site.pages) + "]"
