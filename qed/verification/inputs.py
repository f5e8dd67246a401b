"""What a verifier read while it ran: the files of the modules it imported (however it
imported them: `import`, `importlib.import_module`, a helper outside `verifiers/`) and the
data files it opened. The worker records them with an audit hook; the cache stores their
digests beside the verdict and reuses it only while every one is unchanged.

Files of Python itself, of installed packages and of qed are left out: their versions are
part of the cache key already (`cache.environment_fingerprint`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_DEVICE_ROOTS = ("/proc/", "/dev/", "/sys/")
QED_PACKAGE = Path(__file__).resolve().parents[1]


def _installed_roots() -> tuple[str, ...]:
    """Folders whose files belong to Python or to installed packages, not to the user's site."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(QED_PACKAGE)}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(name)
        if path:
            roots.add(path)
    return tuple(os.path.join(os.path.realpath(r), "") for r in roots if r)


@dataclass
class InputRecorder:
    """Collects files opened for reading; `files()` adds the imported modules' files."""

    ignored: tuple[str, ...] = ()  # folders of qed's own scratch files (job folder, caches)
    opened: set[str] = field(default_factory=set)

    def start(self) -> None:
        """Install the audit hook (for the rest of this process: workers run one claim)."""
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not args:
            return
        path, mode = args[0], args[1] if len(args) > 1 else None
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            return
        if mode is None and flags & _WRITE_FLAGS:
            return
        if isinstance(path, (str, bytes, os.PathLike)):
            self.opened.add(os.path.abspath(os.fsdecode(path)))

    def files(self) -> list[str]:
        """Every user file read so far: module sources and opened data files, sorted."""
        modules = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
        candidates = {os.path.abspath(p) for p in modules if isinstance(p, str)} | self.opened
        skip = _installed_roots() + tuple(os.path.join(os.path.realpath(d), "") for d in self.ignored)
        found = []
        for path in candidates:
            real = os.path.realpath(path)
            if real.startswith(skip) or real.startswith(_DEVICE_ROOTS) or not os.path.isfile(real):
                continue
            found.append(path)
        return sorted(found)


def digests(files: list[str], root: Path) -> dict[str, str]:
    """sha256 of each file, by its path relative to `root` when it lies inside (so a moved
    site keeps its cache), else absolute; a file that vanished is "missing"."""
    out = {}
    base = root.resolve()
    for name in files:
        path = Path(name)
        try:
            key = path.resolve().relative_to(base).as_posix()
        except ValueError:
            key = str(path)
        out[key] = file_digest(path)
    return out


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def unchanged(recorded: dict[str, str], root: Path) -> bool:
    """True while every recorded file still has the digest it had when the verdict was made."""
    base = root.resolve()
    for name, digest in recorded.items():
        path = Path(name) if Path(name).is_absolute() else base / name
        if file_digest(path) != digest:
            return False
    return True
