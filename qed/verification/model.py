"""What verification produces: options in, one `Verdict` per claim out.

Statuses are computed from what the runner observed, never written by authors:

- verified: every trial passed (evidence, not proof: the badge says what was run)
- falsified: a trial's assertion failed
- error: the verifier raised something else, crashed, or could not be resolved
- timeout: the worker was killed at its time limit
- unchecked: the claim names no verifier
- expected-false: an `expect=false` claim whose verifier found its counterexample
- blocked: not run, because a claim it `uses` failed
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qed.errors import Diagnostics, Location
from qed.options import POSITIVE_INT, Option, read_options

VERIFIED = "verified"
FALSIFIED = "falsified"
ERROR = "error"
TIMEOUT = "timeout"
UNCHECKED = "unchecked"
EXPECTED_FALSE = "expected-false"
BLOCKED = "blocked"

STATUSES = (VERIFIED, EXPECTED_FALSE, FALSIFIED, ERROR, TIMEOUT, BLOCKED, UNCHECKED)
FAILED = frozenset({FALSIFIED, ERROR, TIMEOUT, BLOCKED})
"""A claim in one of these states blocks the claims that use it."""

DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY = 4096  # MB of address space per worker: far above what numeric checks need

OPTIONS = (
    Option("memory", "memory", POSITIVE_INT, DEFAULT_MEMORY,
           "each verifier's memory limit in MB (its worker's address space); a claim's memory= wins"),
)

METHODS = {
    "symbolic": "SymPy simplified the difference of an identity's two sides to 0",
    "high-precision": "an identity sampled in float64, its disagreements settled with mpmath at 50 and 100 digits",
    "sampled": "seeded random trials (or an identity's points, all agreeing in float64)",
    "hypothesis": "examples drawn and shrunk by Hypothesis",
    "deterministic": "one call that drew no random input",
}
"""How a verdict was reached, strongest first; `reports.confidence_text` says what each supports."""


@dataclass(frozen=True)
class VerifyOptions:
    """Run options from the CLI (`-j`, `--refresh`, `--strict`, `--timeout`, `--junit`) and
    the config (`verify.memory`), and where the site is written (never a worker's to touch)."""

    jobs: int = 0  # 0 = one worker per CPU
    refresh: bool = False  # ignore the cache, re-run every verifier
    strict: bool = False  # also fail on theorem-like claims without a verifier
    timeout: float | None = None  # default per-claim time limit in seconds (30 if None)
    junit: Path | None = None  # write JUnit XML here
    memory: int = DEFAULT_MEMORY  # default per-claim memory limit in MB
    output: Path | None = None  # the output folder: left out of workers' working folders

    @classmethod
    def from_config(cls, config: Any, diagnostics: Diagnostics) -> VerifyOptions:
        """The site's `verify:` section; a bad value is an error at the section's line, and
        the default is used."""
        return cls(**read_options(config.section("verify"), OPTIONS, "verify", diagnostics,
                                  config.location("verify")))


@dataclass
class Verdict:
    """The outcome for one claim, as shown on its badge and in every report."""

    key: str
    status: str
    samples: int = 0  # trials planned
    samples_run: int = 0  # trials that passed before the end
    seconds: float = 0.0
    message: str = ""
    detail: str = ""  # traceback or worker output, for reports
    seed: int | None = None  # seed of the failing trial
    trial: int | None = None  # 0-based index of the failing trial
    rtol: float | None = None  # loosest tolerances assert_close used
    atol: float | None = None
    cached: bool = False
    blocked_by: tuple[str, ...] = ()
    timeout: float | None = None
    replay: str = ""  # command that re-runs the failing trial
    method: str = "sampled"  # one of METHODS
    special: int = 0  # an identity: how many of its points were special values (the rest random)
    rounding: int = 0  # an identity: float64 disagreements that vanished at high precision
    proof: str = ""  # "SymPy 1.14.0" when the method is "symbolic"
    proof_note: str = ""  # an identity that is not proved: why not
    domain: str = ""  # an identity: its variables' domains ("x in [1e-09, 1]")
    source_url: str = ""  # verifier source page (with #L-line)
    reported: bool = False  # its error is already in the diagnostics (a `uses` problem, a broken module)
    broken_module: Location | None = None  # where the verifier's module (or one it imports) fails to load

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["blocked_by"] = list(self.blocked_by)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Verdict:
        names = set(cls.__dataclass_fields__)
        values = {k: v for k, v in record.items() if k in names}
        values["blocked_by"] = tuple(values.get("blocked_by") or ())
        if isinstance(values.get("broken_module"), dict):
            values["broken_module"] = Location(**values["broken_module"])
        return cls(**values)
