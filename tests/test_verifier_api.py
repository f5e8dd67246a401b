"""The verifier helpers: messages that locate the failure, accurate differences, valid generators."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qed.verifier_api import (
    VerifierSettings,
    assert_close,
    default_tolerance,
    derivative,
    directional_derivative,
    gradient,
    identity,
    integers,
    interval,
    is_close,
    jacobian,
    matrix,
    random_function,
    random_matrix,
    random_orthogonal,
    random_spd,
    random_vector,
    samples,
    settings_of,
    tolerance_scope,
    vector,
    verifier,
)


def test_assert_close_names_worst_entry_expected_and_actual() -> None:
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    actual[0, 0] = 1e-3
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected)
    text = str(info.value)
    assert "at index (1, 2)" in text
    assert "expected 0.0" in text and "actual 0.5" in text
    assert "2 of 6 entries differ" in text


def test_assert_close_passes_within_tolerance_and_defaults_by_dtype() -> None:
    assert_close(1.0 + 1e-9, 1.0)
    assert_close(np.float32(1.0) + np.float32(1e-5), np.float32(1.0))
    with pytest.raises(AssertionError):
        assert_close(1.0 + 1e-5, 1.0)
    assert default_tolerance(np.float32).rtol > default_tolerance(np.float64).rtol
    assert default_tolerance(np.int64).rtol == 0


def test_assert_close_shapes_nan_and_inf() -> None:
    with pytest.raises(AssertionError, match="shape mismatch"):
        assert_close(np.zeros(3), np.zeros((3, 1)))
    assert_close(np.zeros(3), 0.0)  # a scalar broadcasts
    with pytest.raises(AssertionError):
        assert_close(np.nan, 1.0)
    assert_close([np.nan, np.inf], [np.nan, np.inf], equal_nan=True)
    assert not is_close(np.inf, -np.inf)


def test_tolerance_scope_sets_defaults_and_logs_what_was_used() -> None:
    with tolerance_scope(VerifierSettings(rtol=1e-3)) as log:
        assert_close(1.0005, 1.0)
        assert_close(1.0, 1.0, rtol=1e-2)
    assert log.comparisons == 2 and log.max_rtol == 1e-2


def test_derivative_gradient_jacobian_on_known_functions() -> None:
    assert abs(derivative(np.sin, 0.7) - np.cos(0.7)) < 1e-9
    assert abs(derivative(np.exp, 20.0) - np.exp(20.0)) / np.exp(20.0) < 1e-8  # step scales with x
    x = np.array([0.3, -1.2, 2.0])
    assert_close(gradient(lambda v: np.sum(v**3), x), 3 * x**2, rtol=1e-8)
    a = np.arange(6.0).reshape(2, 3)
    assert_close(jacobian(lambda v: a @ v, x), a, rtol=1e-8, atol=1e-8)
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert jacobian(lambda v: v @ v, m).shape == (2, 2, 2, 2)
    assert_close(jacobian(lambda v: np.trace(v @ v), m), 2 * m.T, rtol=1e-8)
    v = np.array([1.0, 0.0, -1.0])
    assert abs(directional_derivative(lambda y: np.sum(y**2), x, v) - 2 * x @ v) < 1e-8
    with pytest.raises(ValueError):
        gradient(lambda y: y, x)


def test_random_function_derivative_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        f = random_function(rng, depth=3)
        t = rng.uniform(-2, 2)
        assert_close(f.derivative(t), derivative(f, t), rtol=1e-6, atol=1e-8)
        assert str(f).count("(") >= 3


def test_complex_step_derivatives_agree_with_exact_ones_to_1e_14() -> None:
    rng = np.random.default_rng(7)
    for t in rng.uniform(-2, 2, size=20):
        assert_close(derivative(np.sin, t, method="complex-step"), np.cos(t), rtol=1e-14, atol=0)
        assert_close(derivative(np.exp, t, method="complex-step"), np.exp(t), rtol=1e-14, atol=0)
    for _ in range(30):
        f = random_function(rng, depth=3)  # every activation, softplus and gauss included
        t = float(rng.uniform(-2, 2))
        assert_close(derivative(f, t, method="complex-step"), f.derivative(t), rtol=1e-14, atol=1e-300)


def test_complex_step_gradient_and_jacobian() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal(4)
    a = rng.standard_normal((3, 4))
    assert_close(jacobian(lambda v: np.tanh(a @ v), x, method="complex-step"),
                 (1 / np.cosh(a @ x) ** 2)[:, None] * a, rtol=1e-14, atol=1e-16)
    assert_close(gradient(lambda v: np.sum(np.sin(v) ** 2), x, method="complex-step"), np.sin(2 * x),
                 rtol=1e-14, atol=1e-16)


def test_complex_step_refuses_a_function_that_drops_the_imaginary_part() -> None:
    with pytest.raises(ValueError, match="complex input"):
        derivative(lambda t: np.sin(np.real(t)), 0.3, method="complex-step")
    with pytest.raises(ValueError, match="method must be one of"):
        gradient(np.sum, np.zeros(2), method="forward")


def test_identity_domains_are_checked_when_declared() -> None:
    with pytest.raises(ValueError, match="finite lo < hi"):
        interval(1.0, 0.0)
    with pytest.raises(ValueError, match="lo <= hi"):
        integers(3, 1)
    with pytest.raises(ValueError, match="kind must be one of"):
        matrix(3, kind="unitary")
    with pytest.raises(ValueError, match="domain of x"):
        identity(x=(0, 1))
    with pytest.raises(ValueError, match="needs the domain"):
        identity()
    assert interval(1e-9, 1.0).special()[:2] == [1e-9, 1.0]
    assert 0.0 in interval(-1.0, 1.0).special() and all(-1 <= v <= 1 for v in interval(-1.0, 1.0).special())
    assert vector(3).draw(np.random.default_rng(0)).shape == (3,)
    spd = matrix(4, kind="spd").draw(np.random.default_rng(0))
    assert np.all(np.linalg.eigvalsh(spd) > 0)


def test_intervals_spanning_decades_are_sampled_by_magnitude() -> None:
    rng = np.random.default_rng(3)
    draws = np.array([interval(1e-9, 1.0).draw(rng) for _ in range(2000)])
    assert np.all((draws >= 1e-9) & (draws <= 1.0))
    assert np.mean(draws < 1e-3) > 0.25, "uniform draws alone would almost never go below 1e-3"


def test_generators() -> None:
    rng = np.random.default_rng(7)
    assert random_vector(rng, 4).shape == (4,)
    assert random_matrix(rng, 2, 5).shape == (2, 5)
    q = random_orthogonal(rng, 5)
    assert_close(q.T @ q, np.eye(5), atol=1e-12)
    for _ in range(10):
        s = random_spd(rng, 6, cond=1e3)
        assert np.array_equal(s, s.T)
        eig = np.linalg.eigvalsh(s)
        assert eig.min() > 0
        assert eig.max() / eig.min() <= 1e3 * (1 + 1e-8)
        np.linalg.cholesky(s)


def test_decorators_record_settings() -> None:
    @samples(7)
    def a(rng: np.random.Generator) -> None: ...

    @verifier(rtol=1e-4, timeout=2)
    @samples(3)
    def b(rng: np.random.Generator) -> None: ...

    @verifier
    def c(rng: np.random.Generator) -> None: ...

    assert settings_of(a).samples == 7
    assert settings_of(b) == VerifierSettings(samples=3, rtol=1e-4, timeout=2)
    assert settings_of(c) == VerifierSettings()
    with pytest.raises(ValueError):
        samples(0)


def test_the_api_is_reachable_from_qed_and_under_its_earlier_name():
    import qed
    import qed.numeric
    import qed.verifier_api

    for name in qed.verifier_api.__all__:
        assert getattr(qed, name) is getattr(qed.verifier_api, name) is getattr(qed.numeric, name)
    with pytest.raises(AttributeError):
        qed.not_a_helper  # noqa: B018


def test_the_build_does_not_load_numpy_until_a_verifier_runs():
    code = "import sys, qed.cli, qed.pipeline; from qed import math, bodies; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
