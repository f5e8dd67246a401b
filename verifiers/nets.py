"""Random test objects shared by the example site's verifiers: smooth maps and neural nets.

Not a verifier module itself: `calculus`, `backprop`, `derivatives` and `seeds` import it
as a sibling (`import nets`), which works because qed's worker puts `verifiers/` on
`sys.path` (qed/verification/worker.py, `prepare_imports`).

Every object here comes with its exact derivative, written out by hand, so a verifier
can compare a formula against finite differences *and* against the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from qed import ACTIVATIONS, Activation, SmoothFunction, random_matrix, random_vector

# Activations with bounded derivatives on the inputs we draw (cube grows too fast for nets).
NET_ACTIVATIONS: tuple[Activation, ...] = tuple(a for a in ACTIVATIONS if a.name != "cube")
ACTIVATION_BY_NAME = {a.name: a for a in ACTIVATIONS}


# ---------------------------------------------------------------------------------------
# Smooth maps R^n -> R^m with exact Jacobians


@dataclass(frozen=True)
class SmoothMap:
    """x ↦ V g(U x + c) with g a random elementwise smooth function: R^n → R^m."""

    U: np.ndarray  # (k, n)
    c: np.ndarray  # (k,)
    V: np.ndarray  # (m, k)
    g: SmoothFunction

    @property
    def n(self) -> int:
        return self.U.shape[1]

    @property
    def m(self) -> int:
        return self.V.shape[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)  # complex input stays complex, so the complex step goes through
        return self.V @ self.g(self.U @ (x if np.iscomplexobj(x) else x.astype(np.float64)) + self.c)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """The exact m×n Jacobian V diag(g'(Ux + c)) U."""
        u = self.U @ np.asarray(x, dtype=np.float64) + self.c
        return (self.V * self.g.derivative(u)) @ self.U


def random_smooth(rng: np.random.Generator, depth: int = 2) -> SmoothFunction:
    """Like `qed.random_function`, but without the cube, whose compositions grow so
    fast that central differences lose their accuracy: derivatives stay O(1)-ish."""
    layers = []
    for _ in range(depth):
        g = NET_ACTIVATIONS[int(rng.integers(len(NET_ACTIVATIONS)))]
        a = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        b = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        c = float(rng.uniform(-0.5, 0.5))
        layers.append((g, a, b, c))
    return SmoothFunction(tuple(layers))


def random_map(rng: np.random.Generator, n: int, m: int, *, hidden: int | None = None) -> SmoothMap:
    """A random smooth map R^n → R^m with O(1) first and second derivatives."""
    k = int(rng.integers(1, 6)) if hidden is None else hidden
    return SmoothMap(
        U=random_matrix(rng, k, n, scale=1 / np.sqrt(n)),
        c=random_vector(rng, k, scale=0.5),
        V=random_matrix(rng, m, k, scale=1 / np.sqrt(k)),
        g=random_smooth(rng, depth=int(rng.integers(1, 3))),
    )


def random_dims(rng: np.random.Generator, count: int, low: int = 1, high: int = 6) -> list[int]:
    """`count` dimensions drawn uniformly from low..high."""
    return [int(d) for d in rng.integers(low, high + 1, size=count)]


# ---------------------------------------------------------------------------------------
# Neural nets: layers x ↦ σ_i(W_i x), composed


@dataclass(frozen=True)
class Net:
    """N = f_N ∘ ... ∘ f_1 with f_i(x) = σ_i(W_i x); W_i has shape (m_i, n_i), m_i = n_{i+1}."""

    weights: tuple[np.ndarray, ...]
    activations: tuple[Activation, ...]

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def widths(self) -> list[int]:
        """n_1, m_1 = n_2, ..., m_N."""
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    def feed_forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Activations a_0..a_N and pre-activations z_1..z_N (z[0] is None, to index from 1)."""
        a: list[np.ndarray] = [np.asarray(x, dtype=np.float64)]
        z: list[np.ndarray] = [None]  # type: ignore[list-item]
        for w, act in zip(self.weights, self.activations, strict=True):
            z.append(w @ a[-1])
            a.append(np.asarray(act.f(z[-1]), dtype=np.float64))
        return a, z

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.feed_forward(x)[0][-1]

    def with_weight(self, i: int, w: np.ndarray) -> Net:
        """The same net with W_i (1-based, as in the notes) replaced by `w`."""
        weights = list(self.weights)
        weights[i - 1] = np.asarray(w, dtype=np.float64).reshape(self.weights[i - 1].shape)
        return replace(self, weights=tuple(weights))

    def describe(self) -> str:
        acts = ", ".join(a.name for a in self.activations)
        return f"net widths {self.widths}, activations [{acts}]"


def random_net(
    rng: np.random.Generator,
    *,
    depth: int | None = None,
    widths: Sequence[int] | None = None,
    activations: Sequence[str] | None = None,
) -> Net:
    """A random net: 2–4 layers of widths 1–6, each layer with its own random activation.

    Weights are N(0, 1/n_i), so pre-activations stay O(1) and the cost is well scaled.
    """
    if widths is None:
        depth = int(rng.integers(2, 5)) if depth is None else depth
        widths = random_dims(rng, depth + 1)
    depth = len(widths) - 1
    if activations is None:
        acts = tuple(NET_ACTIVATIONS[int(rng.integers(len(NET_ACTIVATIONS)))] for _ in range(depth))
    else:
        acts = tuple(ACTIVATION_BY_NAME[name] for name in activations)
    weights = tuple(
        random_matrix(rng, widths[i + 1], widths[i], scale=1 / np.sqrt(widths[i])) for i in range(depth)
    )
    return Net(weights, acts)


def random_sample(rng: np.random.Generator, net: Net) -> tuple[np.ndarray, np.ndarray]:
    """One labelled example (x, ŷ) ∈ R^{n_1} × R^{m_N}."""
    widths = net.widths
    return random_vector(rng, widths[0]), random_vector(rng, widths[-1])


def random_training_set(rng: np.random.Generator, net: Net, size: int) -> tuple[np.ndarray, np.ndarray]:
    """M labelled examples as arrays xs (M, n_1) and ys (M, m_N); the x_i are distinct a.s."""
    widths = net.widths
    return rng.standard_normal((size, widths[0])), rng.standard_normal((size, widths[-1]))


# ---------------------------------------------------------------------------------------
# Costs and backpropagation


def sample_cost(net: Net, x: np.ndarray, y: np.ndarray) -> float:
    """C(N, x, ŷ) = ‖N(x) − ŷ‖²."""
    r = net(x) - y
    return float(r @ r)


def mean_cost(net: Net, xs: np.ndarray, ys: np.ndarray) -> float:
    """C(N, T) = (1/M) Σ_i ‖N(x_i) − y_i‖² (mean squared error)."""
    return sum(sample_cost(net, x, y) for x, y in zip(xs, ys, strict=True)) / len(xs)


def error_terms(net: Net, x: np.ndarray, y: np.ndarray, *, factor: float = 2.0) -> tuple[list, list, list]:
    """(δ, a, z), each indexed 1..N (δ[0] is None) as in the notes.

    δ^(N) = factor · (a_N − ŷ) ⊙ σ_N'(z_N) and δ^(i) = (W_{i+1}ᵀ δ^(i+1)) ⊙ σ_i'(z_i).
    `factor` is 2 for C = ‖N(x) − ŷ‖²; other values model wrong versions of the theorem.
    """
    a, z = net.feed_forward(x)
    n = net.depth
    delta: list[np.ndarray] = [None] * (n + 1)  # type: ignore[list-item]
    delta[n] = factor * (a[n] - y) * net.activations[n - 1].df(z[n])
    for i in range(n - 1, 0, -1):
        delta[i] = (net.weights[i].T @ delta[i + 1]) * net.activations[i - 1].df(z[i])
    return delta, a, z


def backprop_gradients(net: Net, x: np.ndarray, y: np.ndarray, *, factor: float = 2.0) -> list[np.ndarray]:
    """[∂C/∂W^(1), ..., ∂C/∂W^(N)] by the theorem: ∂C/∂W^(i)_{k,l} = δ^(i)_k a^(i-1)_l."""
    delta, a, _ = error_terms(net, x, y, factor=factor)
    return [np.outer(delta[i], a[i - 1]) for i in range(1, net.depth + 1)]


def numeric_weight_gradient(cost, net: Net, i: int) -> np.ndarray:
    """∂cost/∂W^(i) by central differences of the cost itself, one entry at a time."""
    from qed import gradient

    return gradient(lambda w: cost(net.with_weight(i, w)), net.weights[i - 1])


def gradient_tolerance(grad: np.ndarray) -> dict[str, float]:
    """Tolerances for a finite-difference gradient: 1e-5 relative, absolute scaled to the gradient."""
    return {"rtol": 1e-5, "atol": 1e-7 * max(1.0, float(np.max(np.abs(grad), initial=0.0)))}
