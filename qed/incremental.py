"""What a build takes over from the last one: finished page texts, and output files whose
inputs have not changed.

Two records are kept under `.qed-cache/`:

- `texts.sqlite`: each page's finished `PageText`, keyed by `text_key`: the page's body
  key (its file and everything a body reads), the labels it cites, its claims' badges and
  the KaTeX build. A page whose key is known is neither typeset nor finished again.
- `output-*.json`, the manifest of the last site published in an output folder: for each
  output unit (a page with its pagers, aliases and bundle files; a feed; the sitemap; a
  static file...) the files it wrote, the pages whose text its templates read, and a key
  over all of that plus `site_key` (code, config, templates, every page's front matter,
  labels, KaTeX). A unit whose key is unchanged is hard-linked from the last site into the
  staging folder instead of rendered and written.

Page texts are not held in memory: `page.text` is a `LazyText` that reads the stored text
when a template asks for it (and records, for the manifest, that the template did), so a
build's memory does not grow with the size of the site.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qed.body import Label, PageText
from qed.disk_cache import DiskCache
from qed.errors import Diagnostics, QedError
from qed.output import Staging

FORMAT = 1  # bump when what a key covers changes
_FLUSH_EVERY = 100  # finished texts buffered before they go to disk (bounds memory on a cold build)
_SCHEMA = "CREATE TABLE IF NOT EXISTS texts (key TEXT PRIMARY KEY, value NOT NULL)"  # keys apart: a quick `present`
_LONG_FIELDS = ("content", "plain_text", "toc")  # stored apart from the rest of a `PageText`
_SHORT = "/short"
_LOADED_KEPT = 32  # texts kept decoded per process (a list page reads its members' summaries)


def text_key(body_key: str, references: Sequence[str], labels: Mapping[str, Label],
             claim_html: Sequence[str], katex: str) -> str:
    """What a page's finished text depends on besides its body: the labels it cites, the
    HTML of its claims' badges and links, and the KaTeX build that typesets its formulas."""
    cited = [[target, repr(labels.get(target))] for target in references]
    parts = json.dumps([FORMAT, body_key, cited, list(claim_html), katex])
    return hashlib.sha256(parts.encode()).hexdigest()


class TextStore:
    """Finished page texts by text key, in SQLite; readable from forked worker processes
    (each process opens its own connection)."""

    def __init__(self, path: Path | None, *, clear: bool = False, diagnostics: Diagnostics | None = None):
        self.path = path
        self._disk = DiskCache(path, clear=clear, diagnostics=diagnostics, table="texts")
        self._transient: dict[str, PageText] = {}  # texts that must not outlive this build
        self._loaded: OrderedDict[str, PageText] = OrderedDict()
        self._pending_texts: dict[str, PageText] = {}  # put, not yet written: kept for this build if writing fails
        self.recording: set[str] | None = None  # source paths whose text was read, while recording

    def present(self, keys: Sequence[str]) -> set[str]:
        """Those of `keys` whose text is stored."""
        return self._disk.present(keys)

    def put(self, key: str, text: PageText, *, keep: bool = True) -> None:
        """Add a finished text; `keep=False`: for this build only (its page had messages,
        which the next build must give again)."""
        if not keep or not self._disk.usable:
            self._keep_for_this_build(key, text)
            return
        self._disk.put(key, pickle.dumps(text, protocol=pickle.HIGHEST_PROTOCOL))
        self._disk.put(key + _SHORT, pickle.dumps(shortened(text), protocol=pickle.HIGHEST_PROTOCOL))
        self._pending_texts[key] = text
        if len(self._pending_texts) >= _FLUSH_EVERY:
            self.flush()

    def store_now(self, key: str, text: PageText) -> bool:
        """`put` and write it out at once (a forked worker's store ends with the worker);
        False when it could not be stored, so that the caller keeps the text."""
        self.put(key, text)
        self.flush()
        return key not in self._transient

    def text(self, key: str) -> PageText:
        """The text stored under `key` (a key is only handed out once its text is stored)."""
        found = self._transient.get(key) or self._loaded.get(key)
        if found is not None:
            return found
        data = self._disk.get_many([key]).get(key)
        if data is None:  # the cache was damaged during the build: never publish an empty page
            raise QedError(f"cannot read a finished page back from {self.path}; build again with --clean")
        found = self._loaded[key] = pickle.loads(data)
        if len(self._loaded) > _LOADED_KEPT:
            self._loaded.popitem(last=False)
        return found

    def touch(self, source_path: str) -> None:
        if self.recording is not None:
            self.recording.add(source_path)

    @contextlib.contextmanager
    def recording_reads(self) -> Iterator[set[str]]:
        """Collect the source paths of the pages whose text is read inside the block."""
        outer, self.recording = self.recording, set()
        try:
            yield self.recording
        finally:
            if outer is not None:
                outer.update(self.recording)
            self.recording = outer

    def flush(self) -> None:
        if self._pending_texts and not self._disk.flush():  # texts that cannot be stored are kept for this build
            for key, text in self._pending_texts.items():
                self._keep_for_this_build(key, text)
        self._pending_texts.clear()

    def _keep_for_this_build(self, key: str, text: PageText) -> None:
        self._transient[key] = text
        self._transient[key + _SHORT] = shortened(text)

    def close(self) -> None:
        self.flush()
        self._disk.close()


class LazyText:
    """Stands for a page's `PageText` (`page.text`): read from the store on first use of an
    attribute, and each use recorded as a dependency of the output being rendered."""

    __slots__ = ("_key", "_source_path", "_store")

    def __init__(self, store: TextStore, key: str, source_path: str):
        self._store = store
        self._key = key
        self._source_path = source_path

    def __getattr__(self, name: str) -> Any:
        self._store.touch(self._source_path)
        key = self._key if name in _LONG_FIELDS else self._key + _SHORT
        return getattr(self._store.text(key), name)


def shortened(text: PageText) -> PageText:
    """The text without its long fields: what a list page reads of its members (title,
    summary, word count...) without reading their whole content back."""
    return replace(text, **dict.fromkeys(_LONG_FIELDS, ""))


@dataclass
class OutputUnit:
    """One unit of output as the manifest keeps it: its files and what it read."""

    files: list[str]
    deps: list[str]  # source paths of pages whose text it read
    key: str
    reused: bool = False  # taken over from the last site in this build (not kept in the manifest)


@dataclass
class OutputReuse:
    """Decides, unit by unit, whether the last site's files can be taken over as they are."""

    manifest_path: Path
    previous_root: Path  # the published site the manifest describes
    site_key: str
    text_keys: Mapping[str, str]  # source path → this build's text key
    texts: TextStore
    enabled: bool = True
    previous: dict[str, OutputUnit] = field(default_factory=dict)
    current: dict[str, OutputUnit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.enabled:
            self.previous = _read_manifest(self.manifest_path, self.previous_root)

    def unit_key(self, unit_id: str, deps: Sequence[str], extra: str) -> str:
        inputs = [FORMAT, self.site_key, unit_id, extra, [[dep, self.text_keys.get(dep, "")] for dep in deps]]
        return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()

    def write(self, unit_id: str, staging: Staging, render: Callable[[], None], extra: str = "") -> OutputUnit:
        """Take the unit over from the last site when nothing it read has changed, otherwise
        `render()` it into `staging`, recording the files it writes and the texts it reads."""
        old = self.previous.get(unit_id)
        if old is not None and old.key == self.unit_key(unit_id, old.deps, extra) and self._take_over(old, staging):
            self.current[unit_id] = replace(old, reused=True)
            return self.current[unit_id]
        start = len(staging.journal)
        with self.texts.recording_reads() as deps:
            render()
        unit = OutputUnit(staging.journal[start:], sorted(deps), "")
        unit.key = self.unit_key(unit_id, unit.deps, extra)
        self.current[unit_id] = unit
        return unit

    @property
    def reused_units(self) -> int:
        return sum(unit.reused for unit in self.current.values())

    def adopt(self, units: Iterable[tuple[str, OutputUnit]]) -> None:
        """Record units written in worker processes (their own `current` stays there)."""
        self.current.update(units)

    def _take_over(self, unit: OutputUnit, staging: Staging) -> bool:
        """Link every file of `unit` from the last site; all or none (a file gone from the last
        site means rendering the unit again, and nothing half-linked may be written over)."""
        linked = []
        for file in unit.files:
            if not staging.reuse(file, self.previous_root):
                for done in linked:
                    staging.forget(done)
                return False
            linked.append(file)
        return True

    def save(self) -> None:
        """Write the manifest of the site just published (only after the swap succeeded)."""
        data = {"format": FORMAT, "root": str(self.previous_root), "folder": _folder_identity(self.previous_root),
                "units": {uid: [unit.key, unit.files, unit.deps] for uid, unit in self.current.items()}}
        self.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.manifest_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, self.manifest_path)

    def forget(self) -> None:
        """The last site is about to change without a manifest for it: drop the old one."""
        with contextlib.suppress(OSError):
            self.manifest_path.unlink()


def _read_manifest(path: Path, root: Path) -> dict[str, OutputUnit]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("root") != str(root) \
            or data.get("folder") != _folder_identity(root):  # another build swapped its site in since
        return {}
    try:
        return {uid: OutputUnit(list(files), list(deps), key) for uid, (key, files, deps) in data["units"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}


def _folder_identity(root: Path) -> list[int]:
    """Which folder `root` is now: each swap puts a new folder (a new inode) in its place."""
    try:
        stat = root.stat()
    except OSError:
        return []
    return [stat.st_dev, stat.st_ino]


def manifest_path(cache_dir: Path, destination: Path) -> Path:
    """Where the manifest of the site published in `destination` is kept: one per output
    folder, so that `qed build` and `qed serve` (which builds elsewhere) do not undo each other's."""
    return cache_dir / f"output-{hashlib.sha256(str(destination).encode()).hexdigest()[:16]}.json"


def file_stamp(path: Path) -> str:
    """What says a copied file changed: its size and modification time."""
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
