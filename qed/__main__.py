"""`python -m qed`: the same command line as the `qed` script."""

import sys

from qed.cli import main

sys.exit(main())
