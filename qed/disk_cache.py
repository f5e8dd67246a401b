"""Work kept between builds, in SQLite files under the site's `.qed-cache/`: KaTeX's output
per formula (`katex.sqlite`) and rendered page bodies (`bodies.sqlite`).

A warm build reads what it needs with one query per page instead of opening a file per
item (31,000 formulas for 1,000 posts). Writes are buffered and committed in batches.
SQLite's locking lets two builds share a cache; any failure only costs time, so errors
turn the cache off for the rest of the build instead of failing it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_SCHEMA = "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID"
_BATCH = 500  # SQLite allows 999 parameters per statement in old builds


class DiskCache:
    """Values (text or bytes) by key; `None` as path keeps nothing, `clear=True` starts empty (`--clean`)."""

    def __init__(self, path: Path | None, *, clear: bool = False):
        self.path = path
        self._clear = clear
        self._db: sqlite3.Connection | None = None
        self._pending: dict[str, Any] = {}
        self._broken = path is None

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
                found.update(db.execute(f"SELECT key, value FROM entries WHERE key IN ({marks})", chunk))
        except sqlite3.Error:
            self._give_up()
        return found

    def put(self, key: str, value: str | bytes) -> None:
        if not self._broken:
            self._pending[key] = value

    def flush(self) -> None:
        """Write what `put` buffered, in one transaction."""
        if not self._pending:
            return
        db = self._connect()
        if db is not None:
            try:
                with db:
                    db.executemany("INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)",
                                   self._pending.items())
            except sqlite3.Error:
                self._give_up()
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
                self._db = sqlite3.connect(self.path, timeout=30)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # a cache may lose its last writes on power loss
                self._db.execute(_SCHEMA)
                if self._clear:
                    with self._db:
                        self._db.execute("DELETE FROM entries")
                    self._clear = False
            except (OSError, sqlite3.Error):
                self._give_up()
        return self._db

    def _give_up(self) -> None:
        self._broken = True
        if self._db is not None:
            self._db.close()
            self._db = None
