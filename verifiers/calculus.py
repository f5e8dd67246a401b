"""Verifiers for the calculus part of the backpropagation notes: partials, Jacobian, chain rule.

Each function receives a seeded generator, draws a random instance of the claim (random
dimensions included) and compares the claim's formula with an independent computation.
"""

from __future__ import annotations

import nets
import numpy as np

from qed import (
    assert_close,
    directional_derivative,
    gradient,
    identity,
    interval,
    jacobian,
    random_vector,
    samples,
    vector,
)


def forward_quotient(f, x: np.ndarray, i: int, eps: float, *, sign: float = 1.0) -> float:
    """sign · (f(x + ε e_i) − f(x)) / ε: the partial derivative's difference quotient.

    sign=+1 is the definition in the notes; sign=−1 is the seed's (f(x) − f(x + ε e_i)) / ε.
    """
    e = np.zeros_like(x)
    e[i] = eps
    return sign * (f(x + e) - f(x)) / eps


def partial_quotients(f, x: np.ndarray, *, sign: float = 1.0) -> np.ndarray:
    """All n difference quotients at ε = 1e-7·max(1, |x_i|) (forward, so error O(ε))."""
    eps = 1e-7 * np.maximum(1.0, np.abs(x))
    return np.array([forward_quotient(f, x, i, float(eps[i]), sign=sign) for i in range(x.size)])


def check_partial_quotient(rng: np.random.Generator, *, sign: float = 1.0) -> None:
    """The difference quotients of a smooth f: R^n → R approach the exact partials."""
    n = nets.random_dims(rng, 1)[0]
    f = nets.random_map(rng, n, 1)
    x = random_vector(rng, n)
    exact = f.jacobian(x)[0]
    approx = partial_quotients(lambda v: f(v)[0], x, sign=sign)
    # forward differences: truncation ~ε|f''| ≈ 1e-7, rounding ~1e-16/ε ≈ 1e-9
    assert_close(approx, exact, rtol=1e-5, atol=1e-5, what=f"partials of a map R^{n} → R at x")


@samples(100)
def partial_derivative(rng: np.random.Generator) -> None:
    """∂f/∂x_i(x) = lim (f(x + ε e_i) − f(x))/ε equals the i-th entry of Df_x."""
    check_partial_quotient(rng, sign=1.0)


def check_jacobian(rng: np.random.Generator, *, transpose: bool = False) -> None:
    """Df_a is the matrix of partials: it matches the exact derivative and satisfies the limit."""
    n, m = nets.random_dims(rng, 2)
    f = nets.random_map(rng, n, m)
    a = random_vector(rng, n)
    partials = jacobian(f, a)  # column j: central differences in the direction e_j
    if transpose:  # a wrong version, used by the tests: (∂f_j/∂x_i)_{i,j}
        if n == m:
            partials = partials.T
        else:
            raise AssertionError(f"the transposed matrix has shape {partials.T.shape}, Df_a is {m}×{n}")
    assert_close(partials, f.jacobian(a), rtol=1e-5, atol=1e-8, what="matrix of partials vs exact Df_a")
    # the defining limit: ‖f(a+h) − f(a) − J h‖ / ‖h‖ → 0, and for C² maps it falls like ‖h‖
    h = random_vector(rng, n)
    h /= np.linalg.norm(h)

    def remainder(t: float) -> float:
        return float(np.linalg.norm(f(a + t * h) - f(a) - partials @ (t * h)) / t)

    r1, r2, r3 = remainder(1e-2), remainder(1e-3), remainder(1e-4)
    # r(t) ≈ |c₂t + c₃t²|: a cancellation can hide the decay at one of t = 1e-2, 1e-3, not both
    assert r3 <= 0.3 * max(r1, r2) + 1e-7, (
        f"‖f(a+th) − f(a) − J th‖/t does not tend to 0: {r1:.3g}, {r2:.3g}, {r3:.3g} at t = 1e-2, 1e-3, 1e-4")
    # and every directional derivative is the matrix times the direction (linearity)
    v = random_vector(rng, n)
    assert_close(partials @ v, directional_derivative(f, a, v), rtol=1e-5, atol=1e-8,
                 what="J v vs directional derivative")


@samples(100)
def jacobian_is_matrix_of_partials(rng: np.random.Generator) -> None:
    """For a C¹ map f: R^n → R^m, Df_a = (∂f_i/∂x_j(a))_{i,j}."""
    check_jacobian(rng)


def check_chain_rule(rng: np.random.Generator, *, reversed_order: bool = False) -> None:
    """D(g∘f)_a = Dg_{f(a)} Df_a for random smooth f: R^n → R^m, g: R^m → R^p."""
    n, m, p = nets.random_dims(rng, 3)
    f = nets.random_map(rng, n, m)
    g = nets.random_map(rng, m, p)
    a = random_vector(rng, n)
    numeric = jacobian(lambda x: g(f(x)), a, method="complex-step")  # exact to ~1e-15
    dg, df = g.jacobian(f(a)), f.jacobian(a)
    if reversed_order:  # a wrong version, used by the tests: Df_a Dg_{f(a)}
        if df.shape[1] != dg.shape[0]:
            raise AssertionError(f"Df_a Dg_f(a) is undefined: shapes {df.shape} and {dg.shape}")
        formula = df @ dg
    else:
        formula = dg @ df
    # both sides are exact up to rounding, so the tolerance can be near machine precision
    assert_close(formula, numeric, rtol=1e-12, atol=1e-14 * max(1.0, float(np.abs(numeric).max())),
                 what=f"chain rule for R^{n} → R^{m} → R^{p}")


@samples(100)
def chain_rule(rng: np.random.Generator) -> None:
    """The chain rule on random compositions of random dimensions."""
    check_chain_rule(rng)


def check_squared_norm(rng: np.random.Generator, *, factor: float = 2.0) -> None:
    """n(x) = ‖x‖² has D_x n = factor · xᵀ (true for factor 2)."""
    dim = nets.random_dims(rng, 1, 1, 8)[0]
    x = random_vector(rng, dim, scale=float(rng.uniform(0.1, 10.0)))

    def sq(v: np.ndarray) -> float:
        return float(v @ v)

    numeric = gradient(sq, x)
    assert_close(factor * x, numeric, what=f"gradient of ‖x‖² in R^{dim}", **nets.gradient_tolerance(numeric))
    # and the remainder is exactly ‖h‖²: n(x+h) − n(x) − 2xᵀh = ‖h‖²
    h = random_vector(rng, dim)
    assert_close(sq(x + h) - sq(x) - factor * (x @ h), h @ h, rtol=1e-9, atol=1e-9 * (1 + sq(x)),
                 what="n(x+h) − n(x) − D_x n(h) vs ‖h‖²")


@identity(x=vector(4), h=vector(4), samples=200)
def squared_norm(m, x, h):
    """D_x ν = 2xᵀ for ν(x) = ‖x‖²: the derivative along h is 2xᵀh, and the remainder
    ν(x + h) − ν(x) − 2xᵀh is exactly ‖h‖² (in R⁴; SymPy proves both)."""
    along_h = m.diff(lambda t: (x + t * h) @ (x + t * h), 0)
    remainder = (x + h) @ (x + h) - x @ x - 2 * (x @ h)
    return np.array([along_h, remainder]), np.array([2 * (x @ h), h @ h])


@identity(x=interval(-3.0, 3.0))
def chain_rule_on_given_functions(m, x):
    """(g ∘ f)'(x) = g'(f(x)) f'(x) for f(x) = sin(x²) and g(y) = exp(y) / (1 + y²)."""
    def f(t):
        return m.sin(t**2)

    def g(y):
        return m.exp(y) / (1 + y**2)

    return m.diff(lambda t: g(f(t)), x), m.diff(g, f(x)) * m.diff(f, x)
