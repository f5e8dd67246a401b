"""Verifiers for the backpropagation theorem and the cost it differentiates.

Networks are random in every respect the theorem quantifies over: depth (2–4 layers),
widths (1–6), the activation of each layer (tanh, sin, sigmoid, softplus, gauss), the
weights, the input and the label. The formulas are compared with central differences of
the cost itself, which know nothing about error terms.
"""

from __future__ import annotations

import nets
import numpy as np

from qed import assert_close, gradient, identity, matrix, samples


def check_error_terms(rng: np.random.Generator, *, factor: float = 2.0) -> None:
    """δ^(i) = ∂C/∂z^(i): the error terms are the gradients of the cost in the pre-activations."""
    net = nets.random_net(rng)
    x, y = nets.random_sample(rng, net)
    delta, _, z = nets.error_terms(net, x, y, factor=factor)
    for i in range(1, net.depth + 1):
        def cost_from_layer(zi: np.ndarray, i: int = i) -> float:
            # run the net from z^(i) on: a_i = σ_i(z_i), then layers i+1..N
            a = net.activations[i - 1].f(zi)
            for w, act in zip(net.weights[i:], net.activations[i:], strict=True):
                a = act.f(w @ a)
            r = a - y
            return float(r @ r)

        numeric = gradient(cost_from_layer, z[i])
        assert_close(delta[i], numeric, what=f"δ^({i}) vs ∂C/∂z^({i}), {net.describe()}",
                     **nets.gradient_tolerance(numeric))


@samples(100)
def error_terms(rng: np.random.Generator) -> None:
    """The recursion for δ^(i) computes ∂C/∂z^(i) on random nets."""
    check_error_terms(rng)


def check_backpropagation(rng: np.random.Generator, *, factor: float = 2.0) -> None:
    """∂C/∂W^(i)_{k,l} = δ^(i)_k a^(i-1)_l for every layer i of a random net."""
    net = nets.random_net(rng)
    x, y = nets.random_sample(rng, net)
    formula = nets.backprop_gradients(net, x, y, factor=factor)
    for i in range(1, net.depth + 1):
        numeric = nets.numeric_weight_gradient(lambda n: nets.sample_cost(n, x, y), net, i)
        assert_close(formula[i - 1], numeric, what=f"∂C/∂W^({i}), {net.describe()}",
                     **nets.gradient_tolerance(numeric))


@samples(100)
def backpropagation(rng: np.random.Generator) -> None:
    """The backpropagation theorem against finite differences of C(N, x, ŷ)."""
    check_backpropagation(rng)


@samples(50)
def mean_cost_gradient(rng: np.random.Generator) -> None:
    """∇_{W^(i)} C(N, T) is the mean over T of the per-example gradients δ^(i) a^(i-1)ᵀ."""
    net = nets.random_net(rng)
    size = int(rng.integers(1, 6))
    xs, ys = nets.random_training_set(rng, net, size)
    per_example = [nets.backprop_gradients(net, x, y) for x, y in zip(xs, ys, strict=True)]
    for i in range(1, net.depth + 1):
        formula = sum(g[i - 1] for g in per_example) / size
        numeric = nets.numeric_weight_gradient(lambda n: nets.mean_cost(n, xs, ys), net, i)
        assert_close(formula, numeric, what=f"∂C(N,T)/∂W^({i}), M={size}, {net.describe()}",
                     **nets.gradient_tolerance(numeric))


# ---------------------------------------------------------------------------------------
# The cost as a norm in L²(X)


def l2_distance_sq(net: nets.Net, xs: np.ndarray, ys: np.ndarray) -> float:
    """‖N|_X − Σ_i y_i χ_{x_i}‖² in L²(X; R^m) with X = {x_1, ..., x_M} and counting measure.

    Computed literally: X is the *set* of inputs (a repeated input is one point), the
    function Σ_i y_i χ_{x_i} is evaluated at each point of X, and the norm squared is the
    sum over the points of X of the Euclidean norm squared.
    """
    points = np.unique(xs, axis=0)
    total = 0.0
    for p in points:
        target = sum((y for x, y in zip(xs, ys, strict=True) if np.array_equal(x, p)), np.zeros(ys.shape[1]))
        r = net(p) - target
        total += float(r @ r)
    return total


def check_l2_identity(rng: np.random.Generator, *, repeat_input: bool = False) -> None:
    """C(N, T) = (1/M) ‖N|_X − Σ_i y_i χ_{x_i}‖²_{L²(X)} (the x_i distinct unless repeat_input)."""
    net = nets.random_net(rng)
    size = int(rng.integers(2 if repeat_input else 1, 7))
    xs, ys = nets.random_training_set(rng, net, size)
    if repeat_input:  # the same input listed twice, with different labels
        j = int(rng.integers(1, size))
        xs[j] = xs[0]
    lhs = nets.mean_cost(net, xs, ys)
    rhs = l2_distance_sq(net, xs, ys) / size
    assert_close(lhs, rhs, rtol=1e-12, atol=1e-14,
                 what=f"C(N,T) vs (1/M)‖N|_X − Σ y_i χ_(x_i)‖², M={size}, |X|={len(np.unique(xs, axis=0))}")


@identity(w1=matrix(3, 2), w2=matrix(2, 3), xs=matrix(3, 2), ys=matrix(3, 2), samples=200)
def l2_identity_on_a_net(m, w1, w2, xs, ys):
    """The exercise as an identity, for a 2-3-2 net x ↦ W2 tanh(W1 x) and M = 3 inputs,
    made pairwise distinct by shifting the i-th by (4i, 0); SymPy proves it for every such
    choice of weights, inputs and labels."""
    inputs = [xs[i] + np.array([4 * i, 0]) for i in range(3)]
    labels = list(ys)

    def net(x):
        return w2 @ m.tanh(w1 @ x)

    def target(p):  # Σ_i y_i χ_{x_i}(p)
        return sum((y for x, y in zip(inputs, labels, strict=True) if np.array_equal(x, p)), 0)

    points = [p for i, p in enumerate(inputs) if not any(np.array_equal(p, q) for q in inputs[:i])]
    cost = sum((net(x) - y) @ (net(x) - y) for x, y in zip(inputs, labels, strict=True)) / 3
    distance = sum((net(p) - target(p)) @ (net(p) - target(p)) for p in points) / 3
    return cost, distance
