"""The build as a whole: every fallible stage runs before anything is written."""

from __future__ import annotations

import pytest

from qed.errors import BuildFailed
from qed.pipeline import BuildOptions, build_site


def test_errors_of_every_stage_come_together_and_nothing_is_written(make_site, tmp_path):
    site = make_site({
        "config.yaml": "title: T\n",
        "content/a.md": "---\ntitle: A\n---\n{{< nosuch >}}\n\nSee @thm:missing and $\\frac{1}{$.\n",
    })
    out = tmp_path / "out"
    with pytest.raises(BuildFailed) as failed:
        build_site(BuildOptions(source=site, destination=out, jobs=1))
    messages = [str(e) for e in failed.value.errors]
    assert any("nosuch" in m for m in messages)  # shortcodes (bodies)
    assert any("thm:missing" in m for m in messages)  # labels
    assert any("TeX error" in m for m in messages)  # math
    assert all(m.startswith("content/a.md:") for m in messages)
    assert not out.exists()


def test_a_build_reports_what_it_made(make_site, tmp_path):
    site = make_site({"config.yaml": "title: T\n", "content/a.md": "---\ntitle: A\n---\n$x$ and $$y$$\n"})
    result = build_site(BuildOptions(source=site, destination=tmp_path / "out", jobs=1))
    assert (result.pages, result.formulas, result.claims) == (2, 2, 0)
    assert (tmp_path / "out" / "a" / "index.html").is_file() and result.files >= 2
