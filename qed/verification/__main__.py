"""`python -m qed.verification replay MODULE:FUNCTION --seed N [--root DIR]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qed.verification.replay import replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qed.verification")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("replay", help="re-run one trial of a verifier with the seed of a failure")
    run.add_argument("spec", help="module:function, as in verify=")
    run.add_argument("--seed", type=int, required=True)
    run.add_argument("--root", type=Path, default=Path("."), help="the site folder (holds verifiers/)")
    args = parser.parse_args(argv)
    return replay(args.root, args.spec, args.seed)


if __name__ == "__main__":
    sys.exit(main())
