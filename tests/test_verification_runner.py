"""What a verifier can do to the build, with real builds and processes: nothing it starts
outlives its claim or the build, it runs under a memory limit, its output is capped, and
what it writes in its working folder never reaches the output."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from qed.verification.runner import OUTPUT_KEPT, RUNS_FOLDER, OutputCapture, remove_abandoned_runs
from tests.conftest import REPO, run_qed, write_files

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc")

# Each helper process writes its pid to ROOT/pids/<name>, so the test can look for it afterwards.
SPAWNING = '''
    import os, subprocess, sys, time
    from pathlib import Path

    PIDS = Path(__file__).resolve().parents[1] / "pids"
    SLEEPER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(300)"


    def start_helpers():
        """A child that sleeps, and a grandchild that double-forks and leaves the session."""
        PIDS.mkdir(exist_ok=True)
        subprocess.Popen([sys.executable, "-c", SLEEPER, str(PIDS / "child")])
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", SLEEPER, str(PIDS / "grandchild")])
            os._exit(0)
        while len(list(PIDS.iterdir())) < 2:
            time.sleep(0.01)
        (PIDS / "verifier").write_text(str(os.getpid()))


    def passes():
        start_helpers()


    def hangs():
        start_helpers()
        while True:
            time.sleep(0.05)
'''


def make_site(tmp_path: Path, verifiers: dict[str, str], *claims: str, config: str = "") -> Path:
    """A site whose one page states `claims` (each the theorem's arguments after its id),
    one block every four lines from line 4."""
    blocks = [f'{{{{< theorem id="thm:{n}" {args} >}}}}\nTrue.\n{{{{< /theorem >}}}}\n'
              for n, args in enumerate(claims, 1)]
    files = {f"verifiers/{name}.py": textwrap.dedent(code) for name, code in verifiers.items()}
    files["content/posts/x.md"] = "---\ntitle: x\n---\n" + "\n".join(blocks)
    if config:
        files["config.yaml"] = config
    return write_files(tmp_path / "site", files)


def pids(site: Path) -> dict[str, int]:
    return {p.name: int(p.read_text()) for p in (site / "pids").iterdir() if p.read_text()}


def alive(pid: int) -> bool:
    """Running or stopped; a zombie (left to an init that does not reap) runs nothing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def end(found: dict[str, int]) -> None:
    """Clean up after a failing test: the helpers it found, by pid."""
    for pid in found.values():
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


# `python build.py` as a terminal starts it: Ctrl-C raises KeyboardInterrupt (a shell without job
# control starts background commands with SIGINT ignored, and the test may run under one).
AS_FROM_A_TERMINAL = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


def test_a_passing_verifier_leaves_no_process_behind(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"spawning": SPAWNING}, 'verify="spawning:passes"')
    result = run_qed(site)
    assert result.returncode == 0, result.stderr
    found = pids(site)
    assert set(found) == {"verifier", "child", "grandchild"}
    try:
        assert wait_until(lambda: not any(alive(p) for p in found.values()), 5), found
    finally:
        end(found)
    assert not (site / ".qed-cache" / RUNS_FOLDER).exists()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_killed_build_takes_its_verifier_and_what_it_started_with_it(tmp_path: Path, sig: int) -> None:
    site = make_site(tmp_path, {"spawning": SPAWNING}, 'verify="spawning:hangs" timeout="300"')
    build = subprocess.Popen([sys.executable, "-c", AS_FROM_A_TERMINAL, str(REPO / "build.py")], cwd=site,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found: dict[str, int] = {}
    try:
        assert wait_until(lambda: (site / "pids" / "verifier").exists(), 60), "the verifier never started"
        found = pids(site)
        os.kill(build.pid, sig)
        build.wait(timeout=30)
        assert wait_until(lambda: not any(alive(p) for p in found.values()), 10), found
    finally:
        build.kill()
        build.wait()
        end(found)
    runs = site / ".qed-cache" / RUNS_FOLDER
    if sig == signal.SIGKILL:  # it could not clean up: the next build does (this is its first step)
        assert [p.name.partition("-")[0] for p in runs.iterdir()] == [str(build.pid)]
        remove_abandoned_runs(runs)
        assert list(runs.iterdir()) == []
    else:
        assert build.returncode not in (0, 2) and "Traceback" not in build.stderr.read()
        assert not runs.exists()
    build.stderr.close()


def test_the_next_build_removes_run_folders_of_dead_builds_only(tmp_path: Path) -> None:
    runs = tmp_path / RUNS_FOLDER
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for name in ("locked-by-a-live-build", "unlocked", f"{dead.stdout.strip()}-being-made", f"{os.getpid()}-made"):
        (runs / name / "work").mkdir(parents=True)
    for name in ("locked-by-a-live-build", "unlocked"):
        (runs / name / "owner.lock").touch()
    with open(runs / "locked-by-a-live-build" / "owner.lock") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        remove_abandoned_runs(runs)
    assert sorted(p.name for p in runs.iterdir()) == sorted(["locked-by-a-live-build", f"{os.getpid()}-made"])


def test_a_verifier_writing_into_the_output_folder_cannot_block_the_next_build(tmp_path: Path) -> None:
    writer = '''
        import os
        from pathlib import Path

        def writes_public():
            assert Path("verifiers/writer.py").is_file()  # the site's files are where they were
            os.makedirs("public/locked/inner")
            Path("public/stray.txt").write_text("not qed's")
            Path("public/locked/inner/f.txt").write_text("x")
            os.chmod("public/locked/inner", 0o500)
            os.chmod("public/locked", 0o500)
            assert os.environ.get("QED_TEST_PASS"), "fails the first build"
    '''
    site = make_site(tmp_path, {"writer": writer}, 'verify="writer:writes_public"')
    first = run_qed(site)
    assert first.returncode == 1 and "fails the first build" in first.stderr
    assert not (site / "public").exists()
    second = run_qed(site, "--refresh", env={**os.environ, "QED_TEST_PASS": "1"})
    assert second.returncode == 0, second.stderr
    assert not (site / "public" / "stray.txt").exists() and (site / "public" / "index.html").is_file()
    assert not (site / ".qed-cache" / RUNS_FOLDER).exists()


def test_a_verifier_over_its_memory_limit_fails_its_claim_with_a_located_message(tmp_path: Path) -> None:
    hog = '''
        import numpy as np

        def allocates():
            chunks = []
            while True:
                chunks.append(np.ones(10**7))

        def allocates_a_little():
            assert np.ones(10**7).sum() == 10**7
    '''
    site = make_site(tmp_path, {"hog": hog}, 'verify="hog:allocates" memory="300"', 'verify="hog:allocates"',
                     'verify="hog:allocates_a_little"', config="verify:\n  memory: 400\n")
    result = run_qed(site)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("content/posts/x.md:4:1: Theorem 1: ") and "exceeded the memory limit of 300 MB"
               in line for line in lines), result.stderr
    assert any(line.startswith("content/posts/x.md:8:1: Theorem 2: ") and "exceeded the memory limit of 400 MB"
               in line for line in lines), result.stderr
    assert "Theorem 3" not in result.stderr and "Traceback" not in result.stderr


def test_a_bad_memory_setting_is_an_error_at_its_config_line(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"ok": "def check():\n    pass\n"}, 'verify="ok:check"',
                     config="title: x\nverify:\n  memory: lots\n")
    result = run_qed(site)
    assert result.returncode == 1
    assert "config.yaml:3: verify.memory must be a whole number of at least 1, not 'lots'" in result.stderr


def test_a_verifier_printing_50_mb_costs_the_build_only_what_it_keeps(tmp_path: Path) -> None:
    chatty = '''
        import os, sys

        def prints_then_crashes():
            line = "x" * 1023 + "\\n"
            for _ in range(50 * 1024):
                sys.stdout.write(line)
            sys.stdout.write("the last words")
            sys.stdout.flush()
            os._exit(3)
    '''
    site = make_site(tmp_path, {"chatty": chatty}, 'verify="chatty:prints_then_crashes"')
    result = run_qed(site, "check", "--junit", "junit.xml")
    assert result.returncode == 1 and "Theorem 1: verifier chatty:prints_then_crashes: the worker process crashed " \
        "(exit code 3)" in result.stderr
    error = ET.parse(site / "junit.xml").getroot().find("testsuite/testcase/error")
    assert error is not None
    kept = error.text.split("exit code 3)\n", 1)[1]
    assert kept.startswith("xxxx") and kept.endswith("the last words")
    hidden = int(kept.split("\n... ")[1].split(" bytes not shown")[0])
    assert hidden == 50 * 1024 * 1024 + len("the last words") - 2 * OUTPUT_KEPT


def test_kept_output_is_its_start_and_its_end() -> None:
    capture = OutputCapture(keep=4)
    for chunk in (b"ab", b"cdef", b"ghij", b"kl"):
        capture.add(chunk)
    assert capture.text() == "abcd\n... 4 bytes not shown ...\nijkl"
    short = OutputCapture(keep=4)
    short.add(b"abcdef")
    assert short.text() == "abcdef"
