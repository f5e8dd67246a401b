"""The site `qed serve` keeps in memory: an edit re-renders only what reads it, and after any
sequence of edits the served folder holds exactly what a cold build writes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qed.live import LiveSite
from qed.pipeline import BuildOptions, build_site
from tests.conftest import REPO, write_files

BASE = "http://127.0.0.1:1313/"
SECONDS = re.compile(rb"cached, [0-9.]+ s</p>")
SITE = {
    "config.yaml": "title: Live\nbaseURL: http://example.org/\npagination:\n  pagerSize: 2\n",
    "verifiers/algebra.py": """
        def squares(rng):
            x = rng.uniform(-5, 5)
            assert abs((x + 1) ** 2 - (x * x + 2 * x + 1)) < 1e-9
    """,
    "content/_index.md": "---\ntitle: Home\n---\nWelcome.\n",
    "content/posts/a.md": """
        ---
        title: Alpha
        date: 2024-01-01
        tags: [one]
        ---
        {{< lemma id="lem:square" title="Square of a sum" verify="algebra:squares" >}}
        For every real $x$, $(x+1)^2 = x^2 + 2x + 1$.
        {{< /lemma >}}
    """,
    "content/posts/b.md": "---\ntitle: Beta\ndate: 2024-01-02\ntags: [two]\n---\nBeta's body, with $y$.\n",
    "content/posts/c.md": "---\ntitle: Gamma\ndate: 2024-01-03\ntags: [two]\n---\nAs @lem:square says.\n",
    "content/notes/d.md": "---\ntitle: Delta\ndate: 2024-01-04\n---\nA note.\n",
}


@pytest.fixture
def live(tmp_path: Path):
    site = write_files(tmp_path / "site", SITE)
    # verdicts in the cache first, so that served and cold builds both show them as cached
    build_site(BuildOptions(source=site, base_url=BASE, destination=tmp_path / "first", fork=False))
    served = LiveSite(BuildOptions(source=site, base_url=BASE), tmp_path / "served")
    first = served.build_all()
    assert not first.errors, first.errors
    yield served
    served.close()


def edit(live: LiveSite, relative: str, text: str | None):
    path = live.root / relative
    if text is None:
        path.unlink()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return live.update([path])


def files(folder: Path) -> dict[str, bytes]:
    """Every file of a built site; the verification summary's time (which differs between any
    two builds) left out."""
    return {path.relative_to(folder).as_posix(): SECONDS.sub(b"", path.read_bytes())
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != ".qed-output" and path.name != "verification.json"}


def assert_same_as_cold_build(live: LiveSite, tmp_path: Path) -> None:
    cold = tmp_path / "cold"
    build_site(BuildOptions(source=live.root, base_url=BASE, destination=cold, fork=False))
    served, built = files(live.folder.root), files(cold)
    assert sorted(served) == sorted(built)
    assert [name for name in built if served[name] != built[name]] == []


def test_a_body_edit_re_renders_the_page_and_the_lists_showing_its_summary(live):
    record = edit(live, "content/posts/b.md", "---\ntitle: Beta\ndate: 2024-01-02\ntags: [two]\n---\nNew body.\n")
    assert not record.full and not record.errors
    assert record.bodies == ["posts/b.md"]
    rendered = set(record.pages_rendered)
    assert "posts/b.md" in rendered
    assert {"section:/posts/", "term:/tags/two/"} <= rendered  # they show its summary
    assert not rendered & {"posts/a.md", "posts/c.md", "notes/d.md", "term:/tags/one/", "section:/notes/"}
    assert "posts/b/index.html" in record.written and "posts/a/index.html" not in record.written


def test_a_title_edit_reaches_every_list_that_shows_it_and_nothing_else(live):
    record = edit(live, "content/notes/d.md", "---\ntitle: Delta renamed\ndate: 2024-01-04\n---\nA note.\n")
    rendered = set(record.pages_rendered)
    assert {"notes/d.md", "_index.md", "section:/notes/"} <= rendered  # _index.md: the home page
    assert not rendered & {"posts/a.md", "posts/b.md", "posts/c.md", "section:/posts/", "term:/tags/two/"}
    assert record.bodies == ["notes/d.md"]


def test_a_label_that_changes_reaches_the_pages_that_cite_it(live):
    record = edit(live, "content/posts/a.md", SITE["content/posts/a.md"].replace("lem:square", "lem:sq"))
    assert record.errors  # c.md cites lem:square, which is gone
    assert any("lem:square" in str(error) and error.location.path == "content/posts/c.md" for error in record.errors)
    fixed = edit(live, "content/posts/c.md",
                 "---\ntitle: Gamma\ndate: 2024-01-03\ntags: [two]\n---\nAs @lem:sq says.\n")
    assert not fixed.errors
    assert fixed.bodies == ["posts/c.md"]  # only the page that changed is read and rendered again
    assert {"posts/a.md", "posts/c.md"} <= set(fixed.pages_rendered)
    assert 'href="/posts/a/#lem:sq"' in (live.folder.root / "posts/c/index.html").read_text()


def test_after_any_sequence_of_edits_the_served_site_is_a_cold_builds(live, tmp_path):
    edits = [
        ("content/posts/b.md", "---\ntitle: Beta\ndate: 2024-01-02\ntags: [two]\n---\nAn edited body.\n"),
        ("content/posts/b.md", "---\ntitle: Beta on lists\ndate: 2024-01-02\ntags: [two]\n---\nAn edited body.\n"),
        ("content/posts/e.md", "---\ntitle: Epsilon\ndate: 2024-02-01\ntags: [three]\n---\nA new page, $z$.\n"),
        ("content/posts/b.md", None),
        ("content/posts/c.md", "---\ntitle: [unclosed\n---\nbroken\n"),
        ("content/posts/c.md", "---\ntitle: Gamma again\ndate: 2024-01-03\n---\nAs @lem:square says, fixed.\n"),
        ("layouts/partials/footer.html", "<footer>A footer of our own</footer>\n"),
        ("content/posts/a.md", SITE["content/posts/a.md"].replace("Square of a sum", "Squares")),
    ]
    for relative, text in edits:
        before = files(live.folder.root)
        record = edit(live, relative, text)
        if record.errors:
            assert files(live.folder.root) == before  # the last good site stays
            continue
        assert_same_as_cold_build(live, tmp_path)
    assert "A footer of our own" in (live.folder.root / "index.html").read_text()


def test_a_template_error_or_a_broken_config_keeps_the_last_good_site(live):
    before = files(live.folder.root)
    broken = edit(live, "layouts/_default/single.html", "{% extends 'baseof.html' %}{% block main %}{{ page.nosuch.x }}"
                  "{% endblock %}")
    assert broken.full and broken.errors and files(live.folder.root) == before
    assert edit(live, "config.yaml", "title: [unclosed\n").errors
    assert files(live.folder.root) == before
    edit(live, "config.yaml", SITE["config.yaml"])
    fixed = edit(live, "layouts/_default/single.html", None)
    assert not fixed.errors


def test_several_files_changed_at_once_are_all_read_again(live, tmp_path):
    broken = {name: live.root / f"content/posts/{name}.md" for name in ("x", "y")}
    for path in broken.values():
        path.write_text("---\ntitle: Broken\n---\n{{< nosuch >}}\n")
    assert len(live.update(broken.values()).errors) == 2
    for path in broken.values():
        path.unlink()
    assert not live.update(broken.values()).errors
    assert_same_as_cold_build(live, tmp_path)


def test_a_new_session_starts_from_an_empty_folder(live, tmp_path):
    live.close()
    (live.root / "content/notes/d.md").unlink()
    again = LiveSite(BuildOptions(source=live.root, base_url=BASE), live.folder.root)
    assert not again.build_all().errors
    assert not (again.folder.root / "notes/d/index.html").exists()
    assert_same_as_cold_build(again, tmp_path)
    again.close()


def test_the_example_site_served_from_forked_processes_is_a_cold_builds(tmp_path):
    site = tmp_path / "example"
    for name in ("content", "verifiers"):
        shutil.copytree(REPO / name, site / name)
    shutil.copy(REPO / "config.yaml", site / "config.yaml")
    build_site(BuildOptions(source=site, base_url=BASE, destination=tmp_path / "first"))  # verdicts cached
    served = LiveSite(BuildOptions(source=site, base_url=BASE, jobs=2), tmp_path / "served")
    try:
        assert not served.build_all(fork=True).errors
        assert_same_as_cold_build(served, tmp_path)
    finally:
        served.close()


_FORKED_FIRST_BUILD = """
import sys
from pathlib import Path
from qed.katex import _v8_started
from qed.live import LiveSite
from qed.pipeline import BuildOptions
site, served = Path(sys.argv[1]), Path(sys.argv[2])
live = LiveSite(BuildOptions(source=site, base_url=sys.argv[3], jobs=2), served)
first = live.build_all(fork=True)
print("v8 here:", _v8_started())
print("\\n".join(str(error) for error in first.errors))
broken = site / "content" / "posts" / "p33.md"
broken.write_text(broken.read_text().replace("\\\\frac{1}{$", "\\\\frac{1}{2}$"))
print("after fix:", len(live.update([broken]).errors), "errors,", len(live.messages().errors), "standing")
live.close()
"""


def test_the_first_served_build_typesets_in_worker_processes_with_every_message_at_its_page(tmp_path):
    """Formulas of the first build are typeset by forked workers (V8 never starts in the
    server's process); a TeX error is reported at its page and goes when the page is fixed."""
    def post(n: int) -> str:
        broken = " and $\\\\frac{1}{$" if n == 33 else ""
        formulas = " ".join(f"$a_{{{n}}}^{{{k}}}$" for k in range(5))
        return f"---\ntitle: Post {n}\ndate: 2024-01-{n % 28 + 1:02d}\n---\n{formulas}{broken}\n"

    site = write_files(tmp_path / "site", {"config.yaml": "title: Forked\n",
                                           **{f"content/posts/p{n:02d}.md": post(n) for n in range(50)}})
    script = tmp_path / "first.py"
    script.write_text(_FORKED_FIRST_BUILD, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(site), str(tmp_path / "served"), BASE],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "v8 here: False"
    assert len(lines) == 3 and "content/posts/p33.md:5:" in lines[1] and "TeX error" in lines[1]
    assert lines[2] == "after fix: 0 errors, 0 standing"
    build_site(BuildOptions(source=site, base_url=BASE, destination=tmp_path / "cold", fork=False))
    assert files(tmp_path / "served") == files(tmp_path / "cold")  # what the forked session left
