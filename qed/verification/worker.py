"""The child side: import one verifier and run its trials, in a process of its own.

Runs as `python -m qed.verification.worker JOB.json` (or `--replay JOB.json`). Everything
the parent needs is written to files named in the job (never to stdout, which the verifier
may print to), so a crash, a hang or stray output can only cost this one claim. A replay runs
the same code with the same job, so it reproduces exactly what the build saw.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qed.verification.contract import ContractError, check_callable, checked_call
from qed.verification.identities import identity_samples, is_identity, run_identity
from qed.verification.inputs import InputRecorder, digests
from qed.verification.processes import die_with_parent, end_children, kill_group, set_subreaper
from qed.verification.properties import (
    PropertyFailed,
    examples_planned,
    is_property,
    run_property,
    use_hypothesis_defaults,
)
from qed.verifier_api import DEFAULT_SAMPLES, settings_of, tolerance_scope

_OWN_DIR = str(Path(__file__).resolve().parent)
_CAUGHT = (Exception, SystemExit, KeyboardInterrupt)


class ResolveError(Exception):
    """The verifier named by a claim cannot be imported or is not a function; `origin` lists
    the (file, line, col) of the user's frames where an import failed, deepest last."""

    def __init__(self, message: str, origin: list[tuple[str, int, int]] | None = None):
        super().__init__(message)
        self.origin = origin or []


def trial_seed(claim_id: str, trial: int) -> int:
    """The seed of one trial: a stable function of (claim id, trial number), < 2**32."""
    digest = hashlib.sha256(f"{claim_id}\0{trial}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def prepare_imports(root: Path, cwd: Path | None = None) -> None:
    """Make `verifiers/x.py` importable as `x` (and the project as a root), run from `cwd`
    (the worker's private working folder, which links to the site's files) or root."""
    for entry in (str(root), str(root / "verifiers")):
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    os.chdir(cwd or root)


def load_verifier(module: str, function: str) -> Callable[..., Any]:
    """Import `module` and return its `function`, or raise `ResolveError` saying why not."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise ResolveError(f"no module '{module}' in verifiers/") from None
        raise ResolveError(f"importing '{module}' failed: {_one_line(exc)}", _failure_origin(exc)) from None
    except BaseException as exc:
        if ran_out_of_memory(exc):
            traceback.clear_frames(exc.__traceback__)
            raise ResolveError(f"importing '{module}' {memory_message()}\n{_user_traceback(exc)}") from None
        raise ResolveError(f"importing '{module}' failed: {_one_line(exc)}\n{_user_traceback(exc)}",
                           _failure_origin(exc)) from None
    if not hasattr(mod, function):
        raise ResolveError(f"module '{module}' has no function '{function}'")
    try:
        check_callable(getattr(mod, function), f"{module}:{function}")
    except ContractError as exc:
        raise ResolveError(str(exc)) from None
    return getattr(mod, function)


def takes_rng(fn: Callable[..., Any]) -> bool:
    """A verifier without parameters is deterministic: it runs once, with no generator."""
    import inspect

    try:
        return bool(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return True


@dataclass(frozen=True)
class TrialResult:
    """A trial that passed: the tolerances it used, and whether it drew any random input."""

    log: Any  # qed.verifier_api.ToleranceLog
    drew: bool
    examples: int = 1  # a property: the examples Hypothesis ran that passed; an identity: its points
    evidence: dict[str, Any] | None = None  # an identity: method, points, rounding, proof


def run_trial(fn: Callable[..., Any], seed: int, settings: Any, samples: int | None = None) -> TrialResult:
    """One call under the contract: `fn(default_rng(seed))`, the global generators of numpy and
    `random` seeded alike (a property: one Hypothesis run with that seed and `samples`)."""
    import numpy as np


    allow_invalid = bool(settings.allow_invalid)
    with tolerance_scope(settings) as log:
        if is_property(fn):
            passed = run_property(fn, seed, samples, allow_invalid=allow_invalid)
            return TrialResult(log, drew=True, examples=passed)
        if is_identity(fn):
            outcome = run_identity(fn, seed, settings, samples)
            return TrialResult(log, drew=True, examples=outcome.samples, evidence={
                "method": outcome.method, "special": outcome.special, "rounding": outcome.rounding,
                "proof": outcome.proof, "proof_note": outcome.note, "domain": outcome.domain})
        np.random.seed(seed)
        random.seed(seed)
        rng = np.random.default_rng(seed)
        before = _random_state(rng)
        checked_call(fn, (rng,) if takes_rng(fn) else (), {}, allow_invalid=allow_invalid)
        return TrialResult(log, drew=_random_state(rng) != before)


def _random_state(rng: Any) -> tuple[Any, ...]:
    """Everything a verifier could draw from: its generator, numpy's global one, `random`'s."""
    import numpy as np

    legacy = np.random.get_state(legacy=True)
    return (repr(rng.bit_generator.state), legacy[1].tobytes(), legacy[2:], random.getstate())


def failure_message(exc: BaseException) -> str:
    """What went wrong, in one line: the assertion text, or the failing `assert` statement;
    for a property, each distinct failure with its shrunk counterexample."""
    if isinstance(exc, PropertyFailed):
        parts = [f"{_assertion_text(c.error)}; counterexample: {c.call}" for c in exc.counterexamples]
        if len(parts) == 1:
            return parts[0]
        return f"{len(parts)} distinct failures: " + " | ".join(f"({n}) {p}" for n, p in enumerate(parts, 1))
    if isinstance(exc, ContractError):
        return str(exc)
    return _assertion_text(exc)


def ran_out_of_memory(exc: BaseException | None, depth: int = 0) -> bool:
    """Whether `exc` is, wraps or was caused by a MemoryError (numpy's, one inside a
    Hypothesis property, one during an import): the worker's memory limit, not a bug."""
    if exc is None or depth > 20:
        return False
    if isinstance(exc, MemoryError):
        return True
    inner = [c.error for c in exc.counterexamples] if isinstance(exc, PropertyFailed) else []
    inner += list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else []
    return any(ran_out_of_memory(e, depth + 1) for e in (*inner, exc.__cause__, exc.__context__))


def memory_message() -> str:
    """What a claim says when its verifier ran out of memory: the limit it ran under."""
    limit = _memory_limit()
    if limit is None:
        return "ran out of memory"
    return (f"exceeded the memory limit of {limit} MB (raise it with memory= on the claim "
            "or verify.memory in the config)")


def _memory_limit() -> int | None:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, AttributeError, ValueError, OSError):
        return None
    return None if soft == resource.RLIM_INFINITY else soft // (1024 * 1024)


def _assertion_text(exc: BaseException) -> str:
    if isinstance(exc, AssertionError):
        text = str(exc).strip()
        if text:
            return text
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            last = frames[-1]
            return f"`{(last.line or 'assert').strip()}` failed ({_short_path(last.filename)}:{last.lineno})"
        return "assertion failed"
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _short_path(filename: str) -> str:
    try:
        return os.path.relpath(filename)
    except ValueError:
        return filename


def _failure_origin(exc: BaseException) -> list[tuple[str, int, int]]:
    """Where an import failed, as (file, line, col) of the user's frames, deepest last: a
    syntax error's own position, else its traceback without qed's and importlib's frames."""
    frames = [(f.filename, f.lineno or 0, 0) for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith((_OWN_DIR, "<")) and "importlib" not in f.filename]
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append((exc.filename, exc.lineno or 0, exc.offset or 0))
    return frames


def _user_traceback(exc: BaseException) -> str:
    """The traceback without qed's own frames, so it starts in the user's verifier."""
    if isinstance(exc, PropertyFailed):
        return "\n\n".join(_user_traceback(c.error) for c in exc.counterexamples)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_OWN_DIR) and "importlib" not in f.filename]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run all trials of one claim; returns the result record the parent reads, with the
    digests of every user file the verifier read (its cache entry's inputs)."""
    root = Path(job["root"])
    recorder = InputRecorder(ignored=(str(Path(job["result"]).parent), str(root / ".qed-cache")))
    recorder.start()
    record = _run_claim(job, root)
    record["inputs"] = digests(recorder.files(), root)
    return record


def _run_claim(job: dict[str, Any], root: Path) -> dict[str, Any]:

    if sys.flags.optimize:
        return {"outcome": "error", "message": "Python runs with assertions off (-O or PYTHONOPTIMIZE); "
                "qed's workers must run without it"}
    prepared = _prepare(job, root)
    if isinstance(prepared, dict):
        return prepared
    fn, settings = prepared
    prop = is_property(fn)
    ident = is_identity(fn)
    if prop:
        planned = examples_planned(fn, settings.samples)
    elif ident:
        planned = identity_samples(fn, settings.samples)
    else:
        planned = int(settings.samples or DEFAULT_SAMPLES) if takes_rng(fn) else 1
    _write_json(Path(job["settings"]), {"timeout": settings.timeout, "samples": planned})
    started = time.perf_counter()
    record: dict[str, Any] = {"outcome": "passed", "samples": planned, "samples_run": 0, "rtol": None,
                              "atol": None, "comparisons": 0, "method": "hypothesis" if prop else "sampled"}
    one_run = prop or ident  # Hypothesis, or qed for an identity, draws every example from one seed
    trials = [trial_seed(job["claim"], 0)] if one_run else [trial_seed(job["claim"], t) for t in range(planned)]
    for trial, seed in enumerate(trials):
        try:
            result = run_trial(fn, seed, settings, settings.samples)
        except _CAUGHT as exc:
            out_of_memory = ran_out_of_memory(exc)
            if out_of_memory:  # let go of what the verifier allocated before saying anything
                traceback.clear_frames(exc.__traceback__)
            failed = isinstance(exc, (AssertionError, PropertyFailed)) and not out_of_memory
            if ident and failed:  # its counterexample stood at 50 and 100 digits
                record["method"] = "high-precision"
            record.update(outcome="failed" if failed else "error", trial=trial,
                          seed=seed if one_run or takes_rng(fn) else None,
                          message=memory_message() if out_of_memory else failure_message(exc),
                          traceback=_user_traceback(exc))
            break
        _merge_log(record, result.log)
        record["samples_run"] = result.examples if one_run else trial + 1
        record.update(result.evidence or {})
        if not result.drew:  # the same call again would check the same thing
            record.update(method="deterministic", samples=1, samples_run=1)
            break
    record["seconds"] = time.perf_counter() - started
    return record


def _prepare(job: dict[str, Any], root: Path) -> tuple[Callable[..., Any], Any] | dict[str, Any]:
    """The verifier and its settings (the claim's samples/rtol/atol over the decorator's), or
    the error record when it cannot be loaded."""

    prepare_imports(root, Path(job["cwd"]) if job.get("cwd") else None)
    use_hypothesis_defaults(root)
    try:
        fn = load_verifier(job["module"], job["function"])
    except ResolveError as exc:
        return {"outcome": "error", "message": str(exc).splitlines()[0], "traceback": str(exc),
                "origin": exc.origin}
    settings = settings_of(fn).merged(samples=job.get("samples"), rtol=job.get("rtol"), atol=job.get("atol"))
    return fn, settings


def _merge_log(record: dict[str, Any], log: Any) -> None:
    record["comparisons"] += log.comparisons
    for key, value in (("rtol", log.max_rtol), ("atol", log.max_atol)):
        if value is not None:
            record[key] = value if record[key] is None else max(record[key], value)


def replay_job(job: dict[str, Any], seed: int) -> int:
    """Run one trial (a property: one Hypothesis run) with `seed` as the build ran it, and print
    the full traceback of a failure: 0 if it passes, 1 if it fails, 2 if it cannot run."""
    root = Path(job["root"])
    prepared = _prepare(job, root)
    if isinstance(prepared, dict):
        print(f"error: {prepared['message']}", file=sys.stderr)
        return 2
    fn, settings = prepared
    name = f"{job['module']}:{job['function']}"
    try:
        run_trial(fn, seed, settings, settings.samples)
    except _CAUGHT as exc:
        for error in [c.error for c in exc.counterexamples] if isinstance(exc, PropertyFailed) else [exc]:
            traceback.print_exception(error, file=sys.stderr)
        print(f"\n{name} FAILED with seed {seed}: {failure_message(exc)}", file=sys.stderr)
        return 1
    print(f"{name} passed with seed {seed}", file=sys.stderr)
    return 0


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, so the parent never reads half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[0] == "--replay":
        job = json.loads(Path(args[1]).read_text(encoding="utf-8"))
        return run_contained(job, lambda: replay_job(job, int(job["seed"])))
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    return run_contained(job, lambda: _run_and_record(job))


def _run_and_record(job: dict[str, Any]) -> int:
    _write_json(Path(job["result"]), run_job(job))
    return 0


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_contained(job: dict[str, Any], work: Callable[[], int]) -> int:
    """Run `work` (the verifier) in a child process and stay behind as its warden: when the
    child ends, or this process is told to stop (the build's time limit, SIGTERM, Ctrl-C, or
    the build dying), every process the verifier started is ended before this one exits.

    The warden is a subreaper (double-forked and `setsid` descendants stay its children) and
    runs no user code, so no verifier can stop it from cleaning up. Returns the child's exit
    status (re-raising the signal that killed it), or 128 + the signal that stopped us.
    """
    parent = job.get("parent")
    if parent is not None and not die_with_parent(int(parent), signal.SIGTERM):
        return 128 + signal.SIGTERM  # the build is already gone
    if not hasattr(os, "fork"):  # pragma: no cover - no fork (Windows): the process group only
        return _as_verifier(job, work)
    set_subreaper(True)
    waited = {*_STOP_SIGNALS, signal.SIGCHLD}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, waited)  # they wait for sigwait below
    sys.stdout.flush()
    sys.stderr.flush()
    warden = os.getpid()
    child = os.fork()
    if child == 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        try:
            os.setpgid(0, 0)
            die_with_parent(warden, signal.SIGKILL)
            code = _as_verifier(job, work)
        except BaseException:  # our own bug: say so, as the worker did before there was a warden
            traceback.print_exc()
            code = 70
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # skip interpreter teardown: a verifier's atexit or thread cannot hang it
    with contextlib.suppress(OSError):  # also here, so the group exists before we might kill it
        os.setpgid(child, child)
    status, stopped_by = _wait_for(child, waited)
    kill_group(child)
    end_children()
    if stopped_by is not None:
        return 128 + stopped_by
    return _exit_code(status)


def _as_verifier(job: dict[str, Any], work: Callable[[], int]) -> int:
    """The verifier's side: its memory limit, then the work."""
    limit_memory(job.get("memory"))
    return work()


def _wait_for(child: int, waited: set[signal.Signals]) -> tuple[int, int | None]:
    """(the child's wait status, None) when it ends, or (0, signal) when we are told to stop.
    Orphans adopted meanwhile also send SIGCHLD; they are reaped at the end."""
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            return status, None
        received = signal.sigwait(waited)
        if received in _STOP_SIGNALS:
            return 0, int(received)


def _exit_code(status: int) -> int:
    """The child's exit code, or its death by the same signal (the runner names it)."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return code
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {-code})
    with contextlib.suppress(OSError, ValueError):
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return 128 - code


def limit_memory(megabytes: int | None) -> None:
    """Cap this process's address space (RLIMIT_AS), so a verifier that allocates without
    bound gets a MemoryError instead of taking the machine's memory; never above a hard
    limit someone set already. Nothing where the system has no such limit."""
    if not megabytes:
        return
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        wanted = int(megabytes) * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, wanted))
    except (ImportError, AttributeError, ValueError, OSError):
        return


if __name__ == "__main__":
    sys.exit(main())
