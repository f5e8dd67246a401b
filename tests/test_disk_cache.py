"""The disk caches: what one build stores, the next one reads; failures only cost time."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess

import pytest

from qed.disk_cache import DiskCache
from qed.errors import Diagnostics
from tests.conftest import build, run_qed


def test_what_one_build_stores_the_next_reads(tmp_path):
    first = DiskCache(tmp_path / "cache" / "katex.sqlite")
    first.put("a", "<span>a</span>")
    first.put("b", "")
    assert first.get_many(["a", "c"]) == {"a": "<span>a</span>"}  # buffered writes are visible at once
    first.close()
    second = DiskCache(tmp_path / "cache" / "katex.sqlite")
    keys = ["b", "missing", "a"] + [f"k{i}" for i in range(1200)]  # more keys than one query takes
    assert second.get_many(keys) == {"a": "<span>a</span>", "b": ""}
    second.close()


def test_clear_starts_from_nothing(tmp_path):
    path = tmp_path / "katex.sqlite"
    cache = DiskCache(path)
    cache.put("a", "x")
    cache.close()
    cleared = DiskCache(path, clear=True)
    assert cleared.get_many(["a"]) == {}
    cleared.put("a", "y")
    cleared.close()
    assert DiskCache(path).get_many(["a"]) == {"a": "y"}


def test_an_unusable_cache_is_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = DiskCache(blocker / "katex.sqlite")
    cache.put("a", "x")
    cache.flush()
    assert cache.get_many(["a"]) == {}
    assert blocker.read_text() == "not a folder"


def stored(path, **values):
    cache = DiskCache(path)
    for key, value in values.items():
        cache.put(key, value)
    cache.close()


def damage_a_page(path):
    """Overwrite the middle of a database file, where the table's pages are."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 2000] = b"\xff" * 2000
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [
    lambda path: path.write_bytes(b"this is not a database" * 100),
    damage_a_page,
    lambda path: sqlite3.connect(path).executescript("DROP TABLE entries; CREATE TABLE entries (other TEXT)"),
    lambda path: [path.unlink(), path.mkdir(), (path / "x").write_text("x")],
])
def test_a_damaged_cache_is_rebuilt_with_a_warning_naming_it(tmp_path, damage):
    path = tmp_path / "katex.sqlite"
    stored(path, **{f"k{i}": "v" * 100 for i in range(300)})
    damage(path)
    diagnostics = Diagnostics()
    cache = DiskCache(path, diagnostics=diagnostics)
    assert set(cache.get_many([f"k{i}" for i in range(300)]).values()) <= {"v" * 100}
    cache.put("a", "x")
    cache.close()
    [warning] = diagnostics.warnings
    assert warning.location.path.endswith("katex.sqlite") and "rebuilt" in warning.message
    again = Diagnostics()
    assert DiskCache(path, diagnostics=again).get_many(["a"]) == {"a": "x"} and not again.warnings


def test_clean_starts_a_damaged_cache_afresh(tmp_path):
    path = tmp_path / "bodies.sqlite"
    path.write_bytes(b"garbage" * 1000)
    diagnostics = Diagnostics()
    cache = DiskCache(path, clear=True, diagnostics=diagnostics)
    cache.put("a", "x")
    cache.close()
    assert DiskCache(path).get_many(["a"]) == {"a": "x"} and not diagnostics.warnings


def test_damaged_caches_cost_one_build_not_every_build(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n$x^2$ and $y$\n"})
    build(site)
    names = ("katex.sqlite", "bodies.sqlite", "texts.sqlite")
    for name in names:
        (site / ".qed-cache" / name).write_bytes(b"garbage" * 1000)
        for suffix in ("-wal", "-shm"):
            (site / ".qed-cache" / (name + suffix)).unlink(missing_ok=True)
    first = build(site).stderr
    assert all(f"warning: .qed-cache/{name}: the cache was damaged" in first for name in names), first
    assert "(2 typeset now)" in first
    second = build(site).stderr
    assert "warning" not in second and "(0 typeset now)" in second


def test_a_file_where_the_cache_folder_goes_is_one_line_and_exit_1(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\nx\n"})
    (site / ".qed-cache").write_text("mine")
    for command in ([], ["check"]):
        result = run_qed(site, *command)
        assert result.returncode == 1 and len(result.stderr.splitlines()) == 2, result.stderr  # and the summary
        assert result.stderr.startswith("error: .qed-cache is a file")
    assert (site / ".qed-cache").read_text() == "mine" and not (site / "public").exists()


def test_a_warm_build_typesets_nothing_and_clean_typesets_again(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n$x^2$ and $x^2$ and $$\\int_0^1 f$$\n",
                      "content/b.md": "---\ntitle: B\n---\n$x^2$, $y$\n"})
    typeset = re.compile(r"(\d+) formulas \((\d+) typeset now\)")
    assert typeset.search(build(site).stderr).groups() == ("5", "3")  # x^2 once for both pages
    assert typeset.search(build(site).stderr).groups() == ("5", "0")
    assert typeset.search(build(site, "--clean").stderr).groups() == ("5", "3")


def test_a_read_only_cache_folder_is_one_line_and_exit_1(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\nx\n"})
    cache = site / ".qed-cache"
    cache.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a read-only folder for root needs a read-only mount (root and mount(8))")
    if subprocess.run(["mount", "--bind", "-o", "ro", str(cache), str(cache)], capture_output=True).returncode:
        pytest.skip("this system does not allow bind mounts here")
    try:
        result = run_qed(site)
    finally:
        subprocess.run(["umount", str(cache)], check=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: cannot write qed's caches into .qed-cache: it is read-only")
