"""The math namespaces an identity is evaluated in: float64 (numpy), mpmath at a chosen
precision, and SymPy. One table says what `m.sin`, `m.log`, `m.inv`... are in each, so an
identity written once means the same thing in all three number systems.

mpmath and SymPy are imported only when their namespace is made, in the worker of a claim
that needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# name: (numpy, mpmath, sympy) attribute names; "" where the *_FORMS below build it
_FUNCTIONS: dict[str, tuple[str, str, str]] = {
    "sin": ("sin", "sin", "sin"), "cos": ("cos", "cos", "cos"), "tan": ("tan", "tan", "tan"),
    "asin": ("arcsin", "asin", "asin"), "acos": ("arccos", "acos", "acos"), "atan": ("arctan", "atan", "atan"),
    "sinh": ("sinh", "sinh", "sinh"), "cosh": ("cosh", "cosh", "cosh"), "tanh": ("tanh", "tanh", "tanh"),
    "asinh": ("arcsinh", "asinh", "asinh"), "acosh": ("arccosh", "acosh", "acosh"),
    "atanh": ("arctanh", "atanh", "atanh"), "exp": ("exp", "exp", "exp"), "log": ("log", "log", "log"),
    "sqrt": ("sqrt", "sqrt", "sqrt"), "cbrt": ("cbrt", "cbrt", "cbrt"), "expm1": ("expm1", "expm1", ""),
    "log1p": ("log1p", "log1p", ""), "log2": ("log2", "", ""), "log10": ("log10", "log10", ""),
    "atan2": ("arctan2", "atan2", "atan2"), "hypot": ("hypot", "hypot", ""), "abs": ("abs", "fabs", "Abs"),
}
NAMES = (*sorted(_FUNCTIONS), "diff", "det", "e", "eye", "inv", "pi", "trace")
"""Everything `m` offers, in every number system."""

# mpmath and SymPy spellings of the functions they have under another form
_MPMATH_FORMS: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "log2": lambda ctx: lambda x: ctx.log(x, 2),
}
_SYMPY_FORMS: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "expm1": lambda sp: lambda x: sp.exp(x) - 1,
    "log1p": lambda sp: lambda x: sp.log(1 + x),
    "log2": lambda sp: lambda x: sp.log(x, 2),
    "log10": lambda sp: lambda x: sp.log(x, 10),
    "hypot": lambda sp: lambda a, b: sp.sqrt(a**2 + b**2),
}


class Undefined(ArithmeticError):
    """A side has no real value at this point (log of a negative number, 0/0...)."""


class MathNamespace:
    """`m` as an identity sees it: functions and constants of one number system."""

    def __init__(self, system: str, entries: dict[str, Any]):
        self._system = system
        self.__dict__.update(entries)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the math namespace m has no '{name}' (it has {', '.join(NAMES)})")

    def __repr__(self) -> str:
        return f"<math namespace: {self._system}>"


def _elementwise(fn: Callable[..., Any], nargs: int) -> Callable[..., Any]:
    """fn applied to scalars, or entry by entry to arrays of Python numbers (object arrays)."""
    ufunc = np.frompyfunc(fn, nargs, 1)

    def apply(*args: Any) -> Any:
        if any(isinstance(a, np.ndarray) for a in args):
            return ufunc(*args)
        return fn(*args)

    return apply


# ---------------------------------------------------------------------------------------
# float64


def float_math() -> MathNamespace:
    """numpy's functions: the fast screen every sample goes through."""
    from qed.verifier_api import derivative

    entries = {name: getattr(np, spelled[0]) for name, spelled in _FUNCTIONS.items()}
    entries.update(
        pi=np.pi, e=np.e, inv=np.linalg.inv, det=np.linalg.det, trace=np.trace,
        eye=lambda n: np.eye(n),
        diff=lambda f, x: derivative(f, x, method="complex-step"),
    )
    return MathNamespace("float64", entries)


def float_input(value: Any) -> Any:
    """A sampled value as the float64 namespace receives it."""
    return np.array(value, dtype=np.float64) if isinstance(value, np.ndarray) else value


# ---------------------------------------------------------------------------------------
# mpmath


def high_precision_math(digits: int) -> tuple[MathNamespace, Any]:
    """mpmath with `digits` significant digits (its own context, so precisions never mix);
    a real function of real arguments that leaves the reals raises `Undefined`."""
    import mpmath

    ctx = mpmath.MPContext()
    ctx.dps = digits
    entries: dict[str, Any] = {}
    for name, (_, spelled, _) in _FUNCTIONS.items():
        fn = getattr(ctx, spelled) if spelled else _MPMATH_FORMS[name](ctx)
        nargs = 2 if name in ("atan2", "hypot") else 1
        entries[name] = _elementwise(_real_checked(ctx, name, fn), nargs)

    def to_matrix(a: np.ndarray) -> Any:
        return ctx.matrix(a.tolist())

    def from_matrix(m: Any) -> np.ndarray:
        return np.array(m.tolist(), dtype=object)

    entries.update(
        pi=+ctx.pi, e=+ctx.e, trace=np.trace,
        inv=lambda a: from_matrix(ctx.inverse(to_matrix(np.asarray(a, dtype=object)))),
        det=lambda a: ctx.det(to_matrix(np.asarray(a, dtype=object))),
        eye=lambda n: np.array([[ctx.mpf(int(i == j)) for j in range(n)] for i in range(n)], dtype=object),
        diff=lambda f, x: ctx.diff(f, x),
    )
    return MathNamespace(f"mpmath, {digits} digits", entries), ctx


def _real_checked(ctx: Any, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def checked(*args: Any) -> Any:
        try:
            value = fn(*args)
        except ZeroDivisionError:
            raise Undefined(f"{name}({_show_args(ctx, args)}) divides by zero") from None
        real_in = all(not isinstance(a, ctx.mpc) and not isinstance(a, complex) for a in args)
        if real_in and isinstance(value, ctx.mpc):
            raise Undefined(f"{name}({_show_args(ctx, args)}) is not a real number")
        if not isinstance(value, ctx.mpc) and (ctx.isinf(value) or ctx.isnan(value)):
            raise Undefined(f"{name}({_show_args(ctx, args)}) is {ctx.nstr(value, 5)}")
        return value

    return checked


def _show_args(ctx: Any, args: tuple[Any, ...]) -> str:
    return ", ".join(ctx.nstr(a, 17) if isinstance(a, (ctx.mpf, ctx.mpc)) else repr(a) for a in args)


def high_precision_input(ctx: Any, value: Any) -> Any:
    """A sampled float64 or int value, exactly, as an mpmath number (object arrays for arrays)."""
    if isinstance(value, np.ndarray):
        return np.array([ctx.mpf(float(v)) for v in value.flat], dtype=object).reshape(value.shape)
    return ctx.mpf(value)


# ---------------------------------------------------------------------------------------
# SymPy


def symbolic_math() -> tuple[MathNamespace, Any]:
    """SymPy's functions, so that the two sides become expressions whose difference it simplifies."""
    import sympy as sp

    entries: dict[str, Any] = {}
    for name, (_, _, spelled) in _FUNCTIONS.items():
        fn = getattr(sp, spelled) if spelled else _SYMPY_FORMS[name](sp)
        entries[name] = _elementwise(fn, 2 if name in ("atan2", "hypot") else 1)

    def diff(f: Callable[[Any], Any], x: Any) -> Any:
        t = sp.Dummy("t", real=True)
        return sp.diff(f(t), t).subs(t, x)

    entries.update(
        pi=sp.pi, e=sp.E, trace=np.trace, diff=diff,
        inv=lambda a: np.array(sp.Matrix(np.asarray(a, dtype=object).tolist()).inv().tolist(), dtype=object),
        det=lambda a: sp.Matrix(np.asarray(a, dtype=object).tolist()).det(),
        eye=lambda n: np.array(sp.eye(n).tolist(), dtype=object),
    )
    return MathNamespace(f"SymPy {sp.__version__}", entries), sp
