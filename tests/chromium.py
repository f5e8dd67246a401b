"""Headless Chromium for the browser tests: where it is, how it starts, and a tab that
cannot reach the network (every request off the site under test is refused and noted)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="needs Chromium at /usr/bin/chromium (CI installs it)")


@contextmanager
def launched() -> Iterator[object]:
    """Debian's Chromium, driven by Playwright (never a browser Playwright downloads)."""
    from playwright.sync_api import sync_playwright  # the test extra; imported only where a browser runs

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def offline_context(browser: object, origin: str, **options: object) -> tuple[object, list[str]]:
    """A new browser context (`options` as Playwright's `new_context` takes them) that loads
    only URLs under `origin`; the list fills with every other URL asked for."""
    context = browser.new_context(**options)  # type: ignore[attr-defined]
    outside: list[str] = []

    def only_this_site(route) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_site)
    return context, outside
