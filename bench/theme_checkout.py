"""Write a theme's files from a bare git mirror into a folder, for bench/fidelity.py.

    python bench/theme_checkout.py /work/.mirror/dillonzq+LoveIt/repo /tmp/themes/LoveIt [REV]

Like `git archive REV | tar -x`, except that blobs missing from a partial mirror (large
media such as demo mp3 files) are skipped instead of aborting the whole export.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path


def git(gitdir: Path, *arguments: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(gitdir), *arguments], capture_output=True, check=True).stdout


def checkout(gitdir: Path, target: Path, rev: str = "HEAD") -> int:
    """Write every file of `rev` under `target`; returns how many were missing from the mirror."""
    present = set(git(gitdir, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").decode().split())
    missing = 0
    for entry in git(gitdir, "ls-tree", "-r", "-z", rev).split(b"\0"):
        if not entry:
            continue
        meta, name = entry.split(b"\t", 1)
        mode, kind, sha = meta.decode().split()
        if kind != "blob":
            continue
        if sha not in present:
            missing += 1
            continue
        path = target / name.decode()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = git(gitdir, "cat-file", "blob", sha)
        if mode == "120000":
            path.symlink_to(data.decode())
        else:
            path.write_bytes(data)
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gitdir", type=Path, help="the bare repository (what the search tool's fetch returns)")
    parser.add_argument("target", type=Path, help="the folder to write (must not exist)")
    parser.add_argument("rev", nargs="?", default="HEAD", help="commit or tag (default HEAD)")
    args = parser.parse_args()
    args.target.mkdir(parents=True)
    missing = checkout(args.gitdir, args.target, args.rev)
    print(f"{args.target}: written; {missing} file(s) absent from the mirror skipped")


if __name__ == "__main__":
    main()
