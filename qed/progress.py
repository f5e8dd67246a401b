"""Progress on a terminal (one line rewritten in place) and the one-line summary after a build."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class ProgressLine:
    """Rewrites one status line on a terminal; silent when output is a file or --quiet."""

    enabled: bool = True
    width: int = 0

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        sys.stderr.write("\r" + text.ljust(self.width))
        sys.stderr.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0

    @staticmethod
    def summary(result: Any) -> str:
        """`built 12 pages, 340 formulas (12 typeset now), 9 claims (2 run) into public/ in 1.2 s`."""
        parts = [f"{result.pages} pages"]
        if result.formulas:
            parts.append(f"{result.formulas} formulas ({result.formulas_rendered} typeset now)")
        failed = getattr(result, "formulas_failed", 0)
        if failed:
            parts.append(f"{failed} formula{'s' if failed != 1 else ''} could not be typeset")
        if result.claims:
            parts.append(f"{result.claims} claims ({result.claims_run} run)")
        verb = "built" if result.destination else "checked"
        where = f" into {result.destination}" if result.destination else ""
        line = f"{verb} {', '.join(parts)}{where} in {result.seconds:.2f} s"
        if result.left_out:
            line += f"; {result.left_out}"
        if result.formulas and getattr(result, "math_rule", ""):
            line += f"\nmath: {result.math_rule}"
        if result.verification_summary:
            line += f"\n{result.verification_summary}"
        return line
