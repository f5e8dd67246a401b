"""Re-running one trial of a verifier with a given seed, in this process, with a full traceback.

This is what the "replay:" line of a failure runs; it uses the worker's own `run_trial`,
so the generator, tolerances and call are exactly those of the failing trial.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from qed.verification.properties import use_hypothesis_defaults
from qed.verification.resolve import parse_spec
from qed.verification.worker import ResolveError, load_verifier, prepare_imports, run_trial


def replay(project_root: Path, verify_spec: str, seed: int, *, out: TextIO | None = None) -> int:
    """Run `verify_spec` once with `default_rng(seed)`: 0 if it passes, 1 if it fails, 2 if unresolvable."""
    from qed.numeric import settings_of

    out = out or sys.stderr
    try:
        module, function = parse_spec(verify_spec)
    except ValueError as exc:
        print(f"error: {exc}", file=out)
        return 2
    prepare_imports(Path(project_root).resolve())
    use_hypothesis_defaults(Path(project_root).resolve())
    try:
        fn = load_verifier(module, function)
    except ResolveError as exc:
        print(f"error: {exc}", file=out)
        return 2
    try:
        run_trial(fn, seed, settings_of(fn))
    except BaseException as exc:  # the point is to show whatever the verifier raised
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exception(exc, file=out)
        print(f"\n{module}:{function} FAILED with seed {seed}", file=out)
        return 1
    print(f"{module}:{function} passed with seed {seed}", file=out)
    return 0


def replay_claim(claims: Iterable[object], claim_id: str, seed: int, project_root: Path) -> int:
    """`check --replay ID --seed N`: replay the verifier of the claim with that id (2 if none)."""
    for claim in claims:
        if getattr(claim, "key", None) == claim_id or getattr(claim, "id", None) == claim_id:
            spec = getattr(claim, "verify", None)
            if not spec:
                print(f"error: {claim_id} names no verifier", file=sys.stderr)
                return 2
            return replay(project_root, spec, seed)
    print(f"error: no claim with id '{claim_id}'", file=sys.stderr)
    return 2
