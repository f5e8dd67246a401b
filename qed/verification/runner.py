"""Running verifiers: worker processes, in parallel, in `uses` order, each with a time limit.

One process per claim (`python -m qed.verification.worker`): a segfault, `os._exit`, an
endless loop or a leaked thread ends that process and nothing else. Thread counts are
pinned to one, so `-j N` means N cores, not N × BLAS threads. A hung worker's whole
process group is killed at its deadline. The deadline counts from when the worker has
loaded the verifier, so a loaded machine's slow start-up (Python, numpy, the module) is
never taken for a hang; loading itself has `LOAD_SECONDS`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qed.theorems import Claim
from qed.verification.model import BLOCKED, ERROR, FAILED, TIMEOUT, Verdict
from qed.verification.resolve import VerifierRef

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")
_UNSAFE_VARS = ("PYTHONOPTIMIZE", "PYTHONINSPECT", "PYTHONSTARTUP")
_POLL_SECONDS = 0.01
_LOG_TAIL = 2000


@dataclass
class Task:
    """A claim that needs its verifier run (unless its cache entry is valid)."""

    claim: Claim
    ref: VerifierRef
    cache_key: str
    timeout: float | None  # from the claim's timeout=; None = the decorator's, else default_timeout
    default_timeout: float
    deps: tuple[str, ...]  # keys of claims with verifiers it waits for


LOAD_SECONDS = 60.0  # for the interpreter, numpy and the verifier's module to load


@dataclass
class _Running:
    task: Task
    process: subprocess.Popen[bytes]
    workdir: Path
    started: float  # when the process started; reset when the verifier has been loaded
    limit: float
    limit_known: bool = False  # the claim set it, or the worker reported the decorator's
    loaded: bool = False  # the worker has loaded the verifier: its own time runs from here

    @property
    def result_path(self) -> Path:
        return self.workdir / "result.json"

    @property
    def settings_path(self) -> Path:
        return self.workdir / "settings.json"

    @property
    def log_path(self) -> Path:
        return self.workdir / "output.log"


@dataclass
class Scheduler:
    """Starts ready tasks up to `jobs` at a time and turns each finished worker into a Verdict."""

    project_root: Path
    jobs: int
    lookup_cache: Callable[[Task], Verdict | None]
    interpret: Callable[[Task, dict[str, Any]], Verdict]  # a worker's result record -> Verdict
    progress: Callable[[int, int], None] | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def run(self, tasks: list[Task]) -> dict[str, Verdict]:
        waiting = list(tasks)
        running: list[_Running] = []
        total, done = len(tasks), 0
        with tempfile.TemporaryDirectory(prefix="qed-verify-") as tmp:
            try:
                while waiting or running:
                    started_any = self._start_ready(waiting, running, Path(tmp))
                    finished = self._collect(running)
                    done = len([t for t in tasks if t.claim.key in self.verdicts])
                    if self.progress is not None and (finished or started_any):
                        self.progress(done, total)
                    if running and not finished:
                        time.sleep(_POLL_SECONDS)
                    elif not running and waiting and not started_any and not finished:
                        self._fail_stuck(waiting)
            finally:
                for job in running:
                    _kill(job.process)
        return self.verdicts

    def _start_ready(self, waiting: list[Task], running: list[_Running], tmp: Path) -> bool:
        changed = False
        for task in list(waiting):
            if any(dep not in self.verdicts for dep in task.deps):
                continue
            failed = tuple(d for d in task.deps if self.verdicts[d].status in FAILED)
            if failed:
                self.verdicts[task.claim.key] = Verdict(task.claim.key, BLOCKED, blocked_by=failed)
                waiting.remove(task)
                changed = True
                continue
            cached = self.lookup_cache(task)
            if cached is not None:
                self.verdicts[task.claim.key] = cached
                waiting.remove(task)
                changed = True
                continue
            if len(running) >= self.jobs:
                continue
            running.append(self._launch(task, tmp))
            waiting.remove(task)
            changed = True
        return changed

    def _launch(self, task: Task, tmp: Path) -> _Running:
        workdir = Path(tempfile.mkdtemp(dir=tmp))
        job = {"root": str(self.project_root.resolve()), "module": task.ref.module,
               "function": task.ref.function, "claim": task.claim.key, "samples": task.claim.samples,
               "rtol": task.claim.rtol, "atol": task.claim.atol,
               "result": str(workdir / "result.json"), "settings": str(workdir / "settings.json")}
        (workdir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        with open(workdir / "output.log", "wb") as log:
            process = subprocess.Popen(
                worker_command(workdir / "job.json"),
                cwd=self.project_root, env=worker_environment(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=os.name == "posix")
        limit = task.timeout if task.timeout is not None else task.default_timeout
        return _Running(task, process, workdir, time.monotonic(), limit, task.timeout is not None)

    def _collect(self, running: list[_Running]) -> bool:
        finished = False
        for job in list(running):
            self._learn_limit(job)
            code = job.process.poll()
            elapsed = time.monotonic() - job.started
            limit = job.limit if job.loaded else max(job.limit, LOAD_SECONDS)
            if code is None and elapsed <= limit:
                continue
            if code is None:
                _kill(job.process)
                message = (f"timed out after {job.limit:g} s" if job.loaded else
                           f"the verifier did not load within {limit:g} s (its module, or what it imports, hangs)")
                verdict = Verdict(job.task.claim.key, TIMEOUT, seconds=elapsed, timeout=job.limit,
                                  message=message, detail=_tail(job.log_path))
                self._finish(job, None, verdict)
            else:
                self._finish(job, _read_json(job.result_path), None, code=code)
            running.remove(job)
            finished = True
        return finished

    def _learn_limit(self, job: _Running) -> None:
        """Once the worker has loaded the verifier: start its clock, and adopt the verifier's
        own `@verifier(timeout=...)` when the claim set none."""
        if job.loaded or not job.settings_path.exists():
            return
        settings = _read_json(job.settings_path) or {}
        if settings.get("timeout") and not job.limit_known:
            job.limit = float(settings["timeout"])
        job.limit_known = job.loaded = True
        job.started = time.monotonic()  # the limit is the verifier's own time: start-up is not counted

    def _finish(self, job: _Running, record: dict[str, Any] | None, verdict: Verdict | None,
                code: int = 0) -> None:
        key = job.task.claim.key
        if verdict is None and record is None:
            verdict = Verdict(key, ERROR, seconds=time.monotonic() - job.started,
                              message=f"the worker process crashed ({_describe_exit(code)})",
                              detail=_tail(job.log_path))
        if verdict is None:
            assert record is not None
            verdict = self.interpret(job.task, record)
        self.verdicts[key] = verdict

    def _fail_stuck(self, waiting: list[Task]) -> None:
        """Unreachable with a checked acyclic graph; guards against waiting forever."""
        for task in waiting:
            self.verdicts[task.claim.key] = Verdict(task.claim.key, ERROR, message="dependency never finished")
        waiting.clear()


def worker_command(*args: str | Path) -> list[str]:
    """The worker's command line: this Python, never with -O (assertions are how verifiers fail)."""
    return [sys.executable, "-m", "qed.verification.worker", *map(str, args)]


def worker_environment() -> dict[str, str]:
    """The parent's environment with BLAS/OpenMP threads pinned, qed importable, and nothing
    that turns assertions off (PYTHONOPTIMIZE)."""
    env = {k: v for k, v in os.environ.items() if k not in _UNSAFE_VARS}
    for name in _THREAD_VARS:
        env[name] = "1"
    paths = [_PACKAGE_PARENT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()[-_LOG_TAIL:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()
