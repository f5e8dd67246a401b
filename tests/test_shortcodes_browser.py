"""The themes' shortcodes in a real browser (headless Chromium) on a built site served from
localhost: a page with every embed asks nothing of any other site unless the site opts in
(params.embeds), and tabs switch with the page's own script (every panel shows without it)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import launched, needs_chromium, offline_context
from tests.conftest import FIXTURES, build, write_files

pytestmark = needs_chromium

DOCUMENT = (FIXTURES / "shortcodes" / "theme-shortcodes.md").read_text(encoding="utf-8")


def site_files(embeds: bool) -> dict[str, str]:
    return {
        # KaTeX's stylesheet from the site too (math.self_host), so any request off the site is an embed's
        "config.yaml": "title: Embeds\nbaseURL: http://example.org/\nmath:\n  katex:\n    self_host: true\n"
                       + ("params:\n  embeds: true\n" if embeds else ""),
        "content/posts/all.md": "---\ntitle: All\n---\n" + DOCUMENT,
    }


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, str]]:
    """Two builds of the same page: {False: url without opting in, True: url with embeds on}."""
    urls: dict[bool, str] = {}
    servers = []
    for embeds in (False, True):
        site = write_files(tmp_path_factory.mktemp(f"embeds-{embeds}") / "site", site_files(embeds))
        build(site)
        server, origin = _serve(site / "public")
        servers.append(server)
        urls[embeds] = origin + "/posts/all/"
    yield urls
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launched() as chromium:
        yield chromium


def visit(browser, url: str, **context_options):
    """Open `url`; every request off the site is refused and noted (the test machine has no network)."""
    origin = url.split("/posts/")[0]
    context, outside = offline_context(browser, origin, viewport={"width": 1000, "height": 30000},  # no lazy waits
                                       **context_options)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(url, wait_until="load")
    tab.wait_for_timeout(300)  # scripts added at the end of the page run after load
    return context, tab, outside, errors


def test_every_embed_asks_nothing_of_other_sites_by_default(served, browser) -> None:
    context, tab, outside, errors = visit(browser, served[False])
    try:
        # the one picture from elsewhere is the author's own, as a markdown image would be
        assert outside == ["https://evgenykuznetsov.org/img/avatar.jpg"] and errors == []
        assert tab.locator(".embed-placeholder").count() == 19  # 17 links to the service, 2 charts named
        assert tab.locator(".embed-placeholder a").count() == 17
        assert tab.locator("figure.music audio").first.evaluate("a => a.paused && a.networkState !== 2")
    finally:
        context.close()


def test_a_site_that_opts_in_loads_the_players(served, browser) -> None:
    context, _tab, outside, _ = visit(browser, served[True])
    try:
        hosts = {url.split("/")[2] for url in outside}
        assert {"player.bilibili.com", "www.youtube.com", "player.vimeo.com", "gist.github.com",
                "cdn.jsdelivr.net", "www.openstreetmap.org"} <= hosts
    finally:
        context.close()


def test_tabs_show_one_panel_at_a_time_and_switch_on_click(served, browser) -> None:
    context, tab, _, errors = visit(browser, served[False])
    try:
        panels = tab.locator(".shortcode-tabs .tab-panel")
        assert [panels.nth(i).is_visible() for i in range(2)] == [False, True]  # defaultTab=1
        assert not tab.locator(".tab-panel-title").first.is_visible()
        tab.get_by_role("tab", name="Tab 1").click()
        assert [panels.nth(i).is_visible() for i in range(2)] == [True, False]
        assert tab.get_by_role("tab", name="Tab 1").get_attribute("aria-selected") == "true"
        tab.keyboard.press("ArrowRight")
        assert [panels.nth(i).is_visible() for i in range(2)] == [False, True]
        assert errors == []
    finally:
        context.close()


def test_without_javascript_every_tab_panel_shows_under_its_title(served, browser) -> None:
    context, tab, _, _ = visit(browser, served[False], java_script_enabled=False)
    try:
        panels = tab.locator(".shortcode-tabs .tab-panel")
        assert [panels.nth(i).is_visible() for i in range(2)] == [True, True]
        assert tab.locator(".tab-panel-title").all_inner_texts() == ["Tab 1", "Tab 2"]
        assert not tab.locator(".shortcode-tabs .tab-list").is_visible()
    finally:
        context.close()
