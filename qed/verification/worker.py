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


def is_property(fn: Callable[..., Any]) -> bool:
    """A Hypothesis test (`@given`): Hypothesis draws the inputs and shrinks a failure to a
    minimal counterexample, instead of qed running seeded trials."""
    return bool(getattr(fn, "is_hypothesis_test", False))


def use_hypothesis_defaults(root: Path) -> None:
    """Settings for properties run by qed, loaded before a verifier module is imported (so
    its own `@settings` start from them): no per-example deadline (shared machines are
    noisy), no example database, no blob noise in reports, and Hypothesis's own files in
    qed's cache folder rather than a `.hypothesis/` in the user's site."""
    try:
        from hypothesis import settings
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:
        return
    set_hypothesis_home_dir(str(root / ".qed-cache" / "hypothesis"))
    settings.register_profile("qed", deadline=None, database=None, print_blob=False)
    settings.load_profile("qed")


def run_property(fn: Callable[..., Any], seed: int, examples: int) -> int:
    """Run a Hypothesis test with `seed` and up to `examples` examples; returns how many passed."""
    from hypothesis import seed as with_seed
    from hypothesis import settings

    settings.register_profile("qed-run", parent=settings.get_profile("qed"), max_examples=examples)
    settings.load_profile("qed-run")
    passed = [0]

    def count(observation: Any) -> None:
        if getattr(observation, "type", None) == "test_case" and getattr(observation, "status", None) == "passed":
            passed[0] += 1

    try:
        from hypothesis.internal.observability import add_observability_callback, remove_observability_callback
    except ImportError:  # an older Hypothesis: report the planned number
        with_seed(seed)(fn)()
        return examples
    add_observability_callback(count)
    try:
        with_seed(seed)(fn)()
    finally:
        remove_observability_callback(count)
    return passed[0]


def run_trial(fn: Callable[..., Any], seed: int, settings: Any) -> Any:
    """Call the verifier once with `default_rng(seed)` (a property: one Hypothesis run with
    that seed); returns the tolerance log."""
    import numpy as np

    from qed.numeric import DEFAULT_SAMPLES, tolerance_scope

    with tolerance_scope(settings) as log:
        if is_property(fn):
            run_property(fn, seed, settings.samples or DEFAULT_SAMPLES)
        elif takes_rng(fn):
            fn(np.random.default_rng(seed))
        else:
            fn()
    return log


def failure_message(exc: BaseException) -> str:
    """What went wrong, in one line: the assertion text, or the failing `assert` statement,
    followed by Hypothesis's shrunk "Falsifying example" when there is one."""
    text = _assertion_text(exc) if isinstance(exc, AssertionError) else _one_line(exc)
    examples = [_one_line_note(note) for note in getattr(exc, "__notes__", ()) if "example" in note.lower()]
    return "; ".join([text, *examples])


def _one_line_note(note: str) -> str:
    """Hypothesis's multi-line `f(\n    x=1.0,\n)` as `f(x=1.0)`."""
    flat = " ".join(part.strip() for part in note.strip().splitlines())
    return flat.replace("( ", "(").replace(", )", ")").replace(" )", ")")


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
    planned = int(job.get("samples") or settings.samples or DEFAULT_SAMPLES) if prop or takes_rng(fn) else 1
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
        record.update(outcome="failed" if isinstance(exc, AssertionError) else "error", trial=0, seed=seed,
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
