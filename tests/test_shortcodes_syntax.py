"""Hugo's shortcode syntax on its own: text and calls, code left alone, problems at offsets."""

from __future__ import annotations

import itertools

from qed.shortcodes_syntax import MAX_NESTING, Call, Node, SyntaxProblem, Text, build_tree, tokenize
from tests.fuzz import cases, fixture_texts


def shapes(body: str) -> tuple[list[str], list[SyntaxProblem]]:
    problems: list[SyntaxProblem] = []
    tokens = tokenize(body, problems)
    return [f"call {t.name}{' /' if t.closing else ''}" if isinstance(t, Call) else repr(t.text)
            for t in tokens], problems


def test_calls_and_text_alternate_in_order_with_their_arguments():
    problems: list[SyntaxProblem] = []
    tokens = tokenize('a {{< note type="tip" open=false >}}b{{% /note %}}c', problems)
    assert [type(t) for t in tokens] == [Text, Call, Text, Call, Text] and problems == []
    opening = tokens[1]
    assert (opening.notation, opening.start, [(a.key, a.value) for a in opening.args]) == (
        "<", 2, [("type", "tip"), ("open", False)])
    assert tokens[3].closing and tokens[3].notation == "%"


def test_calls_inside_code_stay_text_and_escaped_calls_print_as_calls():
    body = "`{{< x >}}` and\n\n```\n{{< y >}}\n```\n\n{{</* z */>}}\n"
    tokens, problems = shapes(body)
    assert problems == [] and not any(t.startswith("call") for t in tokens)
    assert "{{< z >}}" in "".join(eval(t) for t in tokens)


def test_mixing_named_and_positional_arguments_is_a_problem_as_in_hugo():
    _, problems = shapes('{{< note type="tip" 3 >}}')
    assert [p.offset for p in problems] == [20] and "named and positional" in problems[0].message


def test_a_broken_call_is_a_problem_at_its_offset_and_the_rest_is_still_read():
    tokens, problems = shapes('{{< note "unclosed >}}\n\n{{< ok >}}')
    assert [(p.offset, "unterminated" in p.message) for p in problems] == [(9, True)]  # at the opening quote
    assert "call ok" in tokens


def _walk(nodes: list[Text | Node]) -> list[Node]:
    found: list[Node] = []
    for item in nodes:
        if isinstance(item, Node):
            found.append(item)
            found.extend(_walk(item.children))
    return found


def test_fuzzed_bodies_give_calls_in_order_and_problems_inside_the_body():
    """Bounded fuzz, seeded from the fixtures: any text reads as ordered tokens and a tree
    whose spans lie inside the body, with every problem at an offset in it."""
    seeds = fixture_texts("shortcodes/loveit-showcase.md", "math/backpropagation-loveit.md")
    for number, body in enumerate(cases(seeds, 600)):
        problems: list[SyntaxProblem] = []
        tokens = tokenize(body, problems)
        calls = [t for t in tokens if isinstance(t, Call)]
        assert all(a.end <= b.start for a, b in itertools.pairwise(calls)), number
        tree = build_tree(tokens, lambda call, closing_follows: call.closing or closing_follows, problems, len(body))
        for node in _walk(tree):
            assert node.call.start < node.end <= len(body), number
            if node.inner_start is not None:
                assert node.call.end <= node.inner_start <= (node.inner_end or 0) <= node.end, number
        assert all(0 <= p.offset <= len(body) and p.message for p in problems), number


def test_shortcodes_nested_beyond_the_limit_are_one_problem_not_a_crash():
    depth = MAX_NESTING + 50
    body = "{{< box >}}" * depth + "x" + "{{< /box >}}" * depth
    problems: list[SyntaxProblem] = []
    build_tree(tokenize(body, problems), lambda call, follows: True, problems, len(body))
    [problem] = problems
    assert f"nested {MAX_NESTING + 1} deep" in problem.message and problem.offset == MAX_NESTING * len("{{< box >}}")
