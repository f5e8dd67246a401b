"""Bounded, reproducible fuzzing: fixture texts mutated with a seeded random generator.

Each parser's test feeds these cases and asserts that the only outcomes are a result or
a located error. The same seed gives the same cases on every machine, so a failure found
in CI can be replayed by its case number.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

# Pieces that start, end or confuse the syntaxes qed reads.
TOKENS = (
    "$", "$$", "\\", "\\[", "\\]", "\\(", "\\)", "\\\\", "\\begin{align}", "\\end{align}", "\\begin{x}",
    "\\label{eq:a}", "\\eqref{eq:a}", "{#eq:a}", "`", "```", "~~~", "\n\n", "\n", "    ", "\t",
    "{{<", ">}}", "{{%", "%}}", "{{< /", "{{</*", "*/>}}", '"', "'", "`", "=", "#", "- ", "> ", "|", "*", "_",
    "[", "]", "(", ")", "{", "}", "<", ">", "&", "<div>", "</div>", "<!--", "-->", "---", "+++", "@thm:a",
    "\x00", "\x07", "\r", "\u2028", "\ufeff", "\ue000", "\uf8ff", "\U0010fffd", "é", "𝔸",
)

# Pieces that start, end or confuse YAML, TOML and JSON: front matter and config files.
METADATA_TOKENS = (
    "---", "+++", "...", "&a ", "*a", "&b [*a, *a, *a, *a]", "<<: *a", "!!int ", "!!float ", "!!timestamp ",
    "!!binary ", "!!set ", "!!omap ", "!!python/object:os.system ", "!custom ", "%YAML 1.1\n", "%TAG ! x\n", "? ",
    "- ", ": ", ":", "[", "]", "{", "}", "[[", "]]", ",", ".", "=", "'", '"', '"""', "'''", "\\", "\\u00", "\\x",
    "|", ">", "#", "\n", "\n  ", "\t", "  ", "~", "null", "true", "yes", "0x", "0o", "1e999", ".nan", "-.inf",
    "2024-02-30", "2024-01-01T10:00:00+25:00", "1979-05-27T07:32:00Z", "07:32:00", "inf", "+", "_",
    "\x00", "\x07", "\x1b", "\x85", "\r", "\u2028", "\ufeff", "\ue000", "é", "𝔸",
    "9" * 100,  # fifty of them: more digits than Python turns into a number
)


def fixture_texts(*names: str) -> list[str]:
    """The named fixture files (paths relative to tests/fixtures), as text."""
    return [(FIXTURES / name).read_text(encoding="utf-8") for name in names]


def mutate(text: str, rng: random.Random, tokens: Sequence[str] = TOKENS) -> str:
    """One to four random edits: insert a token, delete, duplicate or truncate a span."""
    for _ in range(rng.randint(1, 4)):
        n = len(text)
        at = rng.randint(0, n)
        edit = rng.random()
        if edit < 0.5:
            text = text[:at] + rng.choice(tokens) * rng.choice((1, 1, 1, 2, 3, 50)) + text[at:]
        elif edit < 0.7:
            text = text[:at] + text[at + rng.randint(1, 40):]
        elif edit < 0.9:
            span = text[at:at + rng.randint(1, 80)]
            text = text[:at] + span * rng.randint(2, 5) + text[at:]
        else:
            text = text[:at]
    return text


def cases(seeds: Sequence[str], count: int, *, seed: int = 13, tokens: Sequence[str] = TOKENS) -> Iterator[str]:
    """`count` mutated texts, the same ones on every run."""
    rng = random.Random(seed)
    for _ in range(count):
        yield mutate(rng.choice(seeds), rng, tokens)
