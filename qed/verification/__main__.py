"""`python -m qed.verification replay MODULE:FUNCTION --seed N [--root DIR] [--samples N --rtol R --atol A]
[--memory MB]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qed.verification.model import DEFAULT_MEMORY
from qed.verification.replay import replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qed.verification")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("replay", help="re-run one trial of a verifier with the seed of a failure")
    run.add_argument("spec", help="module:function, as in verify=")
    run.add_argument("--seed", type=int, required=True)
    run.add_argument("--root", type=Path, default=Path("."), help="the site folder (holds verifiers/)")
    run.add_argument("--samples", type=int, help="the claim's samples= (a property's number of examples)")
    run.add_argument("--rtol", type=float, help="the claim's rtol=")
    run.add_argument("--atol", type=float, help="the claim's atol=")
    run.add_argument("--memory", type=int, default=DEFAULT_MEMORY, metavar="MB",
                     help=f"the worker's memory limit (default {DEFAULT_MEMORY}, as in a build)")
    args = parser.parse_args(argv)
    return replay(args.root, args.spec, args.seed, samples=args.samples, rtol=args.rtol, atol=args.atol,
                  memory=args.memory)


if __name__ == "__main__":
    sys.exit(main())
