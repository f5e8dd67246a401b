"""Warm builds take unchanged output over from the last site, and end exactly where a cold build does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qed.pipeline import BuildOptions, build_site
from tests.conftest import write_files

OWNER_MARK = ".qed-output"  # rewritten by every swap: not part of the site


def post(title: str, tags: str, body: str, date: str = "2024-01-01") -> str:
    return f"---\ntitle: {title}\ndate: {date}\ntags: [{tags}]\n---\n{body}\n"


SITE = {
    "config.yaml": "title: Notes\nbaseURL: https://example.org/\ntaxonomies:\n  tag: tags\n",
    "content/posts/a.md": post("Alpha", "one", "Alpha opens with $a^2$.\n\n$$e^x \\label{eq:exp}$$\n\nAlpha ends."),
    "content/posts/b.md": post("Beta", "two", "Beta cites \\eqref{eq:exp} and $b_1$.\n\nBeta ends.", "2024-01-02"),
    "content/posts/c.md": post("Gamma", "two", "Gamma has $\\sqrt{c}$.\n\nGamma ends.", "2024-01-03"),
    "content/about.md": "---\ntitle: About\n---\nNothing to see.\n",
    "static/robots.txt": "User-agent: *\n",
}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every output file's inode and modification time: what a rewrite would change."""
    return {path.relative_to(root).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in root.rglob("*") if path.is_file() and path.name != OWNER_MARK}


def contents(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in root.rglob("*") if path.is_file() and path.name != OWNER_MARK}


def rewritten(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    return {name for name, stamp in after.items() if before.get(name) != stamp}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_files(tmp_path / "site", SITE)


def build(site: Path, out: Path, **options) -> None:
    build_site(BuildOptions(source=site, destination=out, jobs=1, **options))


def edit(site: Path, relative: str, old: str, new: str) -> None:
    path = site / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_warm_build_rewrites_no_unchanged_file(site, tmp_path):
    out = tmp_path / "out"
    build(site, out)
    before = snapshot(out)
    build(site, out)
    assert snapshot(out) == before
    assert len(before) > 10


def test_an_edit_rewrites_only_the_pages_that_read_it(site, tmp_path):
    out = tmp_path / "out"
    build(site, out)
    before = snapshot(out)
    edit(site, "content/posts/c.md", "Gamma ends.", "Gamma ends, later.")
    build(site, out)
    changed = rewritten(before, snapshot(out))
    assert "posts/c/index.html" in changed
    assert {"posts/index.html", "tags/two/index.html", "index.html"} <= changed  # they show its summary
    assert "posts/b/index.html" in changed  # its newer post and related post: it shows Gamma's title
    assert "search/index.json" in changed  # it holds every page's text
    untouched = {"posts/a/index.html", "about/index.html", "tags/one/index.html",
                 "sitemap.xml", "robots.txt", "404.html"}
    assert not untouched & changed
    assert "Gamma ends, later." in (out / "posts/c/index.html").read_text(encoding="utf-8")


def test_a_changed_static_file_is_copied_again(site, tmp_path):
    out = tmp_path / "out"
    build(site, out)
    (site / "static/robots.txt").write_text("User-agent: qed\n", encoding="utf-8")
    build(site, out)
    assert (out / "robots.txt").read_text(encoding="utf-8") == "User-agent: qed\n"


def test_the_last_site_is_never_written_through(site, tmp_path):
    """Files taken over are links to the last site's: a page rendered again must replace its
    file, not write into the one the last site (still being served) shares."""
    out = tmp_path / "out"
    build(site, out)
    kept = (out / "posts/a/index.html")
    held = kept.read_text(encoding="utf-8")
    link = tmp_path / "held.html"
    link.hardlink_to(kept)  # stands for a reader holding the last site's file
    edit(site, "content/posts/a.md", "Alpha ends.", "Alpha ends anew.")
    build(site, out)
    assert link.read_text(encoding="utf-8") == held
    assert "Alpha ends anew." in (out / "posts/a/index.html").read_text(encoding="utf-8")


EDITS = [
    ("a post's body", lambda s: edit(s, "content/posts/b.md", "Beta ends.", "Beta ends with $\\beta$.")),
    ("a title shown on list pages", lambda s: edit(s, "content/posts/a.md", "title: Alpha", "title: Alpha one")),
    ("a formula another page cites", lambda s: edit(s, "content/posts/a.md", "$$e^x \\label{eq:exp}$$",
                                                     "$$e^y \\label{eq:y}$$\n\n$$e^x \\label{eq:exp}$$")),
    ("a template", lambda s: write_files(s, {"layouts/partials/footer.html": "<footer>edited footer</footer>\n"})),
    ("a config value", lambda s: edit(s, "config.yaml", "title: Notes", "title: Notes, edited")),
    ("a deleted page", lambda s: (s / "content/posts/c.md").unlink()),
    ("an added page", lambda s: write_files(s, {"content/posts/d.md": post("Delta", "one", "Delta $d$.")})),
    ("a static file", lambda s: write_files(s, {"static/extra.txt": "more\n"})),
]


def test_after_a_sequence_of_edits_the_output_is_a_cold_builds(site, tmp_path):
    out = tmp_path / "out"
    build(site, out)
    for number, (what, change) in enumerate(EDITS):
        change(site)
        build(site, out)
        fresh = tmp_path / f"cold-{number}"
        shutil.copytree(site, fresh / "site", ignore=shutil.ignore_patterns(".qed-cache"))
        build(fresh / "site", fresh / "out")
        warm, cold = contents(out), contents(fresh / "out")
        assert warm.keys() == cold.keys(), what
        assert [name for name in warm if warm[name] != cold[name]] == [], what


def test_clean_builds_everything_again(site, tmp_path):
    out = tmp_path / "out"
    build(site, out)
    before = snapshot(out)
    build(site, out, clean=True)
    assert rewritten(before, snapshot(out)) == set(before)


def test_pages_written_by_worker_processes_are_taken_over_too(tmp_path):
    files = {"config.yaml": "title: Many\n"}
    files.update({f"content/posts/p{n}.md": post(f"Post {n}", f"t{n}", f"Post {n} says $x_{{{n}}}$.")
                  for n in range(45)})
    site = write_files(tmp_path / "site", files)
    out = tmp_path / "out"
    options = {"source": site, "destination": out, "jobs": 2}
    build_site(BuildOptions(**options))
    before = snapshot(out)
    result = build_site(BuildOptions(**options))
    assert snapshot(out) == before and result.files == len(before)
    edit(site, "content/posts/p7.md", "Post 7 says", "Post 7 now says")
    build_site(BuildOptions(**options))
    changed = rewritten(before, snapshot(out))
    assert "posts/p7/index.html" in changed
    assert "posts/p30/index.html" not in changed  # neither its older nor its newer post, nor related


def test_each_output_folder_keeps_its_own_record(site, tmp_path):
    """`qed serve` builds into another folder than `qed build`: one must not undo the other's."""
    first, second = tmp_path / "first", tmp_path / "second"
    build(site, first)
    before = snapshot(first)
    build(site, second)
    build(site, first)
    assert snapshot(first) == before


def test_a_folder_another_site_was_built_into_since_is_not_taken_over(site, tmp_path):
    out = tmp_path / "out"
    build(site, out)
    expected = contents(out)
    other_a = post("Other", "one", "Not Alpha. $$e^z \\label{eq:exp}$$")
    other = write_files(tmp_path / "other", {**SITE, "config.yaml": "title: Other\n", "content/posts/a.md": other_a})
    build(other, out)
    build(site, out)
    assert contents(out) == expected
