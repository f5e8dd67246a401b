"""Re-running one trial of a verifier with a given seed, with a full traceback.

This is what the "replay:" line of a failure runs. It starts a worker process exactly as the
build does (same environment, same interpreter flags, same job: the claim's samples and
tolerances), in replay mode, so the generator, settings and call, and for a Hypothesis
property the counterexample, are those the build saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from qed.verification.model import DEFAULT_MEMORY
from qed.verification.resolve import parse_spec
from qed.verification.runner import worker_command, worker_environment, working_folder


def replay(project_root: Path, verify_spec: str, seed: int, *, out: TextIO | None = None,
           samples: int | None = None, rtol: float | None = None, atol: float | None = None,
           memory: int = DEFAULT_MEMORY) -> int:
    """Run `verify_spec` once with `seed`: 0 if it passes, 1 if it fails, 2 if unresolvable."""
    out = out or sys.stderr
    try:
        module, function = parse_spec(verify_spec)
    except ValueError as exc:
        print(f"error: {exc}", file=out)
        return 2
    root = Path(project_root).resolve()
    job: dict[str, Any] = {"root": str(root), "module": module, "function": function, "seed": seed,
                           "samples": samples, "rtol": rtol, "atol": atol, "memory": memory,
                           "parent": os.getpid()}
    with tempfile.TemporaryDirectory(prefix="qed-replay-") as tmp:
        job["cwd"] = str(working_folder(Path(tmp) / "work", root, (root / ".qed-cache", root / "public")))
        path = Path(tmp) / "job.json"
        path.write_text(json.dumps(job), encoding="utf-8")
        done = subprocess.run(worker_command("--replay", path), cwd=job["cwd"], env=worker_environment(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True)
    out.write(done.stdout + done.stderr)
    return done.returncode if done.returncode in (0, 1, 2) else 1


def replay_claim(claims: Iterable[object], claim_id: str, seed: int, project_root: Path,
                 memory: int = DEFAULT_MEMORY) -> int:
    """`check --replay ID --seed N`: replay the verifier of the claim with that id (2 if none)."""
    for claim in claims:
        if getattr(claim, "key", None) == claim_id or getattr(claim, "id", None) == claim_id:
            spec = getattr(claim, "verify", None)
            if not spec:
                print(f"error: {claim_id} names no verifier", file=sys.stderr)
                return 2
            return replay(project_root, spec, seed, samples=getattr(claim, "samples", None),
                          rtol=getattr(claim, "rtol", None), atol=getattr(claim, "atol", None),
                          memory=getattr(claim, "memory", None) or memory)
    print(f"error: no claim with id '{claim_id}'", file=sys.stderr)
    return 2
