"""Write a synthetic qed site of N posts: prose, inline and display math, admonitions, code, tags.

Deterministic for a given N and seed, so builds can be compared run against run.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = ("space map set group ring field vector matrix operator function sequence limit bound norm "
         "measure integral derivative gradient kernel basis rank trace eigenvalue subspace closure "
         "compact open dense continuous smooth linear convex finite bounded uniform orthogonal "
         "symmetric proof lemma theorem remark consider suppose hence thus therefore moreover").split()
INLINE = [r"\frac{{{a}}}{{{b}}}", r"\sum_{{i=1}}^{{n}} {a}_i", r"\norm{{{a} - {b}}}", r"\int_0^1 {a}(t)\,dt",
          r"\lim_{{n\to\infty}} {a}_n", r"\binom{{n}}{{{b}}}", r"\mathbb{{R}}^{{{b}}}", r"{a}^2 + {b}^2"]
DISPLAY = [r"\sum_{{k=0}}^{{n}} \binom{{n}}{{k}} {a}^k {b}^{{n-k}} = ({a}+{b})^n",
           r"\begin{{pmatrix}} {a} & 1 \\ 0 & {b} \end{{pmatrix}}",
           r"\int_{{-\infty}}^{{\infty}} e^{{-{a} x^2}}\,dx = \sqrt{{\pi / {a}}}"]
TAGS = [f"topic-{i}" for i in range(30)]
ADMONITIONS = ("note", "tip", "warning", "abstract", "question")


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 16))
    return " ".join(words).capitalize() + "."


def formula(rng: random.Random, templates: list[str]) -> str:
    return rng.choice(templates).format(a=rng.choice("xyzuvw"), b=rng.choice("abcnmk"))


def paragraph(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 5)):
        parts.append(sentence(rng))
        parts.append(f"${formula(rng, INLINE)}$")
    return " ".join(parts)


def post(rng: random.Random, number: int) -> str:
    tags = ", ".join(f'"{t}"' for t in rng.sample(TAGS, 3))
    sections = []
    for heading in range(1, 4):
        kind = rng.choice(ADMONITIONS)
        sections.append(f"## Part {heading}\n\n{paragraph(rng)}\n\n$$\n{formula(rng, DISPLAY)}\n$$\n\n"
                        f'{{{{< admonition type={kind} title="Remark {heading}" >}}}}\n{paragraph(rng)}\n'
                        f"{{{{< /admonition >}}}}\n")
    code = "```python\ndef f(x):\n    return x * x\n```\n"
    return (f'---\ntitle: "Note {number}"\ndate: 2024-01-{1 + number % 28:02d}\ntags: [{tags}]\n---\n\n'
            f"{paragraph(rng)}\n\n<!--more-->\n\n" + "\n".join(sections) + "\n" + code)


def make_site(n: int, root: Path, seed: str = "qed-bench-1") -> Path:
    """Write the site into root (content/, config.yaml) and return root."""
    rng = random.Random(f"{seed}-{n}")
    posts = root / "content" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text('title: Benchmark\nmath:\n  macros:\n    "\\\\norm": "\\\\lVert #1 \\\\rVert"\n')
    for number in range(n):
        (posts / f"note-{number:05d}.md").write_text(post(rng, number))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, help="number of posts")
    parser.add_argument("root", type=Path, help="folder to write the site into")
    args = parser.parse_args()
    make_site(args.n, args.root)


if __name__ == "__main__":
    main()
