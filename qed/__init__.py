"""qed: a static site generator for mathematical notes whose theorems are checked by code."""

from __future__ import annotations

__version__ = "0.1.0"
