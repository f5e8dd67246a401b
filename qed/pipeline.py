"""The build, stage by stage: config → content → bodies → labels → verification → math → text → output.

`build_site` is the whole flow in order; each step is one call into the module that owns
it. Everything that can fail on user input runs before anything is written, and all
errors of a stage are reported together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2

from qed.bodies import RenderedBody, render_bodies
from qed.body import Label
from qed.body_cache import BodyCache
from qed.config import SiteConfig, load_config
from qed.content import ContentOptions, Site, load_site
from qed.errors import BuildFailed, Diagnostics, QedError
from qed.katex import KatexRenderer, MathStats
from qed.labels import collect_labels
from qed.math import TypesetMath
from qed.output import Staging, check_destination
from qed.page_text import finish_page
from qed.pagination import PaginationSettings
from qed.parallel import default_jobs
from qed.publishing import write_site
from qed.search import SearchSettings
from qed.templates import check_templates, create_environment
from qed.verification import VerificationReport, VerifyOptions, replay_claim, verify_claims

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


@dataclass
class BuildResult:
    """What a build did, for the summary line and the benchmark."""

    pages: int = 0
    files: int = 0
    formulas: int = 0
    formulas_rendered: int = 0
    claims: int = 0
    claims_run: int = 0
    seconds: float = 0.0
    warnings: list[QedError] = field(default_factory=list)
    destination: Path | None = None
    verification_summary: str = ""
    annotations: list[str] = field(default_factory=list)


def build_site(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Build the site in `options.source`; raises `BuildFailed` with every error found."""
    started = time.perf_counter()
    say = progress or (lambda _line: None)
    diagnostics = Diagnostics()

    config = apply_overrides(load_config(options.source.resolve(), diagnostics), options)
    pagination = PaginationSettings.from_config(config, diagnostics)
    search = SearchSettings.from_config(config, diagnostics)
    verify_settings = VerifyOptions.from_config(config, diagnostics)
    diagnostics.raise_if_failed()
    destination = _destination(config, options)
    if options.write:
        check_destination(destination, config.root)
    site = load_site(config, ContentOptions(options.drafts, options.future, options.expired), diagnostics)
    diagnostics.raise_if_failed()
    say(f"read {len(site.all_pages)} pages")
    if options.replay is not None:
        return _replay(site, options, diagnostics, verify_settings)

    env = create_environment(config.root, config.base_url, search_enabled=search.enabled)
    check_templates(env, diagnostics)
    diagnostics.raise_if_failed()
    jobs = (options.jobs or default_jobs()) if options.fork else 1  # verifiers use options.jobs
    cache = BodyCache(config.cache_dir / "bodies.sqlite", clear=options.clean)
    bodies = render_bodies(site, env, diagnostics, progress=say, jobs=jobs, cache=cache)
    labels = collect_labels(bodies, diagnostics)
    report = verify_site(site, bodies, options, replace(verify_settings, output=destination), diagnostics, say)
    math_html, math_stats = _typeset(site, bodies, labels, diagnostics, clean=options.clean, jobs=jobs, say=say)
    if diagnostics.errors:
        raise BuildFailed(list(diagnostics.errors), report.github_annotations() if report else [],
                          report.blocked_lines() if report else [])

    site = replace(site, labels=labels)
    _give_pages_their_text(site, bodies, math_html, report)
    result = _result(site, math_stats, report, diagnostics)
    if options.write:
        result.files = _publish(site, env, report, destination, say, jobs, pagination, search, math_html)
        result.destination = destination
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


def _typeset(site: Site, bodies: list[RenderedBody], labels: dict[str, Label], diagnostics: Diagnostics, *,
             clean: bool, jobs: int, say: Progress) -> tuple[list[TypesetMath], MathStats]:
    """Every page's formulas through KaTeX (cached on disk, emptied first on `--clean`)."""
    with_math = [body.math for body in bodies if body.math.formulas]
    if not with_math:  # no V8 and no cache for a site without math
        return [TypesetMath(body.math, ()) for body in bodies], MathStats()
    renderer = KatexRenderer(with_math[0].settings, site.config.cache_dir, diagnostics, refresh=clean)
    typeset = renderer.typeset_pages([body.math for body in bodies], labels, jobs=jobs, progress=say)
    renderer.close()
    return typeset, renderer.stats


def _give_pages_their_text(site: Site, bodies: list[RenderedBody], math_html: list[TypesetMath],
                           report: VerificationReport | None) -> None:
    """The one place pages change after loading: each receives its finished body."""
    by_path = {page.source_path: page for page in site.all_pages if page.file is not None}
    resolve_claim = report.resolve_claim if report is not None else None
    for body, typeset in zip(bodies, math_html, strict=True):
        page = by_path[body.source_path]
        page.text = finish_page(page, body, typeset, site.labels, resolve_claim, site.base_url,
                                site.config["summaryLength"])


def _result(site: Site, math_stats: MathStats, report: VerificationReport | None,
            diagnostics: Diagnostics) -> BuildResult:
    result = BuildResult(warnings=diagnostics.warnings, pages=len(site.all_pages), formulas=math_stats.total,
                         formulas_rendered=math_stats.rendered)
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
             math_html: list[TypesetMath]) -> int:
    """Render every document into a staging folder and swap it in; on any error, discard it."""
    staging = Staging(destination)
    math_settings = next((typeset.page.settings for typeset in math_html if typeset.page.formulas), None)
    try:
        write_site(site, env, report, staging, jobs=jobs, pagination=pagination, search=search,
                   math_settings=math_settings)
        staging.publish()
    except BaseException:
        staging.discard()
        raise
    say(f"wrote {staging.files_written} files")
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
