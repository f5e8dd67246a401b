"""The example site's verifiers: true claims pass, known-false ones are refuted, mistakes are caught.

The verifier modules are imported the way qed's worker imports them: with the repository
root and `verifiers/` on sys.path, so `import nets` works inside them.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from qed.verification.identities import is_identity, run_identity
from qed.verifier_api import settings_of

ROOT = Path(__file__).resolve().parents[1]
for entry in (str(ROOT), str(ROOT / "verifiers")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

calculus = importlib.import_module("calculus")
backprop = importlib.import_module("backprop")
derivatives = importlib.import_module("derivatives")
seeds = importlib.import_module("seeds")

SEEDS = range(5)
FIRST_SEEDS = range(10)  # a known-false claim must be refuted among these

_CALL_RE = re.compile(r"\{\{<\s*(\w+)\s+([^>]*?)\s*>\}\}")
_ARG_RE = re.compile(r'(\w+)=("[^"]*"|\S+)')
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def site_claims() -> list[tuple[str, str, bool]]:
    """(file:line, verify spec, expect_false) for every claim in content/, code fences skipped."""
    found = []
    for path in sorted((ROOT / "content").rglob("*.md")):
        fence = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            opened = _FENCE_RE.match(line)
            if opened:
                mark = opened.group(1)
                if fence is None:
                    fence = mark
                elif mark[0] == fence[0] and len(mark) >= len(fence):
                    fence = None
                continue
            if fence is not None:
                continue
            for call in _CALL_RE.finditer(line):
                args = {k: v.strip('"') for k, v in _ARG_RE.findall(call.group(2))}
                if "verify" in args:
                    where = f"{path.relative_to(ROOT)}:{number}"
                    found.append((where, args["verify"], args.get("expect", "true").lower() == "false"))
    return found


CLAIMS = site_claims()
TRUE_SPECS = sorted({spec for _, spec, false in CLAIMS if not false})
FALSE_SPECS = sorted({spec for _, spec, false in CLAIMS if false})


def load(spec: str):
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def run(fn, seed: int) -> None:
    """One trial as the worker runs it (an identity: all its points, from this seed)."""
    if is_identity(fn):
        run_identity(fn, seed, settings_of(fn))
    else:
        fn(np.random.default_rng(seed))


def refuted_within(fn, seeds=FIRST_SEEDS) -> AssertionError | None:
    """The first AssertionError the function raises on the given seeds, else None."""
    for seed in seeds:
        try:
            run(fn, seed)
        except AssertionError as exc:
            return exc
    return None


def test_the_site_has_the_expected_claims():
    assert len(TRUE_SPECS) >= 10
    assert set(FALSE_SPECS) >= {
        "seeds:partial_sign", "seeds:mse_without_network", "seeds:last_layer_sum_range",
        "seeds:exercise_repeated_inputs", "seeds:answer_denominator",
        "derivatives:partials_imply_differentiable",
    }
    assert not set(TRUE_SPECS) & set(FALSE_SPECS)


@pytest.mark.parametrize("where,spec", [(w, s) for w, s, _ in CLAIMS])
def test_every_verify_names_a_function(where, spec):
    assert callable(load(spec)), f"{where}: verify={spec!r} names nothing"


@pytest.mark.parametrize("spec", TRUE_SPECS)
def test_true_claims_pass(spec):
    fn = load(spec)
    for seed in SEEDS:
        run(fn, seed)


@pytest.mark.parametrize("spec", FALSE_SPECS)
def test_known_false_claims_are_refuted_reproducibly(spec):
    fn = load(spec)
    first = refuted_within(fn)
    assert first is not None, f"{spec} found no counterexample in seeds {list(FIRST_SEEDS)}"
    again = refuted_within(fn)  # same seeds, same counterexample
    assert str(again) == str(first)


# ---------------------------------------------------------------------------------------
# The verifiers catch the mistakes: the same check with a wrong formula fails.

WRONG_VERSIONS = {
    "partial derivative with the seed's sign": lambda rng: calculus.check_partial_quotient(rng, sign=-1.0),
    "Jacobian transposed": lambda rng: calculus.check_jacobian(rng, transpose=True),
    "chain rule in the wrong order": lambda rng: calculus.check_chain_rule(rng, reversed_order=True),
    "squared norm without the 2": lambda rng: calculus.check_squared_norm(rng, factor=1.0),
    "backpropagation without the 2": lambda rng: backprop.check_backpropagation(rng, factor=1.0),
    "error terms doubled (1/2M cost with the factor 2)": lambda rng: backprop.check_error_terms(rng, factor=4.0),
    "L²(X) identity with a repeated input": lambda rng: backprop.check_l2_identity(rng, repeat_input=True),
    "derivative divided by f(h)": lambda rng: derivatives.check_difference_quotient(rng, divide_by_f_of_h=True),
}


@pytest.mark.parametrize("name", sorted(WRONG_VERSIONS))
def test_a_wrong_formula_fails(name):
    assert refuted_within(WRONG_VERSIONS[name]) is not None, f"the verifier did not notice: {name}"


def test_right_parameters_of_the_same_helpers_pass():
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        calculus.check_partial_quotient(rng, sign=1.0)
        calculus.check_squared_norm(rng, factor=2.0)
        backprop.check_backpropagation(rng, factor=2.0)
        derivatives.check_difference_quotient(rng, divide_by_f_of_h=False)


def test_seed_sign_error_is_off_by_a_factor_of_minus_one():
    with pytest.raises(AssertionError, match=r"rel err 2\b"):
        seeds.partial_sign(np.random.default_rng(0))


def test_missing_factor_two_is_off_by_half():
    with pytest.raises(AssertionError, match=r"rel err 0\.5\b"):
        backprop.check_backpropagation(np.random.default_rng(0), factor=1.0)
