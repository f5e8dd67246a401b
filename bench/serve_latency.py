"""Time `qed serve`'s edit loop as a writer meets it: from saving a post to the page showing it.

    python bench/serve_latency.py --corpus CORPUS      # the shared corpus (make_corpus.py N CORPUS)
    python bench/serve_latency.py --site DIR           # any qed site (a copy, with its caches, is edited)

Starts `python build.py serve -p 0` on a copy of the site, listens to its server-sent events
(`/__qed/events`, what an open page listens to), then edits a post several times (a new
sentence in its body) and measures, for each edit, the time from the write to (1) the event
announcing the new build and (2) the served page holding the new sentence. Prints each
edit's figures and the medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "build.py"
sys.path.insert(0, str(HERE))

from bench import corpus_site  # noqa: E402


class Served:
    """A `qed serve` process and a reader of its events."""

    def __init__(self, site: Path):
        self.process = subprocess.Popen([sys.executable, str(BUILD), "serve", "-p", "0"], cwd=site,
                                        stderr=subprocess.PIPE, text=True)
        started = time.perf_counter()
        for line in self.process.stderr:  # type: ignore[union-attr]
            if line.startswith("serving "):
                self.url = line.split()[1]
                break
        else:
            raise SystemExit("qed serve did not start")
        self.start_seconds = time.perf_counter() - started
        threading.Thread(target=self._drain, daemon=True).start()
        self.builds: list[tuple[int, float]] = []  # (build number, when the event arrived)
        self.has_events = True
        self.arrived = threading.Condition()
        threading.Thread(target=self._listen, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stderr:  # type: ignore[union-attr]
            print("  serve:", line.rstrip(), file=sys.stderr)

    def _listen(self) -> None:
        try:
            events = urllib.request.urlopen(self.url + "__qed/events", timeout=600)
        except urllib.error.HTTPError:  # a qed without events (an older one, for comparison)
            with self.arrived:
                self.has_events = False
                self.arrived.notify_all()
            return
        with events:
            for raw in events:
                if raw.startswith(b"data: "):
                    state = json.loads(raw[6:])
                    with self.arrived:
                        self.builds.append((state["build"], time.perf_counter()))
                        self.arrived.notify_all()

    def wait_for_build_after(self, moment: float, timeout: float = 120) -> float:
        """When the first event of a new build after `moment` arrived."""
        with self.arrived:
            known = max((build for build, when in self.builds if when <= moment), default=0)

            def arrived() -> list[float]:
                return [when for build, when in self.builds if when > moment and build > known]

            self.arrived.wait_for(lambda: arrived() or not self.has_events, timeout=timeout)
            return arrived()[0] if self.has_events else float("nan")

    def page(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=60) as response:
            return response.read().decode("utf-8")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # SIGINT ignored (started from a background shell job)
            self.process.terminate()
            self.process.wait(timeout=30)


def measure(site: Path, edits: int) -> None:
    posts = sorted((site / "content" / "posts").glob("*.md"))
    post = posts[len(posts) // 2]
    url = f"posts/{post.stem}/"
    original = post.read_text(encoding="utf-8")
    served = Served(site)
    print(f"serve started in {served.start_seconds:.1f} s; editing {post.relative_to(site)}")
    time.sleep(1.0)  # the watcher is running
    to_event, to_page = [], []
    try:
        for number in range(edits):
            sentence = f"Edited sentence number {number} for the benchmark."
            before = time.perf_counter()
            post.write_text(original.replace("\n\n", f"\n\n{sentence}\n\n", 1), encoding="utf-8")
            event = served.wait_for_build_after(before) - before
            while sentence not in served.page(url):
                time.sleep(0.005)
            page = time.perf_counter() - before
            to_event.append(event)
            to_page.append(page)
            print(f"edit {number + 1}: event after {event * 1000:.0f} ms, page shows it after {page * 1000:.0f} ms")
            time.sleep(0.5)
    finally:
        post.write_text(original, encoding="utf-8")
        served.stop()
    print(f"median of {edits} edits: event {statistics.median(to_event) * 1000:.0f} ms, "
          f"page {statistics.median(to_page) * 1000:.0f} ms (an older qed without events: event nan)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--corpus", type=Path, help="a corpus written by make_corpus.py")
    where.add_argument("--site", type=Path, help="a qed site")
    parser.add_argument("--edits", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch) / "site"
        if args.corpus:
            corpus_site(args.corpus, site)
        else:
            # the caches come along (a warm start, as a writer's second session), not the outputs
            shutil.copytree(args.site, site, ignore=shutil.ignore_patterns("serve", "live-trial", "public", ".git"))
        measure(site, args.edits)


if __name__ == "__main__":
    main()
