"""Hugo's shortcode syntax on its own: text and calls, code left alone, problems at offsets."""

from __future__ import annotations

from qed.shortcodes_syntax import Call, SyntaxProblem, Text, tokenize


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
