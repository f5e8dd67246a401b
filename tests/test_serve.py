"""`qed serve` as a writer uses it: a real server process, files edited under it, a real
browser that reloads by itself and shows a failed build's errors over the last good page."""

from __future__ import annotations

import json
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qed import live as live_module
from qed.pipeline import BuildOptions
from qed.serve import ServerState, _poll_changes, rebuild, serve_options, site_fingerprint
from tests.chromium import launched, needs_chromium, offline_context
from tests.conftest import REPO, write_files

SITE = {
    "content/_index.md": "---\ntitle: Home\n---\nWelcome.\n",
    "content/posts/a.md": "---\ntitle: First post\ndate: 2024-01-01\n---\nThe first version, with $x^2$.\n",
}


class Server:
    """`python build.py serve -p 0` in a site folder, its stderr read line by line."""

    def __init__(self, site: Path, *args: str):
        self.process = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "-p", "0", *args],
                                        cwd=site, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_for_line(lambda text: text.startswith("serving "))
        self.url = line.split()[1]

    def _read(self) -> None:
        for line in self.process.stderr:  # type: ignore[union-attr]
            self.lines.put(line.rstrip("\n"))

    def wait_for_line(self, wanted: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"no such line from qed serve; it printed: {self.seen}")

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=10) as response:
            return response.read().decode("utf-8")

    def status(self) -> dict:
        return json.loads(self.get("/__qed/status"))

    def wait_for_status(self, wanted: Callable[[dict], bool], timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if wanted(status):
                return status
            time.sleep(0.2)
        raise AssertionError(f"status never matched; last: {self.status()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=20)


@pytest.fixture
def server(make_site) -> Iterator[tuple[Server, Path]]:
    site = make_site(SITE)
    running = Server(site)
    yield running, site
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def test_edits_are_rebuilt_and_failures_keep_the_last_good_site(server):
    running, site = server
    page = running.get("/posts/a/")
    assert "The first version" in page and "/__qed/events" in page  # the reload script is served in
    assert running.status() == {"build": 1, "errors": []}
    assert f'href="{running.url}posts/a/"' in page  # absolute links point at the local server

    (site / "content/posts/a.md").write_text(SITE["content/posts/a.md"].replace("first version", "second version"))
    running.wait_for_status(lambda s: s["build"] == 2)
    assert "The second version" in running.get("/posts/a/")

    (site / "content/posts/b.md").write_text("---\ntitle: Broken\n---\n{{< nosuch >}}\n")
    failed = running.wait_for_status(lambda s: s["errors"])
    assert failed["build"] == 2
    assert failed["errors"][0].startswith("content/posts/b.md:4:1: unknown shortcode 'nosuch'")
    running.wait_for_line(lambda line: "still serving the last good site" in line)
    assert "The second version" in running.get("/posts/a/")

    (site / "content/posts/b.md").unlink()
    running.wait_for_status(lambda s: s["build"] == 3 and not s["errors"])
    with pytest.raises(urllib.error.HTTPError) as missing:
        running.get("/no/such/page/")
    assert missing.value.code == 404

    assert running.stop() == 0
    assert running.wait_for_line(lambda line: line == "stopped")
    assert not (site / "public").exists(), "serve must not touch public/"


def test_a_port_in_use_is_one_clear_error(server):
    running, site = server
    port = running.url.rstrip("/").rsplit(":", 1)[1]
    second = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "-p", port], cwd=site,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert second.stderr.startswith(f"error: cannot serve on 127.0.0.1:{port}:")
    assert "Traceback" not in second.stderr


def test_a_first_build_that_fails_still_serves_its_errors_until_fixed(make_site):
    site = write_files(make_site(SITE), {"content/posts/b.md": "---\ntitle: B\ndate: soon\n---\n"})
    running = Server(site)
    try:
        assert running.status()["build"] == 0
        assert running.status()["errors"][0].startswith("content/posts/b.md:3:")
        assert "does not build yet" in running.get("/posts/a/") and "/__qed/events" in running.get("/")
        (site / "content/posts/b.md").write_text("---\ntitle: B\ndate: 2024-02-02\n---\nFixed.\n")
        running.wait_for_status(lambda s: s["build"] == 1 and not s["errors"])
        assert "The first version" in running.get("/posts/a/")
    finally:
        assert running.stop() == 0
    assert not any("Traceback" in line for line in running.seen)


def test_readers_that_hang_up_and_files_that_are_not_utf8_are_served_quietly(make_site):
    site = write_files(make_site(SITE), {})
    (site / "static").mkdir()
    (site / "static/latin1.html").write_bytes(b"<html><body>caf\xe9</body></html>")
    (site / "static/data.bin").write_bytes(bytes(range(256)))
    running = Server(site)
    try:
        host, port = running.url.removeprefix("http://").rstrip("/").split(":")
        for request in (b"GET /posts/a/ HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /__qed/events HTTP/1.1\r\n\r\n",
                        b"GET /latin1.html HTTP/1.1\r\n\r\n", b"GET /po"):
            with socket.create_connection((host, int(port))) as connection:
                connection.sendall(request)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
        with urllib.request.urlopen(running.url + "data.bin", timeout=10) as response:
            assert response.read() == bytes(range(256))
        with urllib.request.urlopen(running.url + "latin1.html", timeout=10) as response:
            served = response.read()
        assert served.startswith(b"<html><body>caf\xe9") and b"EventSource" in served
        (site / "content/posts/a.md").write_text(SITE["content/posts/a.md"].replace("first", "third"))
        running.wait_for_status(lambda s: s["build"] == 2)
    finally:
        assert running.stop() == 0
    assert not any("Traceback" in line or "Error" in line for line in running.seen), running.seen


@needs_chromium
def test_an_open_page_reloads_itself_and_shows_build_errors(server):
    running, site = server
    post = site / "content/posts/a.md"
    with launched() as browser:
        context, _ = offline_context(browser, running.url)  # KaTeX from its CDN: refused, the test is offline
        try:
            page = context.new_page()
            page.goto(running.url + "posts/a/")
            page.wait_for_function("document.body.innerText.includes('The first version')")
            page.wait_for_timeout(1200)  # the script has read the current build number
            post.write_text(SITE["content/posts/a.md"].replace("first version", "edited version"))
            page.wait_for_function("document.body.innerText.includes('The edited version')", timeout=30000)

            post.write_text("---\ntitle: First post\ndate: 2024-01-01\n---\n{{< admonition >}}unclosed\n")
            page.wait_for_selector("#qed-build-errors", timeout=30000)
            overlay = page.inner_text("#qed-build-errors")
            assert "content/posts/a.md:5:1:" in overlay and "last good version" in overlay
            assert "The edited version" in page.inner_text("main")

            post.write_text(SITE["content/posts/a.md"])
            page.wait_for_function("document.body.innerText.includes('The first version')", timeout=30000)
            page.wait_for_selector("#qed-build-errors", state="detached", timeout=10000)
        finally:
            context.close()


def test_the_config_directory_is_watched_and_serve_reads_the_development_environment(tmp_path):
    write_files(tmp_path, {"config/_default/params.toml": "a = 1\n", "content/a.md": "x\n"})
    before = site_fingerprint(tmp_path)
    (tmp_path / "config/_default/params.toml").write_text("a = 22\n", encoding="utf-8")
    assert site_fingerprint(tmp_path) != before
    chosen = [serve_options(BuildOptions(source=tmp_path, environment=asked), "127.0.0.1", 1313).environment
              for asked in (None, "staging")]
    assert chosen == ["development", "staging"]  # as hugo server


CLAIM_SITE = {
    **SITE,
    "verifiers/algebra.py": "def squares(rng):\n    x = rng.uniform(-5, 5)\n"
                            "    assert abs((x + 1) ** 2 - (x * x + 2 * x + 1)) < 1e-9\n",
    "content/posts/c.md": "---\ntitle: Claimed\ndate: 2024-01-03\n---\n"
                          '{{< lemma id="lem:square" verify="algebra:squares" >}}$(x+1)^2 = x^2+2x+1${{< /lemma >}}\n',
}


@needs_chromium
def test_under_the_error_overlay_errors_are_in_file_order_and_badges_are_stale(make_site):
    site = make_site(CLAIM_SITE)
    running = Server(site)
    try:
        with launched() as browser:
            context, _ = offline_context(browser, running.url)  # KaTeX from its CDN: refused, the test is offline
            try:
                page = context.new_page()
                page.goto(running.url + "posts/c/")
                page.wait_for_selector(".qed-badge")
                assert page.locator(".qed-badge-stale").count() == 0
                (site / "content/posts/z.md").write_text("---\ntitle: Z\n---\n\n{{< nosuch >}}\n")
                running.wait_for_status(lambda s: len(s["errors"]) == 1)
                (site / "content/posts/b.md").write_text("---\ntitle: B\n---\n{{< nosuch >}}\n")
                running.wait_for_status(lambda s: len(s["errors"]) == 2)
                page.wait_for_function("(document.getElementById('qed-build-errors') || {}).innerText"
                                       " && document.getElementById('qed-build-errors').innerText.includes('b.md')")
                lines = [line for line in page.inner_text("#qed-build-errors").splitlines() if "nosuch" in line]
                assert [line.split(":")[0] for line in lines] == ["content/posts/b.md", "content/posts/z.md"]
                assert page.locator(".qed-badge.qed-badge-stale").count() == 1
                assert page.get_attribute(".qed-badge", "data-stale")
                (site / "content/posts/z.md").unlink()
                (site / "content/posts/b.md").unlink()
                page.wait_for_selector("#qed-build-errors", state="detached", timeout=30000)
                assert page.locator(".qed-badge-stale").count() == 0
            finally:
                context.close()
    finally:
        assert running.stop() == 0


def test_an_internal_error_in_a_rebuild_is_one_line_and_the_next_change_rebuilds_everything(make_site, monkeypatch):

    site = make_site(SITE)
    served = live_module.LiveSite(BuildOptions(source=site, base_url="http://127.0.0.1:1313/"), site / "served")
    state, lines = ServerState(), []
    state.rebuilt(served.build_all())
    post = site / "content/posts/a.md"
    post.write_text(SITE["content/posts/a.md"].replace("first", "second"))

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr(live_module, "typeset_and_finish", broken)
        rebuild(served, [post], state, lines.append)
    assert len(lines) == 1 and lines[0].startswith("qed: internal error while rebuilding: RuntimeError('a bug')")
    assert state.snapshot() == {"build": 1, "errors": []}
    assert "The first version" in (site / "served/posts/a/index.html").read_text()

    rebuild(served, [post], state, lines.append)
    assert lines[-1].startswith("rebuilt everything")
    assert state.snapshot()["build"] == 2
    assert "The second version" in (site / "served/posts/a/index.html").read_text()
    served.close()


def test_without_inotify_a_change_is_found_by_polling(make_site):

    site = make_site(SITE).resolve()
    changes = _poll_changes(site, site_fingerprint(site))
    post = site / "content/posts/a.md"
    post.write_text(SITE["content/posts/a.md"] + "More.\n")
    (site / "content/posts/new.md").write_text("---\ntitle: New\n---\n")
    assert next(changes) == {post, site / "content/posts/new.md"}
