"""The one code map (qed/codemap.py): code blocks and headings exactly where markdown-it puts them."""

from __future__ import annotations

from qed.codemap import CodeMap

TEXT = """\
Intro

```python
x = 1
```

- item

      indented code in the item

Term
: a definition

| a | b |
|---|---|
| 1 | 2 |

Setext heading
--------------

## Atx heading

    ## not a heading: indented code
"""


def lines(text: str, ranges: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in ranges]


def test_code_blocks_are_the_fence_and_the_indented_blocks():
    blocks = lines(TEXT, CodeMap.of(TEXT).block_ranges())
    assert blocks[0].startswith("```python") and blocks[0].rstrip().endswith("```")
    assert "indented code in the item" in blocks[1]
    assert "not a heading" in blocks[2]
    assert len(blocks) == 3


def test_offsets_in_code_and_the_next_block():
    codes = CodeMap.of(TEXT)
    inside = TEXT.index("x = 1")
    start, end = codes.code_block_at(inside)
    assert TEXT[start:end].startswith("```")
    assert codes.code_block_at(TEXT.index("Intro")) is None
    assert codes.next_code_start(0) == TEXT.index("```python")


def test_headings_outside_code_setext_included():
    codes = CodeMap.of(TEXT, with_headings=True)
    found = [TEXT.splitlines()[line] for line in codes.heading_lines(2)]
    assert found == ["Setext heading", "## Atx heading"]


def test_text_without_code_is_not_parsed_unless_headings_are_wanted():
    assert CodeMap.of("plain $x$ text").code_lines == ()
    assert CodeMap.of("## h\n", with_headings=True).heading_lines(2) == [0]
