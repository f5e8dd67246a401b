"""Output: the only module that writes the site. Builds into a staging folder, swaps it in whole.

A failed build never touches the last good site, every write is checked to stay inside
the output folder, and folders that would destroy user data are refused up front.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qed.errors import QedError

OWNER_MARK = ".qed-output"
"""File left in every output folder, so qed only ever replaces a folder it wrote itself."""


def check_destination(destination: Path, site_root: Path) -> None:
    """Refuse output folders whose replacement would destroy the user's files."""
    dest = destination.resolve()
    root = site_root.resolve()
    home = Path.home().resolve()
    reasons = [
        (dest == Path(dest.anchor), "it is the file system root"),
        (dest == home, "it is your home folder"),
        (dest == root, "it is the site folder itself"),
        (root.is_relative_to(dest), "it contains the site folder"),
        (dest.is_relative_to(root / "content"), "it is inside content/"),
        (dest.is_relative_to(root / "layouts") or dest.is_relative_to(root / "static"), "it holds site sources"),
        (dest.is_relative_to(root / "verifiers"), "it is inside verifiers/"),
    ]
    for refused, why in reasons:
        if refused:
            raise QedError(f"refusing to build into {destination}: {why}; choose another -d/--destination")
    if dest.exists() and not dest.is_dir():
        raise QedError(f"refusing to build into {destination}: it is a file, not a folder; "
                       "choose another -d/--destination")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / OWNER_MARK).exists():
        raise QedError(f"refusing to replace {destination}: it is not empty and was not written by qed "
                       f"(no {OWNER_MARK} file); choose an empty folder or remove it yourself")


@dataclass
class Staging:
    """A fresh folder beside the destination that receives the whole build before the swap."""

    destination: Path
    root: Path = field(init=False)
    files_written: int = 0

    def __post_init__(self) -> None:
        self.destination = self.destination.resolve()
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f".{self.destination.name}.staging-", dir=self.destination.parent))

    def path_for(self, relative: str) -> Path:
        """Where `relative` goes; anything that would land outside the output is refused."""
        target = (self.root / relative.lstrip("/")).resolve()
        if not target.is_relative_to(self.root):
            raise QedError(f"refusing to write {relative!r}: it is outside the output folder")
        return target

    def write_text(self, relative: str, text: str) -> None:
        with _writing(relative):
            target = self.path_for(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.files_written += 1

    def copy_file(self, source: Path, relative: str) -> None:
        with _writing(relative):
            target = self.path_for(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        self.files_written += 1

    def copy_tree(self, source: Path, relative: str = "") -> None:
        """Copy a folder's files (static/, a bundle's resources) below `relative`."""
        for path, target in tree_files(source, relative):
            self.copy_file(path, target)

    def publish(self) -> None:
        """Swap the staging folder in place of the destination, as one rename where possible."""
        (self.root / OWNER_MARK).write_text("This folder is written by qed; it is replaced on every build.\n")
        os.chmod(self.root, 0o755)
        old = None
        if self.destination.exists():
            old = self.destination.with_name(f".{self.destination.name}.old-{os.getpid()}")
            self.destination.rename(old)
        self.root.rename(self.destination)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Drop the half-built site; the destination is left as it was."""
        shutil.rmtree(self.root, ignore_errors=True)


def tree_files(source: Path, relative: str = "") -> list[tuple[Path, str]]:
    """The files of a folder that are published (hidden ones left out), each with its place below `relative`."""
    if not source.is_dir():
        return []
    return [(path, f"{relative}/{path.relative_to(source).as_posix()}".lstrip("/"))
            for path in sorted(source.rglob("*"))
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(source).parts)]


@contextlib.contextmanager
def _writing(relative: str) -> Iterator[None]:
    """A file the system refuses (a name too long, a full disk, no permission) is the user's
    situation, not a bug: one line naming the file and the reason."""
    try:
        yield
    except OSError as exc:
        shown = relative if len(relative) <= 80 else relative[:77] + "..."
        raise QedError(f"cannot write {shown} in the output: {exc.strerror or exc}") from None
