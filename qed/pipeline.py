"""The build, stage by stage: config → content → bodies → labels → verification → math → text → output.

`build_site` is the whole flow in order; each step is one call into the module that owns
it. Everything that can fail on user input runs before anything is written, and all
errors of a stage are reported together.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2

from qed.bodies import RenderedBody, create_body_tools, render_bodies, render_body
from qed.body import Label, PageText
from qed.body_cache import BodyCache
from qed.config import DEFAULT_ENVIRONMENT, SiteConfig, load_config
from qed.content import ContentOptions, Site, load_site
from qed.disk_cache import check_cache_folder
from qed.errors import BuildFailed, Diagnostics, QedError
from qed.incremental import LazyText, OutputReuse, TextStore, manifest_path, text_key
from qed.katex import KatexRenderer, MathStats
from qed.labels import collect_labels
from qed.output import Staging, check_destination
from qed.page_text import typeset_and_finish
from qed.pagination import PaginationSettings
from qed.parallel import default_jobs, map_in_processes
from qed.publishing import links_left_out, write_site
from qed.search import SearchSettings
from qed.templates import check_templates, create_environment
from qed.verification import VerificationReport, VerifyOptions, replay_claim, verify_claims
from qed.verification.reports import DETAIL_SUFFIX, LINKS_SUFFIX

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildOptions:
    """What the command line asked for; `write=False` is `check` (verify, write nothing)."""

    source: Path = Path(".")
    destination: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    future: bool = False
    expired: bool = False
    clean: bool = False
    write: bool = True
    jobs: int = 0
    fork: bool = True  # False: pages in this process (a caller with threads of its own, as `serve`)
    refresh: bool = False
    strict: bool = False
    junit: Path | None = None
    timeout: float | None = None
    replay: tuple[str, int] | None = None  # (claim id, seed): re-run one trial of one claim
    environment: str | None = None  # which config/<environment>/ applies (None: production, as Hugo)


@dataclass
class BuildResult:
    """What a build did, for the summary line and the benchmark."""

    pages: int = 0
    files: int = 0
    formulas: int = 0
    formulas_rendered: int = 0
    formulas_failed: int = 0  # KaTeX could not typeset them (warnings under math.errors: warning)
    math_rule: str = ""  # how formulas were found (`MathSettings.rule`)
    claims: int = 0
    claims_run: int = 0
    seconds: float = 0.0
    warnings: list[QedError] = field(default_factory=list)
    destination: Path | None = None
    verification_summary: str = ""
    left_out: str = ""  # "2 drafts left out (-D to include)"
    annotations: list[str] = field(default_factory=list)


def build_site(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Build the site in `options.source`; raises `BuildFailed` with every error found."""
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    diagnostics = Diagnostics()

    config = apply_overrides(load_config(options.source.resolve(), diagnostics,
                                         options.environment or DEFAULT_ENVIRONMENT), options)
    pagination = PaginationSettings.from_config(config, diagnostics)
    search = SearchSettings.from_config(config, diagnostics)
    verify_settings = VerifyOptions.from_config(config, diagnostics)
    diagnostics.raise_if_failed()
    destination = _destination(config, options)
    check_cache_folder(config.cache_dir)
    if options.write:
        check_destination(destination, config.root)
    site = load_site(config, ContentOptions(options.drafts, options.future, options.expired), diagnostics)
    diagnostics.raise_if_failed()
    say(f"read {len(site.all_pages)} pages")
    if options.replay is not None:
        return _replay(site, options, diagnostics, verify_settings)

    env = create_environment(config.root, config.base_url, search_enabled=search.enabled,
                             cache_dir=config.cache_dir, clear=options.clean)
    check_templates(env, diagnostics)
    diagnostics.raise_if_failed()
    jobs = (options.jobs or default_jobs()) if options.fork else 1  # verifiers use options.jobs
    cache = BodyCache(config.cache_dir / "bodies.sqlite", clear=options.clean, diagnostics=diagnostics)
    bodies = render_bodies(site, env, diagnostics, progress=say, jobs=jobs, cache=cache)
    labels = collect_labels(bodies, diagnostics)
    report = verify_site(site, bodies, options, replace(verify_settings, output=destination), diagnostics, say)
    texts = TextStore(config.cache_dir / "texts.sqlite", clear=options.clean, diagnostics=diagnostics)
    try:
        renderer = _katex(bodies, site, diagnostics, clean=options.clean)
        katex = renderer.fingerprint() if renderer is not None else "no math"
        keys = _text_keys(bodies, cache.keys, labels, report, katex)
        math_stats = _give_pages_their_text(site, bodies, labels, report, renderer, texts, keys, diagnostics,
                                            whole=lambda body: _whole(body, cache, site, env), jobs=jobs, say=say)
        if diagnostics.errors:
            raise BuildFailed(list(diagnostics.errors), report.github_annotations() if report else [],
                              report.blocked_lines() if report else [])

        site = replace(site, labels=labels)
        if options.write:
            diagnostics.warnings.extend(links_left_out(site))
        result = _result(site, math_stats, report, diagnostics)
        if options.write:
            reuse = OutputReuse(manifest_path(config.cache_dir, destination.resolve()), destination.resolve(),
                                _site_key(cache.site_key, katex, labels), keys, texts, enabled=not options.clean)
            result.files = _publish(site, env, report, destination, say, jobs, pagination, search, bodies, reuse)
            result.destination = destination
    finally:
        texts.close()
        cache.close()
    result.seconds = time.perf_counter() - started
    return result


def verify_site(site: Site, bodies: list[RenderedBody], options: BuildOptions, settings: VerifyOptions,
            diagnostics: Diagnostics, say: Progress) -> VerificationReport | None:
    """Run the verifiers of every claim on the site; None when the site states no claims.
    `settings` carries what the config says (`verify.memory`) and where the output goes."""
    claims = [claim for body in bodies for claim in body.claims]
    if not claims:
        return None
    verify_options = replace(settings, jobs=options.jobs, refresh=options.refresh or options.clean,
                             strict=options.strict, timeout=options.timeout, junit=options.junit)
    return verify_claims(claims, project_root=site.project_root, cache_dir=site.config.cache_dir,
                         options=verify_options, diagnostics=diagnostics,
                         progress=lambda done, total: say(f"verified {done}/{total} claims"))


def _katex(bodies: list[RenderedBody], site: Site, diagnostics: Diagnostics, *, clean: bool) -> KatexRenderer | None:
    """The renderer of the site's formulas (cached on disk, emptied first on `--clean`); None
    for a site without math (no V8 and no cache)."""
    with_math = [body.math for body in bodies if body.math.formulas]
    if not with_math:
        return None
    return KatexRenderer(with_math[0].settings, site.config.cache_dir, diagnostics, refresh=clean)


def _text_keys(bodies: list[RenderedBody], body_keys: dict[str, str], labels: dict[str, Label],
               report: VerificationReport | None, katex: str) -> dict[str, str]:
    """Each page's text key (`incremental.text_key`), by source path."""
    def claim_html(body: RenderedBody) -> list[str]:
        if report is None:
            return []
        return [report.resolve_claim(claim.key + suffix) for claim in body.claims
                for suffix in ("", LINKS_SUFFIX, DETAIL_SUFFIX)]

    return {body.source_path: text_key(body_keys.get(body.source_path, ""), [ref for ref, _ in body.references],
                                       labels, claim_html(body), katex) for body in bodies}


@dataclass(frozen=True)
class _Finished:
    """One page finished, as it comes back from a worker process: its messages, what its
    math counted, and its text when it was not stored (this process keeps it for the build)."""

    errors: list[Any]
    warnings: list[Any]
    stats: MathStats
    text: PageText | None


def _give_pages_their_text(site: Site, bodies: list[RenderedBody], labels: dict[str, Label],
                           report: VerificationReport | None, renderer: KatexRenderer | None, texts: TextStore,
                           keys: dict[str, str], diagnostics: Diagnostics, *,
                           whole: Callable[[RenderedBody], RenderedBody], jobs: int, say: Progress) -> MathStats:
    """The one place pages change after loading: each receives its finished body, as a
    `LazyText` read from `texts`. Pages whose text is stored under its key from an earlier
    build are neither typeset nor finished again; the others are typeset and finished in
    `jobs` processes, each storing what it finished (unless the page gave messages, which the
    next build must give again); messages are reported here, in page order."""
    by_path = {page.source_path: page for page in site.all_pages if page.file is not None}
    stored = texts.present(list(keys.values()))
    stale = [body for body in bodies if keys[body.source_path] not in stored]
    if stale:
        say(f"finishing {len(stale)} of {len(bodies)} pages")
    resolve_claim = report.resolve_claim if report is not None else None
    workers = jobs if renderer is None or renderer.ready_to_fork() else 1
    last_from = len(stale) - workers  # from here on, each process's final page

    def finish(numbered: tuple[int, RenderedBody]) -> _Finished:
        index, body = numbered[0], whole(numbered[1])  # read here: no process holds every page's HTML
        text, messages, counted = typeset_and_finish(by_path[body.source_path], body, renderer, labels, resolve_claim,
                                                     site.base_url, site.config["summaryLength"],
                                                     last=index >= last_from)
        quiet = not (messages.errors or messages.warnings or body.errors or body.warnings)
        kept = quiet and texts.store_now(keys[body.source_path], text)
        return _Finished(messages.errors, messages.warnings, counted, None if kept else text)

    stats = MathStats(rule=renderer.stats.rule if renderer is not None else "")
    finished_pages = map_in_processes(finish, list(enumerate(stale)), workers, here=False)  # V8 stays in workers
    for body, finished in zip(stale, finished_pages, strict=True):
        diagnostics.errors.extend(finished.errors)
        diagnostics.warnings.extend(finished.warnings)
        stats.add(finished.stats)
        if finished.text is not None:
            texts.put(keys[body.source_path], finished.text, keep=False)
    for body in bodies:
        by_path[body.source_path].text = LazyText(texts, keys[body.source_path], body.source_path)
    if renderer is not None:
        renderer.close()
    reused = sum(len(body.math.formulas) for body in bodies if keys[body.source_path] in stored)
    stats.total += reused
    stats.cached += reused
    return stats


def _whole(body: RenderedBody, cache: BodyCache, site: Site, env: jinja2.Environment) -> RenderedBody:
    """The whole body of a page the body cache gave in outline (`BodyCache.outlined`), to
    typeset and finish it again; rendered anew if the cache cannot give it (its messages
    were given with the outline)."""
    if body.source_path not in cache.outlined:
        return body
    found = cache.full(body.source_path)
    if found is not None:
        return found
    page = next(page for page in site.all_pages if page.source_path == body.source_path)
    return render_body(page, site, create_body_tools(site, env, Diagnostics()))


def _site_key(inputs: str, katex: str, labels: dict[str, Label]) -> str:
    """What any output may read besides page texts: the site's inputs (code, config,
    templates, front matter), the KaTeX build, and the site's labels (`site.labels`)."""
    listed = sorted((label_id, repr(label)) for label_id, label in labels.items())
    return hashlib.sha256(json.dumps([inputs, katex, listed]).encode()).hexdigest()


def _result(site: Site, math_stats: MathStats, report: VerificationReport | None,
            diagnostics: Diagnostics) -> BuildResult:
    result = BuildResult(warnings=diagnostics.warnings, pages=len(site.all_pages), formulas=math_stats.total,
                         formulas_rendered=math_stats.rendered, formulas_failed=math_stats.failed,
                         math_rule=math_stats.rule, left_out=site.left_out.describe())
    if report is not None:
        result.claims, result.claims_run = len(report.claims), report.ran
        result.verification_summary = report.terminal_summary()
        result.annotations = report.github_annotations()
    return result


def _replay(site: Site, options: BuildOptions, diagnostics: Diagnostics, settings: VerifyOptions) -> BuildResult:
    """`check --replay ID --seed N`: read the pages for their claims, run that one trial."""
    env = create_environment(site.config.root, site.config.base_url)
    bodies = render_bodies(site, env, diagnostics)
    diagnostics.raise_if_failed()
    claim_id, seed = options.replay  # type: ignore[misc]
    claims = [claim for body in bodies for claim in body.claims]
    if replay_claim(claims, claim_id, seed, site.project_root, settings.memory) != 0:
        raise QedError(f"replay of '{claim_id}' with seed {seed} failed (see above)")
    return BuildResult(warnings=diagnostics.warnings)


def _publish(site: Site, env: jinja2.Environment, report: VerificationReport | None, destination: Path,
             say: Progress, jobs: int, pagination: PaginationSettings, search: SearchSettings,
             bodies: list[RenderedBody], reuse: OutputReuse) -> int:
    """Render every document into a staging folder (taking unchanged ones over from the last
    site) and swap it in; on any error, discard it. The manifest follows a successful swap."""
    staging = Staging(destination)
    math_settings = next((body.math.settings for body in bodies if body.math.formulas), None)
    try:
        write_site(site, env, report, staging, jobs=jobs, pagination=pagination, search=search,
                   math_settings=math_settings, reuse=reuse)
        reuse.forget()
        staging.publish()
    except BaseException:
        staging.discard()
        raise
    reuse.save()
    say(f"wrote {staging.files_written} files ({reuse.reused_units} of {len(reuse.current)} unchanged)")
    return staging.files_written


def apply_overrides(config: SiteConfig, options: BuildOptions) -> SiteConfig:
    """Command-line flags win over the config file (`-b` over baseURL); `qed serve` uses it too."""
    if options.base_url is None:
        return config
    base = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
    return replace(config, raw={**config.raw, "baseURL": base})


def _destination(config: SiteConfig, options: BuildOptions) -> Path:
    chosen = options.destination or Path(config["publishDir"])
    return chosen if chosen.is_absolute() else (Path.cwd() / chosen if options.destination else config.root / chosen)
