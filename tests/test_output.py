"""Output: writes stay inside the output folder, the swap is atomic, dangerous folders are refused."""

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import qed.output
from qed.errors import QedError
from qed.output import OWNER_MARK, Staging, check_destination
from tests.conftest import REPO, build, run_qed, write_files

SITE_FILES = 20
PUBLISHER = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from pathlib import Path
from qed.output import Staging
dest, label, times = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for run in range(times):
    staging = Staging(dest)
    for i in range({SITE_FILES}):
        staging.write_text(f"page{{i}}.html", f"{{label}} {{run}}")
    staging.publish()
    print(run, flush=True)
"""


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


def publisher(dest: Path, label: str, times: int) -> subprocess.Popen[str]:
    """A process that builds and publishes a site of SITE_FILES files `times` times."""
    return subprocess.Popen([sys.executable, "-c", PUBLISHER, str(dest), label, str(times)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def assert_one_complete_site(dest: Path) -> None:
    """Every file of one build, all from the same run of the same builder."""
    names = sorted(p.name for p in dest.iterdir())
    assert names == sorted([OWNER_MARK, *(f"page{i}.html" for i in range(SITE_FILES))])
    assert len({(dest / f"page{i}.html").read_text() for i in range(SITE_FILES)}) == 1


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def exchanging(tmp_path):
    """Skip where the file system cannot swap two folders in one step (then qed renames twice)."""
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    if not qed.output.exchange(tmp_path / "x", tmp_path / "y"):
        pytest.skip("this file system cannot exchange two folders (renameat2)")
    (tmp_path / "x").rmdir()
    (tmp_path / "y").rmdir()


def test_a_build_killed_at_any_moment_of_publishing_leaves_a_whole_site(tmp_path, exchanging):
    dest = tmp_path / "public"
    published(dest, "page0.html", "first")
    shutil.rmtree(dest)
    first = publisher(dest, "seed", 1)
    assert first.wait() == 0
    rng = random.Random(13)
    for _ in range(6):
        process = publisher(dest, "killed", 10_000)
        assert process.stdout.readline()  # it has published at least once: it is publishing in a loop
        time.sleep(rng.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert_one_complete_site(dest)
    next_build = Staging(dest)
    assert [p.name for p in tmp_path.iterdir() if p.name != "public"] == [next_build.root.name]
    next_build.discard()


def test_two_builds_publishing_at_once_both_succeed_and_the_site_is_always_whole(tmp_path, exchanging):
    dest = tmp_path / "public"
    assert publisher(dest, "seed", 1).wait() == 0
    builds = [publisher(dest, label, 25) for label in ("a", "b")]
    while any(process.poll() is None for process in builds):
        assert dest.is_dir() and (dest / OWNER_MARK).exists()
    for process in builds:
        assert process.returncode == 0, process.stderr.read()
    assert_one_complete_site(dest)
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_without_an_exchange_the_old_site_is_renamed_aside_and_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(qed.output, "exchange", lambda first, second: False)
    dest = tmp_path / "public"
    published(dest, "old.html", "old")
    published(dest, "new.html", "new")
    assert sorted(p.name for p in dest.iterdir()) == [OWNER_MARK, "new.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_stale_staging_and_old_folders_are_removed_and_nothing_else(tmp_path):
    dest = tmp_path / "public"
    published(dest, "index.html", "site")
    gone = dead_pid()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [f".public.staging-{gone}-abcd1234", f".public.old-{gone}-0f0f0f0f"]
        kept = [f".public.staging-{sleeper.pid}-abcd1234",  # a live build's folder
                ".public.staging-notes", ".public.old", "public.old-1-abcd1234"]  # the user's
        for name in stale + kept:
            write_files(tmp_path / name, {"index.html": "x"})
        os.symlink(tmp_path / kept[1], tmp_path / f".public.old-{gone}-11111111")  # a link: never followed
        staging = Staging(dest)
        remaining = {p.name for p in tmp_path.iterdir()}
        assert remaining == {"public", staging.root.name, *kept, f".public.old-{gone}-11111111"}
        assert (tmp_path / kept[1] / "index.html").exists()
        staging.discard()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_an_output_folder_that_is_a_mount_point_has_its_contents_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(qed.output, "is_mount_point", lambda path: path == dest)
    dest = tmp_path / "volume"
    dest.mkdir()
    inode = dest.stat().st_ino
    published(dest, "old/index.html", "old")
    staging = Staging(dest)
    assert staging.root.parent == dest  # staged on the volume itself: moves are renames
    staging.write_text("new/index.html", "new")
    staging.publish()
    assert dest.stat().st_ino == inode
    assert sorted(p.name for p in dest.iterdir()) == [OWNER_MARK, "new"]
    assert [p.name for p in tmp_path.iterdir()] == ["volume"]


def test_a_folder_that_refuses_to_be_renamed_has_its_contents_replaced(tmp_path, monkeypatch):
    def busy(first, second):
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(second))

    dest = tmp_path / "public"
    published(dest, "old.html", "old")
    inode = dest.stat().st_ino
    monkeypatch.setattr(qed.output, "exchange", busy)
    published(dest, "new.html", "new")
    assert dest.stat().st_ino == inode
    assert sorted(p.name for p in dest.iterdir()) == [OWNER_MARK, "new.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


@pytest.fixture
def bind_mount(tmp_path):
    """A folder that is a real mount point (a bind mount); skipped where mounting is not allowed."""
    folder = tmp_path / "site" / "volume"
    folder.mkdir(parents=True)
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting needs root and mount(8)")
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode != 0:
        pytest.skip("this system does not allow bind mounts here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_real_mount_point_is_built_into_in_place(bind_mount, make_site):
    site = make_site({"content/a.md": "---\ntitle: A\ntags: [old]\n---\nx\n"})
    inode = bind_mount.stat().st_ino
    build(site, "-d", "volume")
    assert (bind_mount / "tags/old/index.html").exists()
    write_files(site, {"content/a.md": "---\ntitle: A\ntags: [new]\n---\nx\n"})
    build(site, "-d", "volume")
    assert (bind_mount / "tags/new/index.html").exists() and not (bind_mount / "tags/old").exists()
    assert bind_mount.stat().st_ino == inode and qed.output.is_mount_point(bind_mount)
    assert not [p for p in bind_mount.iterdir() if p.name.startswith((".qed-staging", ".qed-old"))]


def test_two_real_builds_at_once_both_succeed(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\ntags: [x]\n---\n$x^2$\n",
                      "content/b.md": "---\ntitle: B\n---\nb\n"})
    build(site)
    expected = sorted(p.relative_to(site / "public") for p in (site / "public").rglob("*"))
    builds = [subprocess.Popen([sys.executable, str(REPO / "build.py")], cwd=site, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in builds:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert sorted(p.relative_to(site / "public") for p in (site / "public").rglob("*")) == expected
    assert sorted(p.name for p in site.iterdir()) == [".qed-cache", "content", "public"]


def test_a_publish_that_other_builds_keep_overtaking_fails_with_one_line(tmp_path, monkeypatch):
    dest = tmp_path / "public"
    published(dest, "index.html", "theirs")

    def gone(first, second):
        raise FileNotFoundError(errno.ENOENT, "gone", str(second))  # another build's two renames, half done

    def taken(source, target):
        raise OSError(errno.ENOTEMPTY, os.strerror(errno.ENOTEMPTY), str(target))  # and done again

    staging = Staging(dest)
    staging.write_text("index.html", "mine")
    monkeypatch.setattr(qed.output, "exchange", gone)
    monkeypatch.setattr(qed.output.os, "rename", taken)
    with pytest.raises(QedError, match=r"^other builds kept replacing .*public while this one published; build again$"):
        staging.publish()
    monkeypatch.undo()
    staging.discard()
    assert (dest / "index.html").read_text() == "theirs" and [p.name for p in tmp_path.iterdir()] == ["public"]
