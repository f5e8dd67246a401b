"""The verifier contract: what counts as a pass, a failure and an error, checked on every call.

A call passes only if it returns `None` after running its checks. It *fails* (a
counterexample) if it raises `AssertionError`, or if a qed check inside it found a mismatch
that the verifier caught and went on from. It is an *error* if it raises anything else,
returns anything but `None` (`False`, a residual, `np.allclose(...)`: the check was never
made), or if numpy produced an invalid value (NaN from 0/0, inf - inf, log or sqrt of a
negative number) during a call that otherwise passed, unless the verifier says NaN is
expected with `@verifier(allow_invalid=True)`: a comparison such as `err > tol` is False for
a NaN `err`, so NaN would otherwise pass silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qed.verifier_api import active_log


class ContractError(Exception):
    """The verifier broke the contract (not a counterexample): the message says what to write."""


def check_callable(fn: Any, spec: str) -> None:
    """`verify=` must name a plain function whose body runs when it is called."""
    if inspect.isclass(fn):
        raise ContractError(f"'{spec}' is a class; verify= must name a function (def {spec.split(':')[-1]}(rng): ...)")
    if inspect.ismodule(fn):
        raise ContractError(f"'{spec}' is a module; verify= must name a function in it")
    if not inspect.isfunction(fn):
        raise ContractError(f"'{spec}' is a {type(fn).__name__}, not a function; verify= must name a def")
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise ContractError(f"'{spec}' is a generator (it uses yield), so calling it runs none of its checks")
    if inspect.iscoroutinefunction(fn):
        raise ContractError(f"'{spec}' is async def, so calling it runs none of its checks; make it a plain def")


@dataclass
class CallReport:
    """What one checked call did beyond passing: the first invalid numpy operation, if any."""

    invalid: str | None = None


def checked_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], *,
                 allow_invalid: bool) -> CallReport:
    """Call `fn` under the contract; raises `AssertionError` for a caught mismatch and
    `ContractError` for a return value or (unless allowed) an invalid numpy operation."""
    report = CallReport()

    def on_error(kind: str, flag: int) -> None:
        if report.invalid is None:
            report.invalid = kind

    log = active_log()
    failures_before = len(log.failures) if log is not None else 0
    with np.errstate(invalid="call", call=on_error):
        result = fn(*args, **kwargs)
    if log is not None and len(log.failures) > failures_before:
        raise AssertionError(f"{log.failures[failures_before]} (the verifier caught this failed check and went on)")
    if result is not None:
        raise ContractError(returned_message(result))
    if report.invalid is not None and not allow_invalid:
        raise ContractError("numpy produced an invalid value (NaN) during this call; fix the computation, "
                            "or write @qed.verifier(allow_invalid=True) if NaN is expected here")
    return report


def returned_message(result: Any) -> str:
    """Why returning a value is an error, and what to write instead."""
    shown = repr(result)
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return (f"the verifier returned {shown} ({type(result).__name__}); a verifier passes by returning None "
            "and fails by raising: write assert_close(actual, expected) or `assert condition`")
