"""The verdict cache (qed/verification/cache.py): a verdict is reused only while nothing that
could change it has changed, including what the verifier read at run time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_verification import FIXTURE, claim, run


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE / "site", root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


@pytest.mark.parametrize(("spec", "file", "old", "new"), [
    ("fooling:imports_dynamically", "verifiers/dynamic_helper.py", "2 * x", "2 * x + 1"),
    ("fooling:reads_a_data_file", "verifiers/table.txt", "4", "5"),
    ("fooling:imports_from_outside_verifiers", "lib/outside_helper.py", "3 * x", "3 * x + 1"),
])
def test_a_file_read_at_run_time_invalidates_the_verdict(site: Path, spec: str, file: str, old: str,
                                                          new: str) -> None:
    claims = [claim("thm:x", spec, 1)]
    first, _ = run(site, claims)
    assert first.verdicts["thm:x"].status == "verified", first.verdicts["thm:x"].message
    assert run(site, claims)[0].verdicts["thm:x"].cached
    edit(site / file, old, new)
    after, _ = run(site, claims)
    assert not after.verdicts["thm:x"].cached and after.verdicts["thm:x"].status == "falsified"


def test_claim_settings_are_part_of_the_key(site: Path) -> None:
    run(site, [claim("thm:x", "calculus:check_square", 1)])
    for changed in ({"samples": 3}, {"timeout": 9.0}, {"rtol": 1e-3}, {"atol": 1e-3}, {"memory": 512},
                    {"expect_false": True}):
        report, _ = run(site, [claim("thm:x", "calculus:check_square", 1, **changed)])
        assert not report.verdicts["thm:x"].cached, changed


def entries(site: Path) -> list[Path]:
    return sorted((site / ".qed-cache" / "verification").glob("*/*.json"))


def test_an_entry_is_data_with_a_checksum_and_a_tampered_one_is_ignored(site: Path) -> None:
    claims = [claim("thm:false", "calculus:check_binomial_wrong", 1)]
    run(site, claims)
    [entry] = entries(site)
    data = json.loads(entry.read_text(encoding="utf-8"))
    assert data["record"]["outcome"] == "failed" and "inputs" in data["record"]
    data["record"]["outcome"] = "passed"
    entry.write_text(json.dumps(data), encoding="utf-8")
    report, _ = run(site, claims)
    assert not report.verdicts["thm:false"].cached and report.verdicts["thm:false"].status == "falsified"
    entry.write_text("not json", encoding="utf-8")
    assert not run(site, claims)[0].verdicts["thm:false"].cached


def test_a_file_where_the_cache_needs_a_folder_is_replaced_by_the_cache(site: Path) -> None:
    claims = [claim("thm:x", "calculus:check_square", 1)]
    cache = site / ".qed-cache" / "verification"
    cache.parent.mkdir(parents=True)
    cache.write_text("not a folder")
    assert run(site, claims)[0].verdicts["thm:x"].status == "verified"
    [entry] = entries(site)
    shutil.rmtree(cache)
    cache.mkdir()
    (cache / entry.parent.name).write_text("not a folder either")
    assert not run(site, claims)[0].verdicts["thm:x"].cached
    assert run(site, claims)[0].verdicts["thm:x"].cached
