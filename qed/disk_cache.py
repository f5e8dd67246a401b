"""Work kept between builds, in SQLite files under the site's `.qed-cache/`: KaTeX's output
per formula (`katex.sqlite`) and rendered page bodies (`bodies.sqlite`).

A warm build reads what it needs with one query per page instead of opening a file per
item (31,000 formulas for 1,000 posts). Writes are buffered and committed in batches.
SQLite's locking lets two builds share a cache; any failure only costs time. A damaged file
(not a database, a malformed page, a table of another shape) is removed and started afresh,
with a warning naming it; other failures (locked, disk full, read-only) turn the cache off
for the rest of the build instead of failing it. `--clean` removes the files first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qed.errors import Diagnostics, Location, QedError, display_path

_SCHEMA = "CREATE TABLE IF NOT EXISTS {} (key TEXT PRIMARY KEY, value NOT NULL)"  # rowid: values are large
_BATCH = 500  # SQLite allows 999 parameters per statement in old builds
_NOT_DAMAGE = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
               sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
               sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH}
"""SQLite's result codes that say something about the system, not about the file's contents."""


def check_cache_folder(folder: Path) -> None:
    """The caches' folder must be a folder qed can write: one line naming it if not."""
    shown = display_path(folder)
    if folder.exists() and not folder.is_dir():
        raise QedError(f"{shown} is a file, but qed keeps its caches in a folder of that name; "
                       "remove or rename the file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QedError(f"cannot create {shown} for qed's caches: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise QedError(f"cannot write qed's caches into {shown}: it is read-only; make it writable")


class DiskCache:
    """Values (text or bytes) by key; `None` as path keeps nothing, `clear=True` starts empty
    (`--clean`); a damaged file is rebuilt and reported to `diagnostics` as a warning (by the
    process that made the cache: a forked worker that finds it damaged stops using it). Each
    process opens its own connection. `table` names the table (a store's own name)."""

    def __init__(self, path: Path | None, *, clear: bool = False, diagnostics: Diagnostics | None = None,
                 table: str = "entries"):
        self.path = path
        self._clear = clear
        self._diagnostics = diagnostics
        self._table = table
        self._owner = os.getpid()
        self._db: sqlite3.Connection | None = None
        self._pid = 0  # the process that opened `_db`
        self._inherited: sqlite3.Connection | None = None
        self._pending: dict[str, Any] = {}
        self._broken = path is None
        self._rebuilt = False

    @property
    def usable(self) -> bool:
        """False once the cache has been turned off (no path, or a file it cannot use)."""
        return not self._broken

    def present(self, keys: Iterable[str]) -> set[str]:
        """Those of `keys` that are stored (their values are not read)."""
        wanted = list(dict.fromkeys(keys))
        found = {key for key in wanted if key in self._pending}
        db = self._connect()
        if db is None:
            return found
        try:
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start:start + _BATCH]
                marks = ",".join("?" * len(chunk))
                found.update(row[0] for row in db.execute(
                    f"SELECT key FROM {self._table} WHERE key IN ({marks})", chunk))
        except sqlite3.Error as exc:
            self._failed(exc)
        return found

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The cached values of those `keys` that are in the cache."""
        wanted = list(dict.fromkeys(keys))
        found = {k: self._pending[k] for k in wanted if k in self._pending}
        db = self._connect()
        if db is None:
            return found
        try:
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start:start + _BATCH]
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(f"SELECT key, value FROM {self._table} WHERE key IN ({marks})", chunk))
        except sqlite3.Error as exc:
            self._failed(exc)
        return found

    def open(self) -> None:
        """Open the file now (emptying it on `clear`), before worker processes open their own."""
        self._connect()

    def put(self, key: str, value: str | bytes) -> None:
        if not self._broken:
            self._pending[key] = value

    def flush(self) -> bool:
        """Write what `put` buffered, in one transaction (again on a rebuilt file, once);
        whether it was written."""
        written = not self._pending
        for _attempt in range(2 if self._pending else 0):
            db = self._connect()
            if db is None:
                break
            try:
                with db:
                    db.executemany(f"INSERT OR REPLACE INTO {self._table} (key, value) VALUES (?, ?)",
                                   self._pending.items())
                written = True
                break
            except sqlite3.Error as exc:
                self._failed(exc)
        self._pending.clear()
        return written

    def close(self) -> None:
        self.flush()
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None and self._pid != os.getpid():  # a forked child: never use the parent's,
            self._inherited, self._db = self._db, None  # nor close it (held, so that it is never collected)
        if self._db is None and not self._broken:
            try:
                self._db = self._open()
                self._pid = os.getpid()
            except sqlite3.Error as exc:
                self._failed(exc)
            except OSError:
                self._give_up()
        return self._db

    def _open(self) -> sqlite3.Connection:
        """The database, with its table; on `--clean` the old files are removed first."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._clear:
            remove_cache_files(self.path)
            self._clear = False
        if self.path.is_dir() and not self.path.is_symlink():
            raise sqlite3.DatabaseError("a folder, not a database file")
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # a cache may lose its last writes on power loss
            db.execute(_SCHEMA.format(self._table))
            db.execute(f"SELECT key, value FROM {self._table} LIMIT 0")  # a table of another shape fails here
        except BaseException:
            db.close()
            raise
        return db

    def _failed(self, exc: sqlite3.Error) -> None:
        """A damaged file is rebuilt (once a build, by the process that made the cache: files
        other processes use are never removed under them); anything else turns the cache off."""
        if damaged(exc) and not self._rebuilt and os.getpid() == self._owner:
            self._rebuild(exc)
        else:
            self._give_up()

    def _rebuild(self, exc: sqlite3.Error) -> None:
        assert self.path is not None
        self._rebuilt = True
        self._close_quietly()
        if self._diagnostics is not None:
            self._diagnostics.warning(f"the cache was damaged ({exc}); it is rebuilt",
                                      Location(display_path(self.path)))
        try:
            remove_cache_files(self.path)
            self._db = self._open()
            self._pid = os.getpid()
        except (OSError, sqlite3.Error):
            self._give_up()

    def _give_up(self) -> None:
        self._broken = True
        self._close_quietly()

    def _close_quietly(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None


def damaged(exc: sqlite3.Error) -> bool:
    """Whether an error says the file's contents are wrong (rather than the system)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.DatabaseError) and (code is None or code & 0xFF not in _NOT_DAMAGE)


def remove_cache_files(path: Path) -> None:
    """The database and SQLite's files beside it (its journal, write-ahead log and index)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
