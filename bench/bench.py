"""Time qed builds: a cold build (no cache, fresh output) and a warm second build, side by side.

    python bench/bench.py 1000                    # a synthetic site of 1000 posts
    python bench/bench.py --corpus CORPUS         # the shared corpus (make_corpus.py N CORPUS)
    python bench/bench.py --site DIR              # any existing qed site

Each build is a whole `python build.py` process (start-up included). Runs alternate cold
and warm, and the medians are printed with pages per second.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "build.py"
sys.path.insert(0, str(HERE))

from make_site import make_site  # noqa: E402


def timed_build(site: Path, out: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(BUILD), "build", "-s", str(site), "-d", str(out), "--quiet", *extra],
                   check=True)
    return time.perf_counter() - started


def corpus_site(corpus: Path, target: Path) -> Path:
    """A qed site made of the corpus's Hugo content and config (its layouts are Go templates)."""
    shutil.copytree(corpus / "hugo" / "content", target / "content")
    shutil.copyfile(corpus / "hugo" / "hugo.toml", target / "hugo.toml")
    return target


def count_posts(site: Path) -> int:
    return sum(1 for _ in (site / "content").rglob("*.md"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, nargs="?", default=1000, help="posts in the synthetic site")
    parser.add_argument("--site", type=Path, help="benchmark this existing site instead")
    parser.add_argument("--corpus", type=Path,
                        help="benchmark the shared corpus: its hugo/content and hugo.toml, without the Go layouts")
    parser.add_argument("--runs", type=int, default=3, help="cold/warm pairs to run (default 3)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="qed-bench-"))
    if args.corpus:
        site = corpus_site(args.corpus.resolve(), work / "site")
    else:
        site = args.site.resolve() if args.site else make_site(args.n, work / "site")
    posts = count_posts(site)
    cold, warm = [], []
    for _ in range(args.runs):
        shutil.rmtree(site / ".qed-cache", ignore_errors=True)
        shutil.rmtree(work / "out", ignore_errors=True)
        cold.append(timed_build(site, work / "out"))
        warm.append(timed_build(site, work / "out"))
    shutil.rmtree(work, ignore_errors=True)
    for name, times in (("cold", cold), ("warm", warm)):
        median = statistics.median(times)
        print(f"{name}: {posts} posts, median {median:.2f} s over {len(times)} runs "
              f"({min(times):.2f}-{max(times):.2f}), {posts / median:.0f} pages/s")


if __name__ == "__main__":
    main()
