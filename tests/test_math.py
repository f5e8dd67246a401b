"""Finding formulas: delimiters, code, currency dollars, escape modes, labels and references."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qed.autorender import DOIT_DELIMITERS, LOVEIT_DELIMITERS, Delimiter
from qed.config import load_config
from qed.errors import Diagnostics, Location, SourceText
from qed.markers import escape_text, find_markers, marker, resolve_markers
from qed.math import (
    MathCollector,
    MathSettings,
    commonmark_unescape,
    math_settings_from_config,
    page_settings,
)
from tests.fuzz import cases, fixture_texts

CONFIGS = Path(__file__).resolve().parent / "fixtures" / "math" / "configs"


def collect(text: str, *, escapes: str = "verbatim", page_math=None, **settings) -> tuple[MathCollector, str]:
    """A collector over `text` as a whole file (origin 1:1), and the protected text."""
    source = SourceText("post.md", text)
    collector = MathCollector(source, MathSettings(escapes=escapes, **settings), page_math, Diagnostics())
    return collector, collector.protect(text, Location("post.md", 1, 1))


def texes(text: str, **kwargs) -> list[tuple[str, bool]]:
    collector, _ = collect(text, **kwargs)
    return [(f.tex, f.display) for f in collector.formulas]


@pytest.mark.parametrize(("text", "expected"), [
    ("a $x^2$ b", [("x^2", False)]),
    ("a $$x^2$$ b", [("x^2", True)]),
    (r"a \(x^2\) b", [("x^2", False)]),
    (r"a \[x^2\] b", [("x^2", True)]),
    ("\\begin{align*}\na &= b \\\\\nc &= d\n\\end{align*}", [("\\begin{align*}\na &= b \\\\\nc &= d\n\\end{align*}",
                                                              True)]),
    ("\\begin{equation}\\begin{equation}x\\end{equation}\\end{equation}",
     [("\\begin{equation}\\begin{equation}x\\end{equation}\\end{equation}", True)]),
    ("\\begin{CD} A @>>> B \\end{CD}", [("\\begin{CD} A @>>> B \\end{CD}", True)]),
])
def test_each_delimiter(text, expected):
    assert texes(text) == expected


def test_marker_replaces_formula_and_keeps_text():
    _, out = collect("a $x$ and $$y$$ b")
    assert out == f"a {marker('math', '0')} and {marker('math', '1')} b"


@pytest.mark.parametrize("text", [
    "It costs $5 and $10 today.",
    "Between $ 5 and 6 $ here.",
    "A lone $ dollar.",
    "Price: \\$3 and \\$4.",
    "$20,000 to $30,000",
])
def test_currency_dollars_are_not_math(text):
    collector, out = collect(text)
    assert collector.formulas == []
    assert out == text


def test_escaped_dollar_inside_math_does_not_close_it():
    assert texes(r"cost $\$5 + x$ ok") == [(r"\$5 + x", False)]


def test_closing_dollar_followed_by_digit_is_not_a_closer():
    assert texes("$a$1 and $b$") == [("a$1 and $b", False)]  # pandoc's rule, literally


def test_inline_math_does_not_cross_a_blank_line():
    assert texes("a $x\n\ny$ b") == []


def test_display_math_inside_a_paragraph_stays_in_it():
    text = "For all\n$$\n- x\n+ y\n$$\nwe have"
    collector, out = collect(text)
    assert [f.tex for f in collector.formulas] == ["\n- x\n+ y\n"]
    assert out == f"For all\n{marker('math', '0')}\nwe have"
    assert "\n\n" not in out


def test_code_spans_and_blocks_are_skipped():
    text = ("Use `$x$` or ``a $y$ b`` inline.\n\n```python\nprice = '$x$'\n```\n\n"
            "~~~\n$$z$$\n~~~\n\n    $indented$\n\nBut $real$.")
    assert texes(text) == [("real", False)]


def test_unclosed_fence_hides_the_rest():
    assert texes("```\n$x$\n") == []


def test_list_continuation_is_not_indented_code():
    assert texes("- item\n\n    more $x$ here") == [("x", False)]


def test_math_in_headings_and_tables():
    text = "## The $\\epsilon$-greedy rule\n\n| a | b |\n|---|---|\n| $\\{x | x > 0\\}$ | $|y|$ |\n"
    collector, out = collect(text)
    assert [f.tex for f in collector.formulas] == ["\\epsilon", "\\{x | x > 0\\}", "|y|"]
    assert out.count("|") == 3 + 3 + 3  # only the table's own pipes are left


def test_locations_point_at_the_opening_delimiter():
    collector, _ = collect("line one\nsee $x$ and\n\\[\ny\n\\]")
    assert [str(f.location) for f in collector.formulas] == ["post.md:2:5", "post.md:3:1"]


def test_origin_offsets_locations():
    source = SourceText("post.md", "0123\nabc $x$")
    collector = MathCollector(source, MathSettings(), None, Diagnostics())
    collector.protect("z $x$\n$y$", Location("post.md", 7, 4))
    assert [str(f.location) for f in collector.formulas] == ["post.md:7:6", "post.md:8:1"]


def test_verbatim_keeps_backslashes():
    assert texes(r"$\{a\}$ and $$a \\ b$$") == [(r"\{a\}", False), (r"a \\ b", True)]


def test_commonmark_mode_unescapes_like_goldmark():
    text = r"$\\{x\\_1\\}$ and $$a \\\\ b \_ c$$ and \\(p\\) and \\[q\\]"
    assert texes(text, escapes="commonmark") == [
        (r"\{x\_1\}", False), (r"a \\ b _ c", True), ("p", False), ("q", True)]


def test_commonmark_unescape_decodes_entities_too():
    assert commonmark_unescape(r"a &lt; b \, c &amp;") == "a < b , c &"


def test_raw_passes_verbatim_even_in_commonmark_mode():
    source = SourceText("post.md", "x")
    collector = MathCollector(source, MathSettings(escapes="commonmark"), None, Diagnostics())
    collector.protect(r"$\{a\}$", Location("post.md", 1, 1), escapes="verbatim")
    assert collector.formulas[0].tex == r"\{a\}"


def test_double_escaped_inline_math_warns_in_verbatim_mode():
    collector, _ = collect("see $\\\\{x\\\\}$ here")
    [warning] = collector.diagnostics.warnings
    assert warning.location == Location("post.md", 1, 5)
    assert "double-escaped" in warning.message and "commonmark" in warning.message


def test_no_double_escape_warning_for_display_row_breaks():
    collector, _ = collect("$$a \\\\ b$$")
    assert collector.diagnostics.warnings == []


def test_math_false_leaves_text_alone():
    collector, out = collect("a $x$ b", page_math=False)
    assert out == "a $x$ b" and collector.formulas == []


def test_page_math_mapping_overrides_escapes_and_adds_macros():
    settings, macros = page_settings(MathSettings(macros=(("\\R", "\\mathbb{R}"),)),
                                     {"escapes": "commonmark", "macros": {"N": "\\mathbb{N}"}, "copyTex": True},
                                     Diagnostics())
    assert settings.escapes == "commonmark"
    assert macros == {"\\N": "\\mathbb{N}"}


def test_settings_from_config_validates():
    diagnostics = Diagnostics()
    settings = math_settings_from_config(
        {"escapes": "commonmark", "macros": {"\\R": "\\mathbb{R}"}, "katex": {"dist": "/x", "self_host": True},
         "strict": True, "bogus": 1}, diagnostics, Location("config.yaml", 3))
    assert (settings.escapes, settings.macro_dict, settings.katex_dist, settings.self_host, settings.strict) == \
        ("commonmark", {"\\R": "\\mathbb{R}"}, "/x", True, True)
    assert [str(w) for w in diagnostics.warnings] == [
        "config.yaml:3: unknown setting 'math.bogus'; ignored "
        "(known: enable, errors, escapes, find, katex, macros, mhchem, strict)"]
    bad = Diagnostics()
    wrong = {"escapes": "loveit", "enabled": "no", "katex": {"strict": "x", "version": 16}}
    math_settings_from_config(wrong, bad, None)
    assert [e.message for e in bad.errors] == ["math.enable must be true or false, not 'no'",
                                               "math.escapes must be one of verbatim, commonmark, not 'loveit'",
                                               "math.katex.strict must be one of warn, ignore, error, not 'x'"]


def test_page_front_matter_overrides_only_what_it_sets():
    site = math_settings_from_config({"escapes": "commonmark", "errors": "warn"}, Diagnostics())
    page, macros = page_settings(site, {"enable": False, "macros": {"P": "\\mathbb{P}"}}, Diagnostics())
    assert (page.enabled, page.escapes, page.errors, macros) == (False, "commonmark", "warn", {"\\P": "\\mathbb{P}"})


def test_markup_escapes_are_the_fallback():
    assert math_settings_from_config({}, Diagnostics(), escapes="commonmark").escapes == "commonmark"
    assert math_settings_from_config({"escapes": "verbatim"}, Diagnostics(), escapes="commonmark").escapes == \
        "verbatim"


# -- labels and references -----------------------------------------------------------------

def test_labels_number_display_equations_in_document_order():
    collector, _ = collect("$$a$$ {#eq:first}\n\ntext\n\n$$b \\label{eq:second}$$\n\n$$c$$")
    collector.number_equations()
    assert [f.render_tex for f in collector.formulas] == ["a \\tag{1}", "b \\tag{2}", "c"]
    labels = {label.id: (label.text, label.url, label.kind) for label in collector.labels("/p/")}
    assert labels == {"eq:first": ("(1)", "/p/#eq:first", "equation"),
                      "eq:second": ("(2)", "/p/#eq:second", "equation")}


def test_numbered_environments_get_a_tag_per_row():
    text = "\\begin{align}\na &= b \\label{eq:a}\\\\\nc &= d \\nonumber\\\\\ne &= f\n\\end{align}"
    collector, _ = collect(text)
    collector.number_equations()
    tex = collector.formulas[0].render_tex
    assert tex.count("\\tag{") == 2 and "\\tag{1}" in tex and "\\tag{2}" in tex and "\\label" not in tex
    assert {label.id: label.text for label in collector.labels()} == {"eq:a": "(1)"}


def test_numbering_follows_locations_not_protect_order():
    source = SourceText("post.md", "$$a$$ {#eq:a}\n\n$$b$$ {#eq:b}\n")
    collector = MathCollector(source, MathSettings(), None, Diagnostics())
    collector.protect("$$b$$ {#eq:b}", Location("post.md", 3, 1))  # a raw body is protected first
    collector.protect("$$a$$ {#eq:a}", Location("post.md", 1, 1))
    assert {label.id: label.text for label in collector.labels()} == {"eq:a": "(1)", "eq:b": "(2)"}


def test_user_tag_names_the_label():
    collector, _ = collect("$$x \\tag{*} \\label{eq:star}$$")
    assert [label.text for label in collector.labels()] == ["(*)"]


def test_label_on_inline_math_is_an_error():
    collector, _ = collect("a $x \\label{eq:x}$")
    assert "needs display math" in collector.diagnostics.errors[0].message


def test_eqref_in_text_becomes_a_ref_marker():
    collector, out = collect("see \\eqref{eq:a} and \\ref{thm:b}.")
    assert find_markers(out) == [("ref", "eq:a"), ("ref", "thm:b")]
    assert [(i, str(loc)) for i, loc in collector.references] == [("eq:a", "post.md:1:5"), ("thm:b", "post.md:1:22")]


def test_eqref_inside_math_is_recorded_as_a_reference():
    collector, _ = collect("$$x = y \\quad\\text{by } \\eqref{eq:a}$$")
    assert [i for i, _ in collector.references] == ["eq:a"]


@pytest.mark.parametrize("text", [
    "- item\n\n      $y$\n",               # a code block inside the list item
    "- item\n\n        $y$\n\n$z$\n",       # one level deeper
    "1. a\n   - b\n\n         $y$\n\n$z$\n",  # a nested list's code block
])
def test_an_indented_code_block_in_a_list_is_code(text):
    assert ("y", False) not in texes(text)


def _source_back(protected: str, collector: MathCollector) -> str:
    """The text a scan was given, rebuilt from its output: each marker back to its source."""
    return resolve_markers(protected, {"math": lambda key: collector.formulas[int(key)].source,
                                       "ref": lambda key: f"\\eqref{{{key}}}"})


def test_fuzzed_text_loses_nothing_and_every_formula_is_located():
    """Bounded fuzz of the scanner, seeded from the fixtures: whatever the text, the scan
    only cuts formulas out (putting their source back gives the input), and every formula
    and message points inside the text."""
    for number, text in enumerate(cases(fixture_texts("math/backpropagation-loveit.md"), 400)):
        text = escape_text(text)
        for escapes, find in (("verbatim", "pandoc"), ("commonmark", "pandoc"), ("commonmark", "auto-render")):
            collector, protected = collect(text, escapes=escapes, find=find)
            assert _normal_refs(_source_back(protected, collector)) == _normal_refs(text), (number, escapes)
            lines = text.count("\n") + 1
            for where in [f.location for f in collector.formulas] + [e.location for e in collector.diagnostics.errors]:
                assert 1 <= where.line <= lines and where.col >= 1, (number, where)


def _normal_refs(text: str) -> str:
    return re.sub(r"\\(?:eq)?ref\{", r"\\eqref{", text)


# -- Hugo sites: the rule, the escaping, the delimiters, macros and errors from the config ----------

def site_settings(tmp_path: Path, name: str | None, text: str = "") -> tuple[MathSettings, Diagnostics]:
    """The math settings of a site whose hugo.toml is fixture `name` (or `text`)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if name:
        shutil.copyfile(CONFIGS / name, tmp_path / "hugo.toml")
    else:
        (tmp_path / "hugo.toml").write_text(text, encoding="utf-8")
    diagnostics = Diagnostics()
    return math_settings_from_config(load_config(tmp_path, diagnostics), diagnostics), diagnostics


def test_a_new_site_keeps_qeds_rule_and_fatal_errors(tmp_path):
    settings, _ = site_settings(tmp_path, None, 'title = "notes"\n')
    assert (settings.find, settings.escapes, settings.errors, settings.mhchem, settings.theme) == \
        ("pandoc", "verbatim", "error", False, "")
    assert "pandoc" in settings.rule


def test_a_loveit_site_finds_math_as_loveit_with_its_delimiters(tmp_path):
    """No passthrough: Goldmark's escapes, LoveIt's list with its custom pairs added (the
    inline one built from inlineRightDelimiter twice, as LoveIt does), mhchem, lenient errors."""
    settings, diagnostics = site_settings(tmp_path, "loveit.toml")
    assert not diagnostics.errors and not diagnostics.warnings
    assert (settings.find, settings.escapes, settings.passthrough, settings.theme) == \
        ("auto-render", "commonmark", (), "loveit")
    assert settings.delimiters == (*LOVEIT_DELIMITERS[:-2], Delimiter("@@", "@@", True), *LOVEIT_DELIMITERS[-2:],
                                   Delimiter("%)", "%)", False))
    assert (settings.errors, settings.error_style, settings.mhchem, settings.katex_strict) == \
        ("warn", "text", True, "ignore")
    assert "LoveIt" in settings.rule


def test_doit_passes_only_the_listed_delimiters_through(tmp_path):
    """DoIt's example: \\[ and \\( verbatim through passthrough, its custom pairs replacing
    the defaults of auto-render; anything else would get Goldmark's escapes."""
    settings, _ = site_settings(tmp_path, "doit.toml")
    assert settings.passthrough == (Delimiter("\\[", "\\]", True), Delimiter("\\(", "\\)", False))
    assert settings.delimiters == (Delimiter("\\[", "\\]", True), Delimiter("\\(", "\\)", False))
    assert (settings.escapes, settings.passthrough_escapes, settings.mhchem) == ("commonmark", "verbatim", False)
    collector = MathCollector(SourceText("p.md", ""), settings, None, Diagnostics())
    collector.protect("\\( a \\\\ b \\) and \\[ c \\_d \\]", Location("p.md", 1, 1))
    assert [f.tex for f in collector.formulas] == [" a \\\\ b ", " c \\_d "]


def test_fixit_renders_on_the_server_through_passthrough_only(tmp_path):
    settings, _ = site_settings(tmp_path, "fixit.toml")
    assert (settings.theme, settings.delimiters, len(settings.passthrough)) == ("fixit", (), 4)
    assert (settings.error_style, settings.error_color, settings.errors) == ("katex", "#ff4949", "warn")
    assert settings.macro_dict == {"\\f": "#1f(#2)"}


def test_math_settings_override_what_the_theme_does(tmp_path):
    settings, diagnostics = site_settings(tmp_path, "overrides.toml")
    assert not diagnostics.errors
    assert (settings.find, settings.escapes, settings.errors, settings.mhchem) == ("pandoc", "verbatim", "error", False)


def test_errors_warning_is_the_lenient_mode_for_any_site(tmp_path):
    settings, diagnostics = site_settings(tmp_path, None, '[math]\nerrors = "warning"\n')
    assert settings.errors == "warn" and not diagnostics.errors


def test_passthrough_on_a_site_without_theme_is_found_as_hugo_does(tmp_path):
    settings, _ = site_settings(tmp_path, None, "[markup.goldmark.extensions.passthrough]\nenable = true\n"
                                "[markup.goldmark.extensions.passthrough.delimiters]\nblock = [['$$', '$$']]\n")
    assert (settings.find, settings.passthrough, settings.errors) == \
        ("auto-render", (Delimiter("$$", "$$", True),), "error")


def test_a_malformed_passthrough_pair_is_an_error_naming_the_key(tmp_path):
    _, diagnostics = site_settings(tmp_path, None, "[markup.goldmark.extensions.passthrough]\nenable = true\n"
                                   "[markup.goldmark.extensions.passthrough.delimiters]\ninline = [['$']]\n")
    assert [e.message.split(":")[0] for e in diagnostics.errors] == [
        "markup.goldmark.extensions.passthrough.delimiters.inline"]


def test_theme_macros_and_page_macros_and_delimiters(tmp_path):
    settings, _ = site_settings(tmp_path, None, 'theme = "DoIt"\n[params.math.macros]\n"\\\\R" = "\\\\mathbb{R}"\n')
    assert settings.macro_dict == {"\\R": "\\mathbb{R}"} and settings.delimiters == DOIT_DELIMITERS
    page, macros = page_settings(settings, {"inlineLeftDelimiter": "%%", "inlineRightDelimiter": "%%",
                                            "katex": {"macros": {"\\f": "#1f(#2)"}}}, Diagnostics())
    assert page.delimiters == (*DOIT_DELIMITERS[:2], Delimiter("%%", "%%", False)) and macros == {"\\f": "#1f(#2)"}


def test_commonmark_escapes_on_one_post_find_its_math_as_the_themes_do():
    settings, _ = page_settings(MathSettings(), {"escapes": "commonmark"}, Diagnostics())
    assert (settings.find, settings.escapes) == ("auto-render", "commonmark")
    assert texes("a $ x $ b", escapes="commonmark", find="auto-render") == [(" x ", False)]
