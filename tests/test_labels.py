"""Labels site-wide: one map of ids, duplicates and unknown references reported where written."""

from __future__ import annotations

from qed.body import Label
from qed.errors import Diagnostics, Location
from qed.labels import collect_labels


class Body:
    """The two fields of a `RenderedBody` that labels read."""

    def __init__(self, labels=(), references=()):
        self.labels, self.references = tuple(labels), tuple(references)


def label(label_id: str, path: str, line: int) -> Label:
    return Label(label_id, "Theorem 1", f"/{path}/#{label_id}", Location(f"content/{path}.md", line, 1))


def test_labels_of_every_page_are_merged_and_references_between_pages_resolve():
    diagnostics = Diagnostics()
    labels = collect_labels([Body([label("thm:a", "a", 3)]),
                             Body(references=[("thm:a", Location("content/b.md", 9, 4))])], diagnostics)
    assert list(labels) == ["thm:a"] and labels["thm:a"].url == "/a/#thm:a"
    assert not diagnostics.errors


def test_a_duplicate_id_on_another_page_is_an_error_at_the_second_naming_the_first():
    diagnostics = Diagnostics()
    labels = collect_labels([Body([label("thm:a", "a", 3)]), Body([label("thm:a", "b", 7)])], diagnostics)
    [error] = diagnostics.errors
    assert str(error.location) == "content/b.md:7:1" and "content/a.md:3:1" in error.message
    assert labels["thm:a"].url == "/a/#thm:a"


def test_an_unknown_reference_is_an_error_where_it_is_written():
    diagnostics = Diagnostics()
    collect_labels([Body(references=[("thm:nope", Location("content/b.md", 9, 4))])], diagnostics)
    [error] = diagnostics.errors
    assert str(error.location) == "content/b.md:9:4" and "thm:nope" in error.message


def test_a_misspelt_reference_suggests_the_id_meant():
    diagnostics = Diagnostics()
    typo = ("thm:chainrule", Location("content/b.md", 2, 1))
    collect_labels([Body([label("thm:chain-rule", "a", 3)], references=[typo])], diagnostics)
    [error] = diagnostics.errors
    assert error.message.endswith("; did you mean 'thm:chain-rule'?")
