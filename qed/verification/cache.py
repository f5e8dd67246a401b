"""Verification results on disk, keyed on everything that can change a verdict.

The key hashes the claim id (seeds derive from it), the verifier spec, the claim's
settings (`samples`, `timeout`, `rtol`, `atol`, `expect`, the memory limit), the source of the verifier's
module and of the local modules it imports (found statically, transitively), the versions
of Python, numpy, Hypothesis and qed with the source of qed's verifier-side code, and the
interpreter flags workers run with. Each entry also lists the digest of every file the
worker saw the verifier read (modules imported at run time, however, and data files
opened); an entry is reused only while all of them are unchanged. Entries are JSON with a
checksum: one that fails it is ignored. Prose edits change none of this, so they re-run
nothing. Only settled outcomes (passed, failed) are stored: errors and timeouts run again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from qed.verification.inputs import QED_PACKAGE, file_digest, unchanged

CACHE_FORMAT = "qed-verification-2"
_QED_VERIFIER_CODE = ("verifier_api.py", "numeric.py", "verification/worker.py", "verification/contract.py",
                      "verification/properties.py", "verification/inputs.py", "verification/identities.py",
                      "verification/number_systems.py")
"""qed's own code that runs inside a worker: a change to it can change a verdict."""


def environment_fingerprint() -> dict[str, str]:
    """What changes results besides the site: Python, numpy, Hypothesis (which draws a
    property's examples), mpmath and SymPy (an identity's confirmation and proof) and qed,
    read without importing them; the flags workers run with."""
    code = hashlib.sha256("".join(file_digest(QED_PACKAGE / name) for name in _QED_VERIFIER_CODE).encode())
    return {"python": sys.version.split()[0], "numpy": _version("numpy"), "hypothesis": _version("hypothesis"),
            "mpmath": _version("mpmath"), "sympy": _version("sympy"), "qed": _version("qed"),
            "qed_code": code.hexdigest(), "flags": _worker_flags(), "format": CACHE_FORMAT}


def _worker_flags() -> str:
    """The interpreter flags of a worker: never -O (runner.worker_command drops it, and the
    worker refuses to run optimised); the flags that carry over from this interpreter."""
    flags = sys.flags
    return f"optimize=0 utf8_mode={flags.utf8_mode} dev_mode={int(flags.dev_mode)} int_max={flags.int_max_str_digits}"


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

    def load(self, key: str, project_root: Path) -> dict[str, Any] | None:
        """The record stored under `key`, if its checksum holds and every file it read is unchanged."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or data.get("checksum") != _checksum(data):
            return None
        record = data.get("record")
        inputs = record.get("inputs") if isinstance(record, dict) else None
        if not isinstance(inputs, dict) or not unchanged(inputs, project_root):
            return None
        return record

    def store(self, key: str, record: dict[str, Any]) -> None:
        """Keep a record; a file where the cache needs a folder is removed first, and a write
        the system refuses is skipped (the claim only runs again next time)."""
        path = self._path(key)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        entry = {"key": key, "record": record}
        try:
            for folder in (self.directory, path.parent):
                if folder.exists() and not folder.is_dir():
                    folder.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({**entry, "checksum": _checksum(entry)}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _checksum(entry: dict[str, Any]) -> str:
    blob = json.dumps({"key": entry.get("key"), "record": entry.get("record")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()
