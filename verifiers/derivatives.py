"""Verifiers for the notes on differentiability, partial derivatives and the gradient."""

from __future__ import annotations

import nets
import numpy as np

from qed import assert_close, derivative, directional_derivative, random_vector, samples


def difference_quotient(f, a: float, h: float, *, divide_by_f_of_h: bool = False) -> float:
    """(f(a+h) − f(a))/h, the definition; or (f(a+h) − f(a))/f(h), the answer's version."""
    d = f(h) if divide_by_f_of_h else h
    return float((f(a + h) - f(a)) / d)


def check_difference_quotient(rng: np.random.Generator, *, divide_by_f_of_h: bool = False) -> None:
    """The difference quotient of a smooth f: R → R at a small h is close to f'(a)."""
    f = nets.random_smooth(rng, depth=int(rng.integers(1, 4)))
    a = float(rng.normal())
    h = 1e-8 * max(1.0, abs(a))  # truncation ~h|f''|/2, rounding ~1e-16|f|/h: both ≲ 1e-7
    q = difference_quotient(f, a, h, divide_by_f_of_h=divide_by_f_of_h)
    shown = "(f(a+h) − f(a))/f(h)" if divide_by_f_of_h else "(f(a+h) − f(a))/h"
    assert_close(q, f.derivative(a), rtol=1e-5, atol=1e-5,
                 what=f"{shown} at h={h:.2g} vs f'(a), f(x) = {f}, a = {a:.4g}")


@samples(100)
def derivative_is_limit_of_quotients(rng: np.random.Generator) -> None:
    """f'(a) = lim_{h→0} (f(a+h) − f(a))/h, checked against exact derivatives of random f."""
    check_difference_quotient(rng)


@samples(100)
def differentiable_implies_continuous(rng: np.random.Generator) -> None:
    """Near a point where f is differentiable, |f(a+h) − f(a)| ≤ (|f'(a)| + 1)|h|."""
    f = nets.random_smooth(rng, depth=int(rng.integers(1, 4)))
    a = float(rng.normal())
    for h in rng.uniform(-1e-6, 1e-6, size=5):
        change = abs(float(f(a + h) - f(a)))
        bound = (abs(float(f.derivative(a))) + 1.0) * abs(h)
        assert change <= bound, f"|f(a+h) − f(a)| = {change:.3g} > {bound:.3g} at a={a:.4g}, h={h:.3g}, f = {f}"


def partials_at(f, a: np.ndarray) -> np.ndarray:
    """(∂f/∂x_1(a), ..., ∂f/∂x_n(a)), each as the derivative of t ↦ f(a + t e_i) at 0."""
    out = np.empty(a.size)
    for i in range(a.size):
        e = np.zeros(a.size)
        e[i] = 1.0
        out[i] = derivative(lambda t, e=e: f(a + t * e), 0.0)
    return out


@samples(100)
def gradient_represents_derivative(rng: np.random.Generator) -> None:
    """For differentiable f: R^n → R, Df_a(v) = ∇f(a) · v with ∇f(a) the vector of partials."""
    n = nets.random_dims(rng, 1)[0]
    smooth = nets.random_map(rng, n, 1)

    def f(x: np.ndarray) -> float:
        return float(smooth(x)[0])

    a = random_vector(rng, n)
    grad = partials_at(f, a)
    assert_close(grad, smooth.jacobian(a)[0], rtol=1e-5, atol=1e-8, what="partials vs exact Df_a")
    v = random_vector(rng, n)
    assert_close(grad @ v, directional_derivative(f, a, v), rtol=1e-5, atol=1e-8,
                 what="∇f(a)·v vs the derivative of t ↦ f(a + tv) at 0")


def xxy(x: np.ndarray) -> float:
    """f(x, y) = x²y/(x² + y²), f(0, 0) = 0: both partials exist at 0, f is not differentiable there."""
    u, w = float(x[0]), float(x[1])
    return 0.0 if u == 0.0 and w == 0.0 else u * u * w / (u * u + w * w)


@samples(20)
def partials_imply_differentiable(rng: np.random.Generator) -> None:
    """The (false) claim: if all partials of f exist at a, then Df_a(v) = ∇f(a) · v for all v.

    Checked on f(x, y) = x²y/(x² + y²) at a = 0: ∇f(0) = (0, 0), so the claim predicts
    that t ↦ f(tv) has derivative 0 at t = 0; in fact f(tv) = t f(v), with derivative f(v).
    """
    a = np.zeros(2)
    grad = partials_at(xxy, a)
    v = random_vector(rng, 2)
    assert_close(grad @ v, directional_derivative(xxy, a, v), rtol=1e-5, atol=1e-8,
                 what=f"∇f(0)·v vs the derivative of t ↦ f(tv) at 0, v = {np.round(v, 3).tolist()}")
