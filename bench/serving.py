"""What the serve benchmarks share: a development server as a process, a post edited and put
back, and the edit timed as a reader meets it (the page fetched over HTTP until it holds the edit).

Tool-neutral on purpose: `compare.py` times `hugo server` and `qed serve` with the same
code; `serve_latency.py` adds qed's own server-sent events on top.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.005  # how often the page is fetched while waiting for an edit
PAGE_TIMEOUT = 120.0  # an edit the page never shows is a failure, not a slow figure
TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """A development server started as a process; ready once a line of its output names its URL.

    `ready` is a pattern whose first group is the URL. Its output (stdout and stderr together) is
    read on a thread so the pipe never fills; `echo` prints it to stderr as it comes."""

    def __init__(self, command: list[str], cwd: Path, ready: re.Pattern[str], echo: bool = False,
                 host: str | None = None):
        started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, errors="replace")
        self.echo = echo
        self.output: list[str] = []
        self.url = self._wait_until_ready(command, ready)
        if host:  # e.g. "localhost" printed, 127.0.0.1 bound: ask the address that listens
            self.url = re.sub(r"//[^/:]+", f"//{host}", self.url, count=1)
        self.start_seconds = time.perf_counter() - started
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_until_ready(self, command: list[str], ready: re.Pattern[str]) -> str:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self._keep(line)
            found = ready.search(line)
            if found:
                url = found.group(1)
                return url if url.endswith("/") else url + "/"
        self.process.wait()
        raise SystemExit(f"{' '.join(command)} stopped before serving ({self.process.returncode}):\n"
                         + "".join(self.output[-30:]))

    def _keep(self, line: str) -> None:
        self.output.append(line)
        del self.output[:-200]
        if self.echo:
            print("  server:", line.rstrip(), file=sys.stderr)

    def _drain(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self._keep(line)

    def page(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=60) as response:
            return response.read().decode("utf-8", errors="replace")

    def seconds_until_page_shows(self, path: str, text: str, since: float) -> float:
        """Fetch `path` every few milliseconds until it holds `text`; the time from `since`."""
        while True:
            try:
                if text in self.page(path):
                    return time.perf_counter() - since
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # mid-rebuild a server may answer 404 or drop the connection: keep asking
            if time.perf_counter() - since > PAGE_TIMEOUT:
                raise SystemExit(f"{self.url}{path} did not show the edit within {PAGE_TIMEOUT:.0f} s:\n"
                                 + "".join(self.output[-30:]))
            time.sleep(POLL_SECONDS)

    def usage(self) -> tuple[float, float]:
        """CPU seconds used so far by the server and every process under it (those it has reaped
        included), and the peak resident MB of its largest single process (VmHWM)."""
        return process_tree_usage(self.process.pid)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # SIGINT ignored (started from a background shell job)
            self.process.terminate()
            self.process.wait(timeout=30)


def process_tree_usage(root: int) -> tuple[float, float]:
    """Read from /proc: CPU seconds (user + system, reaped children included) of `root` and its
    descendants, and the largest VmHWM among them in MB."""
    parents: dict[int, int] = {}
    cpu_ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu_ticks[pid] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    tree = {root}
    while True:  # level by level: pids are not ordered by age once they wrap
        grown = {pid for pid, parent in parents.items() if parent in tree} - tree
        if not grown:
            break
        tree |= grown
    cpu = sum(cpu_ticks.get(pid, 0) for pid in tree) / TICKS
    return cpu, max((_peak_mb(pid) for pid in tree), default=0.0)


def _peak_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def middle_post(content: Path) -> Path:
    """The post every serve benchmark edits: the middle one of `content/posts`."""
    posts = sorted((content / "posts").glob("*.md"))
    if not posts:
        raise SystemExit(f"{content / 'posts'}: no posts to edit")
    return posts[len(posts) // 2]


def post_url(post: Path) -> str:
    """Where both Hugo and qed serve a post of the `posts` section (no slug, no permalink rule)."""
    return f"posts/{post.stem}/"


class EditedPost:
    """One post edited again and again: each edit a new sentence at the top of its body."""

    def __init__(self, post: Path):
        self.post = post
        self.original = post.read_text(encoding="utf-8")
        self.run = uuid.uuid4().hex[:8]  # a sentence no earlier run can have left in a served page

    def edit(self, number: int) -> tuple[str, float]:
        """Write edit `number`; the sentence it adds and when the write began (the clock's start)."""
        sentence = f"Edited sentence {self.run} number {number} for the benchmark."
        text = self.original.replace("\n\n", f"\n\n{sentence}\n\n", 1)
        began = time.perf_counter()
        self.post.write_text(text, encoding="utf-8")
        return sentence, began

    def restore(self) -> None:
        self.post.write_text(self.original, encoding="utf-8")


@contextmanager
def edited(post: Path) -> Iterator[EditedPost]:
    """The post as it was, whatever happens to the run."""
    editing = EditedPost(post)
    try:
        yield editing
    finally:
        editing.restore()


@dataclass(frozen=True)
class EditSession:
    """What a series of edits cost: each edit's seconds from the save to the page showing it,
    the server's CPU seconds per edit (its whole process tree over the edit, the rebuild and the
    pause after it) and its largest process's peak MB over the session (first build included)."""

    seconds: list[float]
    cpu_per_edit: float
    peak_mb: float


SETTLE_SECONDS = 1.0  # after "serving", before the first edit: the watcher is surely running


def time_edits(server: Server, post: Path, edits: int, pause: float,
               each: Callable[[int, float, float], None] | None = None) -> EditSession:
    """Edit `post` `edits` times, `pause` seconds apart, and time each edit until the served page
    shows it; `each(number, began, seconds)` hears of every edit. The post is put back after."""
    url = post_url(post)
    try:
        server.page(url)  # the writer has the page open (Hugo's fast render mode renders it first)
    except urllib.error.URLError as error:
        raise SystemExit(f"{server.url}{url}: {error} (the edited post is not served there)") from None
    time.sleep(SETTLE_SECONDS)
    cpu_before, _ = server.usage()
    seconds = []
    with edited(post) as editing:
        for number in range(edits):
            sentence, began = editing.edit(number)
            seconds.append(server.seconds_until_page_shows(url, sentence, began))
            if each:
                each(number, began, seconds[-1])
            time.sleep(pause)
        cpu_after, peak_mb = server.usage()
    return EditSession(seconds, (cpu_after - cpu_before) / edits, peak_mb)


QED_READY = re.compile(r"^serving (\S+)")
HUGO_READY = re.compile(r"Web Server is available at (\S+)")


def qed_serve_command(checkout: Path) -> list[str]:
    """`python build.py serve -p 0` of the qed in `checkout` (run in the site's folder)."""
    return [sys.executable, str(checkout / "build.py"), "serve", "-p", "0"]


def qed_serve(checkout: Path, site: Path, echo: bool = False) -> Server:
    return Server(qed_serve_command(checkout), site, QED_READY, echo)


def hugo_serve(hugo: Path, site: Path, destination: Path, cache: Path, echo: bool = False) -> Server:
    """`hugo server` as a Hugo user starts it: watching, live reload and fast render mode on,
    rendering to disk (its default: it says "Serving pages from disk"); only the port, output and
    cache folders are chosen here."""
    command = [str(hugo), "server", "--bind", "127.0.0.1", "--port", str(free_port()),
               "--destination", str(destination), "--cacheDir", str(cache)]
    return Server(command, site, HUGO_READY, echo, host="127.0.0.1")


def free_port() -> int:
    """A port nobody listens on now (Hugo takes another by itself if it is gone meanwhile)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
