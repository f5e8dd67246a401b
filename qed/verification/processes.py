"""Keeping the processes a verifier starts inside its claim: found, ended and reaped.

A verifier may start children, double-fork daemons or call `setsid`; none of them may
outlive its claim or the build. The tools, shared by the runner (the build's side) and the
worker (the claim's side): Linux's child subreaper (orphans come back to us instead of
init, so they can still be found), the parent-death signal (a worker ends when the build
is killed, even by SIGKILL), and a sweep that ends every child a process has. Where prctl
or /proc are missing (not Linux) each tool reports that it did nothing, and process groups
alone remain.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_PROC = Path("/proc")


def _prctl(option: int, value: int | ctypes.c_int) -> bool:
    """One prctl call; False where there is no prctl (not Linux) or it refused."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        argument = ctypes.byref(value) if isinstance(value, ctypes.c_int) else ctypes.c_ulong(value)
        return libc.prctl(option, argument, ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0
    except (OSError, AttributeError):
        return False


def is_subreaper() -> bool:
    """Whether orphaned descendants of this process are re-parented to it."""
    flag = ctypes.c_int(0)
    return _prctl(_PR_GET_CHILD_SUBREAPER, flag) and bool(flag.value)


def set_subreaper(on: bool) -> bool:
    """Make orphaned descendants come back to this process (not to init), so a sweep finds
    what a verifier double-forked; False where the system cannot."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, int(on))


def die_with_parent(parent: int, sig: int) -> bool:
    """Ask for `sig` when the parent ends (even by SIGKILL); False when the parent is already
    gone (it died before the request took hold), so the caller should end at once."""
    _prctl(_PR_SET_PDEATHSIG, int(sig))
    return os.getppid() == parent


def children_of(pid: int) -> set[int]:
    """The live and zombie children of process `pid`, from /proc (empty where there is none)."""
    tasks = _PROC / str(pid) / "task"
    with contextlib.suppress(OSError):
        files = [task / "children" for task in tasks.iterdir()]
        if files and all(f.exists() for f in files):
            return {int(n) for f in files for n in _read(f).split()}
    return {child for child, parent in _parents().items() if parent == pid}


def _parents() -> dict[int, int]:
    """pid → parent pid of every process we may see (the slow way, for kernels without
    /proc/PID/task/TID/children)."""
    found = {}
    with contextlib.suppress(OSError):
        for entry in _PROC.iterdir():
            if entry.name.isdigit():
                stat = _read(entry / "stat")
                fields = stat.rpartition(")")[2].split()
                if len(fields) > 1:
                    found[int(entry.name)] = int(fields[1])
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""


def end_children(spare: set[int] | frozenset[int] = frozenset()) -> int:
    """SIGKILL and reap every child of this process but `spare`, again and again: in a
    subreaper, each one's own children become ours as it dies. Returns how many ended."""
    ended = 0
    for _round in range(10_000):  # a bound, not a limit one meets: each round ends a generation
        targets = children_of(os.getpid()) - set(spare)
        if not targets:
            break
        for pid in targets:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in targets:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)
        ended += len(targets)
    return ended


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group; nothing if it is empty or gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(pgid, signal.SIGKILL)


def has_exited(pid: int) -> bool | None:
    """Whether child `pid` has ended, without reaping it (its pid, and so its process group's
    id, stays reserved until we have ended the group); None where waitid is missing."""
    if not hasattr(os, "waitid"):
        return None
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True
