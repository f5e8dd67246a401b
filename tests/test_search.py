"""Site search: the index a build writes, its settings, and the search page in a browser."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

from tests.chromium import launched, needs_chromium, offline_context
from tests.conftest import build, page, run_qed

SITE = {
    "content/posts/backprop.md": "---\ntitle: Backpropagation explained\ndate: 2024-03-01\ntags: [nets]\n---\n"
                                 "The gradient of the cost is $\\nabla C$ &amp; more.\n\n"
                                 "{{< admonition tip \"Why\" >}}Reverse mode is cheap.{{< /admonition >}}\n",
    "content/posts/chain.md": "---\ntitle: The chain rule\ndate: 2024-02-01\n---\n"
                              "Compose maps; backpropagation uses it.\n",
    "content/posts/draft.md": "---\ntitle: Unfinished\ndraft: true\n---\nSecret backpropagation notes.\n",
}
LONG = {"content/posts/long.md": "---\ntitle: A long one\ndate: 2024-01-01\n---\n"
                                 + " ".join(f"word{i}" for i in range(400)) + " zeugma at the end.\n"}


def index(site: Path) -> list[dict]:
    return json.loads((site / "public" / "search" / "index.json").read_text(encoding="utf-8"))


def test_the_index_holds_each_published_page_as_text(make_site):
    site = make_site(SITE)
    build(site)
    entries = {entry["title"]: entry for entry in index(site)}
    assert set(entries) == {"Backpropagation explained", "The chain rule"}  # drafts stay out
    first = entries["Backpropagation explained"]
    assert (first["url"], first["date"], first["tags"]) == ("/posts/backprop/", "2024-03-01", ["nets"])
    assert first["content"] == "The gradient of the cost is $\\nabla C$ & more. Why Reverse mode is cheap."
    box = page(site, "index.html").find("form", class_="site-search")  # the header's search box
    assert box.attrs["action"] == "/search/" and box.find("input").attrs["name"] == "q"


def test_the_whole_text_of_a_long_page_is_searchable(make_site):
    filler = " ".join(f"word{i}" for i in range(3000))  # about 26,000 characters
    site = make_site({"content/posts/long.md": f"---\ntitle: Long\n---\n{filler}\n\nThe last word is zeugma.\n"})
    build(site)
    [entry] = index(site)
    assert entry["content"].endswith("The last word is zeugma."), "LoveIt stops at 4000 characters; qed does not"


def test_settings_limit_or_turn_off_search(make_site):
    site = make_site({**SITE, "config.yaml": "params:\n  search:\n    contentLength: 12\n"})
    build(site)
    assert {entry["content"] for entry in index(site)} == {"The gradient", "Compose maps"}
    site.joinpath("config.yaml").write_text("params:\n  search:\n    enable: false\n")
    build(site)
    assert not (site / "public" / "search").exists()
    assert "Search" not in [a.text() for a in page(site, "index.html").find_all("a")]
    site.joinpath("config.yaml").write_text("params:\n  search:\n    maxResultLength: 0\n")
    result = run_qed(site)
    assert result.returncode == 1
    assert "params.search.maxResultLength must be a whole number of at least 1, not 0" in result.stderr


@needs_chromium
def test_the_search_page_finds_and_highlights_as_you_type(make_site):
    site = make_site({**SITE, **LONG})
    build(site)
    handler = functools.partial(_Quiet, directory=str(site / "public"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    url = origin + "/search/?q=backpropagation"
    try:
        with launched() as browser:
            context, outside = offline_context(browser, origin)
            try:
                tab = context.new_page()
                tab.goto(url)
                tab.wait_for_selector("#search-results li")
                titles = tab.eval_on_selector_all("#search-results li > a", "links => links.map(a => a.textContent)")
                assert titles == ["Backpropagation explained", "The chain rule"]  # title hits rank first
                assert tab.inner_text("#search-results li:first-child a mark").lower() == "backpropagation"
                tab.fill("#search-input", "reverse cheap")
                tab.wait_for_function("document.querySelectorAll('#search-results li').length === 1")
                assert tab.inner_text("#search-status") == "1 page" and "q=reverse+cheap" in tab.url
                tab.fill("#search-input", "nabla")
                tab.wait_for_function("document.querySelectorAll('#search-results li').length === 1")
                assert "$\\nabla C$" in tab.inner_text("#search-results li p"), "a formula shown whole, as TeX"
                tab.fill("#search-input", "zeugma")
                tab.wait_for_function("document.querySelector('#search-results li a')?.textContent === 'A long one'")
                shown = tab.inner_text("#search-results li p")
                first_word = shown.removeprefix("… ").split()[0]
                assert shown.startswith("… ") and first_word.startswith("word") and first_word[4:].isdigit(), (
                    "the snippet starts at a whole word")
                tab.fill("#search-input", "nothing-like-this")
                tab.wait_for_function("document.getElementById('search-status').textContent === 'Nothing found.'")
            finally:
                context.close()
    finally:
        server.shutdown()
        server.server_close()
    assert outside == [], "the search page asks nothing of other sites"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass
