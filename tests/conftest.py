"""Shared test helpers: sites written from a dict of files, builds, and HTML compared by structure."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.htmltree import Element, parse_html

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write `files` ({relative path: text}) below root; text is dedented."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """A site folder made from a dict of files, in a fresh temporary folder."""

    def make(files: dict[str, str]) -> Path:
        return write_files(tmp_path / "site", files)

    return make


def run_qed(site: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
    """Run `python build.py ARGS` as a user would, in the site folder."""
    return subprocess.run([sys.executable, str(REPO / "build.py"), *args], cwd=site, capture_output=True,
                          text=True, timeout=timeout, env=env)


def build(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Build and insist it worked, showing qed's output when it did not."""
    result = run_qed(site, *args)
    assert result.returncode == 0, f"build failed:\n{result.stderr}"
    return result


def page(site: Path, relative: str) -> Element:
    """The parsed HTML of an output file below public/."""
    return parse_html((site / "public" / relative).read_text(encoding="utf-8"))
