"""`@identity` claims: falsified in float64, confirmed with mpmath, proved by SymPy
(qed/verification/identities.py), in process and through real worker processes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qed.verification.contract import ContractError
from qed.verification.identities import IdentityFailed, IdentityOutcome, run_identity
from qed.verification.reports import confidence_text, failure_rate_bound
from qed.verifier_api import interval, settings_of
from tests.htmltree import parse_html
from tests.test_verification import FIXTURE, REPO, claim, errors_at, run

SEED = 20261202


@pytest.fixture(scope="module")
def identities() -> Any:
    sys.path.insert(0, str(FIXTURE / "site" / "verifiers"))
    try:
        import identities as module
    finally:
        sys.path.pop(0)
    return module


def check(fn: Any, **options: Any) -> IdentityOutcome:
    return run_identity(fn, SEED, settings_of(fn), **options)


def test_a_true_identity_that_float64_flags_by_rounding_is_not_false(identities: Any) -> None:
    outcome = check(identities.half_angle_sampled)
    assert outcome.method == "high-precision" and outcome.samples == 1000
    assert outcome.rounding > 100, "cancellation near 0 flags many points in float64"
    assert outcome.proof == "" and "symbolic=False" in outcome.note


def test_an_identity_off_by_one_part_in_a_billion_is_falsified_at_high_precision(identities: Any) -> None:
    with pytest.raises(IdentityFailed) as failed:
        check(identities.off_by_a_billionth)
    message = str(failed.value)
    assert message.startswith("off_by_a_billionth(x=")
    assert "at 100 significant digits" in message and "at 50" in message
    assert "1.1e-9" in message.replace("1.11e-9", "1.1e-9"), "the difference, with its digits"


def test_sin_squared_plus_cos_squared_is_proved_symbolically(identities: Any) -> None:
    outcome = check(identities.pythagoras)
    assert outcome.method == "symbolic" and outcome.proof.startswith("SymPy ")


@pytest.mark.parametrize("name", ["half_angle", "squared_norm_remainder", "inverse", "chain_rule_on_sin_of_square"])
def test_identities_of_numbers_vectors_matrices_and_derivatives_are_proved(identities: Any, name: str) -> None:
    outcome = check(getattr(identities, name))
    assert outcome.method == "symbolic", outcome.note


def test_an_identity_sympy_cannot_decide_stands_on_its_samples(identities: Any) -> None:
    outcome = check(identities.arctangents)
    assert outcome.method == "sampled" and outcome.proof == ""
    assert "did not simplify" in outcome.note
    summed = check(identities.gauss_sum)  # sum(range(n)) has no meaning for a symbol
    assert summed.method == "sampled" and "could not evaluate" in summed.note


def test_sympy_gets_a_time_limit(identities: Any) -> None:
    outcome = check(identities.half_angle, symbolic_seconds=1e-4)
    assert outcome.method == "high-precision" and "within 0.0001 s" in outcome.note


def test_an_undefined_side_is_a_counterexample_never_a_pass(identities: Any) -> None:
    with pytest.raises(IdentityFailed) as failed:
        check(identities.log_of_square)
    assert "undefined" in str(failed.value) and "is not a real number" in str(failed.value)
    assert "x=-" in str(failed.value), "the point where it happens"


def test_special_values_come_first(identities: Any) -> None:
    @identities.identity(x=interval(-1.0, 1.0), samples=5)
    def only_at_zero(m: Any, x: float) -> tuple[Any, Any]:
        return (1.0 if x == 0 else 0.0), 0.0

    with pytest.raises(IdentityFailed, match=r"only_at_zero\(x=0\.0\)"):
        check(only_at_zero)


def test_a_malformed_identity_is_an_error_not_a_counterexample(identities: Any) -> None:
    with pytest.raises(ContractError, match=r"\(lhs, rhs\)"):
        check(identities.one_side)
    with pytest.raises(ContractError, match="different shapes"):
        check(identities.mismatched_shapes)


def test_the_failure_rate_bound_is_the_rule_of_three() -> None:
    assert failure_rate_bound(1000) == pytest.approx(0.002991, rel=1e-3)
    assert failure_rate_bound(1000) < 3 / 1000 < failure_rate_bound(999) * 1.01


# ---------------------------------------------------------------------------------------
# Through the build's worker processes


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE / "site", root)
    return root


def test_identity_claims_get_their_method_and_confidence_in_every_report(site: Path) -> None:
    claims = [claim("thm:half", "identities:half_angle", 3), claim("thm:atan", "identities:arctangents", 5),
              claim("thm:off", "identities:off_by_a_billionth", 7),
              claim("ex:log", "identities:log_of_square", 9, expect_false=True, kind="example")]
    report, diagnostics = run(site, claims)
    half, atan, off, log = (report.verdicts[c.key] for c in claims)
    assert (half.status, half.method, half.samples_run) == ("verified", "symbolic", 1000)
    assert "proved symbolically (SymPy " in report.resolve_claim("thm:half")
    assert "for x in [1e-09, 1]" in report.resolve_claim("thm:half"), "a proof names what it covers"
    assert (atan.status, atan.method) == ("verified", "sampled")
    badge = parse_html(report.resolve_claim("thm:atan")).text()
    assert "checked on 1000 points" in badge and "failure rate < 0.3" in badge and "proved" not in badge
    assert (off.status, off.method) == ("falsified", "high-precision")
    [message] = errors_at(diagnostics, 7)
    assert "is false" in message and "100 significant digits" in message
    assert "identity's points drawn with seed" in message and "trial" not in message
    assert log.status == "expected-false" and not errors_at(diagnostics, 9)
    assert "counterexample confirmed at 100 significant digits" in report.resolve_claim("ex:log")
    rows = {row["key"]: row for row in report.to_json()["claims"]}
    assert rows["thm:half"]["method"] == "symbolic" and "proved symbolically by SymPy" in rows["thm:half"]["confidence"]
    assert "below 0.3 % with 95 % confidence" in rows["thm:atan"]["confidence"]
    assert rows["thm:off"]["confidence"].startswith("a counterexample was found and confirmed at 100")
    assert json.loads(json.dumps(report.to_json()))  # plain JSON


def test_the_replay_command_reproduces_an_identitys_counterexample(site: Path) -> None:
    report, _ = run(site, [claim("thm:off", "identities:off_by_a_billionth", 7)])
    command = report.verdicts["thm:off"].replay.split()
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1 and "100 significant digits" in done.stderr


def test_mpmath_and_sympy_load_only_in_workers_of_identities(site: Path) -> None:
    """The build and an ordinary verifier's worker never import them (start-up stays fast)."""
    code = f"""
import sys
from pathlib import Path
import qed.cli, qed.pipeline
from qed.verification import worker
worker.prepare_imports(Path({str(site)!r}))
fn = worker.load_verifier("calculus", "check_chain_rule")
worker.run_trial(fn, 1, worker.settings_of(fn))
print(sorted(m for m in ("sympy", "mpmath") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_confidence_never_claims_more_than_was_done() -> None:
    from qed.verification.model import Verdict

    sampled = Verdict("k", "verified", samples=100, samples_run=100, method="sampled")
    assert "below 3 %" in confidence_text(sampled) and "proved" not in confidence_text(sampled)
    once = Verdict("k", "verified", samples=1, samples_run=1, method="deterministic")
    assert "says nothing about other inputs" in confidence_text(once)
    timed_out = Verdict("k", "timeout")
    assert confidence_text(timed_out).startswith("nothing was established")
