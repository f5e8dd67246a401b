"""In a real browser: every formula typeset with the KaTeX CSS and fonts, and long display
math scrolls inside its box on a phone instead of widening the page."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest

from qed.errors import Diagnostics, SourceText
from qed.katex import KatexRenderer, static_files
from qed.markers import resolve_markers
from qed.math import MathCollector, MathSettings
from tests.chromium import launched, needs_chromium, offline_context

REPO = Path(__file__).resolve().parent.parent
SEED = Path(__file__).resolve().parent / "fixtures" / "math" / "backpropagation-loveit.md"

pytestmark = needs_chromium

LONG = "$$ " + " + ".join(f"\\frac{{x_{{{i}}}^2}}{{y_{{{i}}}}}" for i in range(40)) + " $$ {#eq:long}"


def _seed_body(tmp_path: Path) -> str:
    """The seed post's text with its formulas typeset (shortcode lines dropped), as HTML paragraphs."""
    text = SEED.read_text(encoding="utf-8").split("---", 2)[2] + "\n\nA long one:\n\n" + LONG + "\n"
    source = SourceText("seed.md", text)
    settings = MathSettings(escapes="commonmark", macros=(("\\N", "\\mathbb{N}"), ("\\R", "\\mathbb{R}")))
    collector = MathCollector(source, settings, None, Diagnostics())
    parts, position = [], 0
    for raw in re.finditer(r"\{\{< raw >\}\}(.*?)\{\{< /raw >\}\}", text, re.S):
        parts.append(collector.protect(text[position:raw.start()], source.location(position)))
        parts.append(collector.protect(raw.group(1), source.location(raw.start(1)), escapes="verbatim"))
        position = raw.end()
    parts.append(collector.protect(text[position:], source.location(position)))
    renderer = KatexRenderer(settings, tmp_path / "cache", Diagnostics())
    typeset = renderer.typeset_page(collector.record())
    assert renderer.diagnostics.errors == []
    body = re.sub(r"\{\{[<%].*?[%>]\}\}", "", "".join(parts))
    html = resolve_markers(body, {"math": typeset.resolve})
    paragraphs = [p for p in re.split(r"\n\s*\n", html) if p.strip()]
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


@pytest.fixture
def served(tmp_path):
    """A folder served on localhost (fonts need http: file:// blocks them as cross-origin)."""
    root = tmp_path / "site"
    root.mkdir()
    for source, relative in static_files(MathSettings(self_host=True, download=False)):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / relative)
    (root / "css").mkdir()
    shutil.copyfile(REPO / "theme" / "static" / "css" / "math.css", root / "css" / "math.css")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_formulas_are_typeset_and_long_math_scrolls_on_a_phone(tmp_path, served):
    root, origin = served
    document = ('<!DOCTYPE html><html><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                '<link rel="stylesheet" href="katex/katex.min.css"><link rel="stylesheet" href="css/math.css">'
                '<style>body{margin:0 16px;font-family:serif}</style></head><body><main>'
                f"{_seed_body(tmp_path)}</main></body></html>")
    (root / "index.html").write_text(document, encoding="utf-8")
    with launched() as browser:
        context, outside = offline_context(browser, origin, viewport={"width": 375, "height": 800})
        try:
            page = context.new_page()
            page.goto(origin + "/", wait_until="load")
            page.evaluate("document.fonts.ready")
            facts = page.evaluate("""() => {
                const long = document.getElementById('eq:long').querySelector('.katex-display');
                const visible = [...document.querySelectorAll('.katex-html')].map(e => e.innerText).join(' ');
                return {
                    katex: document.querySelectorAll('.katex').length,
                    errors: document.querySelectorAll('.katex-error').length,
                    dollars: visible.includes('$') || document.querySelector('main').innerText
                        .replace(/\\s+/g, ' ').includes('$'),
                    overflowX: getComputedStyle(long).overflowX,
                    longScroll: long.scrollWidth, longBox: long.clientWidth,
                    pageWidth: document.documentElement.scrollWidth,
                    mainFont: document.fonts.check('16px KaTeX_Main'),
                    fontFamily: getComputedStyle(document.querySelector('.katex')).fontFamily,
                };
            }""")
        finally:
            context.close()
    assert outside == [], "KaTeX's stylesheet and fonts come from the site itself"
    assert facts["katex"] > 70
    assert facts["errors"] == 0
    assert not facts["dollars"], "raw $ left in the page text"
    assert facts["overflowX"] == "auto"
    assert facts["longScroll"] > facts["longBox"], "the long formula should be wider than its box"
    assert facts["longBox"] <= 375 and facts["pageWidth"] <= 375, "the page itself must not scroll sideways"
    assert facts["mainFont"] and "KaTeX_Main" in facts["fontFamily"]
