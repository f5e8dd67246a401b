"""qed: a static site generator for mathematical notes whose theorems are checked by code.

Verifiers import their helpers from here (`from qed import assert_close, gradient`): every
name of `qed.verifier_api.__all__`, loaded (with numpy) only when first used, so the build
starts fast.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # `from qed import math` asks here before it imports the submodule: submodules are not API
    if not name.startswith("_") and importlib.util.find_spec(f"qed.{name}") is None:
        api = importlib.import_module("qed.verifier_api")
        if name in api.__all__:
            return getattr(api, name)
    raise AttributeError(f"module 'qed' has no attribute {name!r}")
