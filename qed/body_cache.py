"""Rendered page bodies kept between builds (`.qed-cache/bodies.sqlite`), and the keys that
say when one may be reused: the page's file and everything a body can read besides."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import jinja2
import markdown_it
import mdit_py_plugins
import pygments

from qed.content import Page, Site
from qed.disk_cache import DiskCache
from qed.errors import Diagnostics
from qed.i18n import i18n_dirs
from qed.templates import default_theme_dir, layout_dirs, theme_dir

_OUTLINE = "#outline"


class BodyCache:
    """`RenderedBody` records by page, in a `DiskCache`; `clear=True` starts empty (`--clean`),
    a damaged file is rebuilt with a warning in `diagnostics`."""

    def __init__(self, path: Path, *, clear: bool = False, diagnostics: Diagnostics | None = None):
        self._disk = DiskCache(path, clear=clear, diagnostics=diagnostics)
        self._keys: dict[str, str] = {}
        self.site_key = ""  # `site_inputs_key` of the site last looked up
        self.outlined: set[str] = set()  # pages `lookup` gave in outline (`full` has the rest)

    @property
    def keys(self) -> dict[str, str]:
        """The body key of each page looked up, by source path (what later stages key on)."""
        return self._keys

    def lookup(self, site: Site, pages: list[Page]) -> dict[str, Any]:
        """The stored bodies of `pages` still valid for this build, by source path."""
        self.site_key = site_inputs_key(site)
        self._keys = {page.source_path: _page_key(self.site_key, page) for page in pages}
        stored = self._disk.get_many(key + _OUTLINE for key in self._keys.values())
        found = {path: _restore(stored.get(key + _OUTLINE)) for path, key in self._keys.items()}
        self.outlined = {path for path, body in found.items() if body is not None}
        return {path: body for path, body in found.items() if body is not None}

    def full(self, source_path: str) -> Any:
        """The whole body of a page `lookup` gave in outline, or None when it cannot be read."""
        key = self._keys[source_path]
        return _restore(self._disk.get_many([key]).get(key))

    def store(self, source_path: str, pickled: bytes, body: Any) -> Any:
        """Keep a freshly rendered body (`pickled`, and the same `body` unpickled) with its
        outline; returns the outline (`full` gives the rest)."""
        shape = outline(body)
        self._disk.put(self._keys[source_path], pickled)
        self._disk.put(self._keys[source_path] + _OUTLINE, pickle.dumps(shape, protocol=pickle.HIGHEST_PROTOCOL))
        self.outlined.add(source_path)
        return shape

    def flush(self) -> None:
        """Write what `store` was given."""
        self._disk.flush()

    def close(self) -> None:
        self._disk.close()


def outline(body: Any) -> Any:
    """A `RenderedBody` without what only typesetting and finishing the page read (its HTML,
    TOC, shortcode blocks, formulas): what a build reads of a page it does not finish again.
    The formula tuple keeps its length (the count) as copies of the first formula."""
    formulas = body.math.formulas
    math = dataclasses.replace(body.math, formulas=formulas[:1] * len(formulas))
    return dataclasses.replace(body, content="", toc="", html_blocks={}, math=math)


def _restore(data: bytes | None) -> Any:
    """A body from the cache, or None when there is none or it cannot be read back."""
    if data is None:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # written by another version of qed: render again
        return None


def body_keys(site: Site, pages: list[Page]) -> list[str]:
    """Cache keys for page bodies: the page's file, and everything a body may read besides:
    the config, every template, every page's front matter and URL (references, `site.pages`),
    and the code that renders (qed and its markdown, template and highlighting libraries)."""
    base = site_inputs_key(site)
    return [_page_key(base, page) for page in pages]


def _page_key(base: str, page: Page) -> str:
    return hashlib.sha256(f"{base}\0{page.source_path}\0{page.file.text}".encode()).hexdigest()


def site_inputs_key(site: Site) -> str:
    """One key over what every page's output may read besides page bodies: the code, the
    config, the templates, and every page's front matter and URL."""
    shared = hashlib.sha256()
    for part in (_code_fingerprint(), json.dumps(site.config.raw, sort_keys=True, default=str),
                 _templates_fingerprint(site.project_root), _pages_fingerprint(site)):
        shared.update(part.encode() + b"\0")
    return shared.hexdigest()


def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    versions = [jinja2.__version__, markdown_it.__version__, mdit_py_plugins.__version__, pygments.__version__]
    return digest.hexdigest() + ":".join(versions)


def _templates_fingerprint(site_root: Path) -> str:
    digest = hashlib.sha256()
    words = i18n_dirs(site_root, [default_theme_dir(), theme_dir(site_root)])
    for folder in [*layout_dirs(site_root), *words]:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(folder)}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _pages_fingerprint(site: Site) -> str:
    rows = [[page.kind, page.source_path, page.path, page.permalink, page.title, page.section, page.date,
             page.lastmod, page.weight, page.draft, page.params, page.tags, page.categories, page.aliases,
             page.description, page.front_matter] for page in site.all_pages]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
