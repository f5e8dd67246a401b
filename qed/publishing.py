"""What the site consists of on disk: every page rendered through its template, plus feeds,
sitemap, aliases, static files and bundle resources, all written through `output.Staging`."""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable

import jinja2

from qed.content import Page, Site
from qed.errors import QedError
from qed.katex import static_files
from qed.markdown import syntax_css
from qed.math import MathSettings
from qed.output import Staging
from qed.pagination import PaginationSettings, pager_path, paginate
from qed.parallel import map_in_processes
from qed.search import SearchSettings, search_index
from qed.templates import render_named, render_page, theme_dir
from qed.verification import VerificationReport

FEED_LIMIT = 20


def write_site(site: Site, env: jinja2.Environment, report: VerificationReport | None, staging: Staging, *,
               jobs: int = 1, pagination: PaginationSettings | None = None, search: SearchSettings | None = None,
               math_settings: MathSettings | None = None) -> None:
    """Write every file of the site into the staging folder (pages in `jobs` processes);
    `math_settings` are those of the site's math, None when no page has any."""
    writers = site_file_writers(site, env, report, staging, search=search, math_settings=math_settings)
    for name in ("static", "css/syntax.css"):  # first, so that a page or generated file of the same name wins
        writers.pop(name)()
    _write_pages(site, env, staging, jobs, pagination or PaginationSettings())
    for write in writers.values():
        write()


def site_file_writers(site: Site, env: jinja2.Environment, report: VerificationReport | None, staging: Staging, *,
                      search: SearchSettings | None = None,
                      math_settings: MathSettings | None = None) -> dict[str, Callable[[], None]]:
    """Each file (or group of files) of the site that is not one page's own, by name, in the
    order a build writes them; `qed serve` runs again only those whose inputs changed."""
    writers: dict[str, Callable[[], None]] = {
        "static": lambda: _copy_static(site, staging),
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
        writers["katex"] = lambda: _copy_katex(math_settings, staging)
    if report is not None:
        writers["verification"] = lambda: report.write_site_files(
            staging.path_for("verification").parent,
            lambda name, context: render_named(env, name, {"site": site, **context}))
    return writers


def _write_feed(page: Page, site: Site, env: jinja2.Environment, staging: Staging) -> None:
    staging.write_text(page.path.lstrip("/") + "index.xml",
                       render_named(env, "rss.xml", {"page": page, "site": site, "items": page.pages[:FEED_LIMIT]}))


def _copy_katex(math_settings: MathSettings, staging: Staging) -> None:
    """KaTeX's CSS and fonts, when self-hosted."""
    for source, relative in static_files(math_settings):
        staging.copy_file(source, relative)


def _write_pages(site: Site, env: jinja2.Environment, staging: Staging, jobs: int,
                 pagination: PaginationSettings) -> None:
    """Each page through its template, with its bundle files and alias redirects. A worker
    process's writes do not reach this process's `staging` counter, so each page returns
    its count; a template error comes back as a value and is raised here, first page first."""
    start = staging.files_written

    def write_page(page: Page) -> tuple[int, QedError | None]:
        before = staging.files_written
        try:
            write_page_files(page, site, env, staging, pagination)
        except QedError as error:
            return staging.files_written - before, error
        return staging.files_written - before, None

    outcomes = map_in_processes(write_page, site.all_pages, jobs)
    staging.files_written = start + sum(count for count, _ in outcomes)
    for _, error in outcomes:
        if error is not None:
            raise error


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
        writers["bundle"] = lambda: _copy_bundle(page, staging)
    writers["aliases"] = lambda: _write_aliases(page, site, staging)
    return writers


def _write_search(site: Site, env: jinja2.Environment, staging: Staging, search: SearchSettings) -> None:
    """The search index and the page that searches it (qed/search.py)."""
    index = json.dumps(search_index(site, search), ensure_ascii=False, separators=(",", ":"))
    staging.write_text("search/index.json", index)
    staging.write_text("search/index.html", render_named(env, "search.html", {"site": site, "search": search}))


def _copy_static(site: Site, staging: Staging) -> None:
    """The theme's static/ first, then the site's, so a site file replaces the theme's."""
    staging.copy_tree(theme_dir(site.project_root) / "static")
    staging.copy_tree(site.project_root / "static")


def _copy_bundle(page: Page, staging: Staging) -> None:
    """A leaf bundle's other files (images, data) go beside the page, as Hugo publishes them."""
    assert page.bundle_dir is not None
    folder = page.path.lstrip("/")
    for path in sorted(page.bundle_dir.rglob("*")):
        if path.is_file() and path.suffix != ".md" and not path.name.startswith("."):
            staging.copy_file(path, folder + path.relative_to(page.bundle_dir).as_posix())


def _write_pager(page: Page, site: Site, env: jinja2.Environment, staging: Staging, pager: object,
                 relative: str) -> None:
    staging.write_text(relative, render_page(env, page, site, {"paginator": pager}))


def _write_aliases(page: Page, site: Site, staging: Staging) -> None:
    """Each alias becomes a small page that redirects to the real one."""
    for alias in page.aliases:
        path = alias.strip("/")
        staging.write_text(path if path.endswith(".html") else f"{path}/index.html", _redirect(page.permalink, site))


def _redirect(permalink: str, site: Site) -> str:
    """A page that sends the reader (and search engines) on to `permalink`."""
    target = html.escape(permalink)
    return (f'<!DOCTYPE html><html lang="{html.escape(site.config["languageCode"])}"><head><title>{target}</title>'
            f'<link rel="canonical" href="{target}"><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={target}"></head></html>\n')


def _feed_pages(site: Site) -> list[Page]:
    """Pages with an RSS feed: home, sections and taxonomy terms, as in Hugo."""
    return [site.home, *site.sections.values(), *(p for p in site.taxonomy_pages if p.kind == "term")]
