"""Per-page work in forked processes: same results, same order, failures reported."""

from __future__ import annotations

import filecmp
import os

import pytest

from qed.parallel import ChildFailed, map_in_processes
from tests.conftest import build, run_qed


def test_results_come_back_in_order_from_several_processes():
    items = list(range(100))
    seen = map_in_processes(lambda n: (n * n, os.getpid()), items, jobs=3)
    assert [square for square, _ in seen] == [n * n for n in items]
    assert len({pid for _, pid in seen}) == 3 and seen[0][1] == os.getpid()


def test_work_kept_out_of_this_process_is_shared_by_the_children_alone():
    items = list(range(100))
    seen = map_in_processes(lambda n: (n * n, os.getpid()), items, jobs=2, here=False)
    assert [square for square, _ in seen] == [n * n for n in items]
    assert len({pid for _, pid in seen}) == 2 and os.getpid() not in {pid for _, pid in seen}


def test_small_work_stays_in_this_process():
    assert {pid for pid in map_in_processes(lambda _: os.getpid(), range(10), jobs=4)} == {os.getpid()}


def test_a_failing_child_is_reported_with_its_traceback():
    def explode(n: int) -> int:
        if n == 41:
            raise ValueError("bad item 41")
        return n

    with pytest.raises(ChildFailed, match="bad item 41"):
        map_in_processes(explode, list(range(60)), jobs=2)


def post(n: int, extra: str = "") -> str:
    return (f"---\ntitle: Post {n}\ndate: 2024-01-{n % 28 + 1:02d}\ntags: [t{n % 3}]\n---\n"
            f"## Part {n}\n\n$x_{{{n}}}^2$ and\n\n$$ \\sum_{{i=1}}^{{{n}}} i $$ {{#eq:s{n}}}\n\n"
            f"{{{{< admonition note \"Note {n}\" >}}}}see @eq:s{(n + 1) % 50}{{{{< /admonition >}}}}\n{extra}")


def test_a_site_built_in_two_processes_is_the_site_built_in_one(make_site, tmp_path):
    site = make_site({f"content/posts/p{n:02d}.md": post(n) for n in range(50)})
    build(site, "-j", "1", "-d", str(tmp_path / "one"))
    build(site, "-j", "2", "-d", str(tmp_path / "two"))
    compared = filecmp.dircmp(tmp_path / "one", tmp_path / "two")
    assert _differences(compared) == []
    assert (tmp_path / "two" / "posts" / "p07" / "index.html").read_text().count('href="/posts/p08/#eq:s8"') == 1


def test_errors_from_worker_processes_come_out_as_from_one_process(make_site):
    files = {f"content/posts/p{n:02d}.md": post(n) for n in range(50)}
    for n in (3, 30, 31):
        files[f"content/posts/p{n:02d}.md"] = post(n, "{{< nonesuch >}}\n")
    site = make_site(files)
    one, two = run_qed(site, "-j", "1"), run_qed(site, "-j", "2")
    assert one.returncode == two.returncode == 1
    assert two.stderr == one.stderr
    assert sorted(line.split(":")[0] for line in two.stderr.splitlines() if "nonesuch" in line) == [
        f"content/posts/p{n:02d}.md" for n in (3, 30, 31)]


def _differences(compared: filecmp.dircmp) -> list[str]:
    found = [*compared.diff_files, *compared.left_only, *compared.right_only]
    for sub in compared.subdirs.values():
        found += _differences(sub)
    return found


def test_a_failure_here_stops_the_other_processes(tmp_path):
    marker = tmp_path / "late"

    def work(n: int) -> int:
        if n == 0:
            raise KeyboardInterrupt
        if n == 59:  # the child's last item: it must never get there
            import time

            time.sleep(2)
            marker.write_text("child still ran")
        return n

    with pytest.raises(KeyboardInterrupt):
        map_in_processes(work, list(range(60)), jobs=2)
    import time

    time.sleep(2.5)
    assert not marker.exists()


def test_a_cold_build_typesets_in_two_processes_with_the_same_pages_and_messages(make_site, tmp_path):
    """Worker processes typeset and finish pages, each storing what it finished; what is
    published, and every TeX error, must not depend on it."""
    def many(n: int) -> str:
        formulas = " ".join(f"$a_{{{n}}}^{{{k}}} + \\frac{{{k}}}{{{n + 1}}}$" for k in range(10))
        broken = " and $\\frac{1}{$" if n == 33 else ""
        return f"---\ntitle: Many {n}\n---\n{formulas}{broken}\n"

    site = make_site({f"content/p{n:02d}.md": many(n) for n in range(50)})
    one = run_qed(site, "--clean", "-j", "1", "-d", str(tmp_path / "one"))
    two = run_qed(site, "--clean", "-j", "2", "-d", str(tmp_path / "two"))
    assert one.returncode == two.returncode == 1
    assert two.stderr == one.stderr and "content/p33.md:4:" in two.stderr
    (site / "content" / "p33.md").unlink()
    build(site, "--clean", "-j", "1", "-d", str(tmp_path / "one"))
    counted = build(site, "--clean", "-j", "2", "-d", str(tmp_path / "two")).stderr
    assert "490 formulas (490 typeset now)" in counted  # the workers' share is counted too
    assert _differences(filecmp.dircmp(tmp_path / "one", tmp_path / "two")) == []
