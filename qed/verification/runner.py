"""Running verifiers: worker processes, in parallel, in `uses` order, each with a time limit.

One process per claim (`python -m qed.verification.worker`): a segfault, `os._exit`, an
endless loop or a leaked thread ends that process and nothing else. Thread counts are
pinned to one, so `-j N` means N cores, not N × BLAS threads. The deadline counts from when
the worker has loaded the verifier, so a loaded machine's slow start-up (Python, numpy, the
module) is never taken for a hang; loading itself has `LOAD_SECONDS`.

Nothing a verifier starts outlives its claim: each worker is a session of its own whose
warden (`worker.run_contained`) ends every descendant when the claim ends or the build asks
it to stop (time limit, SIGTERM, Ctrl-C) or dies; the build itself is a subreaper while
verifiers run, so whatever escapes a warden killed outright comes back here and is ended
too. A worker runs in a private working folder that links to the site's files but not to
its output or cache, under `<cache>/verifier-runs/`, which the next build empties of the
folders of builds that were killed. Of a worker's output only the first and last
`OUTPUT_KEPT` bytes are kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from qed.errors import QedError, display_path
from qed.theorems import Claim
from qed.verification.model import BLOCKED, DEFAULT_MEMORY, ERROR, FAILED, TIMEOUT, Verdict
from qed.verification.processes import children_of, end_children, has_exited, is_subreaper, kill_group, set_subreaper
from qed.verification.resolve import VerifierRef

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")
_UNSAFE_VARS = ("PYTHONOPTIMIZE", "PYTHONINSPECT", "PYTHONSTARTUP")
_POLL_SECONDS = 0.01
_READ_CHUNK = 1 << 16
STOP_SECONDS = 5.0  # for a warden asked to stop to end its claim's processes, before it is killed
OUTPUT_KEPT = 4096  # bytes kept of the start, and of the end, of a worker's output
RUNS_FOLDER = "verifier-runs"  # under the cache folder: one folder per build while it verifies
_LOCK_NAME = "owner.lock"


@dataclass
class Task:
    """A claim that needs its verifier run (unless its cache entry is valid)."""

    claim: Claim
    ref: VerifierRef
    cache_key: str
    timeout: float | None  # from the claim's timeout=; None = the decorator's, else default_timeout
    default_timeout: float
    deps: tuple[str, ...]  # keys of claims with verifiers it waits for
    memory: int = DEFAULT_MEMORY  # the worker's memory limit in MB (the claim's memory=, else the config's)


LOAD_SECONDS = 60.0  # for the interpreter, numpy and the verifier's module to load


@dataclass
class OutputCapture:
    """What the build keeps of a worker's stdout and stderr: the first and the last `keep`
    bytes, and how many between were dropped, so a verifier printing gigabytes costs neither
    memory nor disk."""

    keep: int = OUTPUT_KEPT
    head: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, data: bytes) -> None:
        room = self.keep - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        excess = len(self.tail) - self.keep
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def text(self) -> str:
        middle = f"\n... {self.dropped} bytes not shown ...\n" if self.dropped else ""
        return (self.head.decode("utf-8", "replace") + middle + self.tail.decode("utf-8", "replace")).strip()


@dataclass
class _Running:
    task: Task
    process: subprocess.Popen[bytes]
    workdir: Path
    started: float  # when the process started; reset when the verifier has been loaded
    limit: float
    limit_known: bool = False  # the claim set it, or the worker reported the decorator's
    loaded: bool = False  # the worker has loaded the verifier: its own time runs from here
    output: OutputCapture = field(default_factory=OutputCapture)

    @property
    def result_path(self) -> Path:
        return self.workdir / "result.json"

    @property
    def settings_path(self) -> Path:
        return self.workdir / "settings.json"

    @property
    def pipe(self) -> IO[bytes] | None:
        return self.process.stdout

    def read_output(self, budget: int = 1 << 20) -> None:
        """Take what the worker has printed so far (up to `budget` bytes, so one chatty worker
        cannot starve the others); closes the pipe at its end."""
        pipe = self.pipe
        while pipe is not None and budget > 0:
            try:
                data = os.read(pipe.fileno(), _READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                pipe.close()
                self.process.stdout = None
                return
            self.output.add(data)
            budget -= len(data)

    def exited(self) -> bool:
        """Ended, but not reaped yet where the system allows: its group is still ours to kill."""
        ended = has_exited(self.process.pid)
        return self.process.poll() is not None if ended is None else ended


@dataclass
class _Adoption:
    """While verifiers run, the build is a subreaper: processes that escaped a worker killed
    outright (its warden had no chance to end them) become children of the build, and are
    ended at the end of each claim. `spare` are the children the build had before."""

    spare: frozenset[int] = frozenset()
    was_subreaper: bool = False
    active: bool = False

    @classmethod
    @contextlib.contextmanager
    def during(cls) -> Iterator[_Adoption]:
        adoption = cls(frozenset(children_of(os.getpid())), is_subreaper())
        adoption.active = adoption.was_subreaper or set_subreaper(True)
        try:
            yield adoption
        finally:
            adoption.end_strays(())
            if adoption.active and not adoption.was_subreaper:
                set_subreaper(False)
                adoption.end_strays(())

    def end_strays(self, running: list[_Running]) -> None:
        if self.active:
            end_children(self.spare | {job.process.pid for job in running})


@dataclass
class Scheduler:
    """Starts ready tasks up to `jobs` at a time and turns each finished worker into a Verdict."""

    project_root: Path
    jobs: int
    lookup_cache: Callable[[Task], Verdict | None]
    interpret: Callable[[Task, dict[str, Any]], Verdict]  # a worker's result record -> Verdict
    progress: Callable[[int, int], None] | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    scratch: Path | None = None  # where this build's run folder goes (the cache's verifier-runs/)
    leave_out: tuple[Path, ...] = ()  # folders a worker's working folder does not link to (output, cache)

    def run(self, tasks: list[Task]) -> dict[str, Verdict]:
        waiting = list(tasks)
        running: list[_Running] = []
        total = len(tasks)
        scratch = self.scratch or self.project_root / ".qed-cache" / RUNS_FOLDER
        with RunFolder.create(scratch) as folder, _Adoption.during() as adoption, _stopping_on_sigterm():
            try:
                while waiting or running:
                    started_any = self._start_ready(waiting, running, folder.path)
                    finished = self._collect(running, adoption)
                    done = len([t for t in tasks if t.claim.key in self.verdicts])
                    if self.progress is not None and (finished or started_any):
                        self.progress(done, total)
                    if running and not finished:
                        _wait_for_output(running, _POLL_SECONDS)
                    elif not running and waiting and not started_any and not finished:
                        self._fail_stuck(waiting)
            finally:
                for job in running:
                    _stop(job)
                    _end_claim(job, adoption, running)
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
        cwd = working_folder(workdir / "work", self.project_root, self.leave_out)
        job = {"root": str(self.project_root.resolve()), "module": task.ref.module,
               "function": task.ref.function, "claim": task.claim.key, "samples": task.claim.samples,
               "rtol": task.claim.rtol, "atol": task.claim.atol, "memory": task.memory,
               "parent": os.getpid(), "cwd": str(cwd),
               "result": str(workdir / "result.json"), "settings": str(workdir / "settings.json")}
        (workdir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        process = subprocess.Popen(
            worker_command(workdir / "job.json"),
            cwd=cwd, env=worker_environment(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=os.name == "posix")
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        limit = task.timeout if task.timeout is not None else task.default_timeout
        return _Running(task, process, workdir, time.monotonic(), limit, task.timeout is not None)

    def _collect(self, running: list[_Running], adoption: _Adoption) -> bool:
        finished = False
        for job in list(running):
            self._learn_limit(job)
            exited = job.exited()
            elapsed = time.monotonic() - job.started
            limit = job.limit if job.loaded else max(job.limit, LOAD_SECONDS)
            if not exited and elapsed <= limit:
                continue
            if not exited:
                _stop(job)
            running.remove(job)
            _end_claim(job, adoption, running)
            if not exited:
                message = (f"timed out after {job.limit:g} s" if job.loaded else
                           f"the verifier did not load within {limit:g} s (its module, or what it imports, hangs)")
                verdict = Verdict(job.task.claim.key, TIMEOUT, seconds=elapsed, timeout=job.limit,
                                  message=message, detail=job.output.text())
                self._finish(job, None, verdict)
            else:
                self._finish(job, _read_json(job.result_path), None, code=job.process.returncode or 0)
            remove_tree(job.workdir)
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
                              detail=job.output.text())
        if verdict is None:
            assert record is not None
            verdict = self.interpret(job.task, record)
        self.verdicts[key] = verdict

    def _fail_stuck(self, waiting: list[Task]) -> None:
        """Unreachable with a checked acyclic graph; guards against waiting forever."""
        for task in waiting:
            self.verdicts[task.claim.key] = Verdict(task.claim.key, ERROR, message="dependency never finished")
        waiting.clear()


def _wait_for_output(running: list[_Running], timeout: float) -> None:
    """Wait up to `timeout` for any worker to print, and keep what it printed (a pipe left
    unread would stop a chatty verifier at its next write)."""
    pipes = [job for job in running if job.pipe is not None]
    if not pipes:
        time.sleep(timeout)
        return
    with selectors.DefaultSelector() as selector:
        for job in pipes:
            selector.register(job.pipe.fileno(), selectors.EVENT_READ, job)  # type: ignore[union-attr]
        for key, _events in selector.select(timeout):
            key.data.read_output()


def _stop(job: _Running) -> None:
    """Ask the worker's warden to end the claim (it ends every process the verifier started);
    one that has not within `STOP_SECONDS` is killed with its process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(job.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while not job.exited() and time.monotonic() < deadline:
        _wait_for_output([job], _POLL_SECONDS)


def _end_claim(job: _Running, adoption: _Adoption, running: list[_Running]) -> None:
    """After a worker has ended (or been stopped): kill what is left of its process group,
    reap it, end strays that came back to the build, and take the rest of its output."""
    if os.name == "posix":
        kill_group(job.process.pid)
    else:  # pragma: no cover
        job.process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        job.process.wait(timeout=STOP_SECONDS)
    adoption.end_strays(running)
    job.read_output(budget=1 << 30)
    if job.pipe is not None:  # a writer we could not end still holds it: stop listening
        job.pipe.close()
        job.process.stdout = None


@contextlib.contextmanager
def _stopping_on_sigterm() -> Iterator[None]:
    """SIGTERM while verifiers run stops the build as Ctrl-C does (KeyboardInterrupt), so the
    workers are stopped on the way out instead of left running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class RunFolder:
    """This build's scratch folder, `<cache>/verifier-runs/<pid>-<random>/`: each claim's job
    files and private working folder. The build holds a lock on `owner.lock` while it lives,
    so the next build removes the folders of builds that are gone (killed ones leave theirs)
    and never one still in use."""

    path: Path
    lock: int

    @classmethod
    @contextlib.contextmanager
    def create(cls, parent: Path) -> Iterator[RunFolder]:
        try:
            remove_abandoned_runs(parent)
            parent.mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))
            lock = os.open(path / _LOCK_NAME, os.O_CREAT | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise QedError(f"cannot create {display_path(parent)} for the verifiers: {exc.strerror or exc}") from None
        _try_lock(lock)
        try:
            yield cls(path, lock)
        finally:
            remove_tree(path)
            os.close(lock)
            with contextlib.suppress(OSError):  # the last build out leaves no empty folder behind
                parent.rmdir()


def remove_abandoned_runs(parent: Path) -> None:
    """Remove the run folders of builds that ended without removing theirs (killed)."""
    if not parent.is_dir():
        return
    for folder in parent.iterdir():
        if folder.is_dir() and not folder.is_symlink() and not _owner_alive(folder):
            remove_tree(folder)


def _owner_alive(folder: Path) -> bool:
    """A build holds the lock of its run folder while it lives; a folder whose lock is not
    there yet belongs to the build named by its pid, being created."""
    try:
        fd = os.open(folder / _LOCK_NAME, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return _pid_alive(folder.name.partition("-")[0])
    except OSError:
        return True  # cannot tell: leave it
    try:
        locked = _try_lock(fd)
        return locked is False
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool | None:
    """Take the folder's lock without waiting: True taken, False held by a live build, None
    where the system has no flock (then nothing is held and pids decide)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _pid_alive(text: str) -> bool:
    if not text.isdigit():
        return False
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def working_folder(path: Path, root: Path, leave_out: tuple[Path, ...]) -> Path:
    """A private working folder that looks like the site: a link to each of its entries but
    to none of `leave_out` (the output and cache folders, and the output's staging folders),
    so a verifier reading `verifiers/table.txt` finds it and one writing `public/x` writes
    here. Where links cannot be made, the site folder itself."""
    excluded = tuple(p.resolve() for p in leave_out)
    try:
        path.mkdir()
        _link_entries(root.resolve(), path, excluded)
    except OSError:
        remove_tree(path)
        return root
    return path


def _link_entries(source: Path, target: Path, excluded: tuple[Path, ...]) -> None:
    for entry in sorted(source.iterdir()):
        if _left_out(entry, excluded):
            continue
        if entry.is_dir() and not entry.is_symlink() and any(p.is_relative_to(entry) for p in excluded):
            (target / entry.name).mkdir()  # the output is further down: link around it
            _link_entries(entry, target / entry.name, excluded)
        else:
            (target / entry.name).symlink_to(entry)


def _left_out(entry: Path, excluded: tuple[Path, ...]) -> bool:
    real = entry.resolve()
    for path in excluded:
        staging = entry.parent == path.parent and entry.name.startswith(f".{path.name}.")
        if real == path or entry == path or staging:
            return True
    return False


def remove_tree(path: Path) -> None:
    """Remove a scratch folder whatever a verifier left in it (read-only folders too), never
    following a link out of it."""
    if not path.exists() and not path.is_symlink():
        return
    with contextlib.suppress(OSError):
        if not path.is_symlink():
            os.chmod(path, 0o700)
    for folder, subfolders, _files in os.walk(path):
        for name in subfolders:
            inner = os.path.join(folder, name)
            if not os.path.islink(inner):
                with contextlib.suppress(OSError):
                    os.chmod(inner, 0o700)
    shutil.rmtree(path, ignore_errors=True)


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
