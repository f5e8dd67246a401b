"""The disk caches: what one build stores, the next one reads; failures only cost time."""

from __future__ import annotations

import re

from qed.disk_cache import DiskCache
from tests.conftest import build


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
    (tmp_path / "garbage.sqlite").write_bytes(b"this is not a database" * 100)
    broken = DiskCache(tmp_path / "garbage.sqlite")
    assert broken.get_many(["a"]) == {}
    broken.put("a", "x")
    broken.close()


def test_a_warm_build_typesets_nothing_and_clean_typesets_again(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n$x^2$ and $x^2$ and $$\\int_0^1 f$$\n",
                      "content/b.md": "---\ntitle: B\n---\n$x^2$, $y$\n"})
    typeset = re.compile(r"(\d+) formulas \((\d+) typeset now\)")
    assert typeset.search(build(site).stderr).groups() == ("5", "3")  # x^2 once for both pages
    assert typeset.search(build(site).stderr).groups() == ("5", "0")
    assert typeset.search(build(site, "--clean").stderr).groups() == ("5", "3")
