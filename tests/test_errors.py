"""Locations as editors print them, and offsets in a file turned into line:col."""

from __future__ import annotations

from qed.errors import Diagnostics, Location, QedError, SourceText


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
