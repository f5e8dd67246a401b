"""List pages cut into pagers, as Hugo does: `/posts/`, `/posts/page/2/`, ... .

Settings are Hugo's: `pagination.pagerSize` (default 10), `pagination.path` ("page") and
`pagination.disableAliases`, or the older top-level `paginate` and `paginatePath`. Home,
section and term pages are paginated; templates get a `paginator` (`Pager`) describing
the pager being written, the way Hugo templates use `.Paginator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qed.content import Page
from qed.errors import Diagnostics
from qed.options import BOOL, POSITIVE_INT, URL_SEGMENT, Option, read_options

PAGINATED_KINDS = frozenset({"home", "section", "term"})
OPTIONS = (
    Option("pagerSize", "pager_size", POSITIVE_INT, 10, "pages per pager"),
    Option("path", "path", URL_SEGMENT, "page", "the URL segment before a pager's number (/posts/page/2/)"),
    Option("disableAliases", "disable_aliases", BOOL, False, "no /page/1/ redirect to the list page"),
)


@dataclass(frozen=True)
class PaginationSettings:
    pager_size: int = 10
    path: str = "page"
    disable_aliases: bool = False

    @classmethod
    def from_config(cls, config: Any, diagnostics: Diagnostics) -> PaginationSettings:
        """Read `pagination` (Hugo ≥ 0.128), or the older `paginate`/`paginatePath`."""
        older = {"pager_size": config.raw.get("paginate"), "path": config.raw.get("paginatePath")}
        values = read_options(config.section("pagination"), OPTIONS, "pagination", diagnostics,
                              config.location("pagination"), {k: v for k, v in older.items() if v})
        return cls(values["pager_size"], values["path"].strip("/"), values["disable_aliases"])


@dataclass(frozen=True)
class Pager:
    """One pager of a list page: what a template iterates (`pages`) and the links around it."""

    number: int  # 1-based
    pages: list[Page]
    urls: tuple[str, ...]  # site-relative URL of every pager of the list, first one first
    total_items: int

    @property
    def page_number(self) -> int:
        return self.number

    @property
    def total_pages(self) -> int:
        return len(self.urls)

    @property
    def url(self) -> str:
        return self.urls[self.number - 1]

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < len(self.urls)

    @property
    def prev_url(self) -> str | None:
        return self.urls[self.number - 2] if self.has_prev else None

    @property
    def next_url(self) -> str | None:
        return self.urls[self.number] if self.has_next else None

    @property
    def first_url(self) -> str:
        return self.urls[0]

    @property
    def last_url(self) -> str:
        return self.urls[-1]

    @property
    def pagers(self) -> list[tuple[int, str]]:
        """(number, url) of every pager, for a numbered navigation."""
        return list(enumerate(self.urls, start=1))


def paginate(page: Page, settings: PaginationSettings) -> list[Pager]:
    """The pagers of a list page (one, possibly empty, for a short list); [] for other kinds."""
    if page.kind not in PAGINATED_KINDS:
        return []
    items = page.pages
    count = max(1, math.ceil(len(items) / settings.pager_size))
    urls = tuple(page.rel_permalink if n == 1 else pager_path(page.rel_permalink, settings, n)
                 for n in range(1, count + 1))
    size = settings.pager_size
    return [Pager(n, items[(n - 1) * size:n * size], urls, len(items)) for n in range(1, count + 1)]


def pager_path(list_path: str, settings: PaginationSettings, number: int) -> str:
    """`/posts/` + pager 3 → `/posts/page/3/`."""
    return f"{list_path.rstrip('/')}/{settings.path}/{number}/"
