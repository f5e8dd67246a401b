"""Growth tests: ten times the input may cost about ten times the time, never a hundred.

Scanners that look for a closer again at each opener are quadratic (issue 13). A test
times one input at 10 kB, 100 kB and 1 MB and compares each step with the one before:
a ratio of sizes against a ratio of times, not a time limit, so a slow machine passes and
a quadratic scanner (a hundred times per step) fails. CPU time of this process is
compared, so other processes on a shared machine do not count.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SIZES = (10_000, 100_000, 1_000_000)
MOST = 35  # times the time for ten times the input: linear with noise passes, quadratic (100) fails


def cpu_seconds(run: Callable[[], object]) -> float:
    """The CPU time `run()` takes in this process."""
    start = time.process_time()
    run()
    return time.process_time() - start


def assert_grows_linearly(seconds: Callable[[int], float]) -> None:
    """`seconds(size)` for each size grows about as the size does. The smallest is timed
    five times (its best counts), and a step to 1 MB is only taken when the one before
    was linear, so a quadratic scanner fails at 100 kB instead of running for hours."""
    previous = min(seconds(SIZES[0]) for _ in range(5))
    for size in SIZES[1:]:
        current = seconds(size)
        if current >= MOST * previous:  # a pause (a page fault storm, a collection) is not a regression
            current = min(current, seconds(size))
        assert current < MOST * previous, f"{size // 1000} kB took {current / previous:.0f}x the time of a tenth"
        previous = current
