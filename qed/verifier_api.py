"""The public verifier API: what a `verifiers/*.py` function needs to check a claim briefly.

A verifier is a plain function `def check_x(rng: numpy.random.Generator) -> None` that
draws inputs from `rng` and raises (usually `AssertionError`) when the claim fails for
them. The runner calls it once per trial with a freshly seeded generator. Everything here
refutes, nothing proves: a check that passes on N samples is evidence, not a proof, so the
helpers report *what* was compared (worst entry, expected, actual) to make a failure easy
to read, and record the tolerances they used so the badge can say what was done.

Import cost matters: `qed` re-exports these names lazily, so the engine does not pay for
numpy until a verifier runs.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

SETTINGS_ATTR = "__qed_verifier__"
DEFAULT_SAMPLES = 100


# ---------------------------------------------------------------------------------------
# Per-verifier settings (decorators)


@dataclass(frozen=True)
class VerifierSettings:
    """How the runner calls one verifier; None means "use the site/run default"."""

    samples: int | None = None
    rtol: float | None = None
    atol: float | None = None
    timeout: float | None = None
    allow_invalid: bool | None = None  # True: NaN made by numpy during a passing trial is not an error

    def merged(self, **changes: Any) -> VerifierSettings:
        """These settings with the non-None `changes` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def settings_of(fn: Callable[..., Any]) -> VerifierSettings:
    """The settings a verifier was decorated with (defaults when it was not)."""
    found = getattr(fn, SETTINGS_ATTR, None)
    return found if isinstance(found, VerifierSettings) else VerifierSettings()


def _check_positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def verifier(
    fn: F | None = None,
    *,
    samples: int | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    timeout: float | None = None,
    allow_invalid: bool | None = None,
) -> Any:
    """Mark a function as a verifier and set how it is run.

    `samples`: trials (each with its own seeded generator); `rtol`/`atol`: the default
    tolerances of `assert_close` inside this verifier; `timeout`: seconds for all trials;
    `allow_invalid`: numpy may produce NaN (0/0, log of a negative...) in a passing trial.
    Usable bare (`@verifier`) or with arguments (`@verifier(samples=20)`).
    """
    if samples is not None and (not isinstance(samples, int) or samples < 1):
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    for name, value in (("rtol", rtol), ("timeout", timeout)):
        _check_positive(name, value)
    if atol is not None and atol < 0:
        raise ValueError(f"atol must be >= 0, got {atol!r}")

    def decorate(f: F) -> F:
        merged = settings_of(f).merged(samples=samples, rtol=rtol, atol=atol, timeout=timeout,
                                       allow_invalid=allow_invalid)
        setattr(f, SETTINGS_ATTR, merged)
        return f

    return decorate(fn) if fn is not None else decorate


def samples(n: int) -> Callable[[F], F]:
    """Run the decorated verifier on `n` random trials instead of the default 100."""
    return verifier(samples=n)


# ---------------------------------------------------------------------------------------
# Tolerances


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


_DEFAULT_TOLERANCES = {
    # float64: tight enough to catch a wrong constant, loose enough for rounding in
    # a few dozen flops; float32/float16 follow the usual (JAX-like) per-dtype table.
    np.dtype(np.float64): Tolerance(1e-7, 1e-9),
    np.dtype(np.float32): Tolerance(2e-4, 1e-5),
    np.dtype(np.float16): Tolerance(1e-2, 1e-3),
}


def default_tolerance(dtype: Any = np.float64) -> Tolerance:
    """rtol/atol for comparing values of `dtype` (integers and bools compare exactly)."""
    dt = np.dtype(dtype)
    if dt.kind == "c":
        dt = np.empty(0, dtype=dt).real.dtype
    if dt.kind in "biu":
        return Tolerance(0.0, 0.0)
    return _DEFAULT_TOLERANCES.get(dt, _DEFAULT_TOLERANCES[np.dtype(np.float64)])


@dataclass
class ToleranceLog:
    """What `assert_close` used while a verifier ran, so the badge reports real tolerances."""

    default: VerifierSettings = field(default_factory=VerifierSettings)
    max_rtol: float | None = None
    max_atol: float | None = None
    comparisons: int = 0
    failures: list[str] = field(default_factory=list)  # mismatches assert_close raised, caught or not

    def record(self, rtol: float, atol: float) -> None:
        self.comparisons += 1
        self.max_rtol = rtol if self.max_rtol is None else max(self.max_rtol, rtol)
        self.max_atol = atol if self.max_atol is None else max(self.max_atol, atol)


_ACTIVE_LOG: ContextVar[ToleranceLog | None] = ContextVar("qed_tolerance_log", default=None)


def active_log() -> ToleranceLog | None:
    """The log of the verifier call running now (None outside the runner)."""
    return _ACTIVE_LOG.get()


@contextlib.contextmanager
def tolerance_scope(settings: VerifierSettings) -> Iterator[ToleranceLog]:
    """Within this block, `assert_close` defaults to `settings`' tolerances and logs them."""
    log = ToleranceLog(default=settings)
    token = _ACTIVE_LOG.set(log)
    try:
        yield log
    finally:
        _ACTIVE_LOG.reset(token)


# ---------------------------------------------------------------------------------------
# Comparisons


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value.item() if isinstance(value, np.generic) else value)


def _index_text(index: tuple[int, ...]) -> str:
    if not index:
        return ""
    return " at index " + (str(index[0]) if len(index) == 1 else str(index))


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    what: str = "",
) -> None:
    """Raise `AssertionError` unless |actual - expected| <= atol + rtol*|expected| everywhere.

    Tolerances default to the verifier's (`@verifier(rtol=...)`) or else to the dtype's. NaN
    never matches, not even NaN, unless `equal_nan=True`. The message names the worst entry
    (by how far it exceeds its tolerance), both values and the errors, because "arrays
    differ" alone sends the reader to a debugger. A mismatch is recorded before it is
    raised, so a verifier that catches the `AssertionError` and carries on still fails.
    """
    problem = _compare(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, what=what)
    if problem is None:
        return
    log = _ACTIVE_LOG.get()
    if log is not None:
        log.failures.append(problem)
    raise AssertionError(problem)


def _compare(actual: Any, expected: Any, *, rtol: float | None, atol: float | None, equal_nan: bool,
             what: str) -> str | None:
    """What is wrong with `actual` against `expected`, or None when they are close."""
    a = np.asarray(actual)
    e = np.asarray(expected)
    label = f"{what}: " if what else ""
    if a.shape != e.shape:
        if a.ndim and e.ndim:  # only a scalar broadcasts: (3,) vs (3, 1) is a bug, not a match
            return f"{label}shape mismatch: actual {a.shape}, expected {e.shape}"
        a, e = np.broadcast_arrays(a, e)
    rtol, atol = _resolve_tolerance(a, e, rtol, atol)
    log = _ACTIVE_LOG.get()
    if log is not None:
        log.record(rtol, atol)
    if a.size == 0:
        return None
    bad, excess = _mismatches(a, e, rtol, atol, equal_nan)
    if not bad.any():
        return None
    flat = int(np.argmax(excess))
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape)) if a.ndim else ()
    worst_a, worst_e = a[index], e[index]
    abs_err = abs(complex(worst_a) - complex(worst_e))
    rel = abs_err / abs(complex(worst_e)) if worst_e != 0 else math.inf
    count = int(bad.sum())
    parts = [
        f"{label}not close (rtol={rtol:g}, atol={atol:g}){_index_text(index)}: "
        f"expected {_fmt(worst_e)}, actual {_fmt(worst_a)}",
        f"abs err {abs_err:.3g}, rel err {rel:.3g}",
    ]
    if a.size > 1:
        parts.append(f"{count} of {a.size} entries differ")
    return "; ".join(parts)


def _mismatches(
    a: np.ndarray, e: np.ndarray, rtol: float, atol: float, equal_nan: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Which entries fail, and by how many tolerances each exceeds (inf for NaN/inf mismatches)."""
    kind = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(e) else np.float64
    af, ef = a.astype(kind), e.astype(kind)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(af - ef)
        allowed = atol + rtol * np.abs(ef)
        bad = ~(err <= allowed)
        any_inf = np.isinf(af) | np.isinf(ef)
        bad = np.where(any_inf, ~(af == ef), bad)  # inf matches only the same inf
        if equal_nan:
            bad &= ~(np.isnan(af) & np.isnan(ef))
        excess = np.where(allowed > 0, err / np.where(allowed > 0, allowed, 1.0), np.inf)
    excess = np.where(bad, np.nan_to_num(excess, nan=np.inf, posinf=np.inf), -1.0)
    return bad, excess


def _resolve_tolerance(
    a: np.ndarray, e: np.ndarray, rtol: float | None, atol: float | None
) -> tuple[float, float]:
    log = _ACTIVE_LOG.get()
    if log is not None:
        rtol = log.default.rtol if rtol is None else rtol
        atol = log.default.atol if atol is None else atol
    base = default_tolerance(np.result_type(a.dtype, e.dtype) if a.dtype.kind != "O" else np.float64)
    return (base.rtol if rtol is None else float(rtol), base.atol if atol is None else float(atol))


def is_close(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None) -> bool:
    """`assert_close` as a predicate (for verifiers that search for a counterexample): a False
    here is an answer, not a failed check."""
    return _compare(actual, expected, rtol=rtol, atol=atol, equal_nan=False, what="") is None


# ---------------------------------------------------------------------------------------
# Derivatives: central differences, or the complex step


DERIVATIVE_METHODS = ("central", "complex-step")
_COMPLEX_STEP = 1e-30  # Im f(x + ih)/h subtracts nothing, so h can be tiny: the error is ~h²


def _check_method(method: str) -> None:
    if method not in DERIVATIVE_METHODS:
        raise ValueError(f"method must be one of {', '.join(DERIVATIVE_METHODS)}, got {method!r}")


def _step(x: np.ndarray, h: float | None) -> np.ndarray:
    """Central-difference step per entry: cbrt(eps) scaled to the point, exactly representable."""
    eps = np.finfo(np.float64).eps
    raw = np.full(x.shape, h) if h is not None else np.cbrt(eps) * np.maximum(1.0, np.abs(x))
    return (x + raw) - x


def _imaginary_part(value: Any, helper: str) -> np.ndarray:
    """Im f(x + ih), refusing an f that dropped the imaginary part (it cast its input to float)."""
    out = np.asarray(value)
    if not np.iscomplexobj(out):
        raise ValueError(f"{helper}(method='complex-step') needs f to accept complex input, but f returned "
                         "real values (does it convert its argument with float() or dtype=float64?)")
    return out.imag


def derivative(f: Callable[[Any], Any], x: Any, *, h: float | None = None, method: str = "central") -> Any:
    """f'(x) for scalar x (f may return an array).

    "central" (the default, for any f): central differences with step cbrt(eps) * max(1, |x|),
    which balances truncation against rounding (about 1e-10 relative error for smooth f).
    "complex-step" (for f analytic near x, written with numpy functions that take complex
    input): Im f(x + ih)/h, which subtracts nothing and so is exact to about 1e-15.
    """
    _check_method(method)
    x0 = np.float64(x)
    if method == "complex-step":
        step = _COMPLEX_STEP if h is None else float(h)
        return _imaginary_part(f(x0 + 1j * step), "derivative") / step
    step = float(_step(np.asarray(x0), h))
    return (np.asarray(f(x0 + step)) - np.asarray(f(x0 - step))) / (2.0 * step)


def jacobian(f: Callable[[np.ndarray], Any], x: Any, *, h: float | None = None,
             method: str = "central") -> np.ndarray:
    """J[i..., j...] = d f(x)[i...] / d x[j...]; shape f(x).shape + x.shape.

    `method` as for `derivative`: central differences, or the complex step (one complex
    evaluation per coordinate, exact to about 1e-15 for analytic f).
    """
    _check_method(method)
    x0 = np.array(x, dtype=np.float64)
    out_shape = np.shape(f(x0.copy()))
    jac = np.empty(out_shape + x0.shape)
    if method == "complex-step":
        step = _COMPLEX_STEP if h is None else float(h)
        for j in np.ndindex(*x0.shape):
            probe = x0.astype(np.complex128)
            probe[j] += 1j * step
            jac[(..., *j)] = _imaginary_part(f(probe), "jacobian") / step
        return jac
    steps = _step(x0, h)
    for j in np.ndindex(*x0.shape):
        plus, minus = x0.copy(), x0.copy()
        plus[j] += steps[j]
        minus[j] -= steps[j]
        diff = (np.asarray(f(plus), dtype=np.float64) - np.asarray(f(minus), dtype=np.float64)) / (2 * steps[j])
        jac[(..., *j)] = diff
    return jac


def gradient(f: Callable[[np.ndarray], Any], x: Any, *, h: float | None = None,
             method: str = "central") -> np.ndarray:
    """Gradient of a scalar function (same shape as x), by `method` as for `jacobian`."""
    x0 = np.array(x, dtype=np.float64)
    if np.ndim(f(x0.copy())) != 0:
        raise ValueError("gradient needs a scalar-valued function; use jacobian for vector outputs")
    return jacobian(f, x0, h=h, method=method)


def directional_derivative(
    f: Callable[[np.ndarray], Any], x: Any, v: Any, *, h: float | None = None
) -> Any:
    """d/dt f(x + t v) at t = 0: one function pair per check, cheap in high dimensions."""
    x0, v0 = np.asarray(x, dtype=np.float64), np.asarray(v, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(x0), initial=0.0))) / max(float(np.max(np.abs(v0), initial=0.0)), 1e-300)
    t = h if h is not None else float(np.cbrt(np.finfo(np.float64).eps)) * min(scale, 1e8)
    return (np.asarray(f(x0 + t * v0)) - np.asarray(f(x0 - t * v0))) / (2 * t)


# ---------------------------------------------------------------------------------------
# Random inputs


def random_vector(rng: np.random.Generator, n: int, *, scale: float = 1.0) -> np.ndarray:
    """n standard-normal entries times `scale`."""
    return scale * rng.standard_normal(n)


def random_matrix(
    rng: np.random.Generator, m: int, n: int | None = None, *, scale: float = 1.0
) -> np.ndarray:
    """An m×n (square if n is None) matrix of standard-normal entries times `scale`."""
    return scale * rng.standard_normal((m, m if n is None else n))


def random_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-distributed orthogonal matrix (QR of a Gaussian matrix with signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def random_spd(rng: np.random.Generator, n: int, *, cond: float = 100.0) -> np.ndarray:
    """A symmetric positive definite matrix with eigenvalues log-uniform in [1, cond].

    Built as Q diag(λ) Qᵀ and symmetrized, so it is SPD by construction and its
    condition number is bounded, which keeps solves in a verifier accurate.
    """
    if cond < 1:
        raise ValueError("cond must be >= 1")
    eig = np.exp(rng.uniform(0.0, np.log(cond), n))
    if n > 1:
        eig[0], eig[-1] = 1.0, cond
    q = random_orthogonal(rng, n)
    a = (q * eig) @ q.T
    return (a + a.T) / 2


@dataclass(frozen=True)
class Activation:
    """An elementwise smooth function with its derivative, for building random test functions."""

    name: str
    f: Callable[[Any], Any]
    df: Callable[[Any], Any]


def _sigmoid(x: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x)))


def _as_number_array(x: Any) -> np.ndarray:
    """x as float64, or complex128 when it is complex (so the complex step goes through)."""
    return np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64)


def _gauss(x: Any) -> Any:
    return np.exp(-_as_number_array(x) ** 2 / 2)


def _softplus(x: Any) -> Any:
    """log(1 + eˣ): numpy's stable logaddexp for real x; for complex x (the complex step, near
    the real axis) the formula itself, which is analytic there."""
    a = np.asarray(x)
    return np.log1p(np.exp(a)) if np.iscomplexobj(a) else np.logaddexp(0.0, a)


ACTIVATIONS: tuple[Activation, ...] = (
    Activation("tanh", np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    Activation("sin", np.sin, np.cos),
    Activation("sigmoid", _sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    Activation("softplus", _softplus, _sigmoid),
    Activation("cube", lambda x: np.asarray(x) ** 3 / 3.0, lambda x: np.asarray(x) ** 2),
    Activation("gauss", _gauss, lambda x: -np.asarray(x) * _gauss(x)),
)


@dataclass(frozen=True)
class SmoothFunction:
    """x ↦ a_k g_k(b_k · ... a_1 g_1(b_1 x + c_1) ... + c_k), elementwise, with its derivative."""

    layers: tuple[tuple[Activation, float, float, float], ...]  # (g, a, b, c)

    def __call__(self, x: Any) -> Any:
        y = _as_number_array(x)
        for g, a, b, c in self.layers:
            y = a * g.f(b * y + c)
        return y

    def derivative(self, x: Any) -> Any:
        """Exact derivative by the chain rule (elementwise)."""
        y = _as_number_array(x)
        d = np.ones_like(y)
        for g, a, b, c in self.layers:
            u = b * y + c
            d = d * a * b * g.df(u)
            y = a * g.f(u)
        return d

    def __str__(self) -> str:
        text = "x"
        for g, a, b, c in self.layers:
            text = f"{a:.3g}*{g.name}({b:.3g}*{text} {'+' if c >= 0 else '-'} {abs(c):.3g})"
        return text


def random_function(rng: np.random.Generator, depth: int = 2) -> SmoothFunction:
    """A random smooth elementwise function (a composition of `depth` activations).

    Coefficients stay in moderate ranges so derivatives are O(1) and finite-difference
    checks of them are well conditioned.
    """
    layers = []
    for _ in range(depth):
        g = ACTIVATIONS[int(rng.integers(len(ACTIVATIONS)))]
        a = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        b = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        c = float(rng.uniform(-0.5, 0.5))
        layers.append((g, a, b, c))
    return SmoothFunction(tuple(layers))


# ---------------------------------------------------------------------------------------
# Identities: a claim written once, checked in float64, at high precision, and by SymPy


IDENTITY_ATTR = "__qed_identity__"
DEFAULT_IDENTITY_SAMPLES = 1000  # one sample costs a few scalar operations, not a trial
_WIDE = 1e3  # an interval whose ends differ by more than this factor is also sampled by magnitude


@dataclass(frozen=True)
class Interval:
    """Real numbers in [lo, hi]: uniform draws, and draws uniform in magnitude when the
    interval spans several decades (so 1e-9 is tried, not only numbers near 0.5)."""

    lo: float
    hi: float

    def draw(self, rng: np.random.Generator) -> float:
        if rng.random() < 0.5 or not self._wide():
            return float(rng.uniform(self.lo, self.hi))
        return self._by_magnitude(rng)

    def _wide(self) -> bool:
        lo, hi = abs(self.lo), abs(self.hi)
        if self.lo < 0 < self.hi or 0 in (self.lo, self.hi):
            return max(lo, hi) > 0
        return max(lo, hi) / min(lo, hi) > _WIDE

    def _by_magnitude(self, rng: np.random.Generator) -> float:
        """A number whose log-magnitude is uniform, with the sign the interval allows."""
        biggest = max(abs(self.lo), abs(self.hi))
        one_signed = self.lo > 0 or self.hi < 0
        small = min(abs(self.lo), abs(self.hi)) if one_signed else biggest * 1e-12
        value = float(np.exp(rng.uniform(np.log(small), np.log(biggest))))
        if self.lo < 0 < self.hi:
            value *= float(rng.choice([-1.0, 1.0]))
        elif self.hi <= 0:
            value = -value
        return float(min(max(value, self.lo), self.hi))

    def special(self) -> list[float]:
        """The ends, the numbers next to them, 0, ±1, ±2, and tiny and huge magnitudes inside."""
        lo, hi = float(self.lo), float(self.hi)
        tries = [lo, hi, np.nextafter(lo, hi), np.nextafter(hi, lo), 0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0]
        tries += [sign * 10.0 ** k for k in (-300, -12, -6, 6, 12, 300) for sign in (1.0, -1.0)]
        return _unique(float(t) for t in tries if lo <= t <= hi)

    def symbol_assumptions(self) -> dict[str, bool]:
        facts = {"real": True}
        if self.lo > 0:
            facts["positive"] = True
        elif self.lo >= 0:
            facts["nonnegative"] = True
        if self.hi < 0:
            facts["negative"] = True
        elif self.hi <= 0:
            facts["nonpositive"] = True
        return facts

    def __str__(self) -> str:
        return f"[{self.lo:g}, {self.hi:g}]"


@dataclass(frozen=True)
class Integers:
    """Integers lo, lo+1, ..., hi (Python ints: exact in every number system)."""

    lo: int
    hi: int

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.lo, self.hi, endpoint=True))

    def special(self) -> list[int]:
        return _unique(t for t in (self.lo, self.hi, 0, 1, -1, 2, -2) if self.lo <= t <= self.hi)

    def symbol_assumptions(self) -> dict[str, bool]:
        facts = {"integer": True}
        if self.lo > 0:
            facts["positive"] = True
        elif self.lo >= 0:
            facts["nonnegative"] = True
        return facts

    def __str__(self) -> str:
        return f"{{{self.lo}, ..., {self.hi}}}"


MATRIX_KINDS = ("gaussian", "symmetric", "spd", "orthogonal")


@dataclass(frozen=True)
class Matrices:
    """Random matrices of a fixed shape (a vector when `cols` is None and `vector` is set):
    Gaussian entries, symmetric, symmetric positive definite, or orthogonal."""

    rows: int
    cols: int | None = None
    kind: str = "gaussian"
    scale: float = 1.0
    vector: bool = False

    def shape(self) -> tuple[int, ...]:
        return (self.rows,) if self.vector else (self.rows, self.rows if self.cols is None else self.cols)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        shape = self.shape()
        if self.kind == "symmetric":
            a = rng.standard_normal(shape)
            return self.scale * (a + a.T) / 2
        if self.kind == "spd":
            return self.scale * random_spd(rng, self.rows)
        if self.kind == "orthogonal":
            return random_orthogonal(rng, self.rows)
        return self.scale * rng.standard_normal(shape)

    def special(self) -> list[np.ndarray]:
        tries = [np.zeros(self.shape())] if self.kind in ("gaussian", "symmetric") else []
        if self.vector:
            tries.append(np.ones(self.shape()))
        elif self.shape()[0] == self.shape()[1]:
            tries.append(np.eye(self.rows))
        return tries

    def symbolic(self) -> bool:
        """Whether SymPy can stand for every matrix of this kind by symbols (an orthogonal
        matrix cannot: its entries are not independent)."""
        return self.kind != "orthogonal"

    def symbol_assumptions(self) -> dict[str, bool]:
        return {"real": True}

    def __str__(self) -> str:
        if self.vector:
            return f"R^{self.rows}"
        rows, cols = self.shape()
        return f"{self.kind} {rows}×{cols} matrices"


Domain = Interval | Integers | Matrices


def interval(lo: float, hi: float) -> Interval:
    """The real numbers from `lo` to `hi`, both included."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ValueError(f"interval needs finite lo < hi, got ({lo!r}, {hi!r})")
    return Interval(float(lo), float(hi))


def integers(lo: int, hi: int) -> Integers:
    """The integers from `lo` to `hi`, both included."""
    if not (isinstance(lo, int) and isinstance(hi, int)) or lo > hi:
        raise ValueError(f"integers needs whole numbers lo <= hi, got ({lo!r}, {hi!r})")
    return Integers(lo, hi)


def vector(n: int, *, scale: float = 1.0) -> Matrices:
    """Vectors in R^n with standard-normal entries times `scale`."""
    _check_size(n)
    return Matrices(n, kind="gaussian", scale=scale, vector=True)


def matrix(rows: int, cols: int | None = None, *, kind: str = "gaussian", scale: float = 1.0) -> Matrices:
    """rows×cols matrices (square when cols is None) of `kind`: "gaussian", "symmetric",
    "spd" (condition number at most 100) or "orthogonal" (Haar-distributed)."""
    _check_size(rows)
    if cols is not None:
        _check_size(cols)
    if kind not in MATRIX_KINDS:
        raise ValueError(f"kind must be one of {', '.join(MATRIX_KINDS)}, got {kind!r}")
    if kind != "gaussian" and cols not in (None, rows):
        raise ValueError(f"{kind} matrices are square: give rows only")
    return Matrices(rows, cols, kind=kind, scale=scale)


def _check_size(n: Any) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"a dimension must be a positive integer, got {n!r}")


@dataclass(frozen=True)
class IdentitySpec:
    """What `@identity` declared: the domain of each variable, and whether to ask SymPy."""

    domains: tuple[tuple[str, Domain], ...]
    symbolic: bool = True


def identity_spec(fn: Callable[..., Any]) -> IdentitySpec | None:
    """The identity a verifier declares, or None for an ordinary verifier."""
    found = getattr(fn, IDENTITY_ATTR, None)
    return found if isinstance(found, IdentitySpec) else None


def identity(
    *,
    samples: int | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    timeout: float | None = None,
    symbolic: bool = True,
    **domains: Domain,
) -> Callable[[F], F]:
    """Declare `fn(m, **variables) -> (lhs, rhs)` an identity over the given domains.

    `m` is the math namespace of the number system being checked (`m.sin`, `m.exp`, `m.pi`,
    `m.inv`, `m.diff`...); write the two sides with it and qed checks them three ways: in
    float64 on `samples` points (special values first), every disagreement again at 50 and
    100 significant digits (rounding is told apart from a real counterexample), and with
    SymPy under a time limit (`symbolic=False` skips it). `rtol`/`atol`: how close the two
    sides must be (default rtol 1e-12, atol 0).
    """
    if not domains:
        raise ValueError("identity needs the domain of each variable, such as x=interval(0, 1)")
    for name, domain in domains.items():
        if not isinstance(domain, (Interval, Integers, Matrices)):
            raise ValueError(f"the domain of {name} must be interval(...), integers(...), vector(...) or "
                             f"matrix(...), got {domain!r}")
    settings = verifier(samples=samples, rtol=rtol, atol=atol, timeout=timeout)

    def decorate(f: F) -> F:
        setattr(f, IDENTITY_ATTR, IdentitySpec(tuple(domains.items()), symbolic=symbolic))
        return settings(f)

    return decorate


def _unique(values: Any) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if not any(type(v) is type(value) and v == value for v in seen):
            seen.append(value)
    return seen


__all__ = [
    "ACTIVATIONS",
    "DEFAULT_IDENTITY_SAMPLES",
    "DEFAULT_SAMPLES",
    "DERIVATIVE_METHODS",
    "Activation",
    "IdentitySpec",
    "Integers",
    "Interval",
    "Matrices",
    "SmoothFunction",
    "Tolerance",
    "VerifierSettings",
    "assert_close",
    "default_tolerance",
    "derivative",
    "directional_derivative",
    "gradient",
    "identity",
    "identity_spec",
    "integers",
    "interval",
    "is_close",
    "jacobian",
    "matrix",
    "random_function",
    "random_matrix",
    "random_orthogonal",
    "random_spd",
    "random_vector",
    "samples",
    "settings_of",
    "tolerance_scope",
    "vector",
    "verifier",
]
