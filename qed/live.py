"""The site `qed serve` keeps in memory, and rebuilds that redo only what a change reaches.

A full build runs the pipeline's stages once and keeps what each made: pages, rendered
bodies, typeset math, labels, verdicts, the Jinja environment. Every file of the served
site is made by one *producer* (a page's own files, a feed, the sitemap, the search
index...); while a producer or a page body renders, `ReadRecorder` notes which attributes
of which pages (and of the site) its templates read. After an edit, only the changed files
are read again; a body is rendered again when its file changed or something it read did,
formulas are typeset again for those bodies and for pages that cite a label whose text
changed, verifiers run again when a claim or a verifier changed, and a producer runs again
only when a page attribute it read changed (`signatures` of pages before and after). A
change to the config, layouts or theme rebuilds everything. Nothing is written while any
error stands: the folder keeps the last good site, and the next good state is published by
comparing against what was last published, not against the failed state in between.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2

from qed.bodies import BodyTools, RenderedBody, create_body_tools, render_body
from qed.body import Label, PageText
from qed.config import CONFIG_DIR, CONFIG_NAMES, DEFAULT_ENVIRONMENT, load_config
from qed.content import ContentLanguages, ContentOptions, Page, Site, assemble_site, base_path, content_files, read_page
from qed.errors import BuildFailed, Diagnostics, Location, QedError
from qed.katex import KatexRenderer
from qed.labels import collect_labels
from qed.output import OWNER_MARK, tree_files
from qed.page_text import typeset_and_finish
from qed.pagination import PaginationSettings
from qed.parallel import default_jobs, map_in_processes
from qed.pipeline import BuildOptions, apply_overrides, verify_site
from qed.publishing import page_file_writers, page_urls_relative, site_file_writers
from qed.search import SearchSettings
from qed.templates import check_templates, create_environment
from qed.verification import VerificationReport, VerifyOptions

SITE_KEY = "site"
ANY = "*"  # as an attribute: any change of that page; as a key: any change at all
Read = tuple[str, str]  # (page key or SITE_KEY, attribute)
_TEXT_ATTRIBUTES = ("content", "summary", "truncated", "toc", "title_html", "word_count", "reading_time",
                    "head_html", "css", "scripts", "has_mermaid", "plain_text")
_PAGE_REFERENCES = ("text", "file", "pages", "parent", "terms")
_PAGE_FIELDS = tuple(f.name for f in dataclasses.fields(Page) if f.name not in _PAGE_REFERENCES)
_FULL_REBUILD_FOLDERS = ("layouts", "theme", "i18n", CONFIG_DIR)
DEFERRABLE = frozenset({"search"})  # read by no page: may be written just after the reload


def page_key(page: Page) -> str:
    """A page's name across rebuilds: its content file, or its kind and path for a generated page."""
    return page.source_path or f"{page.kind}:{page.path}"


class ReadRecorder:
    """Notes the page and site attributes templates read, by wrapping the environment's
    attribute lookup (what `{{ page.title }}` compiles to)."""

    def __init__(self, env: jinja2.Environment):
        self.reads: set[Read] | None = None
        lookup, item = env.getattr, env.getitem

        def recorded_getattr(obj: Any, attribute: str) -> Any:
            if self.reads is not None:
                self._note(obj, attribute)
            return lookup(obj, attribute)

        def recorded_getitem(obj: Any, argument: Any) -> Any:
            if self.reads is not None and isinstance(argument, str):
                self._note(obj, argument)
            return item(obj, argument)

        env.getattr = recorded_getattr  # type: ignore[method-assign]
        env.getitem = recorded_getitem  # type: ignore[method-assign]

    def _note(self, obj: Any, attribute: str) -> None:
        if isinstance(obj, Page):
            self.reads.add((page_key(obj), attribute))  # type: ignore[union-attr]
        elif isinstance(obj, Site):
            self.reads.add((SITE_KEY, attribute))  # type: ignore[union-attr]

    @contextlib.contextmanager
    def recording(self) -> Iterator[set[Read]]:
        self.reads = reads = set()
        try:
            yield reads
        finally:
            self.reads = None


_STRUCTURE = ("path", "rel_permalink", "permalink", "section", "parent", "pages", "terms")


def signatures(site: Site, known: dict[int, tuple[Page, Any, Any, dict[str, Any]]] | None = None
               ) -> dict[str, dict[str, Any]]:
    """What each page (and the site) shows to templates, attribute by attribute, comparable
    across rebuilds: other pages appear by key. `known` keeps the signatures of page objects
    seen before: one whose file and text are the same objects only has its place in the site
    (URL, parent, lists) read again."""
    sigs = {}
    for page in site.all_pages:
        seen = known.get(id(page)) if known is not None else None
        if seen is not None and seen[0] is page and seen[1] is page.text and seen[2] is page.file:
            structure = _structure(page)
            sig = seen[3]
            if any(sig[name] != value for name, value in structure.items()):
                sig = {**sig, **structure}
        else:
            sig = _page_signature(page)
        if known is not None:
            known[id(page)] = (page, page.text, page.file, sig)
        sigs[page_key(page)] = sig
    sigs[SITE_KEY] = {
        "pages": _keys(site.pages), "all_pages": _keys(site.all_pages), "home": page_key(site.home),
        "sections": {name: page_key(p) for name, p in site.sections.items()},
        "taxonomies": {plural: {term: _keys(pages) for term, pages in terms.items()}
                       for plural, terms in site.taxonomies.items()},
        "taxonomy_pages": _keys(site.taxonomy_pages),
        "labels": {key: _shown(label) for key, label in site.labels.items()},
        "get_page": tuple((page_key(p), p.path) for p in site.all_pages),
    }
    return sigs


def _page_signature(page: Page) -> dict[str, Any]:
    sig = {name: getattr(page, name) for name in _PAGE_FIELDS}
    sig.update({name: getattr(page.text, name) for name in _TEXT_ATTRIBUTES})
    sig["file"] = page.file.text if page.file is not None else None
    sig.update(_structure(page))
    return sig


def _structure(page: Page) -> dict[str, Any]:
    """The attributes the site's assembly sets: URL, section, parent and lists."""
    return {"path": page.path, "rel_permalink": page.rel_permalink, "permalink": page.permalink,
            "section": page.section, "pages": _keys(page.pages),
            "parent": page_key(page.parent) if page.parent is not None else None,
            "terms": {term: _keys(pages) for term, pages in page.terms.items()}}


def _shown(label: Label | None) -> tuple[str, str, str] | None:
    """What a reader sees of a label (its place in the source file is not shown)."""
    return (label.text, label.url, label.kind) if label is not None else None


def _keys(pages: Iterable[Page]) -> tuple[str, ...]:
    return tuple(page_key(page) for page in pages)


@dataclass
class Changes:
    """Which attributes of which pages differ between two `signatures`."""

    attributes: dict[str, set[str]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    @classmethod
    def between(cls, before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> Changes:
        changes = cls(removed=set(before) - set(after))
        for key, sig in after.items():
            old = before.get(key)
            if old is None:
                continue  # a new page: the lists that now hold it changed
            if old is sig:
                continue
            differing = {name for name, value in sig.items() if old.get(name) != value}
            if differing:
                changes.attributes[key] = differing
        return changes

    def __bool__(self) -> bool:
        return bool(self.attributes or self.removed)

    def reaches(self, reads: Iterable[Read]) -> bool:
        """Whether anything read in `reads` changed (an attribute no signature holds, such
        as `location`, counts as changed when anything of its page did)."""
        for key, attribute in reads:
            if key == ANY:
                if self:
                    return True
                continue
            if key in self.removed:
                return True
            changed = self.attributes.get(key)
            if changed and (attribute == ANY or attribute in changed or
                            (key != SITE_KEY and attribute not in _KNOWN_ATTRIBUTES)):
                return True
        return False


_KNOWN_ATTRIBUTES = frozenset((*_PAGE_FIELDS, *_TEXT_ATTRIBUTES, "file", "pages", "parent", "terms"))


@dataclass
class RebuildRecord:
    """What one rebuild did: the record tests and the terminal line read."""

    full: bool
    bodies: list[str] = field(default_factory=list)  # content files whose bodies were rendered
    typeset: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    producers: list[str] = field(default_factory=list)  # "page:KEY" for a page's files, else the file's name
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    verified: bool = False
    errors: list[QedError] = field(default_factory=list)
    warnings: list[QedError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def pages_rendered(self) -> list[str]:
        return list(dict.fromkeys(_producer_page(name) for name in self.producers if name.startswith("page:")))

    def summary(self) -> str:
        kind = "rebuilt everything" if self.full else f"re-rendered {len(self.pages_rendered)} pages"
        return f"{kind}, wrote {len(self.written)} files in {self.seconds:.2f} s"


class LiveFolder:
    """The served folder, written as `output.Staging` is (same methods), but in place and only
    where a file changed. Writes are held until `commit`, so a rebuild that fails half-way
    leaves the folder as it was; each file is replaced by a rename."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        if (self.root / OWNER_MARK).is_file():  # an earlier session's: its files may be of pages gone since
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / OWNER_MARK).write_text("This folder is written by qed serve.\n")
        self.files_written = 0
        self.pending: dict[str, bytes | Path] = {}
        self.claimed: set[str] = set()  # what the running producer wrote
        self.claimed_since_commit: set[str] = set()
        self.written: list[str] = []
        self.write_through = False  # True while nothing has been published: no last good site to keep
        self.digests: dict[str, str] = {}
        self._scratch: Path | None = None  # made by the producer that asks for it (in its own process)
        self.relative_urls: str | None = None  # the site's path when `relativeURLs` is on (as `write_site` does)

    def path_for(self, relative: str) -> Path:
        """Where a writer that writes files itself (the verification pages) puts them: a
        scratch folder, taken in by `take_scratch`."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix=".qed-serve-scratch-", dir=self.root.parent))
        target = (self._scratch / relative.lstrip("/")).resolve()
        if not target.is_relative_to(self._scratch):
            raise QedError(f"refusing to write {relative!r}: it is outside the output folder")
        return target

    def write_text(self, relative: str, text: str) -> None:
        self._hold(relative, text.encode("utf-8"))

    def copy_file(self, source: Path, relative: str) -> None:
        self._hold(relative, source)

    def copy_tree(self, source: Path, relative: str = "", *, within: Sequence[Path] = ()) -> None:
        for path, name in tree_files(source, (source, *within)).files:
            self.copy_file(path, f"{relative}/{name}".lstrip("/"))

    def _hold(self, relative: str, data: bytes | Path) -> None:
        relative = relative.lstrip("/")
        if self.relative_urls is not None and relative.endswith(".html"):
            text = data.read_bytes() if isinstance(data, Path) else data
            data = page_urls_relative(relative, text.decode("utf-8"), self.relative_urls).encode("utf-8")
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root):
            raise QedError(f"refusing to write {relative!r}: it is outside the output folder")
        self.claimed.add(relative)
        self.files_written += 1
        if self.write_through:
            self._write(relative, data)
        else:
            self.pending[relative] = data

    def take_scratch(self) -> None:
        if self._scratch is None:
            return
        scratch, self._scratch = self._scratch, None
        for path, relative in tree_files(scratch, (scratch,)).files:
            self._hold(relative, path.read_bytes())
        shutil.rmtree(scratch, ignore_errors=True)

    def discard(self) -> None:
        self.pending.clear()
        self.claimed_since_commit = set()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def commit(self, stale: Iterable[str]) -> tuple[list[str], list[str]]:
        """Write the held files that differ from what is there, delete `stale` ones; returns
        (written, deleted)."""
        for relative, data in self.pending.items():
            self._write(relative, data)
        written, self.written, deleted = self.written, [], []
        for relative in stale:
            if relative in self.pending or relative in self.claimed_since_commit:
                continue
            with contextlib.suppress(FileNotFoundError):
                (self.root / relative).unlink()
            self.digests.pop(relative, None)
            deleted.append(relative)
        self.pending.clear()
        self.claimed_since_commit = set()
        return written, deleted

    def _write(self, relative: str, data: bytes | Path) -> None:
        """One file, replaced by a rename, unless it already holds these bytes."""
        self.claimed_since_commit.add(relative)
        content = data.read_bytes() if isinstance(data, Path) else data
        digest = hashlib.blake2b(content, digest_size=16).hexdigest()
        if self.digests.get(relative) == digest:
            return
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.qed-tmp")
        temporary.write_bytes(content)
        os.replace(temporary, target)
        self.digests[relative] = digest
        self.written.append(relative)

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)


@dataclass
class _Producer:
    reads: frozenset[Read]
    outputs: frozenset[str]


class LiveSite:
    """One site in memory, rebuilt in place by `build_all` and `update`."""

    def __init__(self, options: BuildOptions, folder: Path):
        self.options = options
        self.root = options.source.resolve()
        self.folder = LiveFolder(folder)
        self.content_options = ContentOptions(options.drafts, options.future, options.expired)
        self.full_needed = True
        self.published: dict[str, dict[str, Any]] = {}
        self.producers: dict[str, _Producer] = {}
        self.published_report: VerificationReport | None = None
        self._renderer: KatexRenderer | None = None
        self._refinish_claims = False
        self._deferred: dict[str, Callable[[], None]] = {}
        self.failing = False  # errors stand: nothing is written
        self._writers_for: tuple[Any, ...] | None = None
        self._writers_made: dict[str, Callable[[], None]] = {}
        self._known: dict[int, tuple[Page, Any, Any, dict[str, Any]]] = {}
        self._readers: dict[str, set[str]] = {}  # page key (or ANY) -> producers that read it

    # -- entry points ----------------------------------------------------------------------

    def update(self, changed: Iterable[Path], *, fork: bool = False, defer: bool = False) -> RebuildRecord:
        """Rebuild after `changed` files (absolute paths) changed; never raises for the
        site's own mistakes: they are in the record. With `defer`, files no page shows (the
        search index) are left for `finish_deferred`, so the reload comes first."""
        changed = [Path(path) for path in changed]
        if self.full_needed or any(self._needs_full_build(path) for path in changed):
            return self.build_all(fork=fork)
        started = time.perf_counter()
        record = RebuildRecord(full=False)
        try:
            self._incremental(changed, record, defer)
        except QedError as error:
            record.errors.append(error)
        except BaseException:
            self.full_needed = True  # the state may be half-updated: the next change starts over
            raise
        record.seconds = time.perf_counter() - started
        self.failing = bool(record.errors)
        return record

    def build_all(self, *, fork: bool = False) -> RebuildRecord:
        """Everything from the files, as a cold build, through the caches on disk."""
        started = time.perf_counter()
        record = RebuildRecord(full=True)
        self.full_needed = True
        try:
            self._load_everything(record, fork)
            self.full_needed = False
            self._finish_update(record, rerun_all=True, jobs=(self.options.jobs or default_jobs()) if fork else 1)
        except BuildFailed as failure:
            record.errors.extend(failure.errors)
        except QedError as error:
            record.errors.append(error)
        record.seconds = time.perf_counter() - started
        self.failing = bool(record.errors)
        return record

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
        self.folder.close()

    # -- a full build ------------------------------------------------------------------------

    def _load_everything(self, record: RebuildRecord, fork: bool) -> None:
        diagnostics = Diagnostics()
        config = apply_overrides(load_config(self.root, diagnostics, self.options.environment or DEFAULT_ENVIRONMENT),
                                 self.options)
        pagination = PaginationSettings.from_config(config, diagnostics)
        search = SearchSettings.from_config(config, diagnostics)
        verify_settings = VerifyOptions.from_config(config, diagnostics)
        diagnostics.raise_if_failed()
        env = create_environment(config.root, config.base_url, search_enabled=search.enabled,
                                 cache_dir=config.cache_dir)
        check_templates(env, diagnostics)
        diagnostics.raise_if_failed()
        self.config, self.pagination, self.search, self.env = config, pagination, search, env
        self.folder.relative_urls = base_path(config.base_url) if config["relativeURLs"] else None
        self.verify_settings = replace(verify_settings, output=self.folder.root)
        self.config_warnings = list(diagnostics.warnings)
        self.recorder = ReadRecorder(env)
        self.read: dict[Path, Page] = {}
        self.read_messages: dict[Path, Diagnostics] = {}
        if not (config.root / "content").is_dir():
            diagnostics.error("no content/ folder here (use -s DIR to point at a site)", Location(str(config.root)))
            diagnostics.raise_if_failed()
        for path in content_files(config.root / "content", ContentLanguages.of(config)):
            self._read(path)
        self.site_messages = Diagnostics()
        self.site = assemble_site(config, self._pages_in_order(), self.content_options, self.site_messages)
        self.tools: BodyTools = create_body_tools(self.site, env, self.site_messages)
        self.bodies: dict[str, RenderedBody] = {}
        self.body_reads: dict[str, frozenset[Read]] = {}
        self._render_bodies(self._file_pages(), record, jobs=(self.options.jobs or default_jobs()) if fork else 1)
        self.labels: dict[str, Label] = {}
        self.label_messages = Diagnostics()
        self.report: VerificationReport | None = None
        self.claims: tuple[Any, ...] = ()
        self.verify_messages = Diagnostics()
        self.math_messages: dict[str, Diagnostics] = {}
        self.math_general = Diagnostics()
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        changed_labels = self._collect_labels()
        self._verify(force=True, record=record)
        self._typeset(self._file_pages(), changed_labels, record,
                      jobs=(self.options.jobs or default_jobs()) if fork else 1)
        self.state = signatures(self.site, self._known)
        self.published = {}  # everything runs again; `producers` stay, to know which old files are gone
        self._deferred = {}
        self.published_report = None

    def _render_bodies(self, pages: list[Page], record: RebuildRecord, *, jobs: int = 1) -> None:
        site, tools, recorder = self.site, self.tools, self.recorder

        def render(page: Page) -> bytes:
            with recorder.recording() as reads:
                body = render_body(page, site, tools)
            return pickle.dumps((body, frozenset(reads)), protocol=pickle.HIGHEST_PROTOCOL)

        for page, data in zip(pages, map_in_processes(render, pages, jobs), strict=True):
            body, reads = pickle.loads(data)
            self.bodies[page.source_path] = body
            self.body_reads[page.source_path] = reads
            record.bodies.append(page.source_path)

    # -- an edit -------------------------------------------------------------------------------

    def _needs_full_build(self, path: Path) -> bool:
        relative = _relative(path, self.root)
        if relative is None:
            return False
        return (len(relative.parts) == 1 and relative.name in CONFIG_NAMES) or \
            (len(relative.parts) > 1 and relative.parts[0] in _FULL_REBUILD_FOLDERS)

    def _incremental(self, changed: list[Path], record: RebuildRecord, defer: bool) -> None:
        content = self.root / "content"
        languages = ContentLanguages.of(self.config)
        markdown = {path for path in changed if path.suffix == ".md" and path.is_relative_to(content)
                    and languages.builds(path.relative_to(content).as_posix())}
        same_places = all([self._reread(path, content) for path in sorted(markdown)])  # every file read
        forced = set()
        if any(path.is_relative_to(self.root / "static") for path in changed):
            forced.add("static")
        for path in changed:
            if path.is_relative_to(content) and path.suffix != ".md":
                forced.update(f"page:{page_key(page)}#bundle" for page in self.site.all_pages
                              if page.bundle_dir is not None and path.is_relative_to(page.bundle_dir))
        reverify = any(path.is_relative_to(self.root / "verifiers") for path in changed)

        if not same_places:
            self.site_messages = Diagnostics()
            self.site = assemble_site(self.config, self._pages_in_order(), self.content_options,
                                      self.site_messages)
        moved = Changes.between(self.state, signatures(self.site, self._known)) if not same_places else Changes()
        edited = {_content_path(path, content) for path in markdown}
        pages = self._file_pages()
        current = {page.source_path for page in pages}
        for gone in set(self.bodies) - current:
            self._forget_body(gone)
        todo = [page for page in pages if page.source_path in edited or page.source_path not in self.bodies
                or moved.reaches(self.body_reads[page.source_path])]
        self._render_bodies(todo, record)
        changed_labels = self._collect_labels()
        self._verify(force=reverify, record=record)
        self._typeset(todo, changed_labels, record)
        self.state = signatures(self.site, self._known)
        self._finish_update(record, forced=forced, defer=defer)

    def _reread(self, path: Path, content: Path) -> bool:
        """Read a changed file again; True when only its body changed (its front matter, and
        so its place in the site, is the same), so the page is updated where it stands."""
        old = self.read.pop(path, None)
        self.read_messages.pop(path, None)
        hidden = any(part.startswith(".") for part in path.relative_to(content).parts)
        if not path.is_file() or hidden:
            return False
        page = self._read(path)
        if old is None or page is None or page.front_matter != old.front_matter or page.kind != old.kind \
                or self.read_messages[path].errors:
            return False
        old.file, old.body_offset, old.key_lines = page.file, page.body_offset, page.key_lines
        self.read[path] = old
        return True

    def _read(self, path: Path) -> Page | None:
        messages = Diagnostics()
        page = read_page(path, self.config.root / "content", self.config.root, messages,
                         ContentLanguages.of(self.config))
        self.read_messages[path] = messages
        if page is not None:
            self.read[path] = page
        return page

    def _pages_in_order(self) -> list[Page]:
        return [self.read[path] for path in sorted(self.read)]

    def _file_pages(self) -> list[Page]:
        return [page for page in self.site.all_pages if page.file is not None]

    def _forget_body(self, source_path: str) -> None:
        for table in (self.bodies, self.body_reads, self.math_messages):
            table.pop(source_path, None)

    # -- the stages after the bodies -----------------------------------------------------------

    def _collect_labels(self) -> set[str]:
        """Labels site-wide again (cheap); returns the ids whose label changed."""
        self.label_messages = Diagnostics()
        bodies = [self.bodies[page.source_path] for page in self._file_pages()]
        labels = collect_labels(bodies, self.label_messages)
        changed = {key for key in set(labels) | set(self.labels)
                   if _shown(labels.get(key)) != _shown(self.labels.get(key))}
        self.labels = labels
        if labels != self.site.labels:
            self.site = replace(self.site, labels=labels)
        return changed

    def _verify(self, *, force: bool, record: RebuildRecord) -> None:
        """The verifiers again when a claim or a verifier changed (results come from the
        verdict cache for every claim whose inputs did not change)."""
        bodies = [self.bodies[page.source_path] for page in self._file_pages()]
        claims = tuple(claim for body in bodies for claim in body.claims)
        if not force and claims == self.claims:
            return
        if not force and self.report is not None and _unplaced(claims) == _unplaced(self.claims):
            self._move_claims(claims)  # lines moved, nothing a verifier sees changed
            return
        self.claims = claims
        self.verify_messages = Diagnostics()
        self.report = verify_site(self.site, bodies, self.options, self.verify_settings, self.verify_messages,
                                  lambda _line: None)
        record.verified = True
        self._refinish_claims = True

    def _move_claims(self, claims: tuple[Any, ...]) -> None:
        """The same verdicts, reported and listed at the claims' new places."""
        moved = {old.location: new.location for old, new in zip(self.claims, claims, strict=True)}
        by_key = {claim.key: claim for claim in claims}
        self.report = replace(self.report, claims=[by_key[claim.key] for claim in self.report.claims])  # type: ignore[type-var]
        messages = Diagnostics()
        for target, found in ((messages.errors, self.verify_messages.errors),
                              (messages.warnings, self.verify_messages.warnings)):
            target.extend(QedError(m.message, moved.get(m.location, m.location)) if m.location else m for m in found)
        self.verify_messages = messages
        self.claims = claims
        self._refinish_claims = True

    def _typeset(self, rendered: list[Page], changed_labels: set[str], record: RebuildRecord, jobs: int = 1) -> None:
        """The finished text of every page that could read something new (re-rendered bodies,
        pages citing a changed label, pages with claims after verification), their formulas
        typeset first (mostly from the KaTeX cache). Only the finished texts are kept: the
        formulas' HTML is in them, and in the cache."""
        refinish = {page.source_path for page in rendered}
        refinish |= {path for path, body in self.bodies.items()
                     if changed_labels and any(target in changed_labels for target, _ in body.references)}
        if self._refinish_claims:
            refinish |= {path for path, body in self.bodies.items() if body.claims}
            self._refinish_claims = False
        pages = [page for page in self._file_pages() if page.source_path in refinish]
        for page, (text, messages) in zip(pages, self._finish_pages(pages, jobs), strict=True):
            page.text = text
            own = self.math_messages[page.source_path] = Diagnostics()
            for kind, found in (("error", messages.errors), ("warning", messages.warnings)):
                for message in found:  # one about KaTeX itself (not found, no mhchem) is the site's
                    ours = message.location is not None and message.location.path == page.file.path  # type: ignore[union-attr]
                    target = own if ours else self.math_general
                    (target.errors if kind == "error" else target.warnings).append(message)
        record.typeset.extend(page.source_path for page in pages if self.bodies[page.source_path].math.formulas)
        record.finished.extend(page.source_path for page in pages)

    def _finish_pages(self, pages: list[Page], jobs: int = 1) -> list[tuple[PageText, Diagnostics]]:
        """Each page typeset and finished, with its KaTeX messages: the first build's in `jobs`
        forked processes (V8's heap stays with them), later ones in this process's V8 (kept
        between rebuilds)."""
        with_math = [page for page in pages if self.bodies[page.source_path].math.formulas]
        if with_math and self._renderer is None:
            first = self.bodies[with_math[0].source_path].math
            self._renderer = KatexRenderer(first.settings, self.config.cache_dir, self.math_general)
        renderer, bodies, labels, site = self._renderer, self.bodies, self.labels, self.site
        resolve_claim = self.report.resolve_claim if self.report is not None else None
        summary_length = self.config["summaryLength"]
        workers = jobs if jobs > 1 and renderer is not None and renderer.ready_to_fork() else 1
        last_from = len(pages) - workers  # from here on, each process's final page

        def finish(numbered: tuple[int, Page]) -> tuple[PageText, Diagnostics]:
            index, page = numbered
            text, messages, _ = typeset_and_finish(page, bodies[page.source_path], renderer, labels, resolve_claim,
                                                   site.base_url, summary_length, last=index >= last_from)
            return text, messages

        return map_in_processes(finish, list(enumerate(pages)), workers, here=False)

    # -- publishing ------------------------------------------------------------------------------

    def messages(self) -> Diagnostics:
        """Every error and warning that stands now, whichever rebuild found it."""
        everything = Diagnostics()
        parts = [*(self.read_messages[path] for path in sorted(self.read_messages)), self.site_messages,
                 *(_body_messages(self.bodies[page.source_path]) for page in self._file_pages()),
                 self.label_messages, self.verify_messages, self.math_general,
                 *(self.math_messages[path] for path in sorted(self.math_messages))]
        everything.warnings.extend(self.config_warnings)
        for part in parts:
            everything.errors.extend(part.errors)
            everything.warnings.extend(part.warnings)
        return everything

    def _finish_update(self, record: RebuildRecord, *, rerun_all: bool = False, forced: Iterable[str] = (),
                       defer: bool = False, jobs: int = 1) -> None:
        messages = self.messages()
        record.errors.extend(messages.errors)
        record.warnings.extend(messages.warnings)
        if messages.errors:
            return
        writers = self._writers()
        changes = Changes.between(self.published, self.state)
        suspects = set(self._readers.get(ANY, ())) if changes else set()
        for key in (*changes.attributes, *changes.removed):
            suspects |= self._readers.get(key, set())
        due = [name for name in writers if rerun_all or name in forced or name not in self.producers
               or name in self._deferred
               or (name in suspects and changes.reaches(self.producers[name].reads))
               or (name == "verification" and self.report is not self.published_report)]
        later = [name for name in due if name in DEFERRABLE] if defer else []
        feeds = {page.path.lstrip("/") + "index.xml": page_key(page) for page in self.site.all_pages}
        now = [name for name in due if name not in later]
        record.written, record.deleted = self._run(now, writers, feeds, jobs=jobs,
                                                   gone=[n for n in self.producers if n not in writers])
        self._deferred = {name: writers[name] for name in later}
        record.producers = now
        self.published = self.state
        self.published_report = self.report

    def _writers(self) -> dict[str, Callable[[], None]]:
        """Every producer of the site by name; the same ones while the site, its pages' places
        and the report are the same objects (an edit of a body only)."""
        math_settings = next((b.math.settings for b in self.bodies.values() if b.math.formulas), None)
        key = (self.site, self.report, math_settings, self.env)
        if self._writers_for is not None and all(a is b for a, b in zip(key, self._writers_for, strict=True)):
            return self._writers_made
        writers = site_file_writers(self.site, self.env, self.report, self.folder, search=self.search,
                                    math_settings=math_settings)
        for page in self.site.all_pages:
            for part, write in page_file_writers(page, self.site, self.env, self.folder,  # type: ignore[arg-type]
                                                 self.pagination).items():
                writers[f"page:{page_key(page)}#{part}"] = write
        self._writers_for, self._writers_made = key, writers
        return writers

    def finish_deferred(self) -> list[QedError]:
        """Run what `update(defer=True)` left for after the reload (the search index); its
        errors, if any, are returned and it stays due."""
        if not self._deferred or self.failing:
            return []
        try:
            self._run(list(self._deferred), self._deferred, {}, gone=[])
        except QedError as error:
            return [error]
        self._deferred = {}
        return []

    def _run(self, names: list[str], writers: dict[str, Callable[[], None]], feeds: dict[str, str],
             gone: list[str], jobs: int = 1) -> tuple[list[str], list[str]]:
        """Run producers into the folder's hold, then commit: files that changed are written,
        files a producer no longer makes (or of producers that are `gone`) deleted."""
        produced: dict[str, _Producer] = {}
        self.folder.write_through = not self.folder.digests  # the first build: no last good site to keep
        try:
            if self.folder.write_through and jobs > 1:
                produced = self._run_in_processes(names, writers, feeds, jobs)
            else:
                for name in names:
                    produced[name] = self._produce(name, writers[name], feeds.get(name))
        except BaseException:
            self.folder.discard()
            raise
        stale = [path for name, producer in self.producers.items() for path in producer.outputs
                 if name in gone or (name in produced and path not in produced[name].outputs)]
        written = self.folder.commit(stale)
        for name in [*gone, *produced]:
            if name in self.producers:
                self._index(name, self.producers.pop(name), add=False)
        for name, producer in produced.items():
            self.producers[name] = producer
            self._index(name, producer, add=True)
        return written

    def _run_in_processes(self, names: list[str], writers: dict[str, Callable[[], None]], feeds: dict[str, str],
                          jobs: int) -> dict[str, _Producer]:
        """The first build's producers in forked processes, each writing its files itself;
        what each wrote and read comes back (with the files' digests, for later rebuilds)."""
        folder = self.folder

        def produce(name: str) -> tuple[_Producer, dict[str, str], list[str]]:
            folder.written, before = [], dict(folder.digests)
            producer = self._produce(name, writers[name], feeds.get(name))
            return producer, {path: digest for path, digest in folder.digests.items()
                              if before.get(path) != digest}, folder.written

        produced, all_written = {}, []
        for name, (producer, digests, written) in zip(names, map_in_processes(produce, names, jobs), strict=True):
            produced[name] = producer
            folder.digests.update(digests)
            all_written.extend(written)
            folder.claimed_since_commit.update(producer.outputs)
        folder.written = all_written
        return produced

    def _index(self, name: str, producer: _Producer, *, add: bool) -> None:
        for key in {key for key, _ in producer.reads}:
            readers = self._readers.setdefault(key, set())
            if add:
                readers.add(name)
            else:
                readers.discard(name)

    def _produce(self, name: str, write: Callable[[], None], feed_of: str | None = None) -> _Producer:
        """Run one producer, noting what it read; a feed also reads its page's list (passed to
        the template as `items`, past the recorder)."""
        self.folder.claimed = set()
        with self.recorder.recording() as reads:
            write()
        self.folder.take_scratch()
        if name == "search":
            reads.add((ANY, ANY))  # the index is made in Python from every page's text
        if name.startswith("page:"):
            reads.add((_producer_page(name), ANY))
        if feed_of is not None:
            reads.add((feed_of, "pages"))
        return _Producer(frozenset(reads), frozenset(self.folder.claimed))



def _unplaced(claims: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(replace(claim, location=None) for claim in claims)


def _producer_page(name: str) -> str:
    """The page key in a producer's name ("page:posts/x.md#document")."""
    return name.removeprefix("page:").rsplit("#", 1)[0]


def _body_messages(body: RenderedBody) -> Diagnostics:
    messages = Diagnostics()
    messages.errors.extend(body.errors)
    messages.warnings.extend(body.warnings)
    return messages


def _relative(path: Path, root: Path) -> Path | None:
    try:
        return path.relative_to(root)
    except ValueError:
        return None


def _content_path(path: Path, content: Path) -> str:
    return path.relative_to(content).as_posix()


def sorted_errors(errors: Iterable[QedError]) -> list[QedError]:
    """Errors by file and line, those without a place first."""
    def place(error: QedError) -> tuple[str, int, int]:
        where: Location | None = error.location
        return (where.path, where.line, where.col) if where else ("", 0, 0)

    return sorted(errors, key=place)
