"""Output: writes stay inside the output folder, the swap is atomic, dangerous folders are refused."""

from pathlib import Path

import pytest

from qed.errors import QedError
from qed.output import OWNER_MARK, Staging, check_destination
from tests.conftest import run_qed


def published(dest, name: str, text: str) -> None:
    """A build that wrote one file and succeeded."""
    staging = Staging(dest)
    staging.write_text(name, text)
    staging.publish()


def test_publish_replaces_the_old_site_whole(tmp_path):
    dest = tmp_path / "public"
    published(dest, "old.html", "old")
    published(dest, "new.html", "new")
    assert sorted(p.name for p in dest.iterdir()) == [OWNER_MARK, "new.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["public"]  # no staging or old folder left behind


def test_a_discarded_build_leaves_the_last_site_untouched(tmp_path):
    dest = tmp_path / "public"
    published(dest, "index.html", "good")
    failed = Staging(dest)
    failed.write_text("index.html", "half")
    failed.discard()
    assert (dest / "index.html").read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


@pytest.mark.parametrize("relative", ["../escape.html", "a/../../escape.html", "/../../etc/x"])
def test_writes_outside_the_output_folder_are_refused(tmp_path, relative):
    staging = Staging(tmp_path / "public")
    with pytest.raises(QedError, match="outside the output folder"):
        staging.write_text(relative, "x")
    assert not (tmp_path / "escape.html").exists()
    staging.discard()


@pytest.mark.parametrize(("destination", "reason"), [
    (lambda root: root, "site folder itself"),
    (lambda root: root.parent, "contains the site folder"),
    (lambda root: root / "content", "inside content/"),
    (lambda root: root / "content" / "out", "inside content/"),
    (lambda root: Path.home(), "home folder"),
    (lambda root: Path("/"), "file system root"),
])
def test_dangerous_destinations_are_refused(tmp_path, destination, reason):
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    with pytest.raises(QedError, match=reason):
        check_destination(destination(root), root)


def test_a_non_empty_folder_qed_did_not_write_is_refused(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    theirs = tmp_path / "documents"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("precious")
    with pytest.raises(QedError, match="not written by qed"):
        check_destination(theirs, root)
    check_destination(tmp_path / "fresh", root)  # a new folder is fine


def test_a_destination_that_is_a_file_is_refused_and_kept(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    with pytest.raises(QedError, match="it is a file"):
        check_destination(target, tmp_path / "site")
    assert target.read_text() == "mine\n"


def test_a_name_the_file_system_refuses_is_one_line_and_exit_1(make_site):
    site = make_site({"config.yaml": "title: T\n",
                      "content/a.md": f"---\ntitle: A\ntags: ['{'x' * 300}']\n---\nx\n"})
    result = run_qed(site)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot write tags/xxx") and len(result.stderr.splitlines()) == 2
    assert "Traceback" not in result.stderr and not (site / "public").exists()
