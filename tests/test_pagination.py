"""List pages cut into pagers as Hugo does: URLs, links between pagers, settings."""

from __future__ import annotations

from types import SimpleNamespace

from qed.config import SiteConfig
from qed.content import Page
from qed.errors import Diagnostics, Location
from qed.pagination import PaginationSettings, paginate
from tests.conftest import build, page


def list_page(count: int, path: str = "/posts/") -> Page:
    listing = Page(kind="section", source_path="", title="Posts", path=path, rel_permalink=path)
    listing.pages = [Page(kind="page", source_path=f"posts/p{n}.md", title=f"P{n}") for n in range(count)]
    return listing


def settings(raw: dict, diagnostics: Diagnostics | None = None) -> PaginationSettings:
    config = SimpleNamespace(section=lambda name: raw.get(name), raw=raw,
                             location=lambda key: Location("config.yaml", 7))
    return PaginationSettings.from_config(config, diagnostics or Diagnostics())


def test_a_long_list_is_cut_into_pagers_with_links_between_them():
    pagers = paginate(list_page(25), PaginationSettings(pager_size=10))
    assert [len(p.pages) for p in pagers] == [10, 10, 5]
    assert [p.pages[0].title for p in pagers] == ["P0", "P10", "P20"]
    first, middle, last = pagers
    assert middle.urls == ("/posts/", "/posts/page/2/", "/posts/page/3/")
    assert (first.has_prev, first.next_url) == (False, "/posts/page/2/")
    assert (middle.prev_url, middle.next_url, middle.page_number, middle.total_pages) == (
        "/posts/", "/posts/page/3/", 2, 3)
    assert (last.has_next, last.last_url, last.total_items) == (False, "/posts/page/3/", 25)


def test_short_and_empty_lists_have_one_pager_and_single_pages_none():
    assert [len(p.pages) for p in paginate(list_page(0), PaginationSettings())] == [0]
    assert len(paginate(list_page(10), PaginationSettings())) == 1
    assert paginate(Page(kind="page", source_path="a.md"), PaginationSettings()) == []


def test_settings_follow_hugo_old_and_new():
    assert settings({}) == PaginationSettings(10, "page", False)
    assert settings({"pagination": {"pagerSize": 5, "path": "seite", "disableAliases": True}}) == \
        PaginationSettings(5, "seite", True)
    assert settings({"paginate": 3, "paginatePath": "p"}) == PaginationSettings(3, "p", False)
    diagnostics = Diagnostics()
    settings({"pagination": {"pagerSize": 0, "path": "a/b", "pagersise": 4}}, diagnostics)
    assert [str(e) for e in diagnostics.errors] == [
        "config.yaml:7: pagination.pagerSize must be a whole number of at least 1, not 0",
        "config.yaml:7: pagination.path must be one URL segment such as 'page', not 'a/b'"]
    assert [str(w) for w in diagnostics.warnings] == [
        "config.yaml:7: unknown setting 'pagination.pagersise'; ignored (known: disableAliases, pagerSize, path)"
        "; did you mean 'pagerSize'?"]


def test_a_built_section_home_and_term_are_paginated(make_site):
    files = {f"content/posts/p{n:02d}.md": f"---\ntitle: Post {n}\ndate: 2024-02-{n + 1:02d}\n"
                                           f"tags: [{'rare' if n < 3 else 'common'}]\n---\nText {n}.\n"
             for n in range(25)}
    files["config.yaml"] = "baseURL: https://example.org/notes/\npagination:\n  pagerSize: 10\n"
    site = make_site(files)
    build(site)

    def titles(relative: str) -> list[str]:
        return [a.find("a").text() for a in page(site, relative).find_all("article", class_="summary")]

    assert titles("posts/index.html") == [f"Post {n}" for n in range(24, 14, -1)]  # newest first
    assert titles("posts/page/2/index.html") == [f"Post {n}" for n in range(14, 4, -1)]
    assert titles("posts/page/3/index.html") == [f"Post {n}" for n in range(4, -1, -1)]
    nav = page(site, "posts/page/2/index.html").find("nav", class_="pagination")
    assert nav.find("a", rel="prev").attrs["href"] == "/notes/posts/"
    assert nav.find("a", rel="next").attrs["href"] == "/notes/posts/page/3/"
    assert nav.find("span").text() == "2"
    redirect = (site / "public" / "posts" / "page" / "1" / "index.html").read_text()
    assert 'url=https://example.org/notes/posts/"' in redirect
    assert len(titles("index.html")) == 10 and (site / "public" / "page" / "3" / "index.html").is_file()
    assert titles("tags/rare/index.html") == ["Post 2", "Post 1", "Post 0"]
    assert page(site, "tags/rare/index.html").find_all("nav", class_="pagination") == []


def test_a_bad_pagination_setting_stops_the_build_before_anything_runs(make_site):
    from tests.conftest import run_qed

    site = make_site({"content/a.md": "---\ntitle: A\n---\nx\n", "config.yaml": "pagination:\n  pagerSize: -2\n"})
    result = run_qed(site)
    assert result.returncode == 1
    assert result.stderr.startswith("config.yaml:2: pagination.pagerSize must be a whole number")  # its own line


def test_site_config_exposes_the_settings_under_hugo_names(tmp_path):
    (tmp_path / "hugo.toml").write_text("paginate = 4\n[pagination]\npagerSize = 6\n")
    from qed.config import load_config

    diagnostics = Diagnostics()
    config: SiteConfig = load_config(tmp_path, diagnostics)
    assert diagnostics.warnings == [] and PaginationSettings.from_config(config, diagnostics).pager_size == 6
