"""Print pip constraints pinning every dependency of pyproject.toml (and its test extra) to its
lower bound, so `QED_DEPS=oldest bash .ci/run` tests the oldest releases qed claims to support."""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
requirements = project["dependencies"] + project["optional-dependencies"]["test"]
only = set(sys.argv[1:])
for requirement in requirements:
    match = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*>=\s*([^,;\s]+)", requirement)
    if match and (not only or match.group(1).lower() in only):
        print(f"{match.group(1)}=={match.group(2)}")
