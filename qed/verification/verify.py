"""`verify_claims`: check links, plan, run (or reuse) verifiers, report failures at claim lines."""

from __future__ import annotations

import os
import re
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qed.errors import Diagnostics, Location, did_you_mean, display_path
from qed.theorems import Claim
from qed.verification.cache import VerdictCache, environment_fingerprint, source_digest
from qed.verification.model import (
    BLOCKED,
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    ERROR,
    EXPECTED_FALSE,
    FALSIFIED,
    TIMEOUT,
    UNCHECKED,
    VERIFIED,
    Verdict,
    VerifyOptions,
)
from qed.verification.reports import VerificationReport
from qed.verification.resolve import BrokenModule, VerifierRef, find_verifier, local_imports
from qed.verification.runner import RUNS_FOLDER, Scheduler, Task


def verify_claims(
    claims: list[Claim],
    *,
    project_root: Path,
    cache_dir: Path,
    options: VerifyOptions,
    diagnostics: Diagnostics,
    progress: Callable[[int, int], None] | None = None,
) -> VerificationReport:
    """Run every claim's verifier (cached, parallel, in `uses` order) and judge the results.

    Adds one error per failing claim to `diagnostics` at the claim's location (first line
    the verdict, further lines seed and replay command); `strict` also fails unchecked
    theorem-like claims. Never raises for anything a verifier does.
    """
    started = time.perf_counter()
    claims = _unique(claims)
    by_key = {c.key: c for c in claims}
    verdicts: dict[str, Verdict] = {}
    refs: dict[str, VerifierRef] = {}
    _check_links(claims, by_key, verdicts, diagnostics)
    _resolve_verifiers(claims, project_root, refs, verdicts)
    tasks = _plan(claims, refs, verdicts, project_root, options)
    judge = _CachedJudge(VerdictCache(cache_dir / "verification"), project_root, refresh=options.refresh)
    leave_out = (cache_dir, *([options.output] if options.output is not None else []))
    scheduler = Scheduler(project_root, options.jobs or os.cpu_count() or 1, judge.lookup, judge.interpret,
                          progress, verdicts=verdicts, scratch=cache_dir / RUNS_FOLDER, leave_out=leave_out)
    scheduler.run(tasks)
    _report_broken_modules(claims, verdicts, diagnostics)
    for claim in claims:
        _link_sources(claim, verdicts[claim.key], refs.get(claim.key), project_root, claim.memory or options.memory)
        _report(claim, verdicts[claim.key], options, diagnostics)
    report = VerificationReport(claims=claims, verdicts=verdicts, refs=refs, project_root=project_root,
                                ran=len(tasks) - judge.cached - _count(verdicts, tasks, BLOCKED),
                                cached=judge.cached, seconds=time.perf_counter() - started,
                                environment=environment_fingerprint())
    if options.junit is not None:
        report.write_junit(options.junit)
    return report


class _CachedJudge:
    """Verdicts from the cache when an entry is still valid, else from the worker's record
    (which is stored when it passed or failed: errors and timeouts are tried again)."""

    def __init__(self, cache: VerdictCache, project_root: Path, *, refresh: bool):
        self.cache, self.project_root, self.refresh = cache, project_root, refresh
        self.cached = 0

    def lookup(self, task: Task) -> Verdict | None:
        record = None if self.refresh else self.cache.load(task.cache_key, self.project_root)
        if record is None:
            return None
        self.cached += 1
        verdict = _judge(task.claim, record)
        verdict.cached = True
        return verdict

    def interpret(self, task: Task, record: dict[str, Any]) -> Verdict:
        if record.get("outcome") in ("passed", "failed"):
            self.cache.store(task.cache_key, record)
        verdict = _judge(task.claim, record)
        verdict.broken_module = _deepest_site_frame(record.get("origin") or [], self.project_root)
        return verdict


def _deepest_site_frame(origin: list[list[Any]], project_root: Path) -> Location | None:
    """Where an import failed in the site's own code (a worker's frames, deepest last)."""
    root = project_root.resolve()
    for filename, line, col in reversed(origin):
        path = Path(filename).resolve()
        if path.is_relative_to(root):
            return Location(display_path(path, root), int(line), max(int(col), 1))
    return None


def _resolve_verifiers(claims: list[Claim], project_root: Path, refs: dict[str, VerifierRef],
                       verdicts: dict[str, Verdict]) -> None:
    """A `VerifierRef` for each claim still to judge, or its verdict when it has none to run."""
    for claim in claims:
        if claim.key in verdicts:
            continue
        if claim.verify is None:
            verdicts[claim.key] = Verdict(claim.key, UNCHECKED)
            continue
        try:
            refs[claim.key] = find_verifier(claim.verify, project_root)
        except BrokenModule as exc:
            verdicts[claim.key] = Verdict(claim.key, ERROR, message=str(exc),
                                          broken_module=Location(display_path(exc.path, project_root),
                                                                 exc.line, max(exc.col, 1)))
        except ValueError as exc:
            verdicts[claim.key] = Verdict(claim.key, ERROR, message=str(exc))


def _report_broken_modules(claims: list[Claim], verdicts: dict[str, Verdict], diagnostics: Diagnostics) -> None:
    """A verifier module that fails to load is one error at the line where it fails, naming
    the claims it stops, not the same error at every claim whose verifier imports it."""
    stopped: dict[Location, list[Claim]] = {}
    for claim in claims:
        verdict = verdicts[claim.key]
        if verdict.status == ERROR and verdict.broken_module is not None and not verdict.reported:
            stopped.setdefault(verdict.broken_module, []).append(claim)
    for where, stopped_claims in stopped.items():
        first = verdicts[stopped_claims[0].key].message.splitlines()[0]
        cause = first.split(" failed: ", 1)[1] if first.startswith("importing '") and " failed: " in first else first
        cause = re.sub(r" \([^()]*\.py, line \d+\)$", "", cause)  # a SyntaxError's place is the location
        names = ", ".join(f"{c.heading} at {c.location}" for c in stopped_claims[:3])
        more = f" and {len(stopped_claims) - 3} more" if len(stopped_claims) > 3 else ""
        plural = "s" if len(stopped_claims) != 1 else ""
        diagnostics.error(f"this verifier module does not load ({cause}), so {len(stopped_claims)} claim{plural} "
                          f"cannot be checked: {names}{more}", where)
        for claim in stopped_claims:
            verdicts[claim.key].reported = True


def _link_sources(claim: Claim, verdict: Verdict, ref: VerifierRef | None, project_root: Path,
                  memory: int) -> None:
    """Where the badge links (the verifier's source line) and how to replay a failure."""
    if ref is None:
        return
    verdict.source_url = _source_url(claim, ref)
    if verdict.seed is not None:
        verdict.replay = replay_command(project_root, ref, verdict.seed, claim, memory)


def _unique(claims: list[Claim]) -> list[Claim]:
    """First claim per key; duplicate ids are reported by the label merge, not here."""
    seen: dict[str, Claim] = {}
    for claim in claims:
        seen.setdefault(claim.key, claim)
    return list(seen.values())


def _count(verdicts: dict[str, Verdict], tasks: list[Task], status: str) -> int:
    return sum(1 for t in tasks if verdicts.get(t.claim.key, Verdict("", "")).status == status)


def _check_links(claims: list[Claim], by_key: dict[str, Claim], verdicts: dict[str, Verdict],
                 diagnostics: Diagnostics) -> None:
    """`uses` must name known claims that may be built on: not the claim itself, not a claim
    marked expect=false (known false), and not a cycle. Each such claim gets an error verdict
    (so every report shows it) and one error at its line."""
    problems: dict[str, str] = {}
    for claim in claims:
        for used in claim.uses:
            if used == claim.key:
                problems.setdefault(claim.key, "uses itself")
            elif used not in by_key:
                diagnostics.error(f"{claim.display} uses unknown id '{used}'{did_you_mean(used, by_key)}",
                                  claim.location)
            elif by_key[used].expect_false:
                problems.setdefault(claim.key, f"uses {used}, which is marked expect=false (known to be false); "
                                               "nothing may be built on it")
    for key in _cycle_members(claims, by_key):
        problems.setdefault(key, "its `uses` form a cycle")
    for key, message in problems.items():
        claim = by_key[key]
        diagnostics.error(f"{claim.display}: {message}", claim.location)
        verdicts[key] = Verdict(key, ERROR, message=message, reported=True)


def _cycle_members(claims: list[Claim], by_key: dict[str, Claim]) -> set[str]:
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    members: set[str] = set()

    def visit(key: str, stack: list[str]) -> None:
        state[key] = 1
        stack.append(key)
        for dep in by_key[key].uses:
            if dep not in by_key or dep == key:
                continue
            if state.get(dep) == 1:
                members.update(stack[stack.index(dep):])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[key] = 2

    for claim in claims:
        if claim.key not in state:
            visit(claim.key, [])
    return members


def _plan(claims: list[Claim], refs: dict[str, VerifierRef], verdicts: dict[str, Verdict],
          project_root: Path, options: VerifyOptions) -> list[Task]:
    """A task per resolvable claim, with its cache key and the claims it waits for."""
    env = environment_fingerprint()
    tasks = []
    by_key = {c.key: c for c in claims}
    for claim in claims:
        ref = refs.get(claim.key)
        if ref is None or claim.key in verdicts:
            continue
        sources = source_digest(local_imports(ref.path, project_root), project_root)
        memory = claim.memory or options.memory
        key = VerdictCache(Path()).key({
            "claim": claim.key, "module": ref.module, "function": ref.function,
            "samples": claim.samples, "timeout": claim.timeout, "rtol": claim.rtol, "atol": claim.atol,
            "memory": memory, "expect_false": claim.expect_false, "sources": sources, "env": env})
        deps = tuple(d for d in claim.uses if d in by_key and d != claim.key)
        tasks.append(Task(claim, ref, key, claim.timeout,
                          options.timeout or DEFAULT_TIMEOUT, deps, memory))
    return tasks


def _judge(claim: Claim, record: dict[str, Any]) -> Verdict:
    """Turn a worker's record into a status, taking `expect=false` into account."""
    outcome = record.get("outcome")
    verdict = Verdict(
        claim.key, ERROR, samples=int(record.get("samples") or 0),
        samples_run=int(record.get("samples_run") or 0), seconds=float(record.get("seconds") or 0.0),
        message=str(record.get("message") or ""), detail=str(record.get("traceback") or ""),
        seed=record.get("seed"), trial=record.get("trial"), rtol=record.get("rtol"), atol=record.get("atol"),
        method=str(record.get("method") or "sampled"), special=int(record.get("special") or 0),
        rounding=int(record.get("rounding") or 0), proof=str(record.get("proof") or ""),
        proof_note=str(record.get("proof_note") or ""), domain=str(record.get("domain") or ""))
    if outcome == "passed":
        verdict.status = ERROR if claim.expect_false else VERIFIED
        if claim.expect_false:
            verdict.message = (f"marked expect=false, but its verifier found no counterexample "
                               f"in {verdict.samples} samples")
    elif outcome == "failed":
        verdict.status = EXPECTED_FALSE if claim.expect_false else FALSIFIED
    return verdict


def _report(claim: Claim, verdict: Verdict, options: VerifyOptions, diagnostics: Diagnostics) -> None:
    """One diagnostic per failing claim: first line says what, later lines how to replay."""
    extra = []
    if verdict.seed is not None and verdict.method == "hypothesis":
        extra.append(f"  Hypothesis run with seed {verdict.seed}; the example above is already shrunk")
    elif verdict.seed is not None and verdict.method == "high-precision":
        extra.append(f"  identity's points drawn with seed {verdict.seed}; the counterexample above is confirmed "
                     "at high precision")
    elif verdict.seed is not None:
        extra.append(f"  failing trial: {(verdict.trial or 0) + 1} of {verdict.samples}, seed {verdict.seed}")
    if verdict.replay:
        extra.append(f"  replay: {verdict.replay}")
    tail = "".join("\n" + line for line in extra)
    if verdict.status == FALSIFIED:
        diagnostics.error(f"{claim.display} is false: {verdict.message}{tail}", claim.location)
    elif verdict.status == ERROR:
        if verdict.reported:
            return
        if verdict.message.startswith(("verify=", "marked expect=false")):
            diagnostics.error(f"{claim.display}: {verdict.message}{tail}", claim.location)
        else:
            diagnostics.error(f"{claim.display}: verifier {claim.verify}: {verdict.message}{tail}", claim.location)
    elif verdict.status == TIMEOUT:
        diagnostics.error(f"{claim.display}: verifier {claim.verify} timed out after {verdict.timeout:g} s "
                          f"(set timeout= on the claim or @qed.verifier(timeout=...))", claim.location)
    elif verdict.status == BLOCKED:
        diagnostics.warning(f"{claim.display} was not checked: it uses {', '.join(verdict.blocked_by)}, "
                            "which was not verified", claim.location)
    elif verdict.status == UNCHECKED:
        if claim.expect_false:
            diagnostics.error(f"{claim.display} is marked expect=false but names no verifier to refute it",
                              claim.location)
        elif options.strict and claim.is_statement:
            diagnostics.error(f"{claim.display} is not checked (strict): add verify=\"module:function\"",
                              claim.location)


def _source_url(claim: Claim, ref: VerifierRef) -> str:
    anchor = f"#L-{ref.line}" if ref.line else ""
    return f"{claim.base_path}verification/verifiers/{ref.module}/{anchor}"


def replay_command(project_root: Path, ref: VerifierRef, seed: int, claim: Claim | None = None,
                   memory: int = DEFAULT_MEMORY) -> str:
    """The shell command that re-runs exactly one trial (run it from the current directory),
    with the claim's own settings, which change what a trial (or a property's run) does, and
    the memory limit the build ran it under."""
    args = ["python", "-m", "qed.verification", "replay", f"{ref.module}:{ref.function}", "--seed", str(seed)]
    for name in ("samples", "rtol", "atol"):
        value = getattr(claim, name, None)
        if value is not None:
            args += [f"--{name}", f"{value:g}" if isinstance(value, float) else str(value)]
    if memory != DEFAULT_MEMORY:
        args += ["--memory", str(memory)]
    try:
        here = Path.cwd().resolve()
    except OSError:
        here = None
    root = project_root.resolve()
    if here != root:
        try:
            where = os.path.relpath(root, here) if here else str(root)
        except ValueError:
            where = str(root)
        args += ["--root", where]
    return shlex.join(args)
