"""The child side: import one verifier and run its trials, in a process of its own.

Runs as `python -m qed.verification.worker JOB.json`. Everything the parent needs is
written to files named in the job (never to stdout, which the verifier may print to), so
a crash, a hang or stray output can only cost this one claim. `run_trial` is shared with
`replay`, so a replayed seed runs exactly what the failing trial ran.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qed.verification.properties import (
    PropertyFailed,
    examples_planned,
    is_property,
    run_property,
    use_hypothesis_defaults,
)

_OWN_DIR = str(Path(__file__).resolve().parent)


class ResolveError(Exception):
    """The verifier named by a claim cannot be imported or is not a function."""


def trial_seed(claim_id: str, trial: int) -> int:
    """The seed of one trial: a stable function of (claim id, trial number), < 2**32."""
    digest = hashlib.sha256(f"{claim_id}\0{trial}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def prepare_imports(root: Path) -> None:
    """Make `verifiers/x.py` importable as `x` (and the project as a root), run from root."""
    for entry in (str(root), str(root / "verifiers")):
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    os.chdir(root)


def load_verifier(module: str, function: str) -> Callable[..., Any]:
    """Import `module` and return its `function`, or raise `ResolveError` saying why not."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise ResolveError(f"no module '{module}' in verifiers/") from None
        raise ResolveError(f"importing '{module}' failed: {_one_line(exc)}") from None
    except BaseException as exc:
        raise ResolveError(f"importing '{module}' failed: {_one_line(exc)}\n{_user_traceback(exc)}") from None
    fn = getattr(mod, function, None)
    if fn is None:
        raise ResolveError(f"module '{module}' has no function '{function}'")
    if not callable(fn):
        raise ResolveError(f"'{module}:{function}' is not a function")
    return fn


def takes_rng(fn: Callable[..., Any]) -> bool:
    """A verifier without parameters is deterministic: it runs once, with no generator."""
    try:
        return bool(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return True


def run_trial(fn: Callable[..., Any], seed: int, settings: Any) -> Any:
    """Call the verifier once with `default_rng(seed)` (a property: one Hypothesis run with
    that seed); returns the tolerance log."""
    import numpy as np

    from qed.numeric import tolerance_scope

    with tolerance_scope(settings) as log:
        if is_property(fn):
            run_property(fn, seed, settings.samples)
        elif takes_rng(fn):
            fn(np.random.default_rng(seed))
        else:
            fn()
    return log


def failure_message(exc: BaseException) -> str:
    """What went wrong, in one line: the assertion text, or the failing `assert` statement;
    for a property, each distinct failure with its shrunk counterexample."""
    if isinstance(exc, PropertyFailed):
        parts = [f"{_assertion_text(c.error)}; counterexample: {c.call}" for c in exc.counterexamples]
        if len(parts) == 1:
            return parts[0]
        return f"{len(parts)} distinct failures: " + " | ".join(f"({n}) {p}" for n, p in enumerate(parts, 1))
    return _assertion_text(exc)


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
    """Run all trials of one claim; returns the result record the parent reads."""
    from qed.numeric import DEFAULT_SAMPLES, settings_of

    root = Path(job["root"])
    prepare_imports(root)
    use_hypothesis_defaults(root)
    try:
        fn = load_verifier(job["module"], job["function"])
    except ResolveError as exc:
        return {"outcome": "error", "message": str(exc).splitlines()[0], "traceback": str(exc)}
    settings = settings_of(fn)
    prop = is_property(fn)
    if prop:
        planned = examples_planned(fn, job.get("samples") or settings.samples)
    else:
        planned = int(job.get("samples") or settings.samples or DEFAULT_SAMPLES) if takes_rng(fn) else 1
    _write_json(Path(job["settings"]), {"timeout": settings.timeout, "samples": planned})
    started = time.perf_counter()
    record: dict[str, Any] = {"outcome": "passed", "samples": planned, "samples_run": 0,
                              "rtol": None, "atol": None, "comparisons": 0,
                              "method": "hypothesis" if prop else "random"}
    if prop:
        _run_property_job(fn, job, settings, planned, record)
        record["seconds"] = time.perf_counter() - started
        return record
    for trial in range(planned):
        seed = trial_seed(job["claim"], trial)
        try:
            log = run_trial(fn, seed, settings)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            record.update(outcome="failed" if isinstance(exc, AssertionError) else "error",
                          trial=trial, seed=seed if takes_rng(fn) else None,
                          message=failure_message(exc), traceback=_user_traceback(exc))
            break
        record["samples_run"] = trial + 1
        _merge_log(record, log)
    record["seconds"] = time.perf_counter() - started
    return record


def _run_property_job(fn: Callable[..., Any], job: dict[str, Any], settings: Any, planned: int,
                      record: dict[str, Any]) -> None:
    """A property is one Hypothesis run seeded from the claim; its failure is already shrunk."""
    from qed.numeric import tolerance_scope

    seed = trial_seed(job["claim"], 0)
    try:
        with tolerance_scope(settings) as log:
            record["samples_run"] = run_property(fn, seed, planned)
    except (Exception, SystemExit, KeyboardInterrupt) as exc:
        record.update(outcome="failed" if isinstance(exc, PropertyFailed) else "error", trial=0, seed=seed,
                      message=failure_message(exc), traceback=_user_traceback(exc))
        return
    _merge_log(record, log)


def _merge_log(record: dict[str, Any], log: Any) -> None:
    record["comparisons"] += log.comparisons
    for key, value in (("rtol", log.max_rtol), ("atol", log.max_atol)):
        if value is not None:
            record[key] = value if record[key] is None else max(record[key], value)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, so the parent never reads half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    result = run_job(job)
    _write_json(Path(job["result"]), result)
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    # os._exit: skip interpreter teardown, so a verifier's atexit or thread cannot hang us
    code = main()
    os._exit(code)
