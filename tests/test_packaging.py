"""An installed qed, not this checkout: the wheel carries the default theme (setup.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

from tests.conftest import REPO, write_files


def test_a_site_builds_with_qed_installed_from_its_wheel(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copyfile(REPO / name, source / name)
    for folder in ("qed", "theme"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("qed-*.whl"))
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    assert (installed / "qed" / "_theme" / "layouts" / "baseof.html").is_file()

    site = write_files(tmp_path / "site", {"content/a.md": "---\ntitle: Hello\n---\nSome $x^2$.\n"})
    env = {**os.environ, "PYTHONPATH": str(installed)}
    result = subprocess.run([sys.executable, "-c", "import sys, qed.cli; print(qed.cli.__file__); "
                             "sys.exit(qed.cli.main(['build']))"], cwd=site, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(installed))
    assert "Hello" in (site / "public" / "a" / "index.html").read_text(encoding="utf-8")
    assert (site / "public" / "css" / "theorems.css").is_file()
