"""Per-page work spread over forked processes, results returned in order.

Rendering bodies and typesetting formulas are independent per page, and CPU-bound in
Python and V8, so one process per core divides their time. `fork` gives each child the
parent's whole build state for free; only the results travel back, pickled through a pipe.
The parent takes a share of the items itself, so `jobs=2` uses two processes, not three.
Where fork is missing (Windows) or the work is small, everything runs in this process.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_PROCESS = 20  # below this a fork costs more than it saves


def default_jobs() -> int:
    """One process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_in_processes(func: Callable[[T], R], items: Sequence[T], jobs: int, *, here: bool = True) -> list[R]:
    """`[func(item) for item in items]`, computed by up to `jobs` processes.

    Items are dealt out round-robin (neighbouring pages tend to cost alike). `func` must
    not rely on side effects in the parent: a child's changes to shared objects are lost,
    only its return values (which must pickle) come back. An exception in a child is
    raised here as `ChildFailed` with the child's traceback. `here=False`: this process
    takes no share and only waits, for work that would leave it bigger for the rest of
    the build (V8's heap is not given back when V8 is closed).
    """
    jobs = min(jobs, len(items) // MIN_ITEMS_PER_PROCESS)
    if jobs <= 1 or not hasattr(os, "fork"):
        return [func(item) for item in items]
    children = {share: _start_child(func, items, share, jobs) for share in range(1 if here else 0, jobs)}
    results: list[R | None] = [None] * len(items)
    try:
        if here:
            for index in range(0, len(items), jobs):
                results[index] = func(items[index])
        for share in sorted(children):
            outcome = _collect(*children.pop(share))
            for index, value in zip(range(share, len(items), jobs), outcome, strict=True):
                results[index] = value
    finally:
        for pid, reader in children.values():  # left only when this process failed: stop them
            _stop(pid, reader)
    return results  # type: ignore[return-value]


class ChildFailed(RuntimeError):
    """A worker process raised; the message carries its traceback."""


def _start_child(func: Callable[[T], R], items: Sequence[T], share: int, jobs: int) -> tuple[int, int]:
    reader, writer = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: compute its share, send it, and leave without cleanup handlers
        os.close(reader)
        status = 0
        try:
            payload = pickle.dumps(("ok", [func(items[i]) for i in range(share, len(items), jobs)]),
                                   protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            payload = pickle.dumps(("error", traceback.format_exc()))
            status = 1
        with os.fdopen(writer, "wb") as out:
            out.write(payload)
        os._exit(status)
    os.close(writer)
    return pid, reader


def _stop(pid: int, reader: int) -> None:
    os.close(reader)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _collect(pid: int, reader: int) -> list:
    with os.fdopen(reader, "rb") as source:
        data = source.read()
    os.waitpid(pid, 0)
    if not data:
        raise ChildFailed("a worker process died without a result")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise ChildFailed(f"a worker process failed:\n{value}")
    return value
