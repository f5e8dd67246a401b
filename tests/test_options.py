"""Config options declared once: every section reports its mistakes the same way."""

from __future__ import annotations

from qed.config import load_config
from qed.errors import Diagnostics, Location
from qed.options import BOOL, POSITIVE_INT, URL_SEGMENT, Option, describe, one_of, read_options
from tests.conftest import run_qed, write_files

OPTIONS = (
    Option("pagerSize", "size", POSITIVE_INT, 10, "pages per pager"),
    Option("path", "path", URL_SEGMENT, "page", "segment"),
    Option("mode", "mode", one_of("a", "b"), "a", "which"),
    Option("off", "off", BOOL, False, "switch"),
)
WHERE = Location("config.yaml", 4, 1)


def test_values_are_read_without_regard_to_case_and_defaults_fill_the_rest():
    diagnostics = Diagnostics()
    values = read_options({"PAGERSIZE": 3, "mode": "b"}, OPTIONS, "s", diagnostics, WHERE)
    assert values == {"size": 3, "path": "page", "mode": "b", "off": False}
    assert not diagnostics.errors and not diagnostics.warnings


def test_bad_values_are_errors_naming_what_they_must_be_and_unknown_keys_warnings():
    diagnostics = Diagnostics()
    values = read_options({"pagerSize": True, "path": "a/b", "mode": "c", "off": "yes", "colour": 1},
                          OPTIONS, "s", diagnostics, WHERE)
    assert values == {"size": 10, "path": "page", "mode": "a", "off": False}
    assert [str(e) for e in diagnostics.errors] == [
        "config.yaml:4:1: s.pagerSize must be a whole number of at least 1, not True",
        "config.yaml:4:1: s.path must be one URL segment such as 'page', not 'a/b'",
        "config.yaml:4:1: s.mode must be one of a, b, not 'c'",
        "config.yaml:4:1: s.off must be true or false, not 'yes'"]
    assert [str(w) for w in diagnostics.warnings] == [
        "config.yaml:4:1: unknown setting 's.colour'; ignored (known: mode, off, pagerSize, path)"]


def test_a_fallback_from_an_older_spelling_is_used_when_the_section_is_silent():
    values = read_options({}, OPTIONS, "s", Diagnostics(), None, {"size": 5})
    assert values["size"] == 5


def test_every_option_documents_itself():
    assert describe(OPTIONS[:1], "pagination") == [
        "pagination.pagerSize (default 10; a whole number of at least 1): pages per pager"]


def test_a_bad_theorems_setting_stops_the_build_at_its_line(make_site):
    site = make_site({"config.yaml": "title: T\ntheorems:\n  counter: per-kind\n",
                      "content/a.md": "---\ntitle: A\n---\nx\n"})
    result = run_qed(site)
    assert result.returncode == 1
    assert result.stderr.startswith("config.yaml:3: ")  # the line of `counter`, not of its section
    assert "theorems.counter must be one of shared, per-type" in result.stderr


def test_each_message_points_at_its_key_whichever_config_file_set_it(tmp_path):
    write_files(tmp_path, {"hugo.toml": '[pagination]\npagerSize = 0\npath = "p"\n',
                           "config/production/pagination.yaml": "# more\ncolour: red\npath: a/b\n"})
    diagnostics = Diagnostics()
    config = load_config(tmp_path, diagnostics)
    read_options(config.section("pagination"), OPTIONS, "pagination", diagnostics, config.location("pagination"))
    assert [str(e) for e in diagnostics.errors] == [
        "hugo.toml:2: pagination.pagerSize must be a whole number of at least 1, not 0",
        "config/production/pagination.yaml:3: pagination.path must be one URL segment such as 'page', not 'a/b'"]
    assert [str(w).split(";")[0] for w in diagnostics.warnings] == [
        "config/production/pagination.yaml:2: unknown setting 'pagination.colour'"]
