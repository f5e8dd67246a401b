"""Output: the only module that writes the site. Builds into a staging folder, swaps it in whole.

A failed build never touches the last good site, every write is checked to stay inside
the output folder, and folders that would destroy user data are refused up front. The swap
is one system call where Linux allows it (`renameat2` exchanging the two folders), so a
build killed at any moment leaves `public/` whole, and two builds publishing at once both
succeed. An output folder that cannot be renamed (a mount point, such as a Docker volume)
has its contents replaced in place instead. Staging and old folders left by killed builds
are removed by the next one; each live build holds a lock on its staging folder, so a
folder still in use is never taken.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
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
    """A fresh folder beside the destination that receives the whole build before the swap
    (inside it when the destination is a mount point, whose contents are then replaced)."""

    destination: Path
    root: Path = field(init=False)
    files_written: int = 0
    in_place: bool = field(init=False, default=False)  # the destination cannot be renamed: replace its contents
    _lock: int | None = field(init=False, default=None, repr=False)
    journal: list[str] = field(default_factory=list)  # every file written, in order (for the output manifest)

    def __post_init__(self) -> None:
        self.destination = self.destination.resolve()
        try:
            self.destination.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_folders(self.destination)
            self.in_place = is_mount_point(self.destination)
            self.root = self._make_root()
        except OSError as exc:
            raise QedError(f"cannot prepare the output folder {self.destination}: {exc.strerror or exc}") from None
        self._lock = _lock_folder(self.root)

    def _make_root(self) -> Path:
        if not self.in_place:
            try:
                return Path(tempfile.mkdtemp(prefix=f".{self.destination.name}.{_STAGING}-{os.getpid()}-",
                                             dir=self.destination.parent))
            except PermissionError:  # the folder above cannot be written (a volume's mount point)
                if not self.destination.is_dir():
                    raise
                self.in_place = True
        return Path(tempfile.mkdtemp(prefix=f"{_INNER}{_STAGING}-{os.getpid()}-", dir=self.destination))

    def path_for(self, relative: str) -> Path:
        """Where `relative` goes; anything that would land outside the output is refused."""
        target = (self.root / relative.lstrip("/")).resolve()
        if not target.is_relative_to(self.root):
            raise QedError(f"refusing to write {relative!r}: it is outside the output folder")
        return target

    def write_text(self, relative: str, text: str) -> None:
        with _writing(relative):
            target = self._fresh(relative)
            target.write_text(text, encoding="utf-8")
        self.files_written += 1
        self.journal.append(relative)

    def copy_file(self, source: Path, relative: str) -> None:
        with _writing(relative):
            target = self._fresh(relative)
            shutil.copy2(source, target)
        self.files_written += 1
        self.journal.append(relative)

    def copy_tree(self, source: Path, relative: str = "", *, within: Sequence[Path] = ()) -> None:
        """Copy a folder's files (static/, a bundle's resources) below `relative`; symbolic
        links are followed only where they point inside `source` or one of `within` (the site)."""
        for path, name in tree_files(source, (source, *within)).files:
            self.copy_file(path, f"{relative}/{name}".lstrip("/"))

    def _fresh(self, relative: str) -> Path:
        """The path to write `relative` to, with no file there: one taken over by `reuse` is a
        link to the last site's, which must never be written through."""
        target = self.path_for(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return target

    def reuse(self, relative: str, previous: Path) -> bool:
        """Take `relative` over unchanged from the last site in `previous`: a hard link (no
        copy, no rewrite), or a copy where links are impossible; False when it is not there."""
        source = previous / relative.lstrip("/")
        if not source.is_file() or source.is_symlink():
            return False
        with _writing(relative):
            target = self._fresh(relative)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
        self.files_written += 1
        return True

    def forget(self, relative: str) -> None:
        """Remove a file taken over by `reuse` (never written through: it may be a link)."""
        self.path_for(relative).unlink(missing_ok=True)
        self.files_written -= 1

    def publish(self) -> None:
        """Put the staging folder in place of the destination in one step (or, for a mount
        point, replace its contents), then remove the old site."""
        try:
            (self.root / OWNER_MARK).write_text("This folder is written by qed; it is replaced on every build.\n")
            os.chmod(self.root, 0o755)
            if self.in_place:
                replace_contents(self.destination, self.root)
            else:
                self.in_place = _swap_in(self.root, self.destination)
        except OSError as exc:
            raise QedError(f"cannot publish the site into {self.destination}: {exc.strerror or exc}") from None
        finally:
            self._unlock()

    def discard(self) -> None:
        """Drop the half-built site; the destination is left as it was."""
        shutil.rmtree(self.root, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


@dataclass(frozen=True)
class TreeFiles:
    """What of a folder is published: its files (path, name below the folder), and the
    symbolic links left out because they point outside the site (link, where it points)."""

    files: list[tuple[Path, str]]
    outside: list[tuple[Path, Path]]


def tree_files(source: Path, within: Sequence[Path]) -> TreeFiles:
    """The files below `source`, names starting with a dot left out. A symbolic link is
    followed when it resolves inside one of `within`, so a link cannot publish `/etc` or
    `~/.ssh`; a link back to a folder it is in is not followed again."""
    roots = tuple(root.resolve() for root in within)
    found = TreeFiles([], [])

    def visit(folder: Path, prefix: str, ancestors: frozenset[Path]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            path = folder / entry.name
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                target = path.resolve()
                if not any(target.is_relative_to(root) for root in roots):
                    found.outside.append((path, target))
                    continue
            if entry.is_dir():
                real = path.resolve()
                if real not in ancestors:
                    visit(path, f"{prefix}{entry.name}/", ancestors | {real})
            elif entry.is_file():
                found.files.append((path, f"{prefix}{entry.name}"))

    if source.is_dir():
        visit(source, "", frozenset({source.resolve()}))
    return found


_STAGING, _OLD = "staging", "old"
_INNER = ".qed-"  # temporary folders inside an output folder that is a mount point
_TEMPORARY = rf"({_STAGING}|{_OLD})-[0-9]+-[a-z0-9_]{{8}}"  # what the build's pid and a random part follow
_SWAP_ATTEMPTS = 20  # other builds publishing at the same moment can each move the folder once
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _swap_in(staged: Path, destination: Path) -> bool:
    """Make `staged` the destination; True when it had to be done in place (a mount point).
    Another build publishing at the same moment only makes this one try again."""
    for _ in range(_SWAP_ATTEMPTS):
        try:
            if exchange(staged, destination):
                shutil.rmtree(staged, ignore_errors=True)  # the old site, now under the staging name
                return False
            if _rename_twice(staged, destination):
                return False
        except FileNotFoundError:  # no site yet (or another build's two renames are half done)
            try:
                os.rename(staged, destination)
                return False
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        except OSError as exc:
            if exc.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            replace_contents(destination, staged)
            return True
    raise QedError(f"other builds kept replacing {destination} while this one published; build again")


def exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one system call (Linux's `renameat2(RENAME_EXCHANGE)`); False where
    the system or file system cannot, an OSError when a path is missing or cannot be moved."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _rename_twice(staged: Path, destination: Path) -> bool:
    """Where folders cannot be exchanged: the old site aside, the new one in, the old removed.
    False when another build put its site in between (then the caller tries again)."""
    old = destination.with_name(f".{destination.name}.{_OLD}-{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(destination, old)
    try:
        os.rename(staged, destination)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            with contextlib.suppress(OSError):
                os.rename(old, destination)
            raise
        return False
    finally:
        shutil.rmtree(old, ignore_errors=True)
    return True


def replace_contents(destination: Path, staged: Path) -> None:
    """A folder that cannot be renamed (a mount point): move its entries aside, the new ones
    in, then remove the old. Not one step, so builds take turns (a lock on the folder)."""
    lock = os.open(destination, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        _flock(lock, blocking=True)
        old = Path(tempfile.mkdtemp(prefix=f"{_INNER}{_OLD}-{os.getpid()}-", dir=destination))
        for entry in list(destination.iterdir()):
            if entry != old and entry.name != OWNER_MARK and not _temporary_name(destination, entry.name):
                os.rename(entry, old / entry.name)
        for entry in sorted(staged.iterdir(), key=lambda e: e.name == OWNER_MARK):
            shutil.move(entry, destination / entry.name)  # across file systems, a copy
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(staged, ignore_errors=True)
    finally:
        os.close(lock)


def is_mount_point(path: Path) -> bool:
    """A folder another file system (or a bind mount) is mounted on: it cannot be renamed."""
    if not path.is_dir():
        return False
    if os.path.ismount(path):
        return True
    try:
        table = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    wanted = str(path)
    for line in table.splitlines():
        fields = line.split(" ")
        if len(fields) > 4 and _unescape_mount(fields[4]) == wanted:
            return True
    return False


def _unescape_mount(field_text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field_text)


def remove_stale_folders(destination: Path) -> None:
    """Remove the staging and old folders that killed or failed builds left beside (or, for a
    mount point, inside) the destination: only names qed makes, and none a live build holds."""
    places = [destination.parent, destination]
    for place in places:
        if not place.is_dir():
            continue
        for entry in place.iterdir():
            inside = place == destination
            if (_temporary_name(destination, entry.name) if inside else _beside_name(destination, entry.name)) \
                    and entry.is_dir() and not entry.is_symlink() and not _in_use(entry):
                shutil.rmtree(entry, ignore_errors=True)


def _beside_name(destination: Path, name: str) -> bool:
    return re.fullmatch(rf"\.{re.escape(destination.name)}\.{_TEMPORARY}", name) is not None


def _temporary_name(destination: Path, name: str) -> bool:
    return re.fullmatch(rf"{re.escape(_INNER)}{_TEMPORARY}", name) is not None


def _lock_folder(folder: Path) -> int | None:
    """Hold a lock on the staging folder while the build lives (released when it dies)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    _flock(fd, blocking=False)
    return fd


def _in_use(folder: Path) -> bool:
    """Whether a live build holds the folder's lock (it is taken and released at once if not),
    or the build named in it is alive (it may not have taken the lock yet)."""
    pid = int(folder.name.rsplit("-", 2)[-2])
    if pid == os.getpid() or _pid_alive(pid):
        return True
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return True  # cannot tell: leave it
    try:
        return _flock(fd, blocking=False) is False
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _flock(fd: int, *, blocking: bool) -> bool | None:
    """Take an exclusive lock: True taken, False held elsewhere, None where the file system has none."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


@contextlib.contextmanager
def _writing(relative: str) -> Iterator[None]:
    """A file the system refuses (a name too long, a full disk, no permission) is the user's
    situation, not a bug: one line naming the file and the reason."""
    try:
        yield
    except OSError as exc:
        shown = relative if len(relative) <= 80 else relative[:77] + "..."
        raise QedError(f"cannot write {shown} in the output: {exc.strerror or exc}") from None
