"""Front matter in YAML, TOML and JSON, with the line of every key and errors at their place."""

import datetime as dt
import re

import pytest

from qed import frontmatter
from qed.errors import QedError, SourceText
from qed.frontmatter import MAX_DEPTH, parse_json, parse_toml, parse_yaml, split_front_matter, to_datetime
from tests.conftest import run_qed
from tests.fuzz import METADATA_TOKENS, cases, fixture_texts
from tests.growth import assert_grows_linearly, cpu_seconds


def parse(text: str):
    source = SourceText("content/p.md", text)
    return source, split_front_matter(source)


@pytest.mark.parametrize("text", [
    "---\ntitle: Hi\ntags: [a, b]\n---\nBody\n",
    "+++\ntitle = \"Hi\"\ntags = [\"a\", \"b\"]\n+++\nBody\n",
    '{\n"title": "Hi",\n"tags": ["a", "b"]\n}\nBody\n',
])
def test_three_formats_give_the_same_data_and_body(text):
    source, front = parse(text)
    assert front.data == {"title": "Hi", "tags": ["a", "b"]}
    assert source.text[front.body_offset:] == "Body\n"
    assert front.key_lines["title"] == 2
    assert front.key_lines["tags"] == 3


def test_file_without_front_matter_is_all_body():
    _, front = parse("Just text\n")
    assert front.data == {} and front.body_offset == 0


def test_yaml_error_points_at_line_and_column():
    with pytest.raises(QedError) as caught:
        parse("---\ntitle: Hi\ntags: [a, b\n---\nBody\n")
    assert str(caught.value).startswith("content/p.md:3:12:")  # the end of the unclosed list
    assert "not valid YAML" in caught.value.message


def test_toml_error_points_at_its_line():
    with pytest.raises(QedError) as caught:
        parse('+++\ntitle = "Hi"\ndate = = 3\n+++\n')
    assert caught.value.location.line == 3
    assert "not valid TOML" in caught.value.message


def test_json_error_points_at_its_line():
    with pytest.raises(QedError) as caught:
        parse('{\n"title": "Hi",\n"tags": [1,]\n}\n')
    assert caught.value.location.line == 3


def test_unclosed_front_matter_is_reported_at_the_top():
    with pytest.raises(QedError) as caught:
        parse("---\ntitle: Hi\n\nBody without closing fence\n")
    assert str(caught.value) == "content/p.md:1:1: front matter opened with '---' is never closed"


def test_front_matter_that_is_not_a_mapping_is_an_error():
    with pytest.raises(QedError, match="mapping"):
        parse("---\n- a\n- b\n---\n")


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-01", dt.datetime(2024, 5, 1)),
    ("2022-07-03T17:55:28+08:00", dt.datetime(2022, 7, 3, 17, 55, 28, tzinfo=dt.timezone(dt.timedelta(hours=8)))),
    ("2024-05-01T10:00:00Z", dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)),
    (dt.date(2024, 5, 1), dt.datetime(2024, 5, 1)),
])
def test_hugo_date_forms(value, expected):
    assert to_datetime(value) == expected


def test_a_date_that_is_not_a_date_says_what_is_expected():
    with pytest.raises(ValueError, match="expected a date"):
        to_datetime("next tuesday")


@pytest.mark.parametrize(("line", "column", "kind"), [
    ("date: 2024-02-30", 7, "timestamp"),              # YAML parses it, Python's datetime refuses it
    ("date: 2024-01-01T10:00:00+25:00", 7, "timestamp"),
    ("x: !!timestamp nope", 4, "timestamp"),
    ("x: !!int abc", 4, "int"),
    ("x: !!float x", 4, "float"),
    ("x: {a: [1, !!int y]}", 12, "int"),               # found deep inside, reported there
])
def test_a_value_yaml_parses_but_python_cannot_hold_is_an_error_at_that_value(line, column, kind):
    with pytest.raises(QedError) as caught:
        split_front_matter(SourceText("post.md", f"---\ntitle: A\n{line}\n---\nbody\n"))
    assert str(caught.value.location) == f"post.md:3:{column}"
    assert f"is not a valid {kind}" in caught.value.message


def test_a_bad_value_in_the_config_is_one_located_line_and_exit_1(make_site):
    site = make_site({"config.yaml": "title: T\nparams:\n  since: 2024-13-01\n", "content/a.md": "x\n"})
    result = run_qed(site)
    assert (result.returncode, result.stderr.splitlines()[0][:19]) == (1, "config.yaml:3:10: '")


ALIAS_BOMB = "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))


def test_an_alias_bomb_is_refused_at_the_alias_that_runs_away():
    text = "---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + ALIAS_BOMB + "---\nbody\n"
    with pytest.raises(QedError) as caught:
        split_front_matter(SourceText("post.md", text))
    assert "aliases" in caught.value.message and "refuses" in caught.value.message
    assert str(caught.value.location) == "post.md:6:8"  # the first *d: five levels expand past the budget


def test_ordinary_anchors_aliases_and_merge_keys_still_work():
    _, front = parse("---\nbase: &b {x: 1, y: 2}\nk: {<<: *b, z: 3}\nl: [*b, *b]\n---\n")
    assert front.data == {"base": {"x": 1, "y": 2}, "k": {"x": 1, "y": 2, "z": 3}, "l": [{"x": 1, "y": 2}] * 2}


def test_an_alias_inside_the_value_it_names_is_refused():
    with pytest.raises(QedError) as caught:
        parse("---\ntitle: T\nloop: &a [1, *a]\n---\n")
    assert str(caught.value.location) == "content/p.md:3:14" and "inside the value it names" in caught.value.message


@pytest.mark.parametrize(("text", "where"), [
    # libyaml would crash (C stack), or refuse at its own limit, which differs between PyYAML's
    # releases: the 101st bracket is refused first
    ("---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n", "content/p.md:2:104"),
    ("---\n" + "".join(" " * i + "k:\n" for i in range(150)) + "---\n", "content/p.md:102:101"),
    ('{"x": ' + "[" * 5000 + "]" * 5000 + "}\n", "content/p.md:1:106"),
    ("+++\nx = " + "[" * 5000 + "]" * 5000 + "\n+++\n", "content/p.md:2:105"),
    ("+++\nx = " + "{a=" * 5000 + "}" * 5000 + "\n+++\n", "content/p.md:2:305"),
    ("+++\ntitle = 'T'\n" + ".".join(["a"] * 500) + " = 1\n+++\n", "content/p.md:3:1"),
])
def test_nesting_thousands_deep_is_a_located_error_not_a_crash(text, where):
    with pytest.raises(QedError) as caught:
        parse(text)
    assert str(caught.value.location) == where
    assert f"nested more than {MAX_DEPTH} levels deep" in caught.value.message


def test_a_control_character_in_yaml_is_located():
    with pytest.raises(QedError) as caught:
        parse("---\ntitle: ok\nsummary: é\x07\n---\n")
    assert str(caught.value.location) == "content/p.md:3:11"
    assert "U+0007" in caught.value.message


def test_toml_that_ends_too_early_is_located_at_its_last_line():
    with pytest.raises(QedError) as caught:
        parse('+++\ntitle = "T"\ntags = ["a",\n+++\nbody\n')
    assert caught.value.location.line == 3 and "not valid TOML" in caught.value.message


def test_keys_keep_their_places_at_every_depth():
    source = SourceText("c.toml", 'title = "T"\n[params]\nlogo = "x"\n[params.search]\nenable = true\n')
    assert parse_toml(source.text, source, first_line=1).positions == {
        ("title",): (1, 1), ("params",): (2, 2), ("params", "logo"): (3, 1), ("params", "search"): (4, 2),
        ("params", "search", "enable"): (5, 1)}
    source = SourceText("c.json", '{\n "a": {\n  "b": [ {"c": 1} ],\n  "d": 2\n }\n}\n')
    assert parse_json(source)[0].positions == {("a",): (2, 2), ("a", "b"): (3, 3), ("a", "d"): (4, 3)}
    source = SourceText("c.yaml", "a:\n  b: 1\n  c: {d: 2}\n")
    assert parse_yaml(source.text, source, first_line=1).positions == {
        ("a",): (1, 1), ("a", "b"): (2, 3), ("a", "c"): (3, 3), ("a", "c", "d"): (3, 7)}


def test_fuzzed_front_matter_is_parsed_or_a_located_error():
    """Bounded fuzz of the three readers, seeded from the fixtures: whatever the text, the
    outcome is front matter or a QedError pointing into the file, never another exception."""
    seeds = fixture_texts("frontmatter/yaml-anchors.md", "frontmatter/toml-tables.md",
                          "frontmatter/json-object.md", "backpropagation-loveit.md")
    for number, text in enumerate(cases(seeds, 3000, tokens=METADATA_TOKENS)):
        source = SourceText("p.md", text)
        try:
            front = split_front_matter(source)
        except QedError as error:
            assert error.location is not None and 1 <= error.location.line <= text.count("\n") + 1, (number, error)
            assert error.location.col >= 1, (number, error)
            continue
        assert isinstance(front.data, dict) and 0 <= front.body_offset <= len(text), number


def test_libyaml_alone_and_the_guarded_loader_read_plain_yaml_alike():
    """Plain YAML (no anchors, shallow) is read by libyaml alone for speed; whatever the text,
    it must give what the guarded loader gives: the same data and key positions, or an error."""
    posts = fixture_texts("backpropagation-loveit.md", "frontmatter/yaml-anchors.md")
    seeds = [text.split("---\n")[1] for text in posts]
    seeds += fixture_texts("config/config.yaml")
    seeds = [re.sub(r"[&*]\w+|<<: ", "", seed) for seed in seeds]  # no anchors: what libyaml reads alone
    source = SourceText("p.md", "")
    for number, raw in enumerate(cases(seeds, 800, tokens=METADATA_TOKENS)):
        if "&" in raw:
            continue
        outcomes = []
        for loader in (frontmatter._FastLoader, frontmatter._GuardedLoader):
            try:
                outcomes.append(frontmatter._load(loader(raw), raw, source, 1))
            except Exception as error:
                outcomes.append(type(error).__name__)
        fast, guarded = outcomes
        assert fast is None or fast == guarded or repr(fast) == repr(guarded), (number, raw)


def test_every_key_is_text_as_in_hugo_so_data_sorts_and_serializes():
    _, front = parse("---\n1: a\ntrue: b\nx: {2: c, ~: d, 2024-01-01: e}\n---\n")
    assert front.data == {"1": "a", "true": "b", "x": {"2": "c", "": "d", "2024-01-01": "e"}}
    assert front.key_lines == {"1": 2, "true": 3, "x": 4}


@pytest.mark.parametrize(("text", "where"), [
    ('{"title": "T", "n": ' + "9" * 5000 + "}\n", "content/p.md:1:21"),
    ("+++\ntitle = 'T'\nn = " + "9" * 5000 + "\n+++\n", "content/p.md:3:5"),
    ("---\ntitle: T\nn: " + "9" * 5000 + "\n---\n", "content/p.md:3:4"),
])
def test_a_number_too_long_for_python_is_a_located_error(text, where):
    with pytest.raises(QedError) as caught:
        parse(text)
    assert str(caught.value.location) == where and len(caught.value.message) < 100


@pytest.mark.parametrize("text, where", [
    ("title: A\ndraft: true\ndraft: false\n", "m.md:4:1"),  # the second one, in the file's lines
    ("params:\n  math: true\n  math: false\n", "m.md:4:3"),
    ("a: &x {k: 1}\nb: {k: 2, k: 3}\n", "m.md:3:11"),
])
def test_a_key_written_twice_is_an_error_at_the_second(text, where):
    """PyYAML keeps the last silently, so `draft: true` above `draft: false` would publish."""
    with pytest.raises(QedError) as caught:
        parse_yaml(text, SourceText("m.md", "---\n" + text + "---\n"), 2)
    assert str(caught.value.location) == where and "written twice" in caught.value.message


def test_a_merge_key_may_be_overridden_without_being_a_duplicate():
    text = "a: &x {k: 1, j: 1}\nb:\n  <<: *x\n  k: 2\n"
    assert parse_yaml(text, SourceText("m.md", text), 1).data["b"] == {"k": 2, "j": 1}
# Front matter of many entries, each built from its number: (fences, entry). YAML with
# anchors (each named once, aliased once: within the alias budget) is read by the guarded
# loader at every size; the flow list by libyaml alone at every size.
GROWTH_FRONT_MATTER = {
    "YAML anchors, aliases, flow lists": (("---\n", "---\n"), lambda i: (
        f"k{i:06d}: &a{i:06d} {{title: t{i}, tags: [a, b, c], nested: {{x: 1}}}}\nr{i:06d}: *a{i:06d}\n")),
    "YAML one long flow list": (("---\ntags: [", "end]\n---\n"), lambda i: f"t{i:06d}, "),
    "TOML tables": (("+++\n", "+++\n"), lambda i: (
        f'[t{i:06d}]\ntitle = "t{i}"\ntags = ["a", "b"]\nwhen = 2024-01-01T10:00:00Z\n')),
    "JSON objects": (("{\n", '"end": 1\n}\n'), lambda i: (
        f'"k{i:06d}": {{"title": "t{i}", "tags": ["a", {{"x": 1}}]}},\n')),
}


@pytest.mark.parametrize(("fences", "entry"), GROWTH_FRONT_MATTER.values(), ids=GROWTH_FRONT_MATTER.keys())
def test_front_matter_is_read_in_time_linear_in_its_size_from_10_kB_to_1_MB(fences, entry):
    """Ten times the front matter may cost about ten times the time, never a hundred (a
    ratio of sizes against a ratio of times: see tests/growth.py)."""
    opening, closing = fences

    def seconds(size: int) -> float:
        count = (size - len(opening) - len(closing)) // len(entry(0))
        source = SourceText("content/p.md", opening + "".join(map(entry, range(count))) + closing + "Body\n")
        taken = cpu_seconds(lambda: fronts.append(split_front_matter(source)))
        read = fronts.pop().data
        assert len(read) + len(read.get("tags", [])) >= count  # all of it read, none refused
        return taken

    fronts: list = []
    assert_grows_linearly(seconds)
