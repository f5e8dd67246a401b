"""Running a Hypothesis property (`@given`) as a verifier, in a worker process.

Hypothesis draws the inputs and shrinks a failure; qed needs three facts from the run, and
takes each from Hypothesis's objects rather than from the prose it prints (which changes
between releases): how many examples ran (counted by wrapping the property's inner test,
Hypothesis's documented `.hypothesis.inner_test` hook), the shrunk counterexample of each
failure (the arguments of the call that raised the exception Hypothesis finally raises),
and whether there were several distinct failures (an `ExceptionGroup`).
"""

from __future__ import annotations

import functools
import inspect
import unittest
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qed.verification.contract import ContractError, checked_call

_VALUE_CHARS = 400  # one argument's repr, at most, in a one-line message


def is_property(fn: Callable[..., Any]) -> bool:
    """A Hypothesis test (`@given`): Hypothesis draws the inputs and shrinks a failure to a
    minimal counterexample, instead of qed running seeded trials."""
    return bool(getattr(fn, "is_hypothesis_test", False)) and hasattr(fn, "hypothesis")


def use_hypothesis_defaults(root: Path) -> None:
    """Settings for properties run by qed, loaded before a verifier module is imported (a
    property captures the default settings when it is decorated): no per-example deadline
    (shared machines are noisy), no example database, and Hypothesis's own files in qed's
    cache folder rather than a `.hypothesis/` in the user's site."""
    try:
        from hypothesis import settings
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:
        return
    set_hypothesis_home_dir(str(root / ".qed-cache" / "hypothesis"))
    settings.register_profile("qed", deadline=None, database=None, print_blob=False)
    settings.load_profile("qed")


def examples_planned(fn: Callable[..., Any], samples: int | None) -> int:
    """How many examples the run will ask for: qed's `samples` when set, else the property's own."""
    if samples:
        return int(samples)
    return int(_settings_of(fn).max_examples)


@dataclass(frozen=True)
class Counterexample:
    """One distinct failure: the exception and the call that raised it, as `f(n=32)`."""

    error: BaseException
    call: str


class PropertyFailed(Exception):
    """The property failed; `counterexamples` has one entry per distinct failure Hypothesis found."""

    def __init__(self, counterexamples: list[Counterexample], raised: BaseException):
        super().__init__("; ".join(c.call for c in counterexamples))
        self.counterexamples = counterexamples
        self.raised = raised


@dataclass
class _Recorder:
    """Wraps the property's inner test: each example runs under the verifier contract; counts
    the examples that passed and remembers the call of each that raised."""

    inner: Callable[..., Any]
    allow_invalid: bool
    passed: int = 0
    raised: list[tuple[BaseException, str]] = field(default_factory=list)

    def wrapper(self) -> Callable[..., Any]:
        """The inner test, recorded; it keeps the test's name and signature, which Hypothesis reads."""

        @functools.wraps(self.inner)
        def recorded(*args: Any, **kwargs: Any) -> None:
            try:
                checked_call(self.inner, args, kwargs, allow_invalid=self.allow_invalid)
            except BaseException as exc:
                self.raised.append((exc, describe_call(self.inner, args, kwargs)))
                raise
            self.passed += 1

        return recorded

    def call_of(self, error: BaseException) -> str:
        """The call that raised `error` (the shrunk example is the last call to raise it)."""
        for exc, call in reversed(self.raised):
            if exc is error:
                return call
        return self.raised[-1][1] if self.raised else ""


def run_property(fn: Callable[..., Any], seed: int, samples: int | None, *, allow_invalid: bool = False) -> int:
    """Run `fn` with `seed` and `samples` examples (None: the property's own setting).

    Returns how many examples passed; raises `PropertyFailed` when Hypothesis reports failures
    (each with its shrunk call), `ContractError` when no example ran, or whatever Hypothesis
    raised for a broken property.
    """
    from hypothesis import seed as with_seed
    from hypothesis import settings

    handle = fn.hypothesis  # type: ignore[attr-defined]
    recorder = _Recorder(handle.inner_test, allow_invalid)
    handle.inner_test = recorder.wrapper()
    fn._hypothesis_internal_use_settings = settings(  # type: ignore[attr-defined]
        parent=_settings_of(fn), max_examples=examples_planned(fn, samples), database=None, print_blob=False)
    try:
        with_seed(seed)(fn)()
    except unittest.SkipTest:  # Hypothesis's way of saying it was told to run nothing
        raise ContractError("Hypothesis ran no example (its settings generate none)") from None
    except BaseException as raised:
        failures = _distinct_failures(raised)
        if not recorder.raised or not any(isinstance(f, AssertionError) for f in failures):
            raise _with_call(raised, recorder) from None
        raise PropertyFailed([Counterexample(f, recorder.call_of(f)) for f in failures], raised) from None
    finally:
        handle.inner_test = recorder.inner
    if recorder.passed == 0:
        raise ContractError("Hypothesis ran no example (every input was rejected, or no phase generates any)")
    return recorder.passed


def _with_call(raised: BaseException, recorder: _Recorder) -> BaseException:
    """A contract error names the example it happened in."""
    if isinstance(raised, ContractError) and recorder.raised:
        return ContractError(f"{raised} (in example {recorder.call_of(raised)})")
    return raised


def _settings_of(fn: Callable[..., Any]) -> Any:
    from hypothesis import settings

    return getattr(fn, "_hypothesis_internal_use_settings", None) or settings.default


def _distinct_failures(raised: BaseException) -> list[BaseException]:
    """The failures Hypothesis reports: the exceptions of a group, else the one raised."""
    if isinstance(raised, BaseExceptionGroup):
        return [leaf for group in raised.exceptions for leaf in _distinct_failures(group)]
    return [raised]


def describe_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """`name(a=1, x=array([0.5, 2.0]))`, on one line, arguments in the signature's order."""
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        items = [f"{name}={_one_line_repr(value)}" for name, value in bound.arguments.items()]
    except (TypeError, ValueError):
        items = [_one_line_repr(a) for a in args] + [f"{k}={_one_line_repr(v)}" for k, v in kwargs.items()]
    return f"{getattr(fn, '__name__', 'property')}({', '.join(items)})"


def _one_line_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a user object whose repr is broken still gets a name
        text = f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"
    text = " ".join(text.split()).replace("[ ", "[").replace("( ", "(")
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"
