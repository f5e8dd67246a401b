"""Verification results on disk, keyed on everything that can change a verdict.

The key hashes the claim id (seeds derive from it), the verifier spec, per-claim
settings, `expect`, the source of the verifier's module and of every local module it
imports (transitively), and the Python and numpy versions. Prose edits change none of
these, so they re-run nothing; editing a helper module does. Only settled outcomes
(passed, failed) are stored: errors and timeouts run again next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

CACHE_FORMAT = "qed-verification-1"


def environment_fingerprint() -> dict[str, str]:
    """Versions that change results: Python, numpy, and Hypothesis (which draws a property's
    examples), read without importing them."""
    return {"python": sys.version.split()[0], "numpy": _version("numpy"), "hypothesis": _version("hypothesis"),
            "format": CACHE_FORMAT}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def source_digest(files: list[Path], project_root: Path) -> dict[str, str]:
    """sha256 of each file, by its path relative to the project (so moving the site is fine)."""
    digests = {}
    root = project_root.resolve()
    for path in files:
        try:
            name = path.resolve().relative_to(root).as_posix()
        except ValueError:
            name = str(path)
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@dataclass(frozen=True)
class VerdictCache:
    """One JSON file per key under `directory` (`<cache_dir>/verification`)."""

    directory: Path

    def key(self, parts: dict[str, Any]) -> str:
        blob = json.dumps(parts, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("key") == key else None

    def store(self, key: str, record: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**record, "key": key}), encoding="utf-8")
        os.replace(tmp, path)
