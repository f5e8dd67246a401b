"""Every view of the verdicts: badges, terminal summary, site page, JSON, JUnit XML, annotations.

Wording rule: a badge says what was done ("checked on 100 random samples, rtol 1e-07,
0.4 s"), never "proved"; a numeric check can only refute.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from qed.theorems import Claim
from qed.verification.graph import dependency_svg
from qed.verification.model import (
    BLOCKED,
    ERROR,
    EXPECTED_FALSE,
    FALSIFIED,
    STATUSES,
    TIMEOUT,
    UNCHECKED,
    VERIFIED,
    Verdict,
)
from qed.verification.resolve import VerifierRef, local_imports

DETAIL_SUFFIX = "#detail"
"""`marker("claim", key + DETAIL_SUFFIX)` resolves to the counterexample block of a claim."""

STATUS_SYMBOLS = {VERIFIED: "✓", EXPECTED_FALSE: "✗", FALSIFIED: "✗", ERROR: "!", TIMEOUT: "⏱",
                  BLOCKED: "–", UNCHECKED: "?"}


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def badge_text(claim: Claim, verdict: Verdict) -> str:
    """What was done, in words: the badge text and the report's status column."""
    status = verdict.status
    if status == VERIFIED:
        if verdict.samples <= 1 and verdict.seed is None and verdict.samples_run <= 1:
            what = "checked (deterministic)"
        else:
            what = f"checked on {verdict.samples_run} random samples"
        if verdict.rtol is not None:
            what += f", rtol {verdict.rtol:g}"
        return f"{what}, {_seconds(verdict.seconds)}"
    if status == EXPECTED_FALSE:
        return f"known false: counterexample on sample {(verdict.trial or 0) + 1} (seed {verdict.seed})"
    if status == FALSIFIED:
        return f"falsified on sample {(verdict.trial or 0) + 1} of {verdict.samples} (seed {verdict.seed})"
    if status == TIMEOUT:
        return f"not checked: timed out after {verdict.timeout or 0:g} s"
    if status == BLOCKED:
        return f"not checked: uses {', '.join(verdict.blocked_by)}, which was not verified"
    if status == UNCHECKED:
        return "not checked: no verifier"
    return "not checked: verifier error"


@dataclass
class VerificationReport:
    """The verdict of every claim, and the files and messages made from them."""

    claims: list[Claim]
    verdicts: dict[str, Verdict]
    refs: dict[str, VerifierRef] = field(default_factory=dict)
    project_root: Path = Path()
    ran: int = 0
    cached: int = 0
    seconds: float = 0.0
    environment: dict[str, str] = field(default_factory=dict)

    # -- badges (marker kind "claim") ---------------------------------------------------

    def resolve_claim(self, key: str) -> str:
        """HTML for `marker("claim", key)`: the status badge, or with `#detail` the counterexample."""
        if key.endswith(DETAIL_SUFFIX):
            return self._detail_html(key[: -len(DETAIL_SUFFIX)])
        claim = self._claim(key)
        verdict = self.verdicts.get(key)
        if claim is None or verdict is None:
            return ""
        if verdict.status == UNCHECKED and not claim.is_statement:
            return ""
        text = escape(badge_text(claim, verdict))
        symbol = STATUS_SYMBOLS.get(verdict.status, "")
        title = f"{verdict.status}" + (" (cached result: verifier and its imports unchanged)" if verdict.cached
                                       else "")
        css = f"qed-badge qed-status-{verdict.status}"
        body = f'<span class="qed-badge-symbol" aria-hidden="true">{symbol}</span> {text}'
        if verdict.source_url:
            return f'<a class="{css}" href="{escape(verdict.source_url)}" title="{escape(title)}">{body}</a>'
        return f'<span class="{css}" title="{escape(title)}">{body}</span>'

    def _detail_html(self, key: str) -> str:
        verdict = self.verdicts.get(key)
        if verdict is None or verdict.status not in (EXPECTED_FALSE, FALSIFIED, ERROR) or not verdict.message:
            return ""
        heading = "Counterexample" if verdict.status in (EXPECTED_FALSE, FALSIFIED) else "Verifier error"
        where = f" (sample {(verdict.trial or 0) + 1}, seed {verdict.seed})" if verdict.seed is not None else ""
        replay = (f'<p class="qed-replay">Replay: <code>{escape(verdict.replay)}</code></p>'
                  if verdict.replay else "")
        return (f'<div class="qed-counterexample qed-status-{verdict.status}">'
                f"<p><strong>{heading}</strong>{escape(where)}:</p>"
                f"<pre>{escape(verdict.message)}</pre>{replay}</div>")

    def _claim(self, key: str) -> Claim | None:
        return next((c for c in self.claims if c.key == key), None)

    # -- terminal ------------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        return Counter(v.status for v in self.verdicts.values())

    def summary_line(self) -> str:
        """"verification: 12 verified, 1 falsified — 3 run, 10 cached, 1.20 s"."""
        counts = self.counts()
        parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
        return (f"verification: {', '.join(parts) or 'no claims'} — {self.ran} run, {self.cached} cached, "
                f"{_seconds(self.seconds)}")

    def terminal_summary(self) -> str:
        """The summary line and one line per claim that is not verified."""
        lines = [self.summary_line()]
        for claim in self.claims:
            verdict = self.verdicts[claim.key]
            if verdict.status == VERIFIED or (verdict.status == UNCHECKED and not claim.is_statement):
                continue
            symbol, text = STATUS_SYMBOLS.get(verdict.status, " "), badge_text(claim, verdict)
            if verdict.status == EXPECTED_FALSE:  # the check did its job: say so, not "✗"
                symbol, text = "✓", "refuted as expected: " + text.removeprefix("known false: ")
            lines.append(f"  {symbol} {claim.location}: {claim.display}: {text}")
            if verdict.status in (FALSIFIED, ERROR) and verdict.message:
                lines.append(f"      {verdict.message.splitlines()[0]}")
        return "\n".join(lines)

    def blocked_lines(self) -> list[str]:
        """One line per claim left unchecked because a claim it uses failed (for a failed build)."""
        return [f"  {STATUS_SYMBOLS.get(BLOCKED, '-')} {claim.location}: {claim.display}: "
                f"{badge_text(claim, self.verdicts[claim.key])}"
                for claim in self.claims if self.verdicts[claim.key].status == BLOCKED]

    # -- site files -----------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """One dict per claim, for the verification page and verification.json."""
        rows = []
        for claim in self.claims:
            verdict = self.verdicts[claim.key]
            rows.append({
                "key": claim.key, "id": claim.id, "kind": claim.kind, "heading": claim.heading,
                "title": claim.title, "display": claim.display, "page": claim.location.path,
                "line": claim.location.line, "url": claim.url, "page_url": claim.page_url,
                "status": verdict.status, "summary": badge_text(claim, verdict),
                "verify": claim.verify, "source_url": verdict.source_url, "uses": list(claim.uses),
                "expect": "false" if claim.expect_false else "true", "samples": verdict.samples,
                "samples_run": verdict.samples_run, "seconds": round(verdict.seconds, 4),
                "rtol": verdict.rtol, "atol": verdict.atol, "cached": verdict.cached,
                "seed": verdict.seed, "message": verdict.message, "replay": verdict.replay,
                "blocked_by": list(verdict.blocked_by),
            })
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": dict(self.counts()), "ran": self.ran, "cached": self.cached,
            "seconds": round(self.seconds, 3), "environment": self.environment,
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "claims": self.rows(),
        }

    def write_site_files(self, out_dir: Path, render: Callable[[str, dict[str, Any]], str]) -> None:
        """verification/index.html, verification/verification.json, a page per verifier module."""
        base = out_dir / "verification"
        base.mkdir(parents=True, exist_ok=True)
        statuses = {k: v.status for k, v in self.verdicts.items()}
        graph_claims = [c for c in self.claims if c.kind != "proof"]
        counts = self.counts()
        context = {
            "title": "Verification", "rows": self.rows(), "summary": self.summary_line(),
            "counts": [(s, counts[s]) for s in STATUSES if counts[s]],
            "graph_svg": dependency_svg(graph_claims, statuses), "environment": self.environment,
            "json_url": "verification.json",
        }
        (base / "index.html").write_text(render("verification.html", context), encoding="utf-8")
        (base / "verification.json").write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")
        for module, page in self._source_pages().items():
            target = base / "verifiers" / module / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render("verifier.html", page), encoding="utf-8")

    def _source_pages(self) -> dict[str, dict[str, Any]]:
        """Context of each verifier module's page: highlighted source and the claims it checks."""
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        formatter = HtmlFormatter(linenos="inline", lineanchors="L", anchorlinenos=True, cssclass="highlight")
        css = formatter.get_style_defs(".qed-source .highlight")
        pages: dict[str, dict[str, Any]] = {}
        rows = {r["key"]: r for r in self.rows()}
        for key, ref in self.refs.items():
            page = pages.get(ref.module)
            if page is None:
                try:
                    source = ref.path.read_text(encoding="utf-8")
                except OSError:
                    continue
                imports = [p for p in local_imports(ref.path, self.project_root) if p != ref.path.resolve()]
                page = pages[ref.module] = {
                    "title": f"Verifier {ref.module}", "module": ref.module,
                    "path": _relative(ref.path, self.project_root), "code_html": highlight(source, PythonLexer(),
                                                                                        formatter),
                    "pygments_css": css, "claims": [], "imports": [_relative(p, self.project_root)
                                                                   for p in imports],
                }
            page["claims"].append({**rows[key], "function": ref.function, "line_anchor": f"L-{ref.line}"})
        return pages

    # -- CI --------------------------------------------------------------------------------

    def write_junit(self, path: Path) -> None:
        """JUnit XML: one testcase per claim; falsified = failure, error/timeout = error,
        unchecked/blocked = skipped, expected-false = passed (its counterexample was found)."""
        suite = ET.Element("testsuite", name="qed.verification")
        counts = Counter[str]()
        for claim in self.claims:
            verdict = self.verdicts[claim.key]
            case = ET.SubElement(suite, "testcase", classname=claim.location.path,
                                 name=f"{claim.key}: {claim.display}", file=claim.location.path,
                                 line=str(claim.location.line), time=f"{verdict.seconds:.3f}")
            text = badge_text(claim, verdict)
            body = "\n".join(x for x in (verdict.message, verdict.replay and f"replay: {verdict.replay}",
                                         verdict.detail) if x)
            if verdict.status == FALSIFIED:
                ET.SubElement(case, "failure", message=verdict.message or text, type="falsified").text = body
                counts["failures"] += 1
            elif verdict.status in (ERROR, TIMEOUT):
                ET.SubElement(case, "error", message=verdict.message or text, type=verdict.status).text = body
                counts["errors"] += 1
            elif verdict.status in (UNCHECKED, BLOCKED):
                ET.SubElement(case, "skipped", message=text)
                counts["skipped"] += 1
            else:
                ET.SubElement(case, "system-out").text = text + ("\n" + verdict.message if verdict.message else "")
        attrs = {"tests": str(len(self.claims)), "failures": str(counts["failures"]),
                 "errors": str(counts["errors"]), "skipped": str(counts["skipped"]),
                 "time": f"{self.seconds:.3f}"}
        for name, value in attrs.items():
            suite.set(name, value)
        root = ET.Element("testsuites", {k: v for k, v in attrs.items() if k != "skipped"})
        root.append(suite)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

    def github_annotations(self) -> list[str]:
        """`::error file=...,line=...::msg` lines, only when GITHUB_ACTIONS=true (else empty)."""
        if os.environ.get("GITHUB_ACTIONS") != "true":
            return []
        lines = []
        for claim in self.claims:
            verdict = self.verdicts[claim.key]
            if verdict.status not in (FALSIFIED, ERROR, TIMEOUT):
                continue
            message = f"{claim.display}: {badge_text(claim, verdict)}"
            if verdict.message:
                message += f"\n{verdict.message}"
            if verdict.replay:
                message += f"\nreplay: {verdict.replay}"
            lines.append(f"::error file={_gh_property(claim.location.path)},line={claim.location.line},"
                         f"title={_gh_property(claim.display + ' ' + verdict.status)}::{_gh_data(message)}")
        return lines


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
