"""The child side: import one verifier and run its trials, in a process of its own.

Runs as `python -m qed.verification.worker JOB.json` (or `--replay JOB.json`). Everything
the parent needs is written to files named in the job (never to stdout, which the verifier
may print to), so a crash, a hang or stray output can only cost this one claim. A replay runs
the same code with the same job, so it reproduces exactly what the build saw.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import random
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
            failed = isinstance(exc, (AssertionError, PropertyFailed))
            if ident and failed:  # its counterexample stood at 50 and 100 digits
                record["method"] = "high-precision"
            record.update(outcome="failed" if failed else "error", trial=trial,
                          seed=seed if one_run or takes_rng(fn) else None,
                          message=failure_message(exc), traceback=_user_traceback(exc))
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

    prepare_imports(root)
    use_hypothesis_defaults(root)
    try:
        fn = load_verifier(job["module"], job["function"])
    except ResolveError as exc:
        return {"outcome": "error", "message": str(exc).splitlines()[0], "traceback": str(exc)}
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
        return replay_job(job, int(job["seed"]))
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
