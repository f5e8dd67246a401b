"""Site configuration: Hugo's file names and keys, defaults, warnings and typed errors."""

import pytest

from qed.config import load_config
from qed.errors import Diagnostics
from tests.conftest import run_qed, write_files


def load(tmp_path, files):
    write_files(tmp_path, files)
    diagnostics = Diagnostics()
    return load_config(tmp_path, diagnostics), diagnostics


def test_a_site_without_config_gets_the_defaults(tmp_path):
    config, diagnostics = load(tmp_path, {})
    assert config.base_url == "/" and config.title == "My notes"
    assert config.taxonomies == {"tag": "tags", "category": "categories"}
    assert not diagnostics.errors and not diagnostics.warnings


def test_hugo_toml_is_read_with_its_key_names(tmp_path):
    config, diagnostics = load(tmp_path, {"hugo.toml": """
        baseURL = "https://example.org/notes"
        title = "Notes"
        languageCode = "de"
        [params]
        author = "A"
        [permalinks]
        posts = "/:year/:slug/"
    """})
    assert not diagnostics.errors
    assert config.base_url == "https://example.org/notes/"
    assert config["languageCode"] == "de"
    assert config.params == {"author": "A"}
    assert config.permalinks == {"posts": "/:year/:slug/"}


def test_keys_match_case_insensitively_as_in_hugo(tmp_path):
    config, diagnostics = load(tmp_path, {"config.yaml": "baseurl: https://x.org/\n"})
    assert config.base_url == "https://x.org/" and not diagnostics.warnings


def test_unknown_key_is_a_warning_naming_file_line_and_key(tmp_path):
    _, diagnostics = load(tmp_path, {"config.yaml": "title: T\ncolour: red\nenableEmoji: true\n"})
    assert not diagnostics.errors
    assert [str(w) for w in diagnostics.warnings] == [
        "config.yaml:2: unknown setting 'colour'; ignored",
        "config.yaml:3: Hugo setting 'enableEmoji' has no effect in qed; ignored",
    ]


def test_wrongly_typed_values_are_all_errors_with_their_lines(tmp_path):
    _, diagnostics = load(tmp_path, {"config.yaml": "title: [a]\nsummaryLength: yes\nparams: 3\n"})
    assert [str(e) for e in diagnostics.errors] == [
        "config.yaml:1: 'title' must be a string, not a list",
        "config.yaml:2: 'summaryLength' must be a whole number, not true or false",
        "config.yaml:3: 'params' must be a mapping, not a whole number",
    ]


def test_broken_yaml_is_an_error_at_its_position(tmp_path):
    _, diagnostics = load(tmp_path, {"config.yaml": "title: T\nparams: {a: 1\n"})
    assert len(diagnostics.errors) == 1
    assert str(diagnostics.errors[0]).startswith("config.yaml:3:")


def test_stage_sections_are_handed_over_raw(tmp_path):
    config, _ = load(tmp_path, {"config.yaml": "math:\n  macros:\n    '\\R': '\\mathbb{R}'\n"})
    assert config.section("math") == {"macros": {"\\R": "\\mathbb{R}"}}
    assert config.section("verify") == {}
    assert config.cache_dir == tmp_path / ".qed-cache"


@pytest.mark.parametrize(("setting", "says"), [
    ("taxonomies: {tag: [a]}", "'taxonomies' must be a mapping of names to text"),
    ("permalinks: {posts: [1]}", "'permalinks' must be a mapping of names to text"),
    ("markup: {goldmark: [1]}", "markup.goldmark must be a mapping"),
    ("markup: {goldmark: {renderer: [1]}}", "markup.goldmark.renderer must be a mapping"),
    ("markup: {highlight: 3}", "markup.highlight must be a mapping"),
    ("markup: {goldmark: {renderer: {unsafe: 3}}}", "markup.goldmark.renderer.unsafe must be true or false"),
])
def test_a_wrongly_typed_nested_setting_is_a_located_error_not_a_crash(make_site, setting, says):
    site = make_site({"config.yaml": f"title: T\n{setting}\n", "content/a.md": "---\ntitle: A\ntags: [x]\n---\nx\n"})
    result = run_qed(site)
    assert result.returncode == 1 and result.stderr.startswith("config.yaml:2: ") and says in result.stderr


def test_hugo_markup_keys_qed_does_not_act_on_are_let_be(make_site):
    site = make_site({"config.yaml": "title: T\nmarkup: {goldmark: {parser: {attribute: {block: true}}}}\n",
                      "content/a.md": "x\n"})
    result = run_qed(site)
    assert result.returncode == 0 and "warning" not in result.stderr
