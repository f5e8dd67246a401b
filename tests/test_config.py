"""Site configuration: Hugo's file names and keys, defaults, warnings and typed errors."""

import pytest

from qed.config import load_config
from qed.errors import Diagnostics
from tests.conftest import run_qed, write_files
from tests.fuzz import METADATA_TOKENS, cases, fixture_texts
from tests.test_frontmatter import ALIAS_BOMB


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
    assert str(diagnostics.errors[0]).startswith("config.yaml:2:14:")  # the end of the unclosed mapping


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


HUGO_CONFIG_DIR = {
    "hugo.toml": """
        baseURL = "https://example.org/"
        title = "Root"
        [params]
        a = 1
        [params.nested]
        x = "root"
        y = "root"
    """,
    "config/_default/hugo.toml": 'title = "Default"\n',
    "config/_default/params.toml": 'b = 2\n[nested]\ny = "params.toml"\n',
    "config/_default/menus.en.toml": '[[main]]\nname = "Posts"\nurl = "/posts/"\n',
    "config/_default/languages.yaml": "en:\n  weight: 1\n  languageCode: en-GB\n  params: {c: 3}\n",
    "config/_default/markup.json": '{"goldmark": {"renderer": {"unsafe": false}}}\n',
    "config/production/params.toml": '[nested]\nx = "production"\n',
    "config/development/params.toml": '[nested]\nx = "development"\n',
    "config/_default/notes.txt": "not config",
}


def test_hugos_config_directory_is_merged_over_the_root_file_as_hugo_merges(tmp_path):
    # the root file, then config/_default/ in name order, then config/production/ (a build's
    # environment): a later value wins, mappings merge key by key at every depth
    config, diagnostics = load(tmp_path, HUGO_CONFIG_DIR)
    assert not diagnostics.errors and not diagnostics.warnings
    assert (config.title, config.base_url, config["languageCode"]) == ("Default", "https://example.org/", "en-GB")
    assert config.params == {"a": 1, "b": 2, "c": 3, "nested": {"x": "production", "y": "params.toml"}}
    assert config["menus"] == {"main": [{"name": "Posts", "url": "/posts/"}]}  # menus.en.toml: the default language
    assert config.section("markup") == {"goldmark": {"renderer": {"unsafe": False}}}


def test_each_key_keeps_the_file_and_line_it_came_from(tmp_path):
    config, _ = load(tmp_path, HUGO_CONFIG_DIR)
    assert str(config.location("params.nested.x")) == "config/production/params.toml:2"
    assert str(config.location("params.nested.y")) == "config/_default/params.toml:3"
    assert str(config.location("params.a")) == "hugo.toml:4"
    assert str(config.location("title")) == "config/_default/hugo.toml:1"
    assert str(config.location("params.c")) == "config/_default/languages.yaml:4"
    assert str(config.location("markup.goldmark.renderer.unsafe")) == "config/_default/markup.json:1"


def test_another_environment_reads_its_own_folder(tmp_path):
    write_files(tmp_path, HUGO_CONFIG_DIR)
    config = load_config(tmp_path, Diagnostics(), environment="development")
    assert config.params["nested"]["x"] == "development"


def test_a_config_directory_alone_is_enough_and_a_file_name_is_its_key(tmp_path):
    config, diagnostics = load(tmp_path, {"config/_default/config.yaml": "title: T\n",
                                          "config/_default/taxonomies.toml": 'tag = "tags"\n',
                                          "config/_default/widgets.toml": "x = 1\n"})
    assert config.title == "T" and config.taxonomies == {"tag": "tags"}
    assert [str(w) for w in diagnostics.warnings] == [
        "config/_default/widgets.toml:1: unknown setting 'widgets'; ignored"]


def test_other_languages_are_named_in_a_warning_not_silently_dropped(tmp_path):
    config, diagnostics = load(tmp_path, {"hugo.toml": """
        defaultContentLanguage = "zh-cn"
        [languages.en]
        title = "English"
        [languages.zh-cn]
        title = "中文"
        [languages.zh-cn.menu]
        [[languages.zh-cn.menu.main]]
        name = "文章"
    """})
    assert config.title == "中文" and config["menus"] == {"main": [{"name": "文章"}]}
    assert [str(w) for w in diagnostics.warnings] == [
        "hugo.toml:2: languages.en is not built: qed builds one language, "
        "the default ('zh-cn', defaultContentLanguage)"]


def test_an_unknown_key_close_to_a_known_one_says_which(tmp_path):
    _, diagnostics = load(tmp_path, {"config.yaml": "titel: T\nbaseurl: /\nsumaryLength: 3\n"})
    assert [str(w) for w in diagnostics.warnings] == [
        "config.yaml:1: unknown setting 'titel'; ignored; did you mean 'title'?",
        "config.yaml:3: unknown setting 'sumaryLength'; ignored; did you mean 'summaryLength'?"]


def test_only_the_first_root_config_file_is_read_and_the_others_are_named(tmp_path):
    config, diagnostics = load(tmp_path, {"hugo.toml": 'title = "Hugo"\n', "config.yaml": "title: Config\n"})
    assert config.title == "Hugo"
    assert [str(w) for w in diagnostics.warnings] == [
        "config.yaml: not read: hugo.toml is the config file (Hugo reads only the first of hugo.*, config.*)"]


@pytest.mark.parametrize(("name", "text", "says"), [
    ("config.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + ALIAS_BOMB, "config.yaml:5:8: YAML aliases"),
    ("hugo.toml", "x = " + "[" * 3000 + "]" * 3000 + "\n", "hugo.toml:1:105: nested more than 100"),
    ("hugo.json", '{"x": ' + "[" * 3000 + "]" * 3000 + "}\n", "hugo.json:1:106: nested more than 100"),
    ("config.yaml", "title: T\nparams: {a: \x01}\n", "config.yaml:2:13: the config is not valid YAML"),
    ("hugo.toml", 'title = "T"\nparams = {a = ', "hugo.toml:2:15: the config is not valid TOML"),
    ("hugo.json", '{"title": "T"}\n{}', "hugo.json:2:1: the config is not valid JSON"),
])
def test_hostile_or_broken_config_is_one_located_error(tmp_path, name, text, says):
    (tmp_path / name).write_text(text, encoding="utf-8")
    diagnostics = Diagnostics()
    load_config(tmp_path, diagnostics)
    assert len(diagnostics.errors) == 1 and str(diagnostics.errors[0]).startswith(says)


def test_a_section_that_is_not_a_mapping_is_located_in_its_own_file(tmp_path):
    files = {"config/_default/hugo.toml": "[params]\nx = 1\n", "config/_default/menus.yaml": "3\n",
             "config/production/hugo.toml": "markup = 3\n"}
    _, diagnostics = load(tmp_path, files)
    assert [str(e) for e in diagnostics.errors] == [
        "config/_default/menus.yaml:1:1: the config must be a mapping of keys to values",
        "config/production/hugo.toml:1: 'markup' must be a mapping, not a whole number"]


NOT_UTF8 = b"---\nab \xc3\xa9 \xe9 (Latin-1)\n---\n"  # a UTF-8 \xc3\xa9, then a Latin-1 \xe9 at line 2, column 6


@pytest.mark.parametrize("name", ["config.yaml", "config/_default/params.toml"])
def test_a_config_file_that_is_not_utf8_is_an_error_at_its_first_bad_byte(tmp_path, name):
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(NOT_UTF8)
    diagnostics = Diagnostics()
    load_config(tmp_path, diagnostics)
    assert [str(e) for e in diagnostics.errors] == [f"{name}:2:6: not UTF-8 (byte 0xe9); save the file as UTF-8"]


@pytest.mark.parametrize("name", ["layouts/_default/single.html", "content/posts/a.md"])
def test_a_layout_or_page_that_is_not_utf8_stops_the_build_at_its_first_bad_byte(make_site, name):
    site = make_site({"config.yaml": "title: T\n", "content/posts/a.md": "---\ntitle: A\n---\nx\n"})
    (site / name).parent.mkdir(parents=True, exist_ok=True)
    (site / name).write_bytes(NOT_UTF8)
    result = run_qed(site)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{name}:2:6: not UTF-8 (byte 0xe9)"), result.stderr


@pytest.mark.parametrize("name", ["hugo.toml", "config.yaml", "hugo.json"])
def test_fuzzed_config_is_read_or_each_problem_is_located(tmp_path, name):
    """Bounded fuzz of the config reader, seeded from the fixtures: whatever the file holds,
    loading it gives a config and messages naming the file and a line, never an exception."""
    path = tmp_path / name
    for number, text in enumerate(cases(fixture_texts(f"config/{name}"), 400, seed=14, tokens=METADATA_TOKENS)):
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        diagnostics = Diagnostics()
        config = load_config(tmp_path, diagnostics)
        assert config.base_url.endswith("/"), number
        for problem in diagnostics.errors + diagnostics.warnings:
            assert problem.location is not None and problem.location.path == name, (number, str(problem))
            assert 1 <= problem.location.line <= text.count("\n") + 1, (number, str(problem))


def test_keys_that_are_not_text_in_yaml_build_as_in_hugo(make_site):
    # a number key beside a text key could not be sorted for the cache key: an internal error
    site = make_site({"config.yaml": "title: T\nparams: {1: a, b: c}\n",
                      "content/a.md": "---\ntitle: A\nextra: {2: x, y: z}\n---\nx\n"})
    assert run_qed(site).returncode == 0
