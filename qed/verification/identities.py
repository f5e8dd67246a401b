"""Checking an `@identity` in a worker: falsify in float64, confirm at high precision, prove
with SymPy.

float64 is only a screen: every point where the two sides disagree (or float64 cannot
evaluate them) is computed again with mpmath at 50 and then 100 significant digits from the
same, exact inputs. A difference that vanishes (or shrinks with the precision) was rounding
and is counted; one that persists at both precisions is a counterexample, shown with its
digits; a side with no real value (log of a negative number, 0/0) is a counterexample
too. When every point agrees, SymPy is asked, under a time limit, whether the difference
of the two sides simplifies to 0.
"""

from __future__ import annotations

import itertools
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from qed.verification.contract import ContractError
from qed.verification.number_systems import (
    Undefined,
    float_input,
    float_math,
    high_precision_input,
    high_precision_math,
    symbolic_math,
)
from qed.verification.properties import describe_call
from qed.verifier_api import (
    DEFAULT_IDENTITY_SAMPLES,
    Domain,
    IdentitySpec,
    Integers,
    Interval,
    Matrices,
    VerifierSettings,
    active_log,
    identity_spec,
)

DEFAULT_RTOL = 1e-12
DIGITS = (50, 100)  # the two precisions a disagreement is confirmed at
SHRINKS = 1e-20  # from 50 to 100 digits a rounding difference shrinks by far more than this
SYMBOLIC_SECONDS = 10.0
_FLOAT_TROUBLE = (FloatingPointError, ZeroDivisionError, OverflowError, ValueError)


def is_identity(fn: Callable[..., Any]) -> bool:
    """A verifier declared with `@identity`: qed draws its points and evaluates its two sides."""
    return identity_spec(fn) is not None


def identity_samples(fn: Callable[..., Any], samples: int | None) -> int:
    """How many points an identity is checked on (the claim's or decorator's samples, else 1000)."""
    return int(samples or DEFAULT_IDENTITY_SAMPLES)


@dataclass(frozen=True)
class IdentityOutcome:
    """An identity that held at every point: how strong the evidence is."""

    samples: int
    special: int  # of which special values (the rest drawn at random)
    rounding: int  # float64 disagreements that were rounding (vanished at high precision)
    method: str  # "symbolic", "high-precision" (some points needed mpmath) or "sampled"
    proof: str = ""  # "SymPy 1.14.0" when SymPy simplified the difference to 0
    note: str = ""  # why there is no proof
    domain: str = ""  # "x in [1e-09, 1]": what the points were drawn from (and a proof covers)


class IdentityFailed(AssertionError):
    """A counterexample confirmed at high precision, or a point where a side is undefined."""


@dataclass(frozen=True)
class _Tolerance:
    rtol: float
    atol: float


def run_identity(fn: Callable[..., Any], seed: int, settings: VerifierSettings,
                 samples: int | None = None, *, symbolic_seconds: float = SYMBOLIC_SECONDS) -> IdentityOutcome:
    """Check `fn` on its points (special values first, then random ones drawn with `seed`);
    raises `IdentityFailed` for a confirmed counterexample, `ContractError` for a malformed identity."""
    spec = identity_spec(fn)
    assert spec is not None
    tol = _Tolerance(settings.rtol if settings.rtol is not None else DEFAULT_RTOL, settings.atol or 0.0)
    log = active_log()
    if log is not None:
        log.record(tol.rtol, tol.atol)
    n = identity_samples(fn, samples or settings.samples)
    floats = float_math()
    rounding = 0
    special = special_points(spec)
    for point in itertools.islice(points(spec, np.random.default_rng(seed)), n):
        trouble = _float_disagreement(fn, floats, point, tol)
        if trouble is not None:
            _confirm(fn, point, tol, trouble)
            rounding += 1
    method = "high-precision" if rounding else "sampled"
    domain = domain_text(spec)
    if not spec.symbolic:
        return IdentityOutcome(n, min(special, n), rounding, method, note="SymPy not asked (symbolic=False)",
                               domain=domain)
    proof, note = prove(fn, spec, symbolic_seconds)
    return IdentityOutcome(n, min(special, n), rounding, "symbolic" if proof else method, proof, note, domain)


def domain_text(spec: IdentitySpec) -> str:
    """"x in [1e-09, 1], n in {0, ..., 60}": the domains, as badges and reports name them."""
    return ", ".join(f"{name} in {domain}" for name, domain in spec.domains)


# ---------------------------------------------------------------------------------------
# Points


_ALL_SPECIAL = 256  # up to this many combinations of special values are all tried
_SOME_SPECIAL = 128  # else this many, drawn from them


def _combinations(spec: IdentitySpec) -> int:
    count = 1
    for _, domain in spec.domains:
        count *= max(1, len(domain.special()))
    return count


def special_points(spec: IdentitySpec) -> int:
    """How many of the first points are special values rather than random draws."""
    count = _combinations(spec)
    return count if count <= _ALL_SPECIAL else _SOME_SPECIAL


def points(spec: IdentitySpec, rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """Every combination of special values (when there are few), else combinations drawn
    from them, then random points; without end (the caller takes what it needs)."""
    names = [name for name, _ in spec.domains]
    specials = [domain.special() or [domain.draw(rng)] for _, domain in spec.domains]
    if _combinations(spec) <= _ALL_SPECIAL:
        for values in itertools.product(*specials):
            yield dict(zip(names, values, strict=True))
    else:
        for _ in range(_SOME_SPECIAL):
            yield {name: values[int(rng.integers(len(values)))]
                   for name, values in zip(names, specials, strict=True)}
    while True:
        yield {name: domain.draw(rng) for name, domain in spec.domains}


# ---------------------------------------------------------------------------------------
# float64: the screen


def _sides(fn: Callable[..., Any], m: Any, point: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    result = fn(m, **point)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ContractError(f"an identity returns its two sides as (lhs, rhs); {_name(fn)} returned "
                            f"{type(result).__name__}")
    lhs, rhs = (np.asarray(side) for side in result)
    if lhs.shape != rhs.shape:
        raise ContractError(f"the two sides of {_name(fn)} have different shapes: {lhs.shape} and {rhs.shape}")
    return lhs, rhs


def _float_disagreement(fn: Callable[..., Any], m: Any, point: dict[str, Any], tol: _Tolerance) -> str | None:
    """None when the sides agree in float64, else what went wrong there."""
    try:
        with np.errstate(all="raise", under="ignore"):
            lhs, rhs = _sides(fn, m, {k: float_input(v) for k, v in point.items()})
            lhs, rhs = lhs.astype(np.complex128), rhs.astype(np.complex128)
            gap = np.abs(lhs - rhs)
            allowed = tol.atol + tol.rtol * _scale(np.abs(lhs), np.abs(rhs))
    except _FLOAT_TROUBLE as exc:
        return f"float64 could not evaluate it ({type(exc).__name__})"
    if np.all(gap <= allowed):
        return None
    return "float64 disagrees"


def _scale(lhs: np.ndarray, rhs: np.ndarray) -> Any:
    """What rtol is relative to: a scalar's own size; for arrays, the largest entry of either
    side (so an entry that should be 0 is judged at the scale of the matrix, as a norm would)."""
    if lhs.ndim == 0:
        return max(lhs, rhs)
    return max(lhs.max(initial=0), rhs.max(initial=0))


# ---------------------------------------------------------------------------------------
# mpmath: the confirmation


@dataclass(frozen=True)
class _Precise:
    """The two sides at one precision, at their worst entry."""

    digits: int
    lhs: Any
    rhs: Any
    gap: Any  # |lhs - rhs|
    allowed: Any
    where: str  # " at index (i, j)" for arrays

    @property
    def agrees(self) -> bool:
        return bool(self.gap <= self.allowed)


def _confirm(fn: Callable[..., Any], point: dict[str, Any], tol: _Tolerance, trouble: str) -> None:
    """Return when the float64 disagreement at `point` was rounding; raise `IdentityFailed`
    when it persists at 50 and 100 digits or a side is undefined."""
    first = _at_precision(fn, point, tol, DIGITS[0])
    if first.agrees:
        return
    second = _at_precision(fn, point, tol, DIGITS[1])
    if second.agrees or second.gap <= first.gap * SHRINKS:
        return
    raise IdentityFailed(
        f"{describe_call(fn, (), point)}: lhs = {_digits(second.lhs)}, rhs = {_digits(second.rhs)}{second.where}; "
        f"they differ by {_digits(second.gap, 3)} at {DIGITS[1]} significant digits "
        f"({_digits(first.gap, 3)} at {DIGITS[0]}), confirmed beyond rounding ({trouble})")


def _at_precision(fn: Callable[..., Any], point: dict[str, Any], tol: _Tolerance, digits: int) -> _Precise:
    m, ctx = high_precision_math(digits)
    try:
        lhs, rhs = _sides(fn, m, {k: high_precision_input(ctx, v) for k, v in point.items()})
    except Undefined as exc:
        raise IdentityFailed(f"{describe_call(fn, (), point)}: undefined: {exc}") from None
    except ZeroDivisionError:
        raise IdentityFailed(f"{describe_call(fn, (), point)}: undefined: a division by zero") from None
    pairs = [(ctx.mpmathify(a), ctx.mpmathify(b)) for a, b in zip(lhs.flat, rhs.flat, strict=True)]
    for a, b in pairs:
        for side in (a, b):
            if not ctx.isfinite(side):
                raise IdentityFailed(f"{describe_call(fn, (), point)}: undefined: a side is {ctx.nstr(side, 5)}")
    scale = _scale(np.array([abs(a) for a, _ in pairs], dtype=object), np.array([abs(b) for _, b in pairs],
                                                                             dtype=object)) if lhs.ndim else None
    rows = [(abs(a - b), tol.atol + tol.rtol * (scale if scale is not None else max(abs(a), abs(b))), a, b)
            for a, b in pairs]
    worst = max(range(len(rows)), key=lambda i: rows[i][0] - rows[i][1]) if rows else 0
    gap, allowed, a, b = rows[worst] if rows else (ctx.mpf(0), ctx.mpf(0), ctx.mpf(0), ctx.mpf(0))
    where = ""
    if lhs.ndim:
        index = np.unravel_index(worst, lhs.shape)
        where = f" at index {tuple(int(i) for i in index)}"
    return _Precise(digits, a, b, gap, allowed, where)


def _digits(value: Any, figures: int = 25) -> str:
    import mpmath

    return mpmath.nstr(value, figures)


# ---------------------------------------------------------------------------------------
# SymPy: the proof


def prove(fn: Callable[..., Any], spec: IdentitySpec, seconds: float) -> tuple[str, str]:
    """("SymPy x.y", "") when SymPy simplifies lhs - rhs to 0 with symbols carrying the domains'
    assumptions, else ("", why not)."""
    if any(isinstance(d, Matrices) and not d.symbolic() for _, d in spec.domains):
        return "", "SymPy not asked: orthogonal matrices have no symbolic form here"
    if threading.current_thread() is not threading.main_thread():
        return "", "SymPy not asked: its time limit needs the main thread"
    m, sp = symbolic_math()
    try:
        with _time_limit(seconds):
            variables = {name: _symbols(sp, name, domain) for name, domain in spec.domains}
            lhs, rhs = _sides(fn, m, variables)
            for a, b in zip(lhs.flat, rhs.flat, strict=True):
                if sp.simplify(a - b) != 0:
                    return "", "SymPy did not simplify the difference to 0"
    except _OutOfTime:
        return "", f"SymPy did not decide within {seconds:g} s"
    except ContractError:
        raise
    except Exception as exc:
        return "", f"SymPy could not evaluate the identity ({type(exc).__name__})"
    return f"SymPy {sp.__version__}", ""


def _symbols(sp: Any, name: str, domain: Domain) -> Any:
    """A symbol (or an array of them) standing for every value of the domain."""
    facts = domain.symbol_assumptions()
    if isinstance(domain, (Interval, Integers)):
        return sp.Symbol(name, **facts)
    shape = domain.shape()
    if domain.vector:
        return np.array([sp.Symbol(f"{name}{i}", **facts) for i in range(shape[0])], dtype=object)
    rows, cols = shape
    symmetric = domain.kind in ("symmetric", "spd")
    entries = [[sp.Symbol(f"{name}{min(i, j)}{max(i, j)}" if symmetric else f"{name}{i}{j}", **facts)
                for j in range(cols)] for i in range(rows)]
    return np.array(entries, dtype=object)


class _OutOfTime(Exception):
    pass


class _time_limit:
    """SIGALRM after `seconds`, raised as `_OutOfTime` in the main thread."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self) -> None:
        self.previous = signal.signal(signal.SIGALRM, self._expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)

    @staticmethod
    def _expire(signum: int, frame: Any) -> None:
        raise _OutOfTime()


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", "the identity")
