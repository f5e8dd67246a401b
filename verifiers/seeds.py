"""The seeds' wrong statements, each checked as written so the build shows its refutation.

Every verifier here belongs to an `expect=false` block: the build passes when it *fails*
(status "expected-false") and reports an error if one ever passes on all its samples.
"""

from __future__ import annotations

import calculus
import derivatives
import nets
import numpy as np

from qed import assert_close, samples


@samples(20)
def partial_sign(rng: np.random.Generator) -> None:
    """The seed's definition ∂f/∂x_i(x) = lim (f(x) − f(x + ε e_i))/ε, against exact partials."""
    calculus.check_partial_quotient(rng, sign=-1.0)


@samples(20)
def mse_without_network(rng: np.random.Generator) -> None:
    """The seed's cost (1/M) Σ ‖x_i − y_i‖² against the mean squared error of the net.

    The seed's formula only type-checks when n_1 = m_N, so we draw such nets.
    """
    depth = int(rng.integers(2, 5))
    widths = nets.random_dims(rng, depth + 1)
    widths[-1] = widths[0]
    net = nets.random_net(rng, widths=widths)
    size = int(rng.integers(1, 6))
    xs, ys = nets.random_training_set(rng, net, size)
    seed_cost = sum(float((x - y) @ (x - y)) for x, y in zip(xs, ys, strict=True)) / size
    assert_close(seed_cost, nets.mean_cost(net, xs, ys), rtol=1e-9,
                 what=f"seed's (1/M)Σ‖x_i − y_i‖² vs C(N,T), M={size}, {net.describe()}")


def last_layer_by_seed_sum(net: nets.Net, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂C/∂W^(N)_{i,j} as the seed's proof writes it: Σ_{l=1}^{N} ∂C/∂z_l · ∂z_l/∂W_{i,j}.

    N is the number of layers, but z^(N) has m_N entries; the sum should run to m_N.
    """
    delta, a, _ = nets.error_terms(net, x, y)
    depth, m = net.depth, net.widths[-1]
    if depth > m:
        raise AssertionError(f"the sum over l = 1..N = {depth} uses z^(N)_l for l > m_N = {m}: it is undefined")
    grad = np.zeros((m, a[depth - 1].size))
    for row in range(depth):  # the seed's l = 1..N; ∂z_l/∂W_{i,j} = [l = i] a_j
        grad[row, :] += delta[depth][row] * a[depth - 1]
    return grad


@samples(20)
def last_layer_sum_range(rng: np.random.Generator) -> None:
    """The seed's first step of the proof (sum over l = 1..N), against finite differences."""
    net = nets.random_net(rng)
    x, y = nets.random_sample(rng, net)
    numeric = nets.numeric_weight_gradient(lambda n: nets.sample_cost(n, x, y), net, net.depth)
    assert_close(last_layer_by_seed_sum(net, x, y), numeric, what=f"seed's sum, {net.describe()}",
                 **nets.gradient_tolerance(numeric))


@samples(20)
def exercise_repeated_inputs(rng: np.random.Generator) -> None:
    """The seed's exercise for any training data, here with one input listed twice."""
    import backprop

    backprop.check_l2_identity(rng, repeat_input=True)


@samples(20)
def answer_denominator(rng: np.random.Generator) -> None:
    """The answer's f'(a) = lim_{h→0} (f(a+h) − f(a))/f(h), against exact derivatives."""
    derivatives.check_difference_quotient(rng, divide_by_f_of_h=True)
