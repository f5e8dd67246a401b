"""The verifier contract (qed/verification/contract.py), with real worker processes: plausible
verifiers of false claims, and broken verifiers of true ones, never come out verified."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_verification import FIXTURE, claim, errors_at, run


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE / "site", root)
    return root


ERRORS = {  # verifier -> what its error must say
    "fooling:returns_allclose": "returned False",
    "fooling:returns_residual": "returned",
    "fooling:yields_checks": "generator",
    "fooling:awaits_checks": "async def",
    "fooling:CheckBinomial": "is a class",
    "fooling:check_instance": "CheckBinomial, not a function",
    "fooling:TOLERANCE": "float, not a function",
    "fooling:np": "is a module",
    "fooling:nan_passes_a_hand_written_check": "invalid value (NaN)",
    "fooling:runs_no_example": "no example",
    "fooling:property_returns": "returned",
    "vacuous:check_tuple_assert": "vacuous.py:8: this assert can never fail",
}


def test_a_verifier_that_does_not_run_its_checks_is_an_error_at_the_claim(site: Path) -> None:
    claims = [claim(f"c{n}", spec, n) for n, spec in enumerate(ERRORS, 1)]
    report, diagnostics = run(site, claims)
    for n, (spec, wanted) in enumerate(ERRORS.items(), 1):
        verdict = report.verdicts[f"c{n}"]
        assert verdict.status == "error", (spec, verdict.status, verdict.message)
        [message] = errors_at(diagnostics, n)
        assert wanted in message.splitlines()[0], (spec, message)


def test_a_caught_failed_check_stays_failed(site: Path) -> None:
    report, diagnostics = run(site, [claim("caught", "fooling:catches_its_failure", 1),
                                     claim("search", "fooling:searches_with_is_close", 2)])
    caught = report.verdicts["caught"]
    assert caught.status == "falsified" and "not close" in caught.message and "caught" in caught.message
    assert errors_at(diagnostics, 1) and report.verdicts["search"].status == "verified"


def test_nan_never_passes_silently(site: Path) -> None:
    report, _ = run(site, [claim("hand", "fooling:nan_passes_a_hand_written_check", 1),
                           claim("close", "fooling:nan_against_assert_close", 2),
                           claim("allowed", "fooling:nan_expected_and_handled", 3)])
    hand = report.verdicts["hand"]
    assert hand.status == "error" and hand.seed is not None and hand.trial == 0
    assert report.verdicts["close"].status == "falsified"  # NaN is never close to NaN by default
    assert report.verdicts["allowed"].status == "verified"


def test_assertions_stay_on_when_the_build_runs_optimised(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONOPTIMIZE", "2")
    report, _ = run(site, [claim("dream", "fooling:asserts_its_claim", 1)])
    assert report.verdicts["dream"].status == "falsified"
    assert "freshman's dream" in report.verdicts["dream"].message


def test_a_verifier_that_never_draws_is_checked_once_and_says_so(site: Path) -> None:
    report, _ = run(site, [claim("once", "fooling:never_draws", 1),
                           claim("global", "fooling:draws_from_numpy_global", 2)])
    once, drawn = report.verdicts["once"], report.verdicts["global"]
    assert (once.method, once.samples_run) == ("deterministic", 1)
    badge = report.resolve_claim("once")
    assert "checked once (deterministic), rtol 1e-12, atol 1e-15" in badge and "random" not in badge
    assert (drawn.method, drawn.samples_run) == ("sampled", 100), "numpy's global generator is a random input"


def test_uses_of_a_known_false_claim_or_of_itself_is_an_error_in_every_report(site: Path, tmp_path: Path) -> None:
    claims = [claim("ex:false", "calculus:check_binomial_wrong", 1, expect_false=True, kind="example"),
              claim("thm:built", "calculus:check_square", 2, uses=["ex:false"]),
              claim("thm:self", "calculus:check_square", 3, uses=["thm:self"])]
    junit = tmp_path / "junit.xml"
    report, diagnostics = run(site, claims, junit=junit)
    assert "expect=false" in errors_at(diagnostics, 2)[0]
    assert len(errors_at(diagnostics, 3)) == 1 and "uses itself" in errors_at(diagnostics, 3)[0]
    rows = {row["key"]: row for row in report.rows()}
    for key in ("thm:built", "thm:self"):
        assert report.verdicts[key].status == "error" and rows[key]["status"] == "error"
        assert "not checked" in report.resolve_claim(key)
    xml = junit.read_text(encoding="utf-8")
    assert xml.count("<error") + xml.count("<failure") >= 2 and "uses itself" in xml
    assert json.loads(json.dumps(rows["thm:self"]))["message"] == "uses itself"


def test_replay_reproduces_a_property_failure_with_the_claims_settings(site: Path) -> None:
    report, _ = run(site, [claim("thm:small", "properties:squares_stay_small", 1, samples=40)])
    verdict = report.verdicts["thm:small"]
    assert verdict.status == "falsified" and "--samples 40" in verdict.replay
    args = verdict.replay.split()[1:]
    done = subprocess.run([sys.executable, *args, "--root", str(site)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert verdict.message.split("; counterexample: ")[1] in done.stderr


def test_replay_runs_without_optimisation_as_the_build_does(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report, _ = run(site, [claim("dream", "fooling:asserts_its_claim", 1)])
    monkeypatch.setenv("PYTHONOPTIMIZE", "1")
    args = report.verdicts["dream"].replay.split()[1:]
    done = subprocess.run([sys.executable, *args, "--root", str(site)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "freshman's dream" in done.stderr


BUILD_POST = """\
---
title: Claims that try to pass
---
{{< theorem id="thm:returns" verify="fooling:returns_allclose" >}}$(a+b)^2 = a^2 + b^2${{< /theorem >}}

{{< theorem id="thm:caught" verify="fooling:catches_its_failure" >}}$(a+b)^2 = a^2 + b^2${{< /theorem >}}

{{< theorem id="thm:nan" verify="fooling:nan_passes_a_hand_written_check" >}}$\\sqrt{x-2}^2 = x-2${{< /theorem >}}

{{< theorem id="thm:vacuous" verify="vacuous:check_tuple_assert" >}}$(a+b)^2 = a^2 + b^2${{< /theorem >}}

{{< theorem id="thm:twice" verify="calculus:check_square" verify="fooling:never_draws" >}}x{{< /theorem >}}

{{< theorem id="thm:class" verify="fooling:CheckBinomial" >}}x{{< /theorem >}}
"""


def test_a_build_with_any_of_them_fails_at_each_claims_line(site: Path) -> None:
    from tests.conftest import run_qed, write_files

    write_files(site, {"content/posts/claims.md": BUILD_POST})
    result = run_qed(site, "-q")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = {n for n, text in enumerate(BUILD_POST.splitlines(), 1) if "{{< theorem" in text}
    reported = {int(line.split(":")[1]) for line in result.stderr.splitlines()
                if line.startswith("content/posts/claims.md:")}
    assert lines <= reported, result.stderr
    assert "given twice" in result.stderr
