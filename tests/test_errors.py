"""Locations as editors print them, and offsets in a file turned into line:col."""

from __future__ import annotations

from qed.errors import Diagnostics, Location, QedError, SourceText, did_you_mean, reading_order


def test_a_location_prints_as_path_line_col_leaving_out_what_is_unknown():
    assert [str(Location("a.md", 3, 7)), str(Location("a.md", 3, 0)), str(Location("a.md", 0, 0))] == [
        "a.md:3:7", "a.md:3", "a.md"]
    assert str(Location("a.md", 3, 7).shifted(2, col=1)) == "a.md:5:1"


def test_offsets_map_to_lines_and_columns_of_the_original_file():
    source = SourceText("a.md", "ab\ncd\n\nef")
    assert [str(source.location(i)) for i in (0, 1, 3, 7, 8, 99)] == [
        "a.md:1:1", "a.md:1:2", "a.md:2:1", "a.md:4:1", "a.md:4:2", "a.md:4:3"]


def test_an_error_reads_as_one_line_with_its_place():
    diagnostics = Diagnostics()
    diagnostics.error("unclosed shortcode 'note'", Location("a.md", 2, 5))
    assert [str(e) for e in diagnostics.errors] == ["a.md:2:5: unclosed shortcode 'note'"]
    assert str(QedError("no config file")) == "no config file"


def test_a_typo_gets_the_closest_known_name_and_anything_else_nothing():
    assert did_you_mean("admonitoin", ["admonition", "details"]) == "; did you mean 'admonition'?"
    assert did_you_mean("zzz", ["admonition", "details"]) == ""
    assert did_you_mean("x", []) == ""


def test_errors_read_by_file_then_line_then_column_unplaced_first():
    errors = [QedError("b", Location("b.md", 1, 1)), QedError("a2", Location("a.md", 9, 2)),
              QedError("a1", Location("a.md", 9, 1)), QedError("none")]
    assert [e.message for e in reading_order(errors)] == ["none", "a1", "a2", "b"]
