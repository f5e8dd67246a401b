#!/usr/bin/env python3
"""Build this site: `python build.py` (see `python build.py --help`)."""

import sys

from qed.cli import main

if __name__ == "__main__":
    sys.exit(main())
