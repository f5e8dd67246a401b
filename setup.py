"""Packaging hook: ship the repository's `theme/` inside the package as `qed/_theme`, so that
an installed qed (a wheel, not this checkout) still has its default theme. Everything
else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithTheme(build_py):
    def run(self) -> None:
        super().run()
        shutil.copytree(Path(__file__).resolve().parent / "theme", Path(self.build_lib) / "qed" / "_theme",
                        dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithTheme})
