"""The default theme in a real browser (headless Chromium): reference previews and the
uses / used-by links under each claim, on a built site served from localhost."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import build, page, write_files

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium (CI installs it)")

SITE = {
    "config.yaml": """
        title: Previews
        baseURL: http://example.org/
    """,
    "verifiers/algebra.py": """
        def squares(rng):
            x = rng.uniform(-5, 5)
            assert (x + 1) ** 2 == x * x + 2 * x + 1 or abs((x + 1) ** 2 - (x * x + 2 * x + 1)) < 1e-9
    """,
    "content/posts/a.md": """
        ---
        title: First
        date: 2024-01-01
        ---
        {{< lemma id="lem:square" title="Square of a sum" verify="algebra:squares" >}}
        For every real $x$, $(x+1)^2 = x^2 + 2x + 1$.
        {{< /lemma >}}

        $$ e^{i\\pi} + 1 = 0 $$ {#eq:euler}

        By @lem:square and [](#eq:euler), nothing else is needed.
    """,
    "content/posts/b.md": """
        ---
        title: Second
        date: 2024-01-02
        ---
        {{< theorem id="thm:uses" title="Builds on it" uses="lem:square" >}}
        As {{< ref "lem:square" >}} shows, squares expand.
        {{< /theorem >}}
    """,
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    site = write_files(tmp_path_factory.mktemp("previews") / "site", SITE)
    build(site)
    handler = functools.partial(_QuietHandler, directory=str(site / "public"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str, **context_options):
    context = browser.new_context(**context_options)
    origin = url.split("/posts/")[0]
    outside: list[str] = []

    def only_this_site(route) -> None:  # no network: anything off the site is refused and noted
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_site)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(url)
    return context, tab, errors


def test_each_claim_links_what_it_uses_and_what_uses_it(served) -> None:
    site, _ = served
    first = page(site, "posts/a/index.html").find(class_="qed-claim-links")
    assert "Used by" in first.text() and "Theorem 1" in first.text()
    assert first.find("a").attrs["href"] == "/posts/b/#thm:uses"
    second = page(site, "posts/b/index.html").find(class_="qed-claim-links")
    assert "Uses" in second.text() and second.find("a").attrs["href"] == "/posts/a/#lem:square"


def test_hovering_a_reference_to_another_page_previews_the_statement_with_its_badge(served, browser) -> None:
    _, origin = served
    context, tab, errors = open_page(browser, origin + "/posts/b/")
    tab.hover(".qed-claim-body a.ref")
    card = tab.locator(".qed-preview")
    card.wait_for(state="visible", timeout=5000)
    assert "(x+1)^2" in card.inner_text() or "Square of a sum" in card.inner_text()
    assert card.locator(".qed-badge").count() == 1, "the referenced claim's verification badge"
    assert card.locator("[id]").count() == 0, "no duplicate ids from the copied statement"
    assert tab.get_attribute(".qed-claim-body a.ref", "aria-describedby") == "qed-preview"
    tab.mouse.move(0, 0)
    card.wait_for(state="hidden", timeout=5000)
    assert errors == []
    context.close()


def test_focus_shows_a_preview_of_an_equation_and_escape_closes_it(served, browser) -> None:
    _, origin = served
    context, tab, errors = open_page(browser, origin + "/posts/a/")
    tab.focus("a.ref-equation")
    card = tab.locator(".qed-preview")
    card.wait_for(state="visible", timeout=5000)
    assert card.locator(".katex").count() >= 1, "the typeset equation, not its TeX"
    tab.keyboard.press("Escape")
    card.wait_for(state="hidden", timeout=5000)
    assert errors == []
    context.close()


def test_on_touch_the_first_tap_previews_and_the_card_link_goes_there(served, browser) -> None:
    _, origin = served
    context, tab, errors = open_page(browser, origin + "/posts/b/", has_touch=True, is_mobile=True,
                                     viewport={"width": 390, "height": 800})
    tab.tap(".qed-claim-body a.ref")
    card = tab.locator(".qed-preview")
    card.wait_for(state="visible", timeout=5000)
    assert tab.url.endswith("/posts/b/"), "the first tap does not navigate"
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, "the card fits the phone"
    tab.tap(".qed-preview-go")
    tab.wait_for_url("**/posts/a/#lem:square", timeout=5000)
    assert errors == []
    context.close()


def test_without_javascript_a_reference_is_a_plain_link(served, browser) -> None:
    _, origin = served
    context, tab, _ = open_page(browser, origin + "/posts/b/", java_script_enabled=False)
    tab.click(".qed-claim-body a.ref")
    tab.wait_for_url("**/posts/a/#lem:square", timeout=5000)
    assert tab.locator(".qed-preview").count() == 0
    context.close()


def test_a_site_opened_from_disk_keeps_working_links_and_raises_no_error(served, browser) -> None:
    site, _ = served
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto((site / "public" / "posts" / "b" / "index.html").as_uri())
    tab.hover(".qed-claim-body a.ref")
    tab.wait_for_timeout(500)
    assert errors == []
    context.close()
