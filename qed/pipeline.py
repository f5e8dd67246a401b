"""The build, stage by stage: config → content → bodies → labels → verification → math → templates → output.

`build_site` is the whole flow in order; each step is one call into the module that owns
it. Everything that can fail on user input runs before anything is written, and all
errors of a stage are reported together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from qed import linking
from qed import rendering as body_stage
from qed.config import SiteConfig, load_config
from qed.content import ContentOptions, Site, load_site
from qed.disk_cache import DiskCache
from qed.errors import BuildFailed, Diagnostics, QedError
from qed.output import Staging, check_destination
from qed.pagination import PaginationSettings
from qed.parallel import default_jobs
from qed.publishing import write_site
from qed.search import SearchSettings
from qed.shortcodes import install_shortcode_support
from qed.templates import check_templates, create_environment
from qed.theorems import collect_claims
from qed.verification import replay_claim

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
    result = BuildResult(warnings=diagnostics.warnings)

    config = _apply_overrides(load_config(options.source.resolve(), diagnostics), options)
    pagination = PaginationSettings.from_config(config, diagnostics)
    search = SearchSettings.from_config(config, diagnostics)
    diagnostics.raise_if_failed()
    destination = _destination(config, options)
    if options.write:
        check_destination(destination, config.root)
    site = load_site(config, ContentOptions(options.drafts, options.future, options.expired), diagnostics)
    diagnostics.raise_if_failed()
    say(f"read {len(site.all_pages)} pages")
    if options.replay is not None:
        return _replay(site, options, diagnostics)

    env = create_environment(config.root, config.base_url)
    env.globals["search_url"] = env.filters["relurl"]("search/") if search.enabled else ""
    install_shortcode_support(env)  # its filters are resolved when templates compile
    check_templates(env, diagnostics)
    diagnostics.raise_if_failed()
    jobs = (options.jobs or default_jobs()) if options.fork else 1  # verifiers use options.jobs
    body_cache = DiskCache(config.cache_dir / "bodies.sqlite", clear=options.clean)
    bodies = body_stage.render_bodies(site, env, diagnostics, progress=say, jobs=jobs, cache=body_cache)
    linking.collect_labels(site, bodies, diagnostics)
    report = linking.verify(site, bodies, options, diagnostics, progress=say)
    math_stats = linking.typeset_math(site, bodies, diagnostics, refresh=options.clean, jobs=jobs, progress=say)
    linking.resolve_bodies(site, bodies, report)
    if diagnostics.errors:
        raise BuildFailed(list(diagnostics.errors), report.github_annotations() if report else [],
                          report.blocked_lines() if report else [])

    result.pages = len(site.all_pages)
    result.formulas, result.formulas_rendered = math_stats
    if report is not None:
        result.claims, result.claims_run = len(report.claims), report.ran
        result.verification_summary = report.terminal_summary()
        result.annotations = report.github_annotations()
    if options.write:
        result.files = _publish(site, env, bodies, report, destination, say, jobs, pagination, search)
        result.destination = destination
    result.seconds = time.perf_counter() - started
    return result


def _replay(site: Site, options: BuildOptions, diagnostics: Diagnostics) -> BuildResult:
    """`check --replay ID --seed N`: read the pages for their claims, run that one trial."""

    env = create_environment(site.config.root, site.config.base_url)
    bodies = body_stage.render_bodies(site, env, diagnostics)
    diagnostics.raise_if_failed()
    claim_id, seed = options.replay  # type: ignore[misc]
    status = replay_claim(collect_claims(bodies), claim_id, seed, site.project_root)
    if status != 0:
        raise QedError(f"replay of '{claim_id}' with seed {seed} failed (see above)")
    return BuildResult(warnings=diagnostics.warnings)


def _publish(site: Site, env, bodies, report, destination: Path, say: Progress, jobs: int,
             pagination: PaginationSettings, search: SearchSettings) -> int:
    """Render every document into a staging folder and swap it in; on any error, discard it."""
    staging = Staging(destination)
    try:
        write_site(site, env, bodies, report, staging, jobs=jobs, pagination=pagination, search=search)
        staging.publish()
    except BaseException:
        staging.discard()
        raise
    say(f"wrote {staging.files_written} files")
    return staging.files_written


def _apply_overrides(config: SiteConfig, options: BuildOptions) -> SiteConfig:
    """Command-line flags win over the config file (`-b` over baseURL)."""
    if options.base_url is None:
        return config
    base = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
    return replace(config, raw={**config.raw, "baseURL": base})


def _destination(config: SiteConfig, options: BuildOptions) -> Path:
    chosen = options.destination or Path(config["publishDir"])
    return chosen if chosen.is_absolute() else (Path.cwd() / chosen if options.destination else config.root / chosen)
