"""What the site consists of on disk: every page rendered through its template, plus feeds,
sitemap, aliases, static files and bundle resources, all written through `output.Staging`."""

from __future__ import annotations

import functools
import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from qed.content import Page, Site, alias_output, base_path
from qed.errors import Location, QedError, display_path
from qed.incremental import OutputReuse, OutputUnit, file_stamp
from qed.katex import static_files
from qed.markdown import syntax_css
from qed.math import MathSettings
from qed.output import Staging, tree_files
from qed.pagination import PaginationSettings, pager_path, paginate
from qed.parallel import map_in_processes
from qed.search import SearchSettings, search_index
from qed.templates import render_named, render_page, theme_dir
from qed.verification import VerificationReport

FEED_LIMIT = 20


def write_site(site: Site, env: jinja2.Environment, report: VerificationReport | None, staging: Staging, *,
               jobs: int = 1, pagination: PaginationSettings | None = None, search: SearchSettings | None = None,
               math_settings: MathSettings | None = None, reuse: OutputReuse | None = None) -> None:
    """Write every file of the site into the staging folder (pages in `jobs` processes);
    `math_settings` are those of the site's math, None when no page has any. With `reuse`,
    each unit of output whose inputs did not change is taken over from the last site."""
    unit = _Units(staging, reuse)
    writers = site_file_writers(site, env, report, staging, search=search, math_settings=math_settings)
    del writers["static"]  # static and KaTeX files one by one below, each taken over while it is unchanged
    writers.pop("katex", None)
    verification = writers.pop("verification", None)
    _copy_static(site, unit.copy)  # first, so that a page or generated file of the same name wins
    unit.write("css/syntax.css", writers.pop("css/syntax.css"))
    _write_pages(site, env, staging, jobs, pagination or PaginationSettings(), unit)
    for name, write in writers.items():
        unit.write(name, write)
    if math_settings is not None:
        _copy_katex(math_settings, unit.copy)
    if verification is not None:
        verification()
    if site.config["relativeURLs"]:
        make_urls_relative(staging.root, base_path(site.base_url))


def site_file_writers(site: Site, env: jinja2.Environment, report: VerificationReport | None, staging: Staging, *,
                      search: SearchSettings | None = None,
                      math_settings: MathSettings | None = None) -> dict[str, Callable[[], None]]:
    """Each file (or group of files) of the site that is not one page's own, by name, in the
    order a build writes them; `qed serve` runs again only those whose inputs changed, and a
    build takes over those whose inputs did not (`OutputReuse`, by the same names)."""
    writers: dict[str, Callable[[], None]] = {
        "static": lambda: _copy_static(site, staging.copy_file),
        "css/syntax.css": lambda: staging.write_text("css/syntax.css", syntax_css()),
    }
    for page in _feed_pages(site):
        writers[page.path.lstrip("/") + "index.xml"] = functools.partial(_write_feed, page, site, env, staging)
    writers["sitemap.xml"] = lambda: staging.write_text("sitemap.xml", render_named(env, "sitemap.xml",
                                                                                    {"site": site}))
    if search is not None and search.enabled:
        writers["search"] = lambda: _write_search(site, env, staging, search)
    writers["404.html"] = lambda: staging.write_text("404.html", render_named(env, "404.html",
                                                                              {"site": site, "page": site.home}))
    if math_settings is not None:
        writers["katex"] = lambda: _copy_katex(math_settings, staging.copy_file)
    if report is not None:
        writers["verification"] = lambda: report.write_site_files(
            staging.path_for("verification").parent,
            lambda name, context: render_named(env, name, {"site": site, **context}))
    return writers


def _write_feed(page: Page, site: Site, env: jinja2.Environment, staging: Staging) -> None:
    staging.write_text(page.path.lstrip("/") + "index.xml",
                       render_named(env, "rss.xml", {"page": page, "site": site, "items": page.pages[:FEED_LIMIT]}))


# A root-relative URL ("/x", not "//host/x") in an HTML attribute that holds one.
_URL_ATTRIBUTE_RE = re.compile(r'(?<=[\s"\'])(href|src|action|poster|srcset)=(["\'])(/(?!/)[^"\']*)\2')
_PATH_AND_REST_RE = re.compile(r"([^?#]*)(.*)", re.S)


def make_urls_relative(root: Path, site_path: str = "/") -> None:
    """Hugo's `relativeURLs`, on every HTML file once the whole site is written (templates,
    shortcodes and the verification pages alike): each root-relative URL in an attribute
    becomes relative to the page, and a link to a folder names its index.html, so the site
    works opened from disk (public/index.html) as well as served from any path. A file
    taken over from the last site is a hard link to it: it is replaced, never written through."""
    for path in sorted(root.rglob("*.html")):
        relative = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        rewritten = page_urls_relative(relative, text, site_path)
        if rewritten != text:
            fresh = path.with_name(f".{path.name}.relative")
            fresh.write_text(rewritten, encoding="utf-8")
            os.replace(fresh, path)


def page_urls_relative(relative: str, text: str, site_path: str = "/") -> str:
    """One output file's text as `relativeURLs` makes it (`relative`: its place in the site).
    404.html keeps root-relative links: a server shows it at any depth."""
    if not relative.endswith(".html") or relative == "404.html":
        return text
    depth = relative.count("/")
    return relative_urls(text, "../" * depth or "./", site_path)


def relative_urls(text: str, to_root: str, site_path: str = "/") -> str:
    """`text` with its root-relative attribute URLs rewritten to start at `to_root`."""

    def relative(url: str) -> str:
        inside = url[len(site_path):] if url.startswith(site_path) else url.lstrip("/")
        target, rest = _PATH_AND_REST_RE.match(inside).groups()  # type: ignore[union-attr]
        if target == "" or target.endswith("/"):
            target += "index.html"
        return to_root + target + rest

    def replace(match: re.Match[str]) -> str:
        name, quote, value = match.groups()
        if name == "srcset":
            parts = [part.strip() for part in value.split(",")]
            value = ", ".join(relative(p) if p.startswith("/") and not p.startswith("//") else p for p in parts)
        else:
            value = relative(value)
        return f"{name}={quote}{value}{quote}"

    return _URL_ATTRIBUTE_RE.sub(replace, text)


@dataclass
class _Units:
    """Writes units of output through `OutputReuse` when there is one, directly otherwise."""

    staging: Staging
    reuse: OutputReuse | None

    def write(self, unit_id: str, render: Callable[[], None], extra: str = "") -> OutputUnit | None:
        if self.reuse is None:
            render()
            return None
        return self.reuse.write(unit_id, self.staging, render, extra)

    def copy(self, source: Path, relative: str) -> None:
        """A file copied as it is: taken over while its size and modification time hold."""
        self.write(f"file:{relative}", lambda: self.staging.copy_file(source, relative), file_stamp(source))


def _write_pages(site: Site, env: jinja2.Environment, staging: Staging, jobs: int,
                 pagination: PaginationSettings, unit: _Units) -> None:
    """Each page through its template, with its bundle files and alias redirects. A worker
    process's writes do not reach this process's `staging` counter, so each page returns
    its count (and its unit for the manifest); a template error comes back as a value and is
    raised here, first page first."""
    start = staging.files_written

    def write_page(page: Page) -> tuple[int, QedError | None, tuple[str, OutputUnit] | None]:
        before = staging.files_written
        unit_id = f"page:{page.kind}:{page.path}"
        try:
            written = unit.write(unit_id, lambda: write_page_files(page, site, env, staging, pagination),
                                 _bundle_stamp(page, site))
        except QedError as error:
            return staging.files_written - before, error, None
        return staging.files_written - before, None, (unit_id, written) if written is not None else None

    outcomes = map_in_processes(write_page, site.all_pages, jobs)
    staging.files_written = start + sum(count for count, _, _ in outcomes)
    for _, error, _ in outcomes:
        if error is not None:
            raise error
    if unit.reuse is not None:  # units written by worker processes are recorded here
        unit.reuse.adopt(written for _, _, written in outcomes if written is not None)


def write_page_files(page: Page, site: Site, env: jinja2.Environment, staging: Staging,
                     pagination: PaginationSettings) -> None:
    """Every file one page puts in the site: its document (or pagers), bundle files, aliases."""
    for write in page_file_writers(page, site, env, staging, pagination).values():
        write()


def page_file_writers(page: Page, site: Site, env: jinja2.Environment, staging: Staging,
                      pagination: PaginationSettings) -> dict[str, Callable[[], None]]:
    """One page's files by part: its document, or each pager of a list page on its own (with
    Hugo's `page/1/` alias), its bundle files, its aliases; `qed serve` re-runs a part alone."""
    writers: dict[str, Callable[[], None]] = {}
    pagers = paginate(page, pagination)
    if not pagers:
        writers["document"] = lambda: staging.write_text(page.output_path,
                                                          render_page(env, page, site, {"paginator": None}))
    for pager in pagers:
        target = page.path if pager.number == 1 else pager_path(page.path, pagination, pager.number)
        writers[f"pager {pager.number}"] = functools.partial(_write_pager, page, site, env, staging, pager,
                                                             target.lstrip("/") + "index.html")
    if pagers and not pagination.disable_aliases:
        writers["pager alias"] = lambda: staging.write_text(pager_path(page.path, pagination, 1).lstrip("/")
                                                            + "index.html", _redirect(page.permalink, site))
    if page.bundle_dir is not None:
        writers["bundle"] = lambda: _copy_bundle(page, site, staging)
    writers["aliases"] = lambda: _write_aliases(page, site, staging)
    return writers


def _write_search(site: Site, env: jinja2.Environment, staging: Staging, search: SearchSettings) -> None:
    """The search index and the page that searches it (qed/search.py)."""
    staging.write_text("search/index.json", search_index(site, search))
    staging.write_text("search/index.html", render_named(env, "search.html", {"site": site, "search": search}))


def _copy_static(site: Site, copy: Callable[[Path, str], None]) -> None:
    """The theme's static/ and the site's; a site file replaces the theme's of the same name.
    Symbolic links are followed only inside the site (`links_left_out` names the others)."""
    chosen: dict[str, Path] = {}
    for folder in _static_dirs(site):
        chosen.update((name, path) for path, name in tree_files(folder, _site_dirs(site)).files)
    for inside, path in sorted(chosen.items()):
        copy(path, inside)


def _copy_katex(math_settings: MathSettings, copy: Callable[[Path, str], None]) -> None:
    """KaTeX's CSS and fonts, when self-hosted."""
    for source, relative in static_files(math_settings):
        copy(source, relative)


def _bundle_stamp(page: Page, site: Site) -> str:
    """What says a leaf bundle's resources changed (their names, sizes and times)."""
    if page.bundle_dir is None:
        return ""
    return "\n".join(file_stamp(path) for path, _name in _bundle_files(page, site))


def _bundle_files(page: Page, site: Site) -> list[tuple[Path, str]]:
    """A leaf bundle's resources: its files but the markdown, links followed only inside the site."""
    assert page.bundle_dir is not None
    return [(path, name) for path, name in tree_files(page.bundle_dir, _site_dirs(site)).files if path.suffix != ".md"]


def _copy_bundle(page: Page, site: Site, staging: Staging) -> None:
    """A leaf bundle's other files (images, data) go beside the page, as Hugo publishes them."""
    assert page.bundle_dir is not None
    folder = page.path.lstrip("/")
    for path, name in _bundle_files(page, site):
        staging.copy_file(path, folder + name)


def links_left_out(site: Site) -> list[QedError]:
    """A warning for each symbolic link in static/ or a bundle that points outside the site:
    it is not published (a link to `/etc` or `~/.ssh` must not put them on the web)."""
    folders = [*_static_dirs(site), *(page.bundle_dir for page in site.all_pages if page.bundle_dir is not None)]
    warnings = []
    for folder in folders:
        for link, target in tree_files(folder, _site_dirs(site)).outside:
            shown = f"{display_path(link.parent)}/{link.name}"  # the link's own name, not its target's
            warnings.append(QedError(f"not published: a symbolic link to {target}, outside the site", Location(shown)))
    return warnings


def _static_dirs(site: Site) -> list[Path]:
    return [theme_dir(site.project_root) / "static", site.project_root / "static"]


def _site_dirs(site: Site) -> tuple[Path, ...]:
    """Where a followed symbolic link may lead: the site's folder and its theme's."""
    return (site.project_root, theme_dir(site.project_root))


def _write_pager(page: Page, site: Site, env: jinja2.Environment, staging: Staging, pager: object,
                 relative: str) -> None:
    staging.write_text(relative, render_page(env, page, site, {"paginator": pager}))


def _write_aliases(page: Page, site: Site, staging: Staging) -> None:
    """Each alias becomes a small page that redirects to the real one."""
    for alias in page.aliases:
        staging.write_text(alias_output(alias), _redirect(page.permalink, site))


def _redirect(permalink: str, site: Site) -> str:
    """A page that sends the reader (and search engines) on to `permalink`."""
    target = html.escape(permalink)
    return (f'<!DOCTYPE html><html lang="{html.escape(site.config["languageCode"])}"><head><title>{target}</title>'
            f'<link rel="canonical" href="{target}"><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={target}"></head></html>\n')


def _feed_pages(site: Site) -> list[Page]:
    """Pages with an RSS feed: home, sections and taxonomy terms, as in Hugo."""
    return [site.home, *site.sections.values(), *(p for p in site.taxonomy_pages if p.kind == "term")]
