"""qed: a static site generator for mathematical notes whose theorems are checked by code.

Verifiers import their helpers from here (`from qed import assert_close, gradient`); those
names load `qed.numeric` (and numpy) only when first used, so the build starts fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_NUMERIC = frozenset({
    "assert_close", "is_close", "derivative", "gradient", "jacobian", "directional_derivative",
    "random_vector", "random_matrix", "random_orthogonal", "random_spd", "random_function",
    "samples", "verifier", "VerifierSettings",
})
__all__ = ["__version__", *sorted(_NUMERIC)]


def __getattr__(name: str) -> Any:
    if name in _NUMERIC:
        from qed import numeric

        return getattr(numeric, name)
    raise AttributeError(f"module 'qed' has no attribute {name!r}")
