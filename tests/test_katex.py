"""Typesetting with KaTeX: macros across formulas, errors with locations, the cache, the fallback."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path

import pytest

from qed.errors import Diagnostics, Location, SourceText
from qed.katex import (
    DEBIAN_DIST,
    KatexRenderer,
    Pin,
    clean_katex_message,
    dist_at,
    download_katex,
    head_html,
    locate_katex,
    page_head_html,
    static_files,
)
from qed.markers import resolve_markers
from qed.math import MathCollector, MathSettings, TypesetMath
from tests.htmltree import parse_html

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "math"
SITE_MACROS = (("\\N", "\\mathbb{N}"), ("\\R", "\\mathbb{R}"))


@pytest.fixture(autouse=True)
def _no_env_dist(monkeypatch):
    monkeypatch.delenv("QED_KATEX_DIST", raising=False)


def page(text: str, settings: MathSettings | None = None, page_math=None) -> tuple[MathCollector, str]:
    settings = settings or MathSettings(macros=SITE_MACROS)
    collector = MathCollector(SourceText("post.md", text), settings, page_math, Diagnostics())
    return collector, collector.protect(text, Location("post.md", 1, 1))


def renderer(tmp_path: Path, settings: MathSettings | None = None, **kwargs) -> KatexRenderer:
    return KatexRenderer(settings or MathSettings(macros=SITE_MACROS), tmp_path / "cache", Diagnostics(),
                         user_cache=tmp_path / "user-cache", **kwargs)


def rendered(typeset: TypesetMath, text: str):
    return parse_html(resolve_markers(text, {"math": typeset.resolve}))


def test_debian_katex_is_found():
    dist, why = locate_katex(MathSettings(download=False), Diagnostics())
    assert dist is not None, why
    assert dist.origin == "debian" and re.fullmatch(r"\d+\.\d+\.\d+", dist.version)


def test_inline_and_display_math_are_typeset(tmp_path):
    collector, text = page("a $x^2$ b\n\n$$\\int_0^1 f$$")
    render = renderer(tmp_path)
    typeset = render.typeset_page(collector.record())
    tree = rendered(typeset, text)
    inline = tree.find("span", "math")
    assert "inline" in inline.attrs["class"] and inline.find("span", "katex")
    display = tree.find_all("span", "display")[0]
    assert display.find("span", "katex-display")
    assert [a.text() for a in tree.find_all("annotation")] == ["x^2", "\\int_0^1 f"]  # copy-as-TeX source
    assert (render.stats.rendered, render.stats.cached, render.stats.failed) == (2, 0, 0)


def test_site_page_and_gdef_macros(tmp_path):
    text = ("$$\\gdef\\norm#1{\\lVert#1\\rVert}$$\n\n$\\norm{x} \\in \\R$, $\\newcommand{\\half}{\\frac12}$ "
            "$\\half \\in \\Q$")
    collector, _ = page(text, page_math={"macros": {"\\Q": "\\mathbb{Q}"}})
    render = renderer(tmp_path)
    typeset = render.typeset_page(collector.record())
    assert render.diagnostics.errors == []
    assert typeset.html[0] == ""  # only a definition: nothing visible
    assert typeset.html[2] == ""
    assert 'mathbb">R<' in typeset.html[1] and 'mathbb">Q<' in typeset.html[3]


def test_definitions_apply_in_document_order_not_protect_order(tmp_path):
    source = SourceText("post.md", "x")
    collector = MathCollector(source, MathSettings(), None, Diagnostics())
    collector.protect("$\\twice{a}$", Location("post.md", 9, 1))  # a raw body, protected first
    collector.protect("$$\\gdef\\twice#1{#1#1}$$", Location("post.md", 2, 1))
    render = renderer(tmp_path)
    render.typeset_page(collector.record())
    assert render.diagnostics.errors == []


def test_tex_errors_name_file_line_column_and_formula(tmp_path):
    collector, _ = page("a\n\nsee $x + \\foo$ and $\\frac{a$\n")
    render = renderer(tmp_path)
    typeset = render.typeset_page(collector.record())
    messages = [str(e) for e in render.diagnostics.errors]
    assert messages[0] == "post.md:3:10: TeX error: Undefined control sequence: \\foo at position 5 in $x + \\foo$"
    # "at end of input" points at the closing `$`
    assert messages[1].startswith("post.md:3:28: TeX error: ") and messages[1].endswith("in $\\frac{a$")
    assert len(messages) == 2 and render.stats.failed == 2
    assert 'class="katex-error"' in typeset.html[0]


def test_errors_can_be_warnings(tmp_path):
    settings = MathSettings(errors="warn")
    collector, _ = page("$\\foo$", settings)
    render = renderer(tmp_path, settings)
    render.typeset_page(collector.record())
    assert render.diagnostics.errors == [] and "TeX error" in render.diagnostics.warnings[0].message


def test_clean_katex_message_drops_underlined_context():
    raw = "KaTeX parse error: Undefined control sequence: \\label at position 1: \\̲l̲a̲b̲e̲l̲{x} a"
    assert clean_katex_message(raw) == "Undefined control sequence: \\label at position 1"


def test_second_build_renders_nothing(tmp_path):
    text = "$$\\gdef\\f{y}$$ $a$ $\\f$ $$b \\label{eq:b}$$"
    first = renderer(tmp_path)
    collector, _ = page(text)
    typeset = first.typeset_page(collector.record())
    html_first = list(typeset.html)
    first.close()  # the end of a build writes what is left to the cache
    second = renderer(tmp_path)  # a new process: nothing in memory
    collector, _ = page(text)
    typeset = second.typeset_page(collector.record())
    assert (second.stats.rendered, second.stats.cached) == (0, 4)
    assert list(typeset.html) == html_first
    assert second._v8 is None  # V8 was not even started


def test_cache_key_follows_macros(tmp_path):
    first = renderer(tmp_path)
    first.typeset_page(page("$$\\gdef\\f{y}$$ $\\f$")[0].record())
    changed = renderer(tmp_path)
    collector, _ = page("$$\\gdef\\f{z}$$ $\\f$")
    typeset = changed.typeset_page(collector.record())
    assert changed.stats.rendered == 2 and "z" in typeset.html[1]
    site_macro = renderer(tmp_path, MathSettings(macros=(("\\R", "\\mathbf{R}"),)))
    site_macro.typeset_page(page("$\\R$", MathSettings(macros=(("\\R", "\\mathbf{R}"),)))[0].record())
    assert site_macro.stats.rendered == 1


def test_cached_definition_still_feeds_new_formulas(tmp_path):
    first = renderer(tmp_path)
    first.typeset_page(page("$$\\gdef\\f#1{#1^2}$$ $\\f{a}$")[0].record())
    first.close()
    again = renderer(tmp_path)
    collector, _ = page("$$\\gdef\\f#1{#1^2}$$ $\\f{a}$ $\\f{b} + 1$")
    again.typeset_page(collector.record())
    assert again.diagnostics.errors == []
    assert (again.stats.rendered, again.stats.cached) == (1, 2)


def test_equation_numbers_and_eqref_inside_math(tmp_path):
    from qed.body import Label

    collector, text = page("$$a = b$$ {#eq:a}\n\n$$c \\overset{\\eqref{eq:a}}{=} d$$")
    labels = {label.id: label for label in collector.labels("/posts/p/")}
    assert labels["eq:a"] == Label("eq:a", "(1)", "/posts/p/#eq:a", Location("post.md", 1, 1), "equation")
    render = renderer(tmp_path)
    typeset = render.typeset_page(collector.record(), labels)
    assert render.diagnostics.errors == []
    tree = rendered(typeset, text)
    assert tree.find("span", "display", id="eq:a").find("span", "tag")
    assert any(a.attrs.get("href") == "/posts/p/#eq:a" for a in tree.find_all("a"))


def test_unknown_eqref_in_math_renders_placeholder(tmp_path):
    collector, _ = page("$$\\eqref{eq:missing}$$")
    render = renderer(tmp_path)
    typeset = render.typeset_page(collector.record(), {})
    assert render.diagnostics.errors == [] and "??" in typeset.html[0]
    assert [i for i, _ in collector.references] == ["eq:missing"]


def test_aligned_rows_are_numbered_without_css_counters(tmp_path):
    collector, _ = page("\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}")
    render = renderer(tmp_path)
    typeset = render.typeset_page(collector.record())
    html = typeset.html[0]
    assert 'class="eqn-num"' not in html and "\\tag{2}" in html and render.diagnostics.errors == []


@pytest.mark.parametrize("find", ["pandoc", "auto-render"])
def test_seed_post_renders_without_errors(tmp_path, find):
    """The real LoveIt post: commonmark escapes outside `raw`, verbatim inside; \\R \\N from the
    site; found by qed's rule and as LoveIt's auto-render finds it (compatibility mode)."""
    text = (FIXTURES / "backpropagation-loveit.md").read_text(encoding="utf-8")
    source = SourceText("backpropagation.md", text)
    settings = MathSettings(escapes="commonmark", find=find, macros=SITE_MACROS)
    collector = MathCollector(source, settings, True, Diagnostics())
    position = 0
    for raw in re.finditer(r"\{\{< raw >\}\}(.*?)\{\{< /raw >\}\}", text, re.S):
        collector.protect(text[position:raw.start()], source.location(position))
        collector.protect(raw.group(1), source.location(raw.start(1)), escapes="verbatim")
        position = raw.end()
    collector.protect(text[position:], source.location(position))
    render = renderer(tmp_path, settings)
    typeset = render.typeset_page(collector.record())
    assert render.diagnostics.errors == [] and collector.diagnostics.errors == []
    assert len(collector.formulas) > 70 and render.stats.failed == 0
    braces = next(i for i, f in enumerate(collector.formulas) if "x_1,x_2" in f.tex)
    assert collector.formulas[braces].tex.startswith("X = \\{x_1")
    operators = [m.text() for m in parse_html(typeset.html[braces]).find_all("mo")]
    assert "{" in operators and "}" in operators
    align = next(i for i, f in enumerate(collector.formulas) if f.tex.lstrip().startswith("\\begin{align*}"))
    assert len(parse_html(typeset.html[align]).find_all("mtr")) == 3  # `\\` stayed a row break inside raw


# -- without KaTeX -------------------------------------------------------------------------------

def test_fallback_to_client_side_with_one_warning(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    settings = MathSettings(katex_dist=str(empty), download=False, macros=SITE_MACROS)
    render = renderer(tmp_path, settings)
    first, text = page("a $x < y$ and $$\\R$$", settings)
    second, _ = page("$z$", settings)
    typeset = render.typeset_page(first.record())
    render.typeset_page(second.record())
    [warning] = render.diagnostics.warnings
    assert "KaTeX is not available" in warning.message and str(empty) in warning.message
    assert render.diagnostics.errors == []
    tree = rendered(typeset, text)
    assert tree.find("span", "inline").text() == "\\(x < y\\)"
    assert tree.find("span", "display").text() == "\\[\\R\\]"
    head = page_head_html(typeset, "/")
    assert "auto-render.min.js" in head and '"\\\\R": "\\\\mathbb{R}"' in head and "integrity=" in head


def test_fallback_is_an_error_when_strict(tmp_path):
    settings = MathSettings(katex_dist=str(tmp_path), download=False, strict=True)
    render = renderer(tmp_path, settings)
    render.typeset_page(page("$x$", settings)[0].record())
    assert "KaTeX is not available" in render.diagnostics.errors[0].message


def _tarball(tmp_path: Path) -> Path:
    data = (DEBIAN_DIST / "katex.min.js").read_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, payload in (("package/dist/katex.min.js", data), ("package/README.md", b"x"),
                              ("package/dist/../../evil", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    path = tmp_path / "katex.tgz"
    path.write_bytes(buffer.getvalue())
    return path


def test_download_is_checked_and_extracted(tmp_path):
    tarball = _tarball(tmp_path)
    pins = {"9.9.9": Pin(hashlib.sha256(tarball.read_bytes()).hexdigest(), "", "", "", "")}
    target = tmp_path / "user" / "9.9.9"
    download_katex("9.9.9", target, url=tarball.as_uri(), pins=pins)
    assert dist_at(target, "download") is not None
    assert sorted(p.name for p in target.rglob("*")) == ["katex.min.js"]


def test_download_with_wrong_checksum_is_refused(tmp_path):
    tarball = _tarball(tmp_path)
    pins = {"9.9.9": Pin("0" * 64, "", "", "", "")}
    with pytest.raises(ValueError, match="checksum mismatch"):
        download_katex("9.9.9", tmp_path / "user" / "9.9.9", url=tarball.as_uri(), pins=pins)
    assert not (tmp_path / "user" / "9.9.9").exists()


def test_already_downloaded_release_is_used(tmp_path):
    target = tmp_path / "user-cache" / "0.16.21"
    target.mkdir(parents=True)
    (target / "katex.min.js").write_bytes((DEBIAN_DIST / "katex.min.js").read_bytes())
    dist, _ = locate_katex(MathSettings(download=False), Diagnostics(), user_cache=tmp_path / "user-cache",
                           debian=tmp_path / "no-debian")
    assert dist is not None and dist.origin == "cache"


# -- head and static files -----------------------------------------------------------------------

def test_head_html_cdn_with_integrity_for_a_pinned_version():
    head = parse_html(head_html(MathSettings(), True, "https://example.org/blog/", version="0.16.21"))
    link = head.find_all("link")[0]
    assert link.attrs["href"] == "https://cdn.jsdelivr.net/npm/katex@0.16.21/dist/katex.min.css"
    assert link.attrs["integrity"].startswith("sha384-") and link.attrs["crossorigin"] == "anonymous"
    assert head.find_all("link")[1].attrs["href"] == "/blog/css/math.css"
    assert head.find("script").attrs["src"].endswith("contrib/copy-tex.min.js")
    assert head_html(MathSettings(), False, "/") == ""


def test_head_html_self_hosted():
    head = parse_html(head_html(MathSettings(self_host=True), True, "/"))
    assert [link.attrs["href"] for link in head.find_all("link")] == ["/katex/katex.min.css", "/css/math.css"]
    assert head.find("script").attrs["src"] == "/katex/contrib/copy-tex.js"


def test_static_files_for_self_hosting():
    files = dict((dest, src) for src, dest in static_files(MathSettings(self_host=True, download=False)))
    assert "katex/katex.min.css" in files and "katex/contrib/copy-tex.js" in files
    assert "katex/fonts/KaTeX_Main-Regular.woff2" in files
    assert all(Path(src).is_file() for src in files.values())
    assert static_files(MathSettings()) == []


def test_page_head_links_the_css_of_the_katex_that_rendered(tmp_path):
    collector, _ = page("$x$")
    render = renderer(tmp_path)
    typeset = render.typeset_page(collector.record())
    link = parse_html(page_head_html(typeset, "/")).find_all("link")[0]
    assert f"katex@{render.version}/" in link.attrs["href"]


def test_numbered_formula_groups_its_boxes_before_the_tag(tmp_path):
    """The tag must be the formula's sibling, so that CSS can wrap it below on a phone."""
    collector, text = page("$$ a + b = c $$ {#eq:sum}\n\n$$ d = e $$")
    typeset = renderer(tmp_path).typeset_page(collector.record())
    tree = rendered(typeset, text)
    numbered, plain = [d.find("span", "katex-html") for d in tree.find_all("span", "display")]
    assert [child.attrs["class"] for child in numbered.children] == ["qed-tagged", "tag"]
    assert numbered.children[0].find_all("span", "base") and numbered.children[1].text().replace(" ", "") == "(1)"
    assert not plain.find_all("span", "qed-tagged")


def test_punctuation_after_inline_math_stays_on_its_line(tmp_path):
    collector, text = page("Then $x^2 + y$. And $z$, but $w$ and $$u = v.$$ The $i$-th one.")
    typeset = renderer(tmp_path).typeset_page(collector.record())
    tree = rendered(typeset, typeset.glue_punctuation(text))
    first, second, third, fourth = tree.find_all("span", "inline")
    # a formula of several boxes keeps its break points: only its last box is glued
    last_box = first.find("span", "math-nobreak")
    assert last_box.find("span", "base") and len(first.find_all("span", "base")) == 2
    # a one-box formula goes whole, with its punctuation or suffix, into a no-wrap span
    tails = tree.find_all("span", "math-tail")
    assert [t.text().replace(" ", "")[-3:] for t in tails] == ["zz,", "ii-th"[-3:]]
    assert not third.find_all("span", "math-nobreak") and third not in [t.children[0] for t in tails]
    assert second in [t.children[0] for t in tails] and fourth in [t.children[0] for t in tails]
    assert "y." in tree.text().replace(" ", "") and "i-th" in tree.text().replace(" ", "")


# -- Hugo themes: mhchem, broken formulas shown as the theme shows them ----------------------------

AUTORENDER = FIXTURES / "autorender"


def _dists() -> list:
    from qed.katex import user_cache_dir
    from qed.math import PINNED_KATEX_VERSION

    found = [dist_at(DEBIAN_DIST, "debian"), dist_at(user_cache_dir() / PINNED_KATEX_VERSION, "cache")]
    return [pytest.param(d, id=d.origin) for d in found if d is not None]


@pytest.mark.parametrize("dist", _dists())
def test_mhchem_is_loaded_when_the_theme_enables_it(tmp_path, dist):
    """`\\ce` and `\\pu` typeset with Debian's KaTeX and with the pinned release (both ship mhchem)."""
    text = (AUTORENDER / "chemistry.md").read_text(encoding="utf-8")
    settings = MathSettings(find="auto-render", escapes="commonmark", mhchem=True, theme="loveit")
    collector, protected = page(text, settings)
    render = renderer(tmp_path, settings, dist=dist)
    typeset = render.typeset_page(collector.record())
    assert render.diagnostics.errors == [] and render.diagnostics.warnings == [] and render.stats.failed == 0
    tree = rendered(typeset, protected)
    assert [m.text() for m in tree.find_all("annotation")] == ["\\ce{CO2 + C -> 2 CO}", "\\pu{123 kJ/mol}"]
    assert "CO" in "".join(m.text() for m in tree.find_all("mi"))
    without = renderer(tmp_path / "plain", MathSettings(find="auto-render", escapes="commonmark"), dist=dist)
    without.typeset_page(page(text, MathSettings(find="auto-render", escapes="commonmark"))[0].record())
    assert without.stats.failed == 2  # qed's own sites do not load it unless math.mhchem says so


def _typo_page(tmp_path: Path, settings: MathSettings):
    text = (AUTORENDER / "typo.md").read_text(encoding="utf-8")
    collector = MathCollector(SourceText("typo.md", text), settings, None, Diagnostics())
    protected = collector.protect(text, Location("typo.md", 1, 1))
    render = renderer(tmp_path, settings)
    return render, rendered(render.typeset_page(collector.record()), protected)


def test_a_typo_under_loveit_stays_as_text_as_auto_render_leaves_it(tmp_path):
    settings = MathSettings(find="auto-render", escapes="commonmark", theme="loveit", errors="warn",
                            error_style="text")
    render, tree = _typo_page(tmp_path, settings)
    assert render.diagnostics.errors == [] and render.stats.failed == 2
    assert [str(w.location) for w in render.diagnostics.warnings] == ["typo.md:5:1", "typo.md:5:19"]
    assert tree.find_all(class_="katex-error") == [] and len(tree.find_all(class_="katex")) == 2
    assert "$\\nrom{x}$ and $$a^^b$$" in tree.text()


def test_a_typo_under_fixit_is_drawn_as_katex_draws_errors(tmp_path):
    settings = MathSettings(find="auto-render", escapes="commonmark", theme="fixit", errors="warn",
                            error_style="katex", error_color="#ff4949")
    _, tree = _typo_page(tmp_path, settings)
    errors = tree.find_all("span", class_="katex-error")
    assert [e.text() for e in errors] == ["\\nrom{x}", "a^^b"]
    assert all(e.attrs["style"] == "color:#ff4949" and e.attrs["title"].startswith("ParseError") for e in errors)


def test_a_theme_site_builds_despite_typos_and_counts_them(make_site):
    """The site as a LoveIt user brings it: a warning per typo at file:line:col, the count
    in the summary with the rule in force; `math.errors: error` makes a typo fatal again."""
    from tests.conftest import build, run_qed

    post = (AUTORENDER / "typo.md").read_text(encoding="utf-8")
    site = make_site({"hugo.toml": 'theme = "LoveIt"\n', "content/posts/typo.md": post})
    result = build(site)
    assert "warning: content/posts/typo.md:5:1: TeX error" in result.stderr
    assert "warning: content/posts/typo.md:5:19: TeX error" in result.stderr
    assert "2 formulas could not be typeset" in result.stderr and "math: found as LoveIt does" in result.stderr
    (site / "hugo.toml").write_text('theme = "LoveIt"\n[math]\nerrors = "error"\n', encoding="utf-8")
    failed = run_qed(site)
    assert failed.returncode == 1 and "content/posts/typo.md:5:1: TeX error" in failed.stderr


def test_each_formula_keeps_its_own_html_whatever_characters_it_holds(tmp_path):
    """V8 hands back the formulas' HTML joined by NUL characters: a formula whose HTML holds
    one (`\\char0`) still gets exactly its own, and its neighbours, failed or not, theirs."""
    collector, text = page("$a$ $\\char0$ $b \\frac{1}{$ $c$ $x\\char0 y$ $d$")
    typeset = renderer(tmp_path).typeset_page(collector.record())
    annotations = [a.text() for a in rendered(typeset, text).find_all("annotation")]
    assert annotations == ["a", "\\char0", "c", "x\\char0 y", "d"]
    assert "\x00" in typeset.html[1] and "\x00" in typeset.html[4] and "katex-mathml" not in typeset.html[2]
