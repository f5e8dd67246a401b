"""`qed serve`: build, serve on localhost, rebuild when a file changes, reload the browser.

The site is built into `.qed-cache/serve/` (never over `public/`) with the local address as
base URL. A watcher polls the site's files; a change triggers a rebuild with the caches
warm. Pages are served with a small script that asks `/__qed/status` once a second and
reloads when a new build is in, or shows the build's errors over the page while the last
good site stays served, as `hugo server` does.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qed.config import CONFIG_NAMES
from qed.errors import BuildFailed, QedError
from qed.pipeline import BuildOptions, BuildResult, build_site

STATUS_PATH = "/__qed/status"
WATCHED_FOLDERS = ("content", "layouts", "static", "theme", "verifiers", "archetypes", "config")
POLL_SECONDS = 0.4

RELOAD_SCRIPT = """<script>
(function () {
  var seen = null, box = null;
  function show(errors) {
    if (!box) { box = document.createElement("pre"); box.id = "qed-build-errors";
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:50vh;overflow:auto;margin:0;" +
        "padding:1em;background:#2b0d0d;color:#ffd7d7;font:13px/1.4 monospace;z-index:99999;white-space:pre-wrap";
      document.body.appendChild(box); }
    box.textContent = "qed: the build failed; this is the last good version.\\n\\n" + errors.join("\\n");
  }
  function poll() {
    fetch("__STATUS__", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (seen !== null && s.build !== seen) { location.reload(); return; }
      seen = s.build;
      if (s.errors.length) { show(s.errors); } else if (box) { box.remove(); box = null; }
    }).catch(function () {}).finally(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>""".replace("__STATUS__", STATUS_PATH)


@dataclass
class ServerState:
    """What the page script asks for: the number of the last good build and the current errors."""

    build: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"build": self.build, "errors": list(self.errors)}

    def succeeded(self) -> None:
        with self.lock:
            self.build += 1
            self.errors = []

    def failed(self, errors: list[str]) -> None:
        with self.lock:
            self.errors = errors


def serve_folder(source: Path) -> Path:
    """Where `serve` builds: in the cache folder, so the published `public/` is never touched."""
    return source.resolve() / ".qed-cache" / "serve"


def serve_options(options: BuildOptions, bind: str, port: int) -> BuildOptions:
    """The build `serve` runs: into `serve_folder`, linked to the local address, in Hugo's
    `development` environment unless another was asked for (as `hugo server`)."""
    return replace(options, destination=serve_folder(options.source), base_url=f"http://{bind}:{port}/", write=True,
                   environment=options.environment or "development")


def site_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Every watched file with its size and modification time: a change anywhere changes this."""
    return tuple((str(path), stat.st_size, stat.st_mtime_ns) for path, stat in _watched_files(root))


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


def rebuild(options: BuildOptions, state: ServerState, report: Callable[[str], None]) -> BuildResult | None:
    """One build; on failure the errors go to the terminal and to the page script."""
    try:
        result = build_site(options)
    except BuildFailed as failure:
        lines = [str(error) for error in failure.errors] + failure.notes
        state.failed(lines)
        report("\n".join(lines) + "\nbuild failed; still serving the last good site")
        return None
    except QedError as error:
        state.failed([str(error)])
        report(f"{error}\nbuild failed; still serving the last good site")
        return None
    state.succeeded()
    _report_built(result, report)
    return result


def _report_built(result: BuildResult, report: Callable[[str], None]) -> None:
    for warning in result.warnings:
        report(f"warning: {warning}")
    report(f"built {result.pages} pages in {result.seconds:.2f} s")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, with the reload script in HTML pages and the status as JSON."""

    def __init__(self, *args: Any, state: ServerState, **kwargs: Any):
        self.state = state
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == STATUS_PATH:
            self._send(200, "application/json", json.dumps(self.state.snapshot()).encode())
            return
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                super().do_GET()  # the standard redirect to the folder's URL with a slash
                return
            path = path / "index.html"
        if path.suffix == ".html" and path.is_file():
            page = path.read_text(encoding="utf-8")
            at = page.rfind("</body>")
            page = page[:at] + RELOAD_SCRIPT + page[at:] if at >= 0 else page + RELOAD_SCRIPT
            self._send(200, "text/html; charset=utf-8", page.encode())
            return
        if not path.exists():
            missing = Path(self.directory) / "404.html"
            if missing.is_file():
                self._send(404, "text/html; charset=utf-8", missing.read_bytes())
                return
        super().do_GET()

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(options: BuildOptions, bind: str, port: int, report: Callable[[str], None]) -> None:
    """Serve until interrupted. The first build must succeed (there is nothing to serve
    otherwise); later failures keep the last good site."""
    state = ServerState()
    handler = functools.partial(_Handler, directory=str(serve_folder(options.source)), state=state)
    server = http.server.ThreadingHTTPServer((bind, port), handler)  # bound first: port 0 picks one
    server.daemon_threads = True
    serving = False
    try:
        options = serve_options(options, bind, server.server_address[1])
        result = build_site(options)  # no server thread yet, so worker processes may fork
        state.succeeded()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        serving = True
        _report_built(result, report)
        report(f"serving {options.base_url} (Ctrl+C to stop); rebuilding on every change")
        _watch(replace(options, fork=False), state, report)  # no fork beside the server's threads
    finally:
        if serving:
            server.shutdown()
        server.server_close()


def _watch(options: BuildOptions, state: ServerState, report: Callable[[str], None]) -> None:
    root = options.source.resolve()
    seen = site_fingerprint(root)
    while True:
        time.sleep(POLL_SECONDS)
        now = site_fingerprint(root)
        if now != seen:
            time.sleep(POLL_SECONDS / 4)  # let an editor finish writing
            seen = site_fingerprint(root)
            rebuild(options, state, report)
