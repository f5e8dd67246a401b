"""The verification runner with real worker processes, on the fixture site's verifiers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jinja2
import pytest

from qed.errors import Diagnostics, Location
from qed.theorems import Claim
from qed.verification import DETAIL_SUFFIX, VerificationReport, VerifyOptions, verify_claims
from tests.htmltree import parse_html

FIXTURE = Path(__file__).parent / "fixtures" / "verification"
LAYOUTS = Path(__file__).resolve().parents[1] / "theme" / "layouts"
REPO = Path(__file__).resolve().parents[1]


def claim(key: str, verify: str | None, line: int = 1, **extra: Any) -> Claim:
    return Claim(key=key, id=key, kind=extra.pop("kind", "theorem"), number=str(line),
                 title=extra.pop("title", None), verify=verify, uses=tuple(extra.pop("uses", ())),
                 expect_false=extra.pop("expect_false", False), location=Location("content/posts/x.md", line),
                 page_url="/posts/x/", **extra)


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE / "site", root)
    return root


def run(site: Path, claims: list[Claim], **options: Any) -> tuple[VerificationReport, Diagnostics]:
    diagnostics = Diagnostics()
    report = verify_claims(claims, project_root=site, cache_dir=site / ".qed-cache",
                           options=VerifyOptions(**options), diagnostics=diagnostics)
    return report, diagnostics


def errors_at(diagnostics: Diagnostics, line: int) -> list[str]:
    return [e.message for e in diagnostics.errors if e.location and e.location.line == line]


def test_true_claim_verified_and_false_claim_falsified_with_replay(site: Path) -> None:
    claims = [claim("thm:chain", "calculus:check_chain_rule", 3, title="Chain Rule"),
              claim("thm:binomial", "calculus:check_binomial_wrong", 12, title="Freshman's Dream")]
    report, diagnostics = run(site, claims)
    assert report.verdicts["thm:chain"].status == "verified"
    assert report.verdicts["thm:chain"].samples_run == 20
    bad = report.verdicts["thm:binomial"]
    assert bad.status == "falsified" and bad.seed is not None
    [message] = errors_at(diagnostics, 12)
    first, *rest = message.splitlines()
    assert first.startswith("Theorem 12 (Freshman's Dream) is false: not close")
    assert f"seed {bad.seed}" in "\n".join(rest)
    assert str(diagnostics.errors[0]).startswith("content/posts/x.md:12: ")
    badge = report.resolve_claim("thm:chain")
    assert "checked on 20 random samples, rtol 1e-06, atol 1e-08" in badge and "proved" not in badge
    assert 'href="/verification/verifiers/calculus/#L-9"' in badge
    # the replay command reproduces the failure in a fresh process
    command = bad.replay.split()
    assert command[:4] == ["python", "-m", "qed.verification", "replay"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "not close" in done.stderr and f"seed {bad.seed}" in done.stderr
    passing = subprocess.run([sys.executable, "-m", "qed.verification", "replay", "calculus:check_chain_rule",
                              "--seed", "5", "--root", str(site)], capture_output=True, text=True, env=env,
                             timeout=60)
    assert passing.returncode == 0, passing.stderr


def test_crashes_hangs_and_exceptions_are_contained(site: Path) -> None:
    claims = [claim("a", "calculus:check_exit", 1), claim("b", "calculus:check_system_exit", 2),
              claim("c", "calculus:check_segfault", 3), claim("d", "calculus:check_hang", 4, timeout=1.0),
              claim("e", "calculus:check_hang_short", 5), claim("f", "calculus:check_type_error", 6),
              claim("g", "calculus:check_prints", 7), claim("h", "calculus:check_deterministic", 8)]
    report, diagnostics = run(site, claims, jobs=4, timeout=1.5)
    status = {k: v.status for k, v in report.verdicts.items()}
    assert status == {"a": "error", "b": "error", "c": "error", "d": "timeout", "e": "timeout",
                      "f": "error", "g": "verified", "h": "verified"}
    assert "exit code 3" in report.verdicts["a"].message
    assert "SIGSEGV" in report.verdicts["c"].message
    assert report.verdicts["e"].timeout == 0.5  # the decorator's timeout
    assert "timed out after 1 s" in errors_at(diagnostics, 4)[0]
    assert "TypeError" in errors_at(diagnostics, 6)[0]
    assert "checked once (deterministic)" in report.resolve_claim("h")


def test_dependency_order_and_blocked_propagation(site: Path) -> None:
    claims = [claim("thm:top", "calculus:check_square", 1, uses=["lem:mid"]),
              claim("lem:mid", "calculus:check_square", 2, uses=["lem:false"]),
              claim("lem:false", "calculus:check_binomial_wrong", 3),
              claim("thm:ok", "calculus:check_square", 4, uses=["def:plain"]),
              claim("def:plain", None, 5, kind="definition")]
    report, diagnostics = run(site, claims, jobs=4)
    status = {k: v.status for k, v in report.verdicts.items()}
    assert status == {"thm:top": "blocked", "lem:mid": "blocked", "lem:false": "falsified",
                      "thm:ok": "verified", "def:plain": "unchecked"}
    assert report.verdicts["lem:mid"].blocked_by == ("lem:false",)
    assert len(diagnostics.errors) == 1  # only the root cause is an error
    assert "uses lem:false, which was not verified" in report.resolve_claim("lem:mid")


def test_unknown_uses_and_cycles_are_errors(site: Path) -> None:
    claims = [claim("a", None, 1, uses=["nope"]), claim("b", "calculus:check_square", 2, uses=["c"]),
              claim("c", "calculus:check_square", 3, uses=["b"])]
    _report, diagnostics = run(site, claims)
    assert "unknown id 'nope'" in errors_at(diagnostics, 1)[0]
    assert "cycle" in errors_at(diagnostics, 2)[0] and "cycle" in errors_at(diagnostics, 3)[0]


def test_cache_skips_unchanged_reruns_on_helper_edit_and_refresh(site: Path) -> None:
    claims = [claim("thm:square", "calculus:check_square", 1), claim("thm:det", "calculus:check_deterministic", 2)]
    first, _ = run(site, claims)
    assert (first.ran, first.cached) == (2, 0)
    again, _ = run(site, claims)
    assert (again.ran, again.cached) == (0, 2)
    assert again.verdicts["thm:square"].cached and again.verdicts["thm:square"].status == "verified"
    helper = site / "verifiers" / "helpers.py"
    helper.write_text(helper.read_text() + "\n# edited\n")
    edited, _ = run(site, claims)
    assert (edited.ran, edited.cached) == (2, 0)  # both: calculus.py imports helpers
    refreshed, _ = run(site, claims, refresh=True)
    assert (refreshed.ran, refreshed.cached) == (2, 0)
    helper.write_text("def square(x):\n    return x * 2\n")
    broken, _diagnostics = run(site, claims)
    assert broken.verdicts["thm:square"].status == "falsified"


def test_expect_false(site: Path) -> None:
    claims = [claim("ex:refuted", "calculus:check_binomial_wrong", 1, expect_false=True),
              claim("ex:passes", "calculus:check_square", 2, expect_false=True),
              claim("ex:none", None, 3, expect_false=True)]
    report, diagnostics = run(site, claims)
    assert report.verdicts["ex:refuted"].status == "expected-false"
    assert not errors_at(diagnostics, 1)
    detail = report.resolve_claim("ex:refuted#detail")
    assert "Counterexample" in detail and "not close" in detail and "seed" in detail
    assert "expect=false" in errors_at(diagnostics, 2)[0] and "no counterexample" in errors_at(diagnostics, 2)[0]
    assert "names no verifier" in errors_at(diagnostics, 3)[0]


def test_a_refutation_as_expected_is_listed_when_it_ran_not_on_every_cached_build(site: Path) -> None:
    claims = [claim("ex:refuted", "calculus:check_binomial_wrong", 1, expect_false=True)]
    first, _ = run(site, claims)
    assert "refuted as expected" in first.terminal_summary()
    again, _ = run(site, claims)
    assert again.verdicts["ex:refuted"].cached and again.verdicts["ex:refuted"].status == "expected-false"
    assert "refuted as expected" not in again.terminal_summary()
    assert "1 expected-false" in again.terminal_summary()  # still counted


def test_unresolved_verifiers_are_reported_at_the_claim(site: Path) -> None:
    claims = [claim("a", "nomodule:check", 4), claim("b", "calculus:no_such_function", 5),
              claim("c", "not a spec", 6), claim("d", "broken_import:check", 7)]
    report, diagnostics = run(site, claims)
    assert "no module 'nomodule'" in errors_at(diagnostics, 4)[0]
    assert "has no function 'no_such_function'" in errors_at(diagnostics, 5)[0]
    assert "module:function" in errors_at(diagnostics, 6)[0]
    [missing] = [e for e in diagnostics.errors if "no_such_module_anywhere" in e.message]
    assert missing.location == Location("verifiers/broken_import.py", 1, 1)  # where the import fails
    assert "Theorem 7 at content/posts/x.md:7" in missing.message
    assert all(v.status == "error" for v in report.verdicts.values())


def test_a_verifier_module_that_is_not_utf8_is_one_located_error(site: Path) -> None:
    (site / "verifiers" / "latin.py").write_bytes(b"# caf\xe9\ndef check(rng):\n    pass\n")
    claims = [claim("a", "latin:check", 1), claim("b", "latin:check", 2)]
    report, diagnostics = run(site, claims)
    [error] = diagnostics.errors
    assert error.location == Location("verifiers/latin.py", 1, 6) and "not UTF-8" in error.message
    assert "2 claims cannot be checked" in error.message
    assert {v.status for v in report.verdicts.values()} == {"error"}


def test_typos_in_verify_and_uses_get_a_suggestion(site: Path) -> None:
    claims = [claim("thm:square", "calculus:check_sqare", 1), claim("thm:uses", None, 2, uses=["thm:squar"]),
              claim("thm:module", "calculs:check_square", 3)]
    _report, diagnostics = run(site, claims)
    assert errors_at(diagnostics, 1)[0].endswith("has no function 'check_sqare'; did you mean 'check_square'?")
    assert errors_at(diagnostics, 2)[0].endswith("uses unknown id 'thm:squar'; did you mean 'thm:square'?")
    assert errors_at(diagnostics, 3)[0].endswith("; did you mean 'calculus'?")


@pytest.mark.parametrize("breakage, col", [
    ("def broken(:\n", 12),  # a syntax error, at its column
    ("undefined_name + 1\n", 1),  # an error raised while importing, at the failing line
])
def test_a_broken_helper_module_is_one_error_at_its_line_not_one_per_claim(site: Path, breakage: str,
                                                                           col: int) -> None:
    """calculus.py imports helpers.py: breaking helpers.py stops every calculus claim, and the
    author is told once, at helpers.py's line, which claims it stops."""
    helper = site / "verifiers" / "helpers.py"
    helper.write_text(helper.read_text() + breakage)
    line = len(helper.read_text().splitlines())
    claims = [claim(f"thm:{n}", "calculus:check_square", n) for n in (10, 20, 30, 40, 50)]
    claims.append(claim("thm:own", "helpers:square", 60))
    report, diagnostics = run(site, claims)
    [error] = diagnostics.errors
    assert error.location == Location("verifiers/helpers.py", line, col)
    assert "6 claims cannot be checked" in error.message and "and 3 more" in error.message
    assert all(v.status == "error" for v in report.verdicts.values())


def test_strict_fails_unchecked_statements_only(site: Path) -> None:
    claims = [claim("thm:u", None, 1), claim("def:u", None, 2, kind="definition")]
    _, lenient = run(site, claims)
    assert not lenient.errors
    _, strict = run(site, claims, strict=True)
    assert [e.location.line for e in strict.errors] == [1]


def test_junit_json_site_files_and_annotations(site: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    junit = tmp_path / "out" / "junit.xml"
    claims = [claim("thm:ok", "calculus:check_square", 1, title="Square"),
              claim("thm:bad", "calculus:check_binomial_wrong", 2, uses=["thm:ok"]),
              claim("thm:err", "calculus:check_type_error", 3), claim("thm:none", None, 4),
              claim("thm:blocked", "calculus:check_square", 5, uses=["thm:bad"])]
    report, _ = run(site, claims, junit=junit)
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert len(suite.findall("testcase")) == 5
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "2")
    assert len(suite.findall("testcase/failure")) == 1 and len(suite.findall("testcase/skipped")) == 2

    env = jinja2.Environment(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(FIXTURE / "layouts")),
                                                         jinja2.FileSystemLoader(str(LAYOUTS))]),
                             autoescape=True)
    out = tmp_path / "public"
    report.write_site_files(out, lambda name, context: env.get_template(name).render(**context))
    page = (out / "verification" / "index.html").read_text()
    assert "<svg" in page and "qed-edge" in page and "Theorem 1 (Square)" in page
    assert "<script" not in page
    data = json.loads((out / "verification" / "verification.json").read_text())
    row = {r["id"]: r for r in data["claims"]}["thm:bad"]
    assert (row["status"], row["page"], row["line"], row["samples"]) == ("falsified", "content/posts/x.md", 2, 100)
    source = (out / "verification" / "verifiers" / "calculus" / "index.html").read_text()
    assert 'id="L-9"' in source and "check_square" in source and "helpers.py" in source

    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert report.github_annotations() == []
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    notes = report.github_annotations()
    assert len(notes) == 2
    assert notes[0].startswith("::error file=content/posts/x.md,line=2,")
    summary = report.terminal_summary()
    assert summary.splitlines()[0].startswith("verification: 1 verified, 1 falsified, 1 error")


def test_hypothesis_properties_are_checked_and_their_counterexamples_shrunk(site: Path) -> None:
    claims = [claim("thm:norm", "properties:norm_is_dot_product", 3),
              claim("thm:small", "properties:squares_stay_small", 8),
              claim("ex:small", "properties:squares_stay_small", 9, expect_false=True, kind="example")]
    report, diagnostics = run(site, claims)
    good, bad, known = (report.verdicts[k] for k in ("thm:norm", "thm:small", "ex:small"))
    assert good.status == "verified" and good.method == "hypothesis" and 50 <= good.samples_run <= 100
    assert parse_html(report.resolve_claim("thm:norm")).text().count("examples generated by Hypothesis") == 1
    assert bad.status == "falsified" and known.status == "expected-false"
    assert "32² = 1024" in bad.message and "squares_stay_small(n=32)" in bad.message
    assert "squares_stay_small(n=32)" in report.resolve_claim("thm:small" + DETAIL_SUFFIX), "shown on the page"
    [message] = errors_at(diagnostics, 8)
    assert message.splitlines()[1] == f"  Hypothesis run with seed {bad.seed}; the example above is already shrunk"
    replay = subprocess.run([sys.executable, "-m", "qed.verification", "replay", "properties:squares_stay_small",
                             "--seed", str(bad.seed), "--root", str(site)], capture_output=True, text=True,
                            timeout=120)
    assert replay.returncode == 1 and "n=32" in replay.stderr
    assert not (site / ".hypothesis").exists(), "no example database in the user's folder"


def test_a_property_runs_the_examples_its_claim_asks_for(site: Path) -> None:
    claims = [claim("thm:few", "properties:norm_is_dot_product", 3, samples=7),
              claim("thm:many", "properties:norm_is_dot_product", 4, samples=230),
              claim("thm:decorated", "properties:nine_examples", 5)]
    report, _ = run(site, claims)
    few, many = report.verdicts["thm:few"], report.verdicts["thm:many"]
    decorated = report.verdicts["thm:decorated"]
    assert (decorated.status, decorated.samples, decorated.samples_run) == ("verified", 9, 9)
    assert {row["key"]: row["samples_run"] for row in report.rows()}["thm:decorated"] == 9
    assert (few.status, few.samples, few.samples_run) == ("verified", 7, 7)
    assert (many.status, many.samples, many.samples_run) == ("verified", 230, 230)
    assert "checked on 7 examples" in report.resolve_claim("thm:few")


def test_several_distinct_failures_are_one_falsified_claim_with_each_counterexample(site: Path) -> None:
    report, diagnostics = run(site, [claim("thm:two", "properties:fails_two_ways", 5)])
    verdict = report.verdicts["thm:two"]
    assert verdict.status == "falsified"
    assert "fails_two_ways(n=-1)" in verdict.message and "fails_two_ways(n=100)" in verdict.message
    assert "-1 is negative" in verdict.message and "100 is too large" in verdict.message
    [message] = errors_at(diagnostics, 5)
    assert "fails_two_ways(n=-1)" in message.splitlines()[0]


def test_junit_stays_well_formed_whatever_a_verifier_prints(site: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run(site, [claim("thm:noisy", "fooling:check_prints_control_characters", 1)], junit=junit)
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None and "\\x1b[31m1e-3" in failure.get("message") and "\\x00" in failure.text


def test_a_slow_start_is_not_counted_against_the_time_limit(site: Path) -> None:
    """Loading the verifier's module takes 1.5 s (a busy machine, a heavy import); the claim's
    0.5 s are its own running time, which it stays well within."""
    (site / "verifiers" / "slow_import.py").write_text(
        "import time\n\ntime.sleep(1.5)\n\n\ndef check_quick(rng):\n    assert rng.random() < 1.0\n")
    report, diagnostics = run(site, [claim("thm:slow", "slow_import:check_quick", 1, timeout=0.5, samples=3)])
    assert report.verdicts["thm:slow"].status == "verified", diagnostics.errors
