"""Verification: run each claim's verifier in worker processes and report computed statuses.

Pipeline use (see docs/verifiers.md):

    report = verify_claims(claims, project_root=..., cache_dir=..., options=VerifyOptions(...),
                           diagnostics=diagnostics, progress=None)
    html = resolve_markers(html, {"claim": report.resolve_claim, ...})
    report.write_site_files(out_dir, render)

Importing this package does not import numpy; only worker processes do.
"""

from qed.verification.model import STATUSES, Verdict, VerifyOptions
from qed.verification.replay import replay, replay_claim
from qed.verification.reports import DETAIL_SUFFIX, VerificationReport, badge_text
from qed.verification.verify import replay_command, verify_claims

__all__ = [
    "DETAIL_SUFFIX",
    "STATUSES",
    "Verdict",
    "VerificationReport",
    "VerifyOptions",
    "badge_text",
    "replay",
    "replay_claim",
    "replay_command",
    "verify_claims",
]
