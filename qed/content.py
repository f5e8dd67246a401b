"""Content model: `content/**.md` read into `Page`s, grouped into sections and taxonomies.

URLs, draft/future/expired filtering and ordering follow Hugo's rules so a Hugo site's
links keep working. Nothing here renders markdown: bodies are rendered in a later stage.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qed.body import PageText
from qed.config import SiteConfig
from qed.errors import Diagnostics, Location, QedError, SourceText, read_source
from qed.frontmatter import FrontMatter, split_front_matter, to_datetime

# Front matter keys with a meaning of their own; anything else lands in `params`, as in Hugo.
_KNOWN_FIELDS = {
    "title", "linktitle", "date", "lastmod", "publishdate", "expirydate", "draft", "weight",
    "slug", "url", "aliases", "summary", "description", "tags", "categories", "toc", "math",
    "params", "keywords", "layout", "type", "images", "series", "headless",
}
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "title": (str,), "linktitle": (str,), "draft": (bool,), "weight": (int,), "slug": (str,),
    "url": (str,), "aliases": (list,), "summary": (str,), "description": (str,),
    "tags": (list, str), "categories": (list, str), "toc": (bool, dict), "math": (bool, dict),
    "params": (dict,), "layout": (str,), "type": (str,), "keywords": (list, str),
}
_DATE_FIELDS = ("date", "lastmod", "publishdate", "expirydate")


@dataclass(eq=False)
class Page:
    """One page of the site: a content file, a section, the home page or a taxonomy page."""

    kind: str  # "page", "section", "home", "taxonomy", "term"
    source_path: str  # relative to content/, posix ("posts/x.md"); "" for generated pages
    title: str = ""
    section: str = ""
    front_matter: dict[str, Any] = field(default_factory=dict)
    file: SourceText | None = None
    body_offset: int = 0
    key_lines: dict[str, int] = field(default_factory=dict)
    date: dt.datetime | None = None
    lastmod: dt.datetime | None = None
    publish_date: dt.datetime | None = None
    expiry_date: dt.datetime | None = None
    draft: bool = False
    weight: int = 0
    slug: str = ""
    url: str = ""
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    toc_enabled: bool = True
    math: bool | dict = True
    layout: str = ""
    bundle_dir: Path | None = None  # folder of a leaf bundle: its other files are copied beside the page
    path: str = "/"  # URL path inside the site ("/posts/x/"): decides where the file is written
    rel_permalink: str = "/"  # path under baseURL's own path, as Hugo's .RelPermalink
    permalink: str = "/"  # absolute URL
    text: PageText = field(default_factory=PageText)  # the body as read: set once, by the finishing stage
    # Filled for list pages:
    pages: list[Page] = field(default_factory=list)
    term: str = ""
    taxonomy: str = ""
    terms: dict[str, list[Page]] = field(default_factory=dict)
    parent: Page | None = None

    content = property(lambda self: self.text.content, doc="Hugo's .Content: the final HTML of the body")
    summary = property(lambda self: self.text.summary)
    truncated = property(lambda self: self.text.truncated)
    toc = property(lambda self: self.text.toc)
    title_html = property(lambda self: self.text.title_html)
    word_count = property(lambda self: self.text.word_count)
    reading_time = property(lambda self: self.text.reading_time)
    head_html = property(lambda self: self.text.head_html)
    css = property(lambda self: self.text.css)
    scripts = property(lambda self: self.text.scripts)
    has_mermaid = property(lambda self: self.text.has_mermaid)
    plain_text = property(lambda self: self.text.plain_text)

    @property
    def is_regular(self) -> bool:
        return self.kind == "page"

    @property
    def output_path(self) -> str:
        """Where the page is written in the output folder (pretty URLs: dir/index.html)."""
        path = self.path.lstrip("/")
        if not path or path.endswith("/"):
            return path + "index.html"
        return path

    def location(self, key: str | None = None) -> Location:
        """The file, and the line of a front matter key when given."""
        path = self.file.path if self.file else self.source_path
        return Location(path, self.key_lines.get(key, 1) if key else 0, 1 if key else 0)


@dataclass(frozen=True)
class LeftOut:
    """Pages read but not published, by Hugo's rule that left them out (for the summary line)."""

    drafts: int = 0
    future: int = 0
    expired: int = 0
    reasons: tuple[tuple[str, str], ...] = ()  # (source path without .md, "drafts" | "future" | "expired")

    def hint(self, ref: str) -> str:
        """Why a `ref` to an existing page found nothing: " (it is a draft: -D includes it)"."""
        wanted = ref.split("#", 1)[0].strip().strip("/").removesuffix(".md")
        why = next((reason for path, reason in self.reasons if path == wanted or path.endswith("/" + wanted)), None)
        flags = {"drafts": ("a draft", "-D"), "future": ("dated in the future", "-F"), "expired": ("expired", "-E")}
        return f" (it is {flags[why][0]}: {flags[why][1]} includes it)" if why else ""

    def describe(self) -> str:
        """"2 drafts left out (-D to include)", or "" when nothing was left out."""
        parts = [f"{n} {what} left out ({flag} to include)" for n, what, flag in (
            (self.drafts, "draft" if self.drafts == 1 else "drafts", "-D"),
            (self.future, "future-dated page" if self.future == 1 else "future-dated pages", "-F"),
            (self.expired, "expired page" if self.expired == 1 else "expired pages", "-E")) if n]
        return ", ".join(parts)


@dataclass
class Site:
    """Everything read from the content folder, as templates and shortcodes see it."""

    config: SiteConfig
    all_pages: list[Page]
    pages: list[Page]  # regular pages, in Hugo's default order
    home: Page
    sections: dict[str, Page]
    taxonomies: dict[str, dict[str, list[Page]]]
    taxonomy_pages: list[Page]
    project_root: Path
    labels: dict[str, Any] = field(default_factory=dict)
    left_out: LeftOut = field(default_factory=LeftOut)

    @property
    def title(self) -> str:
        return self.config.title

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def params(self) -> dict[str, Any]:
        return self.config.params

    def get_page(self, ref: str, current: Page | None = None) -> Page | None:
        """Hugo's ref lookup: a content path ("posts/x.md"), a bundle, a URL path or a bare name."""
        key = ref.split("#", 1)[0].strip()
        if not key:
            return current
        for candidate in _ref_candidates(key, current):
            page = self._ref_index.get(candidate)
            if page is not None:
                return page
        return None

    def neighbours(self, page: Page) -> tuple[Page | None, Page | None]:
        """(older, newer): the regular pages beside `page` in its section's order, Hugo's
        `.PrevInSection` and `.NextInSection` (a page outside any section: among the site's)."""
        members = page.parent.pages if page.parent is not None else self._rootless_pages
        known = self._places.get(id(members))
        if known is None or known[0] is not members:  # one walk per list, not one per page
            known = self._places[id(members)] = (members, {id(member): at for at, member in enumerate(members)})
        at = known[1].get(id(page))
        if at is None:
            return None, None
        return (members[at + 1] if at + 1 < len(members) else None), (members[at - 1] if at > 0 else None)

    def related(self, page: Page, limit: int = 5) -> list[Page]:
        """Other regular pages sharing a tag with `page`: most shared tags first, then the site's order."""
        by_tag = self._pages_by_tag
        shared: Counter[int] = Counter()
        for tag in {t.lower() for t in page.tags}:
            shared.update(by_tag.get(tag, ()))
        own = self._page_positions.get(id(page))
        ranked = heapq.nsmallest(limit + 1, ((-count, index) for index, count in shared.items()))
        return [self.pages[index] for _, index in ranked if index != own][:limit]

    # Indexes over the pages, made on first use: a site is assembled anew when pages change
    # (`dataclasses.replace`, `assemble_site`), so they never go stale, and every lookup a
    # template makes per page stays O(1) instead of a walk over the site.

    @functools.cached_property
    def _ref_index(self) -> dict[str, Page]:
        return _page_index(self.all_pages)

    @functools.cached_property
    def _page_positions(self) -> dict[int, int]:
        return {id(page): index for index, page in enumerate(self.pages)}

    @functools.cached_property
    def _pages_by_tag(self) -> dict[str, list[int]]:
        """Lowercased tag -> positions in `pages` of the pages carrying it (each once)."""
        by_tag: dict[str, list[int]] = {}
        for index, page in enumerate(self.pages):
            for tag in {t.lower() for t in page.tags}:
                by_tag.setdefault(tag, []).append(index)
        return by_tag

    @functools.cached_property
    def _rootless_pages(self) -> list[Page]:
        return [p for p in self.pages if not p.section]

    @functools.cached_property
    def _places(self) -> dict[int, tuple[list[Page], dict[int, int]]]:
        """id(a list of pages) -> (the list, {id(page): its place in it}), filled as asked."""
        return {}


def _ref_candidates(key: str, current: Page | None) -> list[str]:
    bare = key.lstrip("/")
    candidates = [bare, bare.removesuffix(".md"), bare.rstrip("/")]
    if current is not None and not key.startswith("/") and "/" in current.source_path:
        folder = current.source_path.rsplit("/", 1)[0]
        candidates.insert(0, f"{folder}/{bare}".removesuffix(".md"))
    return candidates


def _page_index(pages: list[Page]) -> dict[str, Page]:
    """Every name a page can be referred to by; unique names only for the bare-name form."""
    index: dict[str, Page] = {}
    bare_names: dict[str, list[Page]] = {}
    for page in pages:
        if page.source_path:
            stem = page.source_path.removesuffix(".md")
            index[page.source_path] = page
            index[stem] = page
            for suffix in ("/index", "/_index"):
                if stem.endswith(suffix):
                    index[stem.removesuffix(suffix)] = page
            bare_names.setdefault(stem.rsplit("/", 1)[-1], []).append(page)
        index.setdefault(page.path.strip("/"), page)
    for name, found in bare_names.items():
        if len(found) == 1:
            index.setdefault(name, found[0])
    return index


@dataclass(frozen=True)
class ContentOptions:
    """What the command line asked to include, and the clock that decides 'future'."""

    drafts: bool = False
    future: bool = False
    expired: bool = False
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def load_site(config: SiteConfig, options: ContentOptions, diagnostics: Diagnostics) -> Site:
    """Read every content file, keep the publishable ones, and build sections and taxonomies."""
    content_dir = config.root / "content"
    read = [page for page in _read_pages(content_dir, config, diagnostics) if page is not None]
    return assemble_site(config, read, options, diagnostics)


def assemble_site(config: SiteConfig, read: list[Page], options: ContentOptions, diagnostics: Diagnostics) -> Site:
    """The site of pages already read (in file order): the publishable ones with their URLs,
    sections and taxonomies, each written to a file of its own. `qed serve` calls it again
    with the pages it re-read."""
    reasons = {id(page): _left_out_because(page, options, config) for page in read}
    published = [page for page in read if reasons[id(page)] is None]
    _assign_urls(published, config)
    left_out = LeftOut(**{kind: sum(1 for r in reasons.values() if r == kind)
                          for kind in ("drafts", "future", "expired")},
                       reasons=tuple((page.source_path.removesuffix(".md"), reasons[id(page)]) for page in read
                                     if reasons[id(page)] is not None))
    site = _assemble(config, published, left_out)
    _check_outputs(site, diagnostics)
    return site


def _read_pages(content_dir: Path, config: SiteConfig, diagnostics: Diagnostics) -> list[Page | None]:
    if not content_dir.is_dir():
        diagnostics.error("no content/ folder here (use -s DIR to point at a site)", Location(str(config.root)))
        return []
    languages = ContentLanguages.of(config)
    return [read_page(path, content_dir, config.root, diagnostics, languages)
            for path in content_files(content_dir, languages)]


@dataclass(frozen=True)
class ContentLanguages:
    """Hugo's translations by file name (`post.en.md`, `_index.zh-cn.md`): qed builds one
    language, whose files count as if the suffix were not there; the others are not read."""

    built: str = "en"
    known: frozenset[str] = frozenset({"en"})

    @classmethod
    def of(cls, config: SiteConfig) -> ContentLanguages:
        built = str(config.raw.get("defaultContentLanguage") or "en").lower()
        listed = config.raw.get("languages") if isinstance(config.raw.get("languages"), dict) else {}
        return cls(built, frozenset({built, *(str(name).lower() for name in listed)}))

    def split(self, relative: str) -> tuple[str, str | None]:
        """("posts/x.md", "en") for "posts/x.en.md" when `en` is a language of the site."""
        folder, slash, name = relative.rpartition("/")
        stem, dot, language = name.removesuffix(".md").rpartition(".")
        if dot and language.lower() in self.known:
            return f"{folder}{slash}{stem}.md", language.lower()
        return relative, None

    def builds(self, relative: str) -> bool:
        language = self.split(relative)[1]
        return language is None or language == self.built


def content_files(content_dir: Path, languages: ContentLanguages | None = None) -> list[Path]:
    """The content files of a site, in the order they are read (hidden files and folders, and
    translations into languages not built, left out)."""
    languages = languages or ContentLanguages()
    return sorted(p for p in content_dir.rglob("*.md") if not _is_hidden(p.relative_to(content_dir))
                  and languages.builds(p.relative_to(content_dir).as_posix()))


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def read_page(path: Path, content_dir: Path, root: Path, diagnostics: Diagnostics,
              languages: ContentLanguages | None = None) -> Page | None:
    """Read one content file into a `Page`; its errors are added to `diagnostics`. A file of
    the built language (`x.en.md`) is the page `x.md` would be."""
    relative = (languages or ContentLanguages()).split(path.relative_to(content_dir).as_posix())[0]
    display = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        source = read_source(path, display)
        front = split_front_matter(source)
    except QedError as error:
        diagnostics.add(error)
        return None
    page = _page_from_front_matter(relative, source, front, diagnostics)
    if page.kind == "page" and path.name == "index.md":
        page.bundle_dir = path.parent
    return page


def _page_from_front_matter(
    relative: str, source: SourceText, front: FrontMatter, diagnostics: Diagnostics
) -> Page:
    name = relative.rsplit("/", 1)[-1]
    kind = "home" if relative == "_index.md" else "section" if name == "_index.md" else "page"
    page = Page(kind=kind, source_path=relative, file=source, body_offset=front.body_offset,
                key_lines=front.key_lines, front_matter=front.data)
    # the first folder is the section, but a leaf bundle at the top (`about/index.md`) is a
    # page of the home section, as in Hugo: its folder is the page, not a section
    page.section = relative.split("/", 1)[0] if relative.count("/") > (1 if name == "index.md" else 0) else ""
    fields = {key.lower(): (key, value) for key, value in front.data.items()}
    _check_field_types(page, fields, diagnostics)
    _apply_fields(page, fields, diagnostics)
    return page


def _check_field_types(page: Page, fields: dict[str, tuple[str, Any]], diagnostics: Diagnostics) -> None:
    for lowered, (key, value) in list(fields.items()):
        expected = _FIELD_TYPES.get(lowered)
        if expected and value is not None and not _matches(value, expected):
            names = " or ".join({str: "a string", bool: "true or false", int: "a whole number",
                                 list: "a list", dict: "a mapping"}[t] for t in expected)
            diagnostics.error(f"'{key}' must be {names}", page.location(key))
            del fields[lowered]


def _matches(value: Any, expected: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in expected:
        return False
    return isinstance(value, expected)


def _apply_fields(page: Page, fields: dict[str, tuple[str, Any]], diagnostics: Diagnostics) -> None:
    def get(name: str, default: Any = None) -> Any:
        value = fields.get(name, (name, default))[1]
        return default if value is None else value

    page.title = str(get("title", ""))
    page.draft = bool(get("draft", False))
    page.weight = int(get("weight", 0))
    page.slug = str(get("slug", ""))
    page.url = str(get("url", ""))
    page.aliases = [str(a) for a in get("aliases", [])]
    page.description = str(get("description", ""))
    page.tags = _as_list(get("tags", []))
    page.categories = _as_list(get("categories", []))
    page.layout = str(get("layout", ""))
    toc = get("toc", True)
    page.toc_enabled = bool(toc.get("enable", True)) if isinstance(toc, dict) else bool(toc)
    page.math = get("math", True)
    for lowered in _DATE_FIELDS:
        _apply_date(page, lowered, fields, diagnostics)
    page.publish_date = page.publish_date or page.date
    page.params = {key: value for lowered, (key, value) in fields.items() if lowered not in _KNOWN_FIELDS}
    page.params.update(get("params", {}))
    if fields.get("summary"):
        page.params.setdefault("summary", fields["summary"][1])


def _apply_date(page: Page, lowered: str, fields: dict[str, tuple[str, Any]], diagnostics: Diagnostics) -> None:
    if lowered not in fields:
        return
    key, value = fields[lowered]
    try:
        when = to_datetime(value)
    except ValueError as exc:
        diagnostics.error(f"'{key}': {exc}", page.location(key))
        return
    attribute = {"date": "date", "lastmod": "lastmod", "publishdate": "publish_date", "expirydate": "expiry_date"}
    setattr(page, attribute[lowered], when)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _left_out_because(page: Page, options: ContentOptions, config: SiteConfig) -> str | None:
    """Hugo's rules: drafts, future and expired pages are left out unless asked for; which
    rule leaves `page` out ("drafts", "future", "expired"), or None when it is published."""
    if page.draft and not (options.drafts or config["buildDrafts"]):
        return "drafts"
    if page.publish_date and _after(page.publish_date, options.now) and not (options.future or config["buildFuture"]):
        return "future"
    if (page.expiry_date and not _after(page.expiry_date, options.now)
            and not (options.expired or config["buildExpired"])):
        return "expired"
    return None


def _after(when: dt.datetime, now: dt.datetime) -> bool:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when > now


def urlize(text: str, lower: bool = True) -> str:
    """Hugo's urlize: spaces to hyphens, punctuation dropped, accents kept off, lowercased."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s/.-]", "", text)
    text = re.sub(r"[\s_]+", "-", text.strip())
    return text.lower() if lower else text


def _assign_urls(pages: list[Page], config: SiteConfig) -> None:
    lower = not config["disablePathToLower"]
    for page in pages:
        set_url(page, _url_path(page, config, lower), config)


def _check_outputs(site: Site, diagnostics: Diagnostics) -> None:
    """Every page and alias lands inside the output folder, in a file of its own: a tag `..`,
    a slug `../x` or a `url` another page has would overwrite another page or escape."""
    written: dict[str, str] = {}  # output file (and each folder it needs) -> who writes it
    content = sorted((p for p in site.all_pages if p.source_path and p.kind != "term"), key=lambda p: p.source_path)
    fixed = [p for p in site.all_pages if not p.source_path and p.kind != "term"]
    for page in [*fixed, *content, *(p for p in site.all_pages if p.kind == "term")]:
        origin, what = _url_origin(page, site)
        outputs = [(page.path, page.output_path, what)]
        outputs += [(alias, alias_output(alias), f"alias {alias}") for alias in page.aliases]
        for url, output, described in outputs:
            where = origin if described == what else page.location("aliases")
            problem = _unsafe_url(url)
            if problem:
                diagnostics.error(f"{described}: URL {url} {problem}", where)
                continue
            clash = next((written[d] for d in (output, output + "/", *_folders_of(output)) if d in written), None)
            if clash is not None:
                diagnostics.error(f"URL {url} is also used by {clash}" if described == what
                                  else f"{described} would overwrite {clash}", where)
                continue
            written[output] = _owner(page)
            for folder in _folders_of(output):
                written.setdefault(folder + "/", _owner(page))


def _url_origin(page: Page, site: Site) -> tuple[Location | None, str]:
    """Where a page's URL comes from: its `url` or `slug` key, the first page naming a term."""
    if page.source_path:
        key = "url" if page.url else "slug" if page.slug else None
        return page.location(_written_key(page, key) if key else None), key or "file name"
    if page.kind == "term" and page.pages:
        first = page.pages[0]
        key = _written_key(first, page.taxonomy)
        return first.location(key), f"{page.taxonomy} term {page.term!r}"
    return None, _owner(page)


def _owner(page: Page) -> str:
    if page.source_path:
        return str(page.location())
    if page.kind == "term":
        return f"the page of the {page.taxonomy} term {page.term!r}"
    return {"home": "the home page", "taxonomy": f"the list of {page.taxonomy}"}.get(page.kind,
                                                                                   f"the section {page.section}")


def _written_key(page: Page, lowered: str) -> str:
    """A front matter key as the file spells it (`Tags:` or `tags:`)."""
    return next((key for key in page.front_matter if key.lower() == lowered), lowered)


def _unsafe_url(url: str) -> str | None:
    """Why a site path cannot be written where it says, or None."""
    inner = url.removeprefix("/").removesuffix("/")
    if any(ord(ch) < 32 or ch in "\x7f\\" for ch in url):
        return "has a control character or a backslash"
    if inner and any(part in ("", ".", "..") for part in inner.split("/")):
        return "has a '.', '..' or empty part: it would be written outside its folder"
    return None


def alias_output(alias: str) -> str:
    """The file an alias redirect is written to (a path ending in .html is the file itself)."""
    path = alias.strip("/")
    return path if path.endswith(".html") else f"{path}/index.html".lstrip("/")


def _folders_of(output: str) -> list[str]:
    """The folders a file needs: a page written as a file of one of those names blocks it."""
    parts = output.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def set_url(page: Page, path: str, config: SiteConfig) -> None:
    """Give a page its site path, and the relative and absolute permalinks under baseURL."""
    page.path = path
    page.rel_permalink = base_path(config.base_url).rstrip("/") + path
    page.permalink = absolute_url(config.base_url, path)


def base_path(base_url: str) -> str:
    """The path part of baseURL ("https://x.org/notes/" -> "/notes/")."""
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^/]*(/.*)?$", base_url, re.I)
    path = (match.group(1) or "/") if match else base_url
    return path if path.endswith("/") else path + "/"


def absolute_url(base_url: str, path: str) -> str:
    """The permalink under baseURL; a base of "/" keeps URLs root-relative."""
    return base_url.rstrip("/") + path if base_url != "/" else path


def _url_path(page: Page, config: SiteConfig, lower: bool) -> str:
    if page.url:
        url = "/" + page.url.lstrip("/")
        return url if url.endswith(("/", ".html", ".xml")) else url + "/"
    if page.kind == "home":
        return "/"
    folder, _, name = page.source_path.rpartition("/")
    if page.kind == "section":
        return "/" + urlize(folder, lower) + "/"
    stem = name.removesuffix(".md")
    if stem == "index":  # leaf bundle: named by its folder
        folder, _, stem = folder.rpartition("/")
    pattern = config.permalinks.get(page.section) if page.section else None
    if isinstance(pattern, str):
        return _expand_permalink(pattern, page, stem, lower)
    last = page.slug or stem
    parts = [urlize(part, lower) for part in (*folder.split("/"), last) if part]
    return "/" + "/".join(parts) + "/"


def _expand_permalink(pattern: str, page: Page, stem: str, lower: bool) -> str:
    """Hugo's permalink tokens (:year, :month, :day, :slug, :title, :filename, :section...)."""
    date = page.date or dt.datetime(1, 1, 1)
    values = {
        "year": f"{date.year:04d}", "month": f"{date.month:02d}", "day": f"{date.day:02d}",
        "slug": urlize(page.slug or page.title or stem, lower), "title": urlize(page.title or stem, lower),
        "filename": urlize(stem, lower), "contentbasename": urlize(stem, lower),
        "section": urlize(page.section, lower), "sections": urlize(page.section, lower),
    }

    def token(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    url = re.sub(r":(\w+)", token, pattern)
    url = "/" + url.lstrip("/")
    return url if url.endswith(("/", ".html")) else url + "/"




def sort_pages(pages: list[Page]) -> list[Page]:
    """Hugo's default order: weight (0 last), then date newest first, then title, then path."""
    dated = sorted(pages, key=lambda p: (p.title.lower(), p.source_path))
    dated.sort(key=lambda p: _timestamp(p.date), reverse=True)
    return sorted(dated, key=lambda p: (p.weight == 0, p.weight))


def _timestamp(when: dt.datetime | None) -> float:
    if when is None:
        return float("-inf")
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def _assemble(config: SiteConfig, published: list[Page], left_out: LeftOut) -> Site:
    regular = sort_pages([p for p in published if p.kind == "page"])
    home = next((p for p in published if p.kind == "home"), None) or _generated_page("home", config.title, "/", config)
    given = _taxonomy_content(config, published)
    sections = _sections(config, [p for p in published if p not in given.values()], regular)
    taxonomies = _taxonomies(config, regular)
    taxonomy_pages = _taxonomy_pages(config, taxonomies, given)
    home.pages = regular
    all_pages = [home, *sections.values(), *regular, *taxonomy_pages]
    return Site(config=config, all_pages=all_pages, pages=regular, home=home, sections=sections,
                taxonomies=taxonomies, taxonomy_pages=taxonomy_pages, project_root=config.root,
                left_out=left_out)


def _sections(config: SiteConfig, published: list[Page], regular: list[Page]) -> dict[str, Page]:
    sections = {p.source_path.rsplit("/", 1)[0]: p for p in published if p.kind == "section"}
    for page in regular:
        if page.section and page.section not in sections:
            sections[page.section] = _generated_page("section", page.section.replace("-", " ").title(),
                                                     "/" + urlize(page.section) + "/", config, section=page.section)
    for name, section in sections.items():
        section.section = name.split("/", 1)[0]
        section.pages = [p for p in regular if p.source_path.startswith(name + "/")]
        for page in section.pages:
            page.parent = section
    return dict(sorted(sections.items()))


def _taxonomies(config: SiteConfig, regular: list[Page]) -> dict[str, dict[str, list[Page]]]:
    taxonomies: dict[str, dict[str, list[Page]]] = {}
    for plural in config.taxonomies.values():
        terms: dict[str, list[Page]] = {}
        spelling: dict[str, str] = {}  # one term per URL, as in Hugo: "Math" and "math" are one
        for page in regular:
            values = page.tags if plural == "tags" else page.categories if plural == "categories" \
                else _as_list(page.params.get(plural, []))
            for term in values:
                members = terms.setdefault(spelling.setdefault(urlize(term), term), [])
                if page not in members:
                    members.append(page)
        taxonomies[plural] = dict(sorted(terms.items(), key=lambda item: item[0].lower()))
    return taxonomies


def _taxonomy_content(config: SiteConfig, published: list[Page]) -> dict[str, Page]:
    """`content/tags/_index.md` and `content/tags/<term>/_index.md`: as in Hugo, the title,
    front matter and text of the taxonomy's list page or of one term's page, not a section
    of their own. Keyed by the page's URL path."""
    plurals = {urlize(plural) for plural in config.taxonomies.values()}
    given: dict[str, Page] = {}
    for page in published:
        folder = page.source_path.rsplit("/", 1)[0] if page.kind == "section" else ""
        parts = folder.split("/")
        if folder and urlize(parts[0]) in plurals and len(parts) <= 2:
            given["/" + "/".join(urlize(part) for part in parts) + "/"] = page
    return given


def _taxonomy_pages(config: SiteConfig, taxonomies: dict[str, dict[str, list[Page]]],
                    given: dict[str, Page]) -> list[Page]:
    """The taxonomies' list pages and term pages: generated, or the content file that gives one."""
    pages = []
    for plural, terms in taxonomies.items():
        if not terms:
            continue
        listing = _listing_page("taxonomy", plural.title(), f"/{urlize(plural)}/", config, given)
        listing.taxonomy, listing.terms = plural, terms
        pages.append(listing)
        for term, members in terms.items():
            page = _listing_page("term", term, term_path(plural, term), config, given)
            page.taxonomy, page.term, page.pages = plural, term, members
            pages.append(page)
    return pages


def _listing_page(kind: str, title: str, rel: str, config: SiteConfig, given: dict[str, Page]) -> Page:
    page = given.get(rel)
    if page is None:
        return _generated_page(kind, title, rel, config)
    page.kind, page.section = kind, ""
    page.title = page.title or title
    set_url(page, rel, config)
    return page


def _generated_page(kind: str, title: str, rel: str, config: SiteConfig, section: str = "") -> Page:
    page = Page(kind=kind, source_path="", title=title, section=section)
    set_url(page, rel, config)
    return page


def term_path(taxonomy: str, term: str) -> str:
    """Site path of a taxonomy term page, for templates' tag links."""
    return f"/{urlize(taxonomy)}/{urlize(term)}/"
