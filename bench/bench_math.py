"""Formulas per second for qed's math stage, cold (empty cache) and warm (cache kept).

    python /work/shared/bench/make_corpus.py 100 /tmp/corpus
    python bench/bench_math.py /tmp/corpus [--runs 5]

Each run finds the formulas of every post with a fresh `MathCollector` (timed apart, as
"extract"), then typesets them with a new `KatexRenderer` (so V8 start-up and loading
KaTeX count, as in a real build process). Cold runs start from an empty cache folder;
warm runs reuse the folder of the last cold run. Medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qed.errors import Diagnostics, SourceText
from qed.katex import KatexRenderer
from qed.math import MathCollector, MathSettings


def collect(posts: list[tuple[str, str]], settings: MathSettings) -> list[MathCollector]:
    """One collector per post, its body (after the front matter) protected."""
    collectors = []
    for name, text in posts:
        source = SourceText(name, text)
        start = text.find("\n---", 3) + 4 if text.startswith("---") else 0
        collector = MathCollector(source, settings, None, Diagnostics())
        collector.protect(text[start:], source.location(start))
        collectors.append(collector)
    return collectors


def typeset(collectors: list[MathCollector], settings: MathSettings, cache: Path) -> tuple[float, KatexRenderer]:
    renderer = KatexRenderer(settings, cache, Diagnostics())
    started = time.perf_counter()
    for collector in collectors:
        renderer.typeset_page(collector.record())
    renderer.close()  # writes the new formulas to the cache, as the end of a build does
    elapsed = time.perf_counter() - started
    if renderer.diagnostics.errors:
        raise SystemExit(f"KaTeX errors: {renderer.diagnostics.errors[:3]}")
    return elapsed, renderer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="folder made by make_corpus.py")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    files = sorted((args.corpus / "hugo" / "content" / "posts").glob("*.md"))
    posts = [(str(path), path.read_text(encoding="utf-8")) for path in files]
    settings = MathSettings()
    extract, cold, warm = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            started = time.perf_counter()
            collectors = collect(posts, settings)
            extract.append(time.perf_counter() - started)
            formulas = sum(len(c.formulas) for c in collectors)
            cache = Path(scratch) / f"cold-{run}"
            seconds, renderer = typeset(collectors, settings, cache)
            cold.append(seconds)
            stats_cold = renderer.stats
            seconds, renderer = typeset(collect(posts, settings), settings, cache)
            warm.append(seconds)
            stats_warm = renderer.stats
    rate = lambda seconds: formulas / statistics.median(seconds)  # noqa: E731
    print(f"posts {len(posts)}, formulas {formulas}, runs {args.runs} (medians)")
    print(f"extract: {statistics.median(extract):.3f} s  {rate(extract):,.0f} formulas/s")
    print(f"cold:    {statistics.median(cold):.3f} s  {rate(cold):,.0f} formulas/s  "
          f"(rendered {stats_cold.rendered}, from cache {stats_cold.cached}, in KaTeX {stats_cold.seconds:.2f} s)")
    print(f"warm:    {statistics.median(warm):.3f} s  {rate(warm):,.0f} formulas/s  "
          f"(rendered {stats_warm.rendered}, from cache {stats_warm.cached})")


if __name__ == "__main__":
    main()
