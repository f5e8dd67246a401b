"""The example site, end to end, as a new user meets it: `python build.py` verifies every
theorem and refutes every seed mistake; a verifier changed to a seed's wrong formula fails the
build at the right theorem; and the posts read well in Chromium on a desktop and on a phone."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from qed.katex import DEBIAN_DIST, ENV_DIST, user_cache_dir
from qed.math import PINNED_KATEX_VERSION
from tests.chromium import launched, needs_chromium, offline_context
from tests.conftest import REPO, run_qed

POSTS = ["/posts/backpropagation/", "/posts/derivatives-and-gradients/", "/writing-verified-notes/"]
SITE_PARTS = ["build.py", "config.yaml", "content", "verifiers", "theme"]


def copy_site(target: Path) -> Path:
    """The repository's site (content, verifiers, theme, config) in a folder of its own."""
    target.mkdir(parents=True)
    for part in SITE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target / part)
    return target


def claim_line(site: Path, post: str, claim_id: str) -> int:
    """The line of the shortcode that opens claim `claim_id` in content/posts/`post`."""
    lines = (site / "content" / "posts" / post).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if f'id="{claim_id}"' in line)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """The example site built by `python build.py`, KaTeX self-hosted so a browser can load it offline."""
    site = copy_site(tmp_path_factory.mktemp("example") / "site")
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "  katex:\n    self_host: true\n", encoding="utf-8")
    result = run_qed(site, timeout=300)
    assert result.returncode == 0, result.stderr
    return site, result.stderr


def test_every_claim_is_verified_or_refuted_as_expected(built):
    site, output = built
    report = json.loads((site / "public" / "verification" / "verification.json").read_text(encoding="utf-8"))
    claims = [c for c in report["claims"] if c["kind"] != "proof"]
    checked = [c for c in claims if c["verify"]]
    assert len(checked) >= 15
    for claim in checked:
        wanted = "expected-false" if claim["expect"] == "false" else "verified"
        assert claim["status"] == wanted, f"{claim['page']}:{claim['line']} {claim['display']}: {claim['summary']}"
    unchecked = {c["kind"] for c in claims if not c["verify"]}
    assert unchecked <= {"definition", "remark"}, "every theorem, lemma and exercise names a verifier"
    refuted = [line for line in output.splitlines() if "refuted as expected" in line]
    assert len(refuted) == sum(c["expect"] == "false" for c in checked)
    assert all(line.lstrip().startswith("✓ content/") for line in refuted)


def test_a_seed_mistake_put_back_in_a_verifier_fails_the_build_at_its_theorem(built, tmp_path):
    """The draft's sign error, restored in the partial-derivative verifier: the build must stop
    at Proposition 5, say why in one line with the seed, leave the last good site, and the
    printed replay command must reproduce the failure."""
    good, _ = built
    site = tmp_path / "site"
    shutil.copytree(good, site)
    before = (site / "public" / "posts" / "backpropagation" / "index.html").read_bytes()
    calculus = site / "verifiers" / "calculus.py"
    text = calculus.read_text(encoding="utf-8")
    correct = "    check_partial_quotient(rng, sign=1.0)\n"
    assert text.count(correct) == 1
    calculus.write_text(text.replace(correct, "    check_partial_quotient(rng, sign=-1.0)\n"), encoding="utf-8")

    result = run_qed(site, timeout=300)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    where = f"content/posts/backpropagation.md:{claim_line(site, 'backpropagation.md', 'prop:partial')}:1"
    failure = next(line for line in result.stderr.splitlines() if line.startswith(where))
    assert re.search(r"Proposition 5 \(Partial derivatives of a differentiable function\) is false: .*not close",
                     failure), failure
    jacobian = f"content/posts/backpropagation.md:{claim_line(site, 'backpropagation.md', 'thm:jacobian')}:1"
    blocked = re.escape(jacobian) + r": Theorem 7 \(The Jacobian\): not checked: uses prop:partial"
    assert re.search(blocked, result.stderr), "claims that use the false one are listed as not checked"
    replay = re.search(r"python -m qed\.verification replay calculus:partial_derivative --seed (\d+)", result.stderr)
    assert replay, result.stderr
    assert (site / "public" / "posts" / "backpropagation" / "index.html").read_bytes() == before

    rerun = subprocess.run([sys.executable, "-m", "qed.verification", "replay", "calculus:partial_derivative",
                            "--seed", replay.group(1)], cwd=site, capture_output=True, text=True, timeout=120)
    assert rerun.returncode != 0 and "not close" in rerun.stdout + rerun.stderr


def workflow_step(name: str) -> str:
    """The shell command of a step of the CI workflow users copy."""
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "verify.yml").read_text(encoding="utf-8"))
    return next(step["run"] for step in workflow["jobs"]["build"]["steps"] if step.get("name") == name)


def test_the_ci_workflow_check_passes_and_annotates_a_false_claim(built, tmp_path):
    """The workflow's own verification command, run as GitHub Actions runs it: green on the
    example site with one JUnit test case per claim; on a false claim, an annotation on its line."""
    command = workflow_step("Verify every claim")
    assert command.startswith("python build.py check --strict")
    site = tmp_path / "site"
    shutil.copytree(built[0], site)
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    passed = subprocess.run(command, shell=True, cwd=site, env=env, capture_output=True, text=True, timeout=300)
    assert passed.returncode == 0, passed.stderr
    cases = ElementTree.parse(site / "verification.xml").getroot().iter("testcase")
    assert sum(1 for _ in cases) == len(json.loads(
        (site / "public" / "verification" / "verification.json").read_text(encoding="utf-8"))["claims"])

    calculus = site / "verifiers" / "calculus.py"
    calculus.write_text(calculus.read_text(encoding="utf-8").replace("sign=1.0)", "sign=-1.0)"), encoding="utf-8")
    failed = subprocess.run(command, shell=True, cwd=site, env=env, capture_output=True, text=True, timeout=300)
    line = claim_line(site, "backpropagation.md", "prop:partial")
    assert failed.returncode == 1
    assert f"::error file=content/posts/backpropagation.md,line={line}," in failed.stdout


# ---------------------------------------------------------------- what a reader sees

@pytest.fixture(scope="module")
def browser():
    with launched() as chromium:
        yield chromium


KATEX_DISTS = {"debian": DEBIAN_DIST, "pinned": user_cache_dir() / PINNED_KATEX_VERSION}
"""The KaTeX that CI installs from Debian and the release qed pins: a page must read well with both."""


@pytest.fixture(scope="module", params=sorted(KATEX_DISTS))
def served(request, built):
    """The site built with one KaTeX and served over http (KaTeX's fonts are not loaded from file:// pages)."""
    dist = KATEX_DISTS[request.param]
    if not (dist / "katex.min.js").is_file():
        pytest.skip(f"needs KaTeX ({request.param}) in {dist}; .ci/run installs both")
    site, _ = built
    output = site.parent / f"public-{request.param}"
    result = run_qed(site, "-d", str(output), env={**os.environ, ENV_DIST: str(dist)}, timeout=300)
    assert result.returncode == 0, result.stderr
    handler = functools.partial(_QuietHandler, directory=str(output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


LAYOUT_FACTS = """() => {
  const width = document.documentElement.clientWidth;
  const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const tagClashes = [...document.querySelectorAll('.katex-display .tag')].filter(tag => {
    const formula = tag.parentElement.querySelector('.qed-tagged');
    return !formula || overlaps(tag.getBoundingClientRect(), formula.getBoundingClientRect());
  }).length;
  const strandedPunctuation = [...document.querySelectorAll('.math-nobreak, .math-tail > .math')].filter(box => {
    const text = box.closest('.math').nextSibling;
    if (!text || text.nodeType !== Node.TEXT_NODE) return true;
    const range = document.createRange();
    range.setStart(text, 0); range.setEnd(text, 1);
    const mark = range.getBoundingClientRect(), last = box.getBoundingClientRect();
    return mark.top > last.bottom || mark.bottom < last.top;
  }).length;
  const wide = [...document.querySelectorAll('main *')].filter(e => {
    if (e.closest('.katex-display, .katex-mathml, pre, .highlight, .qed-table-wrap')) return false;
    return e.getBoundingClientRect().right > width + 1;
  }).map(e => e.tagName + '.' + e.className);
  const wideTables = [...document.querySelectorAll('main .qed-table-wrap')]
    .filter(box => box.scrollWidth > box.clientWidth + 1).length;
  const proofs = [...document.querySelectorAll('.qed-proof')];
  return {
    pageWidth: document.documentElement.scrollWidth, width,
    formulas: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('.math .katex').length,
    errors: document.querySelectorAll('.katex-error').length,
    katexFont: document.fonts.check('16px KaTeX_Main'),
    tagged: document.querySelectorAll('.katex-display .tag').length, tagClashes,
    glued: document.querySelectorAll('.math-nobreak, .math-tail').length, strandedPunctuation,
    wide: wide.slice(0, 5), wideTables,
    proofs: proofs.length,
    runInProofs: proofs.filter(p => p.querySelector('p > .qed-proof-head')).length,
    badges: document.querySelectorAll('.qed-badge').length,
  };
}"""


@needs_chromium
@pytest.mark.parametrize("width", [1280, 390])
def test_posts_read_well_on_desktop_and_phone(browser, served, width):
    context, outside = offline_context(browser, served, viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        for path in POSTS:
            page.goto(served + path, wait_until="load")
            page.evaluate("document.fonts.ready")
            facts = page.evaluate(LAYOUT_FACTS)
            where = f"{path} at {width}px"
            assert facts["pageWidth"] <= width, f"{where}: the page scrolls sideways: {facts['wide']}"
            assert facts["wide"] == [], where
            assert facts["wideTables"] == 0, f"{where}: a table needs sideways scrolling"
            assert facts["formulas"] > 5 and facts["typeset"] == facts["formulas"], where
            assert facts["errors"] == 0 and facts["katexFont"], where
            assert facts["tagClashes"] == 0, f"{where}: an equation number overlaps its formula"
            assert facts["strandedPunctuation"] == 0, f"{where}: a line starts with the punctuation after a formula"
            if path == POSTS[0]:
                assert facts["tagged"] >= 5 and facts["glued"] > 10 and facts["badges"] >= 10
                assert facts["proofs"] >= 4 and facts["runInProofs"] == facts["proofs"]
    finally:
        context.close()
    assert outside == [], "a post asks nothing of other sites"


@needs_chromium
@pytest.mark.parametrize("width", [1280, 390])
def test_verification_page_fits_the_screen(browser, served, width):
    context, outside = offline_context(browser, served, viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(served + "/verification/", wait_until="load")
        facts = page.evaluate("""() => ({
          pageWidth: document.documentElement.scrollWidth,
          table: document.querySelector('.qed-verification-table').getBoundingClientRect().right,
          graph: document.querySelector('.qed-graph').getBoundingClientRect(),
          nodes: document.querySelectorAll('.qed-graph .qed-node').length,
          wide: [...document.querySelectorAll('.qed-verification-table *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 40)),
        })""")
    finally:
        context.close()
    assert outside == [], "the verification page asks nothing of other sites"
    assert facts["pageWidth"] <= width and facts["table"] <= width, facts["wide"]
    assert facts["graph"]["right"] <= width and facts["nodes"] >= 5
