"""Time `qed serve`'s edit loop as a writer meets it: from saving a post to the page showing it.

    python bench/serve_latency.py --corpus CORPUS      # the shared corpus (make_corpus.py N CORPUS)
    python bench/serve_latency.py --site DIR           # any qed site (a copy, with its caches, is edited)

Starts `python build.py serve -p 0` on a copy of the site, listens to its server-sent events
(`/__qed/events`, what an open page listens to), then edits a post several times (a new
sentence in its body) and measures, for each edit, the time from the write to (1) the event
announcing the new build and (2) the served page holding the new sentence. Prints each
edit's figures and the medians. The server, the edits and the page polling are `serving.py`'s,
shared with `compare.py`'s serve-edit row (which times Hugo the same way).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from serving import QED_READY, Server, middle_post, qed_serve_command, time_edits  # noqa: E402

from bench import corpus_site  # noqa: E402


class Served(Server):
    """A `qed serve` process and a reader of its events."""

    def __init__(self, site: Path):
        super().__init__(qed_serve_command(HERE.parent), site, QED_READY, echo=True)
        self.builds: list[tuple[int, float]] = []  # (build number, when the event arrived)
        self.has_events = True
        self.arrived = threading.Condition()
        threading.Thread(target=self._listen, daemon=True).start()

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


def measure(site: Path, edits: int) -> None:
    post = middle_post(site / "content")
    served = Served(site)
    print(f"serve started in {served.start_seconds:.1f} s; editing {post.relative_to(site)}")
    to_event = []

    def each(number: int, began: float, seconds: float) -> None:
        to_event.append(served.wait_for_build_after(began) - began)
        print(f"edit {number + 1}: event after {to_event[-1] * 1000:.0f} ms, "
              f"page shows it after {seconds * 1000:.0f} ms")

    try:
        session = time_edits(served, post, edits, pause=0.5, each=each)
    finally:
        served.stop()
    print(f"median of {edits} edits: event {statistics.median(to_event) * 1000:.0f} ms, "
          f"page {statistics.median(session.seconds) * 1000:.0f} ms (an older qed without events: event nan); "
          f"server CPU {session.cpu_per_edit:.2f} s per edit, peak {session.peak_mb:.0f} MB")


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
