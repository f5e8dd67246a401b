"""`qed serve`: build once, serve on localhost, rebuild what a change reaches, reload the browser.

The site is kept in memory (`qed.live.LiveSite`) and written into `.qed-cache/serve/` (never
over `public/`) with the local address as base URL; after the first build only the files
that changed are written. The watcher uses inotify through `watchfiles` (polling where that
is not available). Pages are served with a small script that listens to server-sent events
on `/__qed/events`: it reloads when a new build is in, and while a build has errors it shows
them over the page (sorted by file and line) and marks the page's verification badges as
stale, while the last good site stays served, as `hugo server` does. A first build that
fails still serves: every page is then an error page that reloads once the site builds.
"""

from __future__ import annotations

import functools
import http.server
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

try:  # a dependency; where its binary wheel cannot be installed, serve polls instead
    import watchfiles
except ImportError:  # pragma: no cover
    watchfiles = None

from qed.config import CONFIG_NAMES
from qed.live import LiveSite, RebuildRecord, sorted_errors
from qed.pipeline import BuildOptions

STATUS_PATH = "/__qed/status"
EVENTS_PATH = "/__qed/events"
WATCHED_FOLDERS = ("content", "layouts", "static", "theme", "verifiers", "archetypes", "config", "i18n")
POLL_SECONDS = 0.4  # only when inotify is not available
SETTLE_MS = 20  # after a change, wait this long for the rest of an editor's save
KEEPALIVE_SECONDS = 15
DEFERRED_AFTER = 0.2  # the search index waits this long after a reload, so the pages are fetched first

RELOAD_SCRIPT = """<script>
(function () {
  var seen = __BUILD__, box = null;
  function stale(on) {
    document.querySelectorAll(".qed-badge").forEach(function (badge) {
      badge.classList.toggle("qed-badge-stale", on);
      if (on) { badge.setAttribute("data-stale", "the build failed: this result may be out of date"); }
      else { badge.removeAttribute("data-stale"); }
    });
  }
  function show(errors) {
    if (!box) { box = document.createElement("pre"); box.id = "qed-build-errors"; box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:50vh;overflow:auto;margin:0;" +
        "padding:1em;background:#2b0d0d;color:#ffd7d7;font:13px/1.4 monospace;z-index:99999;white-space:pre-wrap";
      document.body.appendChild(box); }
    box.textContent = (seen > 0 ? "qed: the build failed; this is the last good version (badges marked stale)."
      : "qed: the site does not build yet.") + "\\n\\n" + errors.join("\\n");
    stale(true);
  }
  function apply(state) {
    if (state.build !== seen) { location.reload(); return; }
    if (state.errors.length) { show(state.errors); } else if (box) { box.remove(); box = null; stale(false); }
  }
  var style = document.createElement("style");
  style.textContent = ".qed-badge-stale{opacity:.6;outline:2px dashed #c60;outline-offset:1px}" +
    ".qed-badge-stale::after{content:' (stale)'}";
  document.head.appendChild(style);
  new EventSource("__EVENTS__").onmessage = function (event) { apply(JSON.parse(event.data)); };
})();
</script>""".replace("__EVENTS__", EVENTS_PATH)

FIRST_BUILD_FAILED_PAGE = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>qed: build failed</title></head>'
    b"<body><main><h1>The site does not build yet</h1><p>The errors are listed below and in the terminal; "
    b"this page reloads when they are fixed.</p></main></body></html>")


@dataclass
class ServerState:
    """What open pages are told: the number of the last good build and the errors that stand."""

    build: int = 0
    errors: list[str] = field(default_factory=list)
    version: int = 0  # changes with every rebuild, good or not
    warnings: list[str] = field(default_factory=list)  # the last ones printed
    changed: threading.Condition = field(default_factory=threading.Condition)

    def snapshot(self) -> dict[str, Any]:
        with self.changed:
            return {"build": self.build, "errors": list(self.errors)}

    def rebuilt(self, record: RebuildRecord) -> None:
        """Take a rebuild's outcome and wake every page listening for events."""
        with self.changed:
            if record.errors:
                self.errors = [str(error) for error in sorted_errors(record.errors)]
            else:
                self.build += 1
                self.errors = []
            self.version += 1
            self.changed.notify_all()

    def wait(self, seen: int, timeout: float) -> tuple[int, dict[str, Any]]:
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version, {"build": self.build, "errors": list(self.errors)}


def serve_folder(source: Path) -> Path:
    """Where `serve` builds: in the cache folder, so the published `public/` is never touched."""
    return source.resolve() / ".qed-cache" / "serve"


def serve_options(options: BuildOptions, bind: str, port: int) -> BuildOptions:
    """The build `serve` runs: into `serve_folder`, linked to the local address, in Hugo's
    `development` environment unless another was asked for (as `hugo server`)."""
    return replace(options, destination=serve_folder(options.source), base_url=f"http://{bind}:{port}/", write=True,
                   environment=options.environment or "development")


def site_fingerprint(root: Path) -> dict[str, tuple[int, int]]:
    """Every watched file with its size and modification time (the polling watcher)."""
    return {str(path): (stat.st_size, stat.st_mtime_ns) for path, stat in _watched_files(root)}


def _watched_files(root: Path) -> Iterator[tuple[Path, Any]]:
    for name in CONFIG_NAMES:
        path = root / name
        if path.is_file():
            yield path, path.stat()
    for folder in WATCHED_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                try:
                    yield path, path.stat()
                except OSError:  # deleted between listing and stat
                    continue


def is_watched(root: Path, path: Path) -> bool:
    """A file whose change can change the site (not the output, caches or editors' leftovers)."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return False
    if not relative.parts or "__pycache__" in relative.parts or relative.name.endswith(("~", ".swp", ".swx")):
        return False
    return relative.as_posix() in CONFIG_NAMES or relative.parts[0] in WATCHED_FOLDERS


def report_record(record: RebuildRecord, report: Callable[[str], None], state: ServerState) -> None:
    """The terminal's account of a rebuild: errors by file and line, or what was redone;
    warnings when they differ from the last ones shown."""
    warnings = [f"warning: {warning}" for warning in record.warnings]
    if warnings != state.warnings:
        for line in warnings:
            report(line)
        state.warnings = warnings
    if record.errors:
        lines = [str(error) if error.location else f"error: {error}" for error in sorted_errors(record.errors)]
        after = "still serving the last good site" if state.build else "open pages show these errors until it builds"
        report("\n".join(lines) + f"\nbuild failed; {after}")
        return
    report(record.summary())


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the served folder as bytes (never decoded), the reload script in HTML pages,
    the state as JSON and as server-sent events."""

    def __init__(self, *args: Any, state: ServerState, **kwargs: Any):
        self.state = state
        super().__init__(*args, **kwargs)

    def handle(self) -> None:
        try:
            super().handle()
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the reader left: nothing to report

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0]
        if route == STATUS_PATH:
            self._send(200, "application/json", json.dumps(self.state.snapshot()).encode())
            return
        if route == EVENTS_PATH:
            self._events()
            return
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not route.endswith("/"):
                super().do_GET()  # the standard redirect to the folder's URL with a slash
                return
            path = path / "index.html"
        build = self.state.snapshot()["build"]
        if build == 0 and (path.suffix == ".html" or not path.suffix):
            self._send(200, "text/html; charset=utf-8", _with_script(FIRST_BUILD_FAILED_PAGE, build))
            return
        if path.suffix == ".html" and path.is_file():
            self._send(200, "text/html; charset=utf-8", _with_script(path.read_bytes(), build))
            return
        if not path.exists():
            missing = Path(self.directory) / "404.html"
            if missing.is_file():
                self._send(404, "text/html; charset=utf-8", _with_script(missing.read_bytes(), build))
                return
        super().do_GET()

    def _events(self) -> None:
        """Server-sent events: the state now, then again after every rebuild (a comment now
        and then keeps the connection open and finds readers that left)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        version, snapshot = -1, None
        while True:
            latest, snapshot = self.state.wait(version, KEEPALIVE_SECONDS)
            self.wfile.write(f"data: {json.dumps(snapshot)}\n\n".encode() if latest != version else b": still here\n\n")
            self.wfile.flush()
            version = latest

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _with_script(page: bytes, build: int) -> bytes:
    """The page with the reload script before `</body>`, bytes in and out (a page need not be UTF-8)."""
    script = RELOAD_SCRIPT.replace("__BUILD__", str(build)).encode()
    at = page.rfind(b"</body>")
    return page[:at] + script + page[at:] if at >= 0 else page + script


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A reader that hangs up is normal; anything else is one line, not a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        print(f"qed serve: request from {client_address[0]} failed: {error!r}", file=sys.stderr)


def serve(options: BuildOptions, bind: str, port: int, report: Callable[[str], None]) -> None:
    """Serve until interrupted. A first build that fails still serves (its errors on every
    page); later failures keep the last good site."""
    state = ServerState()
    handler = functools.partial(_Handler, directory=str(serve_folder(options.source)), state=state)
    server = _Server((bind, port), handler)  # bound first: port 0 picks one
    serving = False
    options = serve_options(options, bind, server.server_address[1])
    live = LiveSite(options, serve_folder(options.source))
    since = site_fingerprint(options.source.resolve())
    try:
        record = live.build_all(fork=True)  # no server thread yet, so worker processes may fork
        state.rebuilt(record)
        report_record(record, report, state)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        serving = True
        report(f"serving {options.base_url} (Ctrl+C to stop); rebuilding on every change")
        for changed in watch_changes(options.source.resolve(), since):
            rebuild(live, changed, state, report)
    finally:
        if serving:
            server.shutdown()
        server.server_close()
        live.close()


def rebuild(live: LiveSite, changed: Iterable[Path], state: ServerState, report: Callable[[str], None]) -> None:
    """One rebuild; whatever happens, the server goes on with the last good site."""
    try:
        record = live.update(changed, defer=True)
        state.rebuilt(record)  # open pages reload now
        time.sleep(DEFERRED_AFTER)
        late = live.finish_deferred()
    except Exception as error:  # a bug in qed must not end the session: the next change rebuilds everything
        report(f"qed: internal error while rebuilding: {error!r}; still serving the last good site "
               "(this is a bug in qed; the next change rebuilds everything)")
        return
    if late:
        record = replace(record, errors=late)
        state.rebuilt(record)
    report_record(record, report, state)


def watch_changes(root: Path, since: dict[str, tuple[int, int]]) -> Iterator[set[Path]]:
    """Sets of changed files, from inotify (`watchfiles`) where available, else by polling;
    the first set also holds what changed after `since` (taken before the first build)
    and before the watcher started."""
    if watchfiles is None:
        yield from _poll_changes(root, since)
        return
    started = False
    try:
        for changes in watchfiles.watch(root, watch_filter=lambda _change, path: is_watched(root, Path(path)),
                                        debounce=400, step=SETTLE_MS, rust_timeout=250, yield_on_timeout=True,
                                        raise_interrupt=True):
            changed = {Path(path) for _change, path in changes}
            if not started:
                started = True
                changed |= _differences(since, site_fingerprint(root))
            if changed:
                yield changed
    except OSError:  # no inotify (too many watches, an unusual file system): fall back to polling
        yield from _poll_changes(root, since)


def _differences(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[Path]:
    return {Path(path) for path in set(before) | set(after) if before.get(path) != after.get(path)}


def _poll_changes(root: Path, seen: dict[str, tuple[int, int]]) -> Iterator[set[Path]]:
    while True:
        time.sleep(POLL_SECONDS)
        now = site_fingerprint(root)
        if now != seen:
            changed, seen = _differences(seen, now), now
            yield changed
