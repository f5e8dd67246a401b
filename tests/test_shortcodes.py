"""Shortcodes: Hugo's call syntax, the template context, the built-in shortcodes and alerts.

Bodies are expanded with a Jinja environment built like the lead's (site layouts over the
theme's, autoescape, StrictUndefined) and rendered with plain markdown-it, so these tests
exercise qed.shortcodes alone. HTML is compared by structure (tests.htmltree).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

from qed.alerts import alerts_plugin
from qed.body import BodyContext
from qed.content import LeftOut
from qed.errors import Diagnostics, Location, SourceText
from qed.markers import find_markers, resolve_markers, unwrap_block_markers
from qed.shortcodes import expand_shortcodes
from qed.shortcodes_builtin import scope_css, unmarshal
from qed.shortcodes_syntax import typed_value, unescape_calls
from qed.templates import install_template_functions
from tests.conftest import build, page
from tests.htmltree import Element, parse_html, same_html

REPO = Path(__file__).resolve().parent.parent
THEME_LAYOUTS = REPO / "theme" / "layouts"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SC_FIXTURES = FIXTURES / "shortcodes"
FRONT_MATTER = "---\ntitle: T\n---\n"  # the body starts on line 4, column 1


@dataclass
class FakePage:
    title: str = "Page"
    params: dict[str, Any] = field(default_factory=dict)
    rel_permalink: str = "/posts/here/"
    permalink: str = "https://example.org/posts/here/"


@dataclass
class FakeConfig:
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeSite:
    params: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, FakePage] = field(default_factory=dict)
    left_out: LeftOut = field(default_factory=LeftOut)
    config: FakeConfig = field(default_factory=FakeConfig)

    def get_page(self, ref: str) -> FakePage | None:
        return self.pages.get(ref.strip("/").removesuffix(".md"))


@dataclass
class FakeMath:
    """Records what `protect_math` hands to the math stage."""

    calls: list[tuple[str, Location, str]] = field(default_factory=list)

    def protect(self, text: str, origin: Location, escapes: str = "markdown") -> str:
        self.calls.append((text, origin, escapes))
        return text


def make_env(site_layouts: Path | None = None) -> jinja2.Environment:
    dirs = [str(site_layouts)] if site_layouts else []
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*dirs, str(THEME_LAYOUTS)]),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install_template_functions(env)
    return env


def site_layouts(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "layouts"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).strip("\n"), encoding="utf-8")
    return root


def make_md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).use(anchors_plugin, max_level=6).use(alerts_plugin)


@dataclass
class Expanded:
    markdown: str
    ctx: BodyContext

    @property
    def errors(self) -> list[str]:
        return [str(e) for e in self.ctx.diagnostics.errors]

    def html(self) -> str:
        """The page as the pipeline would finish it: markdown, unwrap, resolve markers."""
        md = make_md()
        html = unwrap_block_markers(md.render(self.markdown, {"ctx": self.ctx}), frozenset({"sc"}))
        return resolve_markers(html, {"sc": self.ctx.html_blocks.__getitem__})

    def tree(self) -> Element:
        return parse_html(self.html())


def expand(
    body: str,
    *,
    env: jinja2.Environment | None = None,
    page: FakePage | None = None,
    site: FakeSite | None = None,
    math: FakeMath | None = None,
) -> Expanded:
    text = FRONT_MATTER + body
    source = SourceText("content/posts/here.md", text)
    md = make_md()
    ctx = BodyContext(
        source=source,
        page=page or FakePage(),
        site=site or FakeSite(),
        templates=env or make_env(),
        diagnostics=Diagnostics(),
        markdown=lambda t, o: md.render(t),
        markdown_inline=lambda t, o: md.renderInline(t),
        math=math,
    )
    origin = source.location(len(FRONT_MATTER))
    return Expanded(expand_shortcodes(body, origin, ctx), ctx)


@pytest.fixture
def probe_env(tmp_path: Path) -> jinja2.Environment:
    """Site shortcodes that print what their template context holds, as JSON."""
    return make_env(
        site_layouts(
            tmp_path,
            {
                "shortcodes/args.html": "{{ {'named': is_named_params, 'params': params} | tojson }}",
                "shortcodes/box.html": (
                    "[{{ name }}#{{ ordinal }} parent={{ parent.name if parent else '-' }} "
                    "line={{ position.line }}:{{ inner }}]"
                ),
                "shortcodes/heading.html": "## {{ get(0) }}",
            },
        )
    )


def params_of(expanded: Expanded) -> dict[str, Any]:
    (key,) = [k for _, k in find_markers(expanded.markdown, "sc")]
    return json.loads(expanded.ctx.html_blocks[key])


# ---------------------------------------------------------------- arguments


def test_named_arguments_are_typed_like_hugo(probe_env: jinja2.Environment) -> None:
    result = expand('{{< args a=true b=false n=42 x=-1.5 q="7" s="two words" >}}', env=probe_env)
    assert params_of(result) == {
        "named": True,
        "params": {"a": True, "b": False, "n": 42, "x": -1.5, "q": "7", "s": "two words"},
    }


def test_positional_arguments_keep_order_and_type(probe_env: jinja2.Environment) -> None:
    result = expand('{{< args tip "This is a tip" false 3 .5 "false" >}}', env=probe_env)
    assert params_of(result) == {"named": False, "params": ["tip", "This is a tip", False, 3, 0.5, "false"]}


def test_quoted_escape_and_raw_strings_spanning_lines(probe_env: jinja2.Environment) -> None:
    body = '{{< args "say \\"hi\\"" `raw "quotes" and \\n\nsecond line` >}}\n'
    assert params_of(expand(body, env=probe_env))["params"] == ['say "hi"', 'raw "quotes" and \\n\nsecond line']


def test_arguments_over_several_lines(probe_env: jinja2.Environment) -> None:
    body = '{{< args\n    type=tip\n    title="T"\n>}}\nafter\n'
    result = expand(body, env=probe_env)
    assert params_of(result)["params"] == {"type": "tip", "title": "T"}
    assert result.markdown.count("\n") == body.count("\n")


def test_typed_value_matches_hugo_rules() -> None:
    assert [typed_value(v) for v in ("true", "false", "10", "+3", "1.25", "1.", "1e3", "True")] == [
        True, False, 10, 3, 1.25, "1.", "1e3", "True",
    ]


# ---------------------------------------------------------------- nesting and notation


def test_nesting_to_any_depth_with_parent_and_ordinal(probe_env: jinja2.Environment) -> None:
    body = "{{% box %}}{{% box %}}{{% box %}}x{{% /box %}}{{% /box %}}{{% box %}}y{{% /box %}}{{% /box %}}"
    out = expand(body, env=probe_env).markdown
    assert out == (
        "[box#0 parent=- line=4:[box#0 parent=box line=4:[box#0 parent=box line=4:x]]"
        "[box#1 parent=box line=4:y]]"
    )


def test_angle_notation_output_is_a_marker_and_keeps_line_numbers(probe_env: jinja2.Environment) -> None:
    body = "before\n{{< box >}}\none\ntwo\n{{< /box >}}\nafter\n"
    result = expand(body, env=probe_env)
    assert result.markdown.count("\n") == body.count("\n")
    assert result.markdown.splitlines()[-1] == "after"
    (key,) = [k for _, k in find_markers(result.markdown, "sc")]
    assert "one\ntwo" in result.ctx.html_blocks[key]


def test_markdown_notation_output_enters_the_table_of_contents(probe_env: jinja2.Environment) -> None:
    result = expand('{{% heading "From a shortcode" %}}\n\n{{< heading "Hidden" >}}\n', env=probe_env)
    tree = result.tree()
    assert tree.find("h2", id="from-a-shortcode").text() == "From a shortcode"
    assert not tree.find_all("h2", id="hidden")  # {{< >}} output is not seen by markdown


def test_escaped_calls_print_literally(probe_env: jinja2.Environment) -> None:
    result = expand("Write {{</* box arg=1 */>}} or {{%/* box */%}}.", env=probe_env)
    assert result.markdown == "Write {{< box arg=1 >}} or {{% box %}}."
    assert not result.errors
    assert unescape_calls("{{</* x */>}}") == "{{< x >}}"


def test_calls_in_code_are_left_alone(probe_env: jinja2.Environment) -> None:
    body = textwrap.dedent(
        """\
        Inline `{{< box >}}` and ``a `{{< box >}}` b``.

        ```text
        {{< box >}} and {{</* box */>}}
        ```

            {{< box >}}
        """
    )
    result = expand(body, env=probe_env)
    assert not result.errors
    assert not result.ctx.html_blocks
    assert result.markdown == body.replace("{{</* box */>}}", "{{< box >}}")


def test_fenced_code_inside_a_shortcode_body_is_still_code(probe_env: jinja2.Environment) -> None:
    body = "{{< box >}}\n```\n{{< nosuch >}}\n```\n{{< /box >}}\n"
    result = expand(body, env=probe_env)
    assert not result.errors
    assert "{{&lt; nosuch &gt;}}" in result.ctx.html_blocks["0"]  # autoescaped by the probe


def test_markdown_notation_keeps_line_numbers_when_output_is_shorter(probe_env: jinja2.Environment) -> None:
    body = '{{% heading\n  "Title" %}}\nafter\n'
    result = expand(body, env=probe_env)
    assert result.markdown == "## Title\n\nafter\n"


def test_body_markdown_is_told_where_the_body_starts() -> None:
    seen: list[tuple[str, Location]] = []
    result = expand("x\n\n{{< admonition >}}\nBody\n{{< /admonition >}}\n")
    result.ctx.markdown = lambda text, origin: seen.append((text, origin)) or ""
    expand_shortcodes("x\n\n{{< admonition >}}\nBody\n{{< /admonition >}}\n", Location("content/posts/here.md", 4, 1),
                      result.ctx)
    assert seen == [("\nBody\n", Location("content/posts/here.md", 6, 19))]


def test_closing_tag_needed_when_an_included_template_uses_inner(tmp_path: Path) -> None:
    env = make_env(site_layouts(tmp_path, {
        "shortcodes/wrap.html": '{# takes no inner here #}<div class="inner">{% include "partials/w.html" %}</div>',
        "partials/w.html": "{{ inner }}",
        "shortcodes/plain.html": '{# inner is only mentioned #}<div class="inner">x</div>',
    }))
    result = expand("{{< wrap >}}body{{< /wrap >}} {{< plain >}}", env=env)
    assert result.errors == []
    assert result.tree().find("div", class_="inner").text() == "body"
    (error,) = expand("{{< plain >}}{{< /plain >}}", env=env).errors
    assert "takes no inner content" in error


def test_site_layouts_override_a_theme_shortcode(tmp_path: Path) -> None:
    env = make_env(site_layouts(tmp_path, {"shortcodes/raw.html": "<span class=mine>{{ inner }}</span>"}))
    result = expand("{{< raw >}}x{{< /raw >}}", env=env)
    assert result.tree().find("span", class_="mine").text() == "x"


# ---------------------------------------------------------------- errors


ERRORS_BODY = """\
{{< nosuch >}}
{{< admonition >}}
never closed
{{< details summary="s" >}}body{{< /admonition >}}
text {{< /raw >}}
{{< figure >}}
{{< args a=1 "b" >}}
{{< figure src="x.png" >}}{{< /figure >}}
{{< args "open
"""


def test_every_error_is_reported_with_its_line_and_column(probe_env: jinja2.Environment) -> None:
    errors = expand(ERRORS_BODY, env=probe_env).errors
    path = "content/posts/here.md"
    expected = [
        (f"{path}:8:6:", "unexpected closing tag {{< /raw >}}"),  # line 5 of the body
        (f"{path}:10:14:", "cannot mix named and positional"),
        (f"{path}:11:27:", "unexpected closing tag {{< /figure >}}: shortcode 'figure' takes no inner"),
        (f"{path}:12:10:", "unterminated quoted string"),
        (f"{path}:7:32:", "closing tag {{< /admonition >}} does not match the open shortcode 'details'"),
        (f"{path}:4:1:", "unknown shortcode 'nosuch'"),
        (f"{path}:9:1:", "shortcode 'figure' is missing its required argument 'src'"),
    ]
    for prefix, message in expected:
        assert any(e.startswith(prefix) and message in e for e in errors), (prefix, message, errors)
    assert len(errors) == len(expected), errors


def test_mixed_arguments_give_one_error_and_the_call_still_pairs_up() -> None:
    result = expand('{{< admonition type=tip "x" >}}\nbody\n{{< /admonition >}}')
    assert result.errors == [
        "content/posts/here.md:4:25: cannot mix named and positional arguments in shortcode 'admonition' "
        "(got positional argument '\"x\"')"
    ]
    assert "tip" in result.tree().find(class_="admonition").attrs["class"].split()


def test_a_call_missing_its_right_delimiter_does_not_swallow_the_next_call() -> None:
    result = expand('{{< figure src="a.png"\n\ntext {{< figure src="b.png" >}}')
    assert result.errors == [
        "content/posts/here.md:4:1: shortcode call is not terminated by >}} before the next call"
    ]
    assert [img.attrs["src"] for img in result.tree().find_all("img")] == ["b.png"]


def test_unclosed_shortcode_is_reported_at_its_opening(probe_env: jinja2.Environment) -> None:
    errors = expand("text\n  {{% admonition tip %}}\nbody\n", env=probe_env).errors
    assert len(errors) == 1
    assert errors[0].startswith("content/posts/here.md:5:3: shortcode 'admonition' is not closed")
    assert "{{% /admonition %}}" in errors[0]


def test_a_broken_template_is_reported_at_the_call(tmp_path: Path) -> None:
    env = make_env(site_layouts(tmp_path, {"shortcodes/bad.html": "{{ page.no_such_attribute }}"}))
    errors = expand("ok\n\n{{< bad >}}", env=env).errors
    assert len(errors) == 1 and errors[0].startswith("content/posts/here.md:6:1: shortcode 'bad': template error")


# ---------------------------------------------------------------- admonition


def admonition(body: str) -> Element:
    result = expand(body)
    assert not result.errors
    return result.tree().find(class_="admonition")


def test_admonition_defaults_to_an_open_note() -> None:
    box = admonition("{{< admonition >}}\nSome *text*.\n{{< /admonition >}}")
    assert box.tag == "details" and "open" in box.attrs
    assert box.attrs["class"].split() == ["details", "admonition", "note", "open"]
    assert box.find("summary", class_="admonition-title").text() == "Note"
    assert box.find(class_="admonition-content").find("em").text() == "text"
    assert box.find_all("svg") and not box.find_all("i") and not box.find_all("script")


@pytest.mark.parametrize(
    ("call", "kind", "title", "is_open"),
    [
        ('{{< admonition tip "This is a tip" false >}}', "tip", "This is a tip", False),
        ('{{< admonition type=warning title="Careful" open=false >}}', "warning", "Careful", False),
        ('{{< admonition type=warning open="false" >}}', "warning", "Warning", True),
        ("{{< admonition type=danger open=true >}}", "danger", "Danger", True),
        ("{{< admonition hint >}}", "tip", "Tip", True),
        ("{{< admonition important >}}", "important", "Important", True),
        ("{{< admonition caution >}}", "caution", "Caution", True),
        ("{{< admonition todo >}}", "todo", "Todo", True),
        ('{{< admonition QUOTE "" >}}', "quote", "Quote", True),
    ],
)
def test_admonition_call_forms(call: str, kind: str, title: str, is_open: bool) -> None:
    box = admonition(call + "\nbody\n{{< /admonition >}}")
    assert kind in box.attrs["class"].split()
    assert box.find("summary").text() == title
    assert ("open" in box.attrs) is is_open


def test_admonition_unknown_type_uses_note_styling_with_the_type_as_title() -> None:
    box = admonition("{{< admonition recipe >}}x{{< /admonition >}}")
    assert box.attrs["class"].split()[:3] == ["details", "admonition", "recipe"]
    assert box.find("summary").text() == "Recipe"
    note_icon = admonition("{{< admonition >}}x{{< /admonition >}}").find(class_="icon").shape()
    assert box.find(class_="icon").shape() == note_icon


def test_admonition_title_is_markdown_and_its_math_is_protected() -> None:
    math = FakeMath()
    result = expand('{{< admonition note "A **bold** $x$" >}}\nBody $y$\n{{< /admonition >}}', math=None)
    assert result.tree().find("summary").find("strong").text() == "bold"
    expand('{{< admonition note "T" >}}\n{{< raw >}}$z${{< /raw >}}\n{{< /admonition >}}', math=math)
    assert [(text, escapes) for text, _, escapes in math.calls] == [("$z$", "verbatim")]


def test_every_type_has_its_own_colour_in_the_stylesheet() -> None:
    css = (REPO / "theme" / "static" / "css" / "shortcodes.css").read_text()
    for kind in ("abstract", "info", "tip", "success", "question", "warning", "failure", "danger", "bug",
                 "example", "quote", "important", "caution", "todo"):
        assert f".admonition.{kind} {{" in css, kind
    assert "rgba(255, 23, 68, .1)" in css  # danger keeps its v0.2.11 red tint


def test_admonition_with_verify_renders_the_claim_partial(tmp_path: Path) -> None:
    env = make_env(site_layouts(tmp_path, {"partials/claim.html": "<div class=claim>{{ name }}|{{ inner }}</div>"}))
    result = expand('{{< admonition type=abstract title="Theorem 1" verify="m:f" >}}S{{< /admonition >}}', env=env)
    assert result.tree().find("div", class_="claim").text() == "admonition|S"


# ---------------------------------------------------------------- raw and style


def test_raw_puts_its_body_in_the_page_verbatim_with_math_protected() -> None:
    math = FakeMath()
    result = expand("{{< raw >}}\n<b>x</b> \\(a\\_1\\) *not md*\n{{< /raw >}}\n", math=math)
    html = result.html()
    assert "<b>x</b> \\(a\\_1\\) *not md*" in html
    ((text, origin, escapes),) = math.calls
    assert text == "\n<b>x</b> \\(a\\_1\\) *not md*\n"
    assert escapes == "verbatim" and origin == Location("content/posts/here.md", 4, 12)


def test_style_scopes_rules_to_its_wrapper_and_emits_each_rule_once() -> None:
    body = '{{< style "color: red; strong{color: blue}" span >}}**x**{{< /style >}}\n\n' * 2
    result = expand(body)
    spans = result.tree().find_all("span", class_="qed-style")
    assert len(spans) == 2 and spans[0].find("strong").text() == "x"
    scope = next(c for c in spans[0].attrs["class"].split() if c.startswith("qed-style-"))
    assert result.ctx.css == [f".{scope}{{color: red}}", f".{scope} strong{{color: blue}}"]


def test_scope_css_handles_ampersand_nesting_and_media() -> None:
    assert scope_css("a:b; &:hover{c:d} &.x, p{e:f}; @media print{g:h}", ".s") == [
        ".s{a:b}", ".s:hover{c:d}", ".s.x, .s p{e:f}", "@media print{.s{g:h}}",
    ]
    assert scope_css("content:'</style>'", ".s") == [".s{content:'<\\/style>'}"]


def test_style_without_css_is_a_missing_argument() -> None:
    (error,) = expand("{{< style >}}x{{< /style >}}").errors
    assert error == "content/posts/here.md:4:1: shortcode 'style' is missing its required argument #0"


# ---------------------------------------------------------------- Hugo's embedded shortcodes


def test_details_is_native_and_closed_by_default() -> None:
    tree = expand('{{< details summary="More *info*" >}}\nHidden\n{{< /details >}}').tree()
    details = tree.find("details")
    assert "open" not in details.attrs
    assert details.find("summary").find("em").text() == "info"
    assert details.find("p").text() == "Hidden"
    assert "open" in expand("{{< details open=true >}}x{{< /details >}}").tree().find("details").attrs


def test_figure() -> None:
    tree = expand('{{< figure src="/a.png" alt="A" caption="The *a*" link="/big.png" width=300 >}}').tree()
    figure = tree.find("figure")
    assert figure.find("a").attrs["href"] == "/big.png"
    assert figure.find("img").attrs == {"src": "/a.png", "alt": "A", "width": "300"}
    assert figure.find("figcaption").find("em").text() == "a"


def test_highlight_uses_pygments_classes() -> None:
    result = expand('{{< highlight python "hl_lines=2" >}}\nx = 1\ny = "s"\n{{< /highlight >}}')
    block = result.tree().find("div", class_="highlight")
    assert block.find("span", class_="hll").text() == 'y = "s"'
    assert block.find_all("span", class_="s2")


def test_ref_returns_a_page_url_usable_in_links() -> None:
    site = FakeSite(pages={"posts/other": FakePage(rel_permalink="/posts/other/",
                                                   permalink="https://example.org/posts/other/")})
    result = expand('[a]({{< ref "posts/other.md#sec" >}}) [b]({{< relref "/posts/other" >}})', site=site)
    links = [a.attrs["href"] for a in result.tree().find_all("a")]
    assert links == ["https://example.org/posts/other/#sec", "/posts/other/"]
    assert expand('[c]({{< relref "#here" >}})').tree().find("a").attrs["href"] == "/posts/here/#here"


def test_ref_to_a_label_is_a_checked_reference_and_a_missing_page_is_an_error() -> None:
    result = expand('See {{< ref "thm:chain-rule" >}}.\n\nAnd {{< relref "posts/missing.md" >}}.')
    assert result.ctx.references == [("thm:chain-rule", Location("content/posts/here.md", 4, 5))]
    assert ("ref", "thm:chain-rule") in find_markers(result.html())
    assert result.errors == ['content/posts/here.md:6:5: relref: page "posts/missing.md" not found']


def test_param_reads_the_page_then_the_site() -> None:
    page = FakePage(params={"author": "André", "nested": {"key": 3}})
    site = FakeSite(params={"license": "CC BY <4.0>", "author": "site"})
    result = expand(
        '{{< param author >}} {{< param "nested.key" >}} {{< param license >}} {{< param nope >}}',
        page=page, site=site,
    )
    assert result.tree().text() == "André 3 CC BY <4.0>"
    assert result.errors == [
        "content/posts/here.md:4:71: param: 'nope' is neither a page param nor a site param"
    ]


# ---------------------------------------------------------------- the seed post


def seed_body() -> tuple[str, str]:
    text = (FIXTURES / "backpropagation-loveit.md").read_text(encoding="utf-8")
    end = text.index("\n---\n", 3) + len("\n---\n")
    return text[:end], text[end:]


def test_seed_post_expands_without_errors() -> None:
    front, body = seed_body()
    source = SourceText("content/posts/backpropagation.md", front + body)
    md = make_md()
    ctx = BodyContext(source=source, page=FakePage(), site=FakeSite(), templates=make_env(),
                      diagnostics=Diagnostics(), markdown=lambda t, o: md.render(t),
                      markdown_inline=lambda t, o: md.renderInline(t))
    result = Expanded(expand_shortcodes(body, source.location(len(front)), ctx), ctx)
    assert result.errors == []
    assert result.markdown.count("\n") == body.count("\n")
    tree = result.tree()

    boxes = tree.find_all(class_="admonition")
    expected = [
        ("note", "Definition"), ("note", "Definition"), ("note", "Definition"),
        ("note", "Definition (Total Derivative)"), ("info", "NB"),
        ("note", "Definition (Partial Derivative)"), ("abstract", "Theorem 1"),
        ("abstract", "Theorem 2 (Chain Rule)"), ("note", "Definition (Neural Net)"),
        ("note", "Definition (Neural Net)"), ("note", "Definition (MSE)"), ("question", "Exercise"),
        ("abstract", "Theorem 3 (Backpropagation)"),
    ]
    assert [(b.attrs["class"].split()[2], b.find("summary").text()) for b in boxes] == expected
    assert all("open" in b.attrs for b in boxes)
    assert "Let $n \\in \\N$. We then define" in boxes[1].find(class_="admonition-content").text()
    assert "identified with a $m\\times n$-matrix" in boxes[4].find(class_="admonition-content").text()
    assert boxes[0].find(class_="admonition-content").text() == ""  # the empty raw block
    assert boxes[7].find(class_="admonition-content").text() == ""

    # raw outside admonitions is in the page verbatim, its backslashes intact
    assert "a_0 & = x \\in \\R^{n_1} \\\\" in result.html()

    # the style block: a right-align rule scoped to the wrapper of the end-of-proof mark
    wrapper = tree.find("div", class_="qed-style")
    assert "$\\blacksquare$" in wrapper.text()
    scope = next(c for c in wrapper.attrs["class"].split() if c.startswith("qed-style-"))
    assert ctx.css == [f".{scope}{{text-align: right}}"]


def test_seed_copy_is_unmodified() -> None:
    seed = Path("/work/shared/seeds/backpropagation-loveit.md")
    if not seed.exists():
        pytest.skip("the shared seed folder is not available here")
    assert (FIXTURES / "backpropagation-loveit.md").read_bytes() == seed.read_bytes()


def test_fixture_documents_expand_cleanly() -> None:
    files = sorted(SC_FIXTURES.glob("*.md"))
    assert files, "tests/fixtures/shortcodes/ holds sample documents"
    for path in files:
        body = path.read_text(encoding="utf-8")
        result = expand(body)
        assert result.errors == [], path.name
        assert result.html()


def test_a_misspelt_shortcode_gets_a_suggestion() -> None:
    errors = expand('{{< admonishon note "x" >}}\nhi\n{{< /admonishon >}}\n{{< zzzz >}}').errors
    assert errors[0].startswith("content/posts/here.md:4:1: unknown shortcode 'admonishon'; did you mean 'admonition'?")
    assert "did you mean" not in errors[1] and "unknown shortcode 'zzzz'" in errors[1]


def test_mermaid_diagrams_and_loveit_scripts_in_a_built_site(make_site) -> None:

    site = make_site({
        "content/net.md": "---\ntitle: Net\n---\n{{< mermaid >}}\ngraph LR\n  x --> h1 --> y\n{{< /mermaid >}}\n\n"
                          "```mermaid\nsequenceDiagram\n  A->>B: grad\n```\n\n"
                          "{{< script >}}console.log('a < b');{{< /script >}}\n{{< script >}}console.log('a < b');"
                          "{{< /script >}}\n",
        "content/plain.md": "---\ntitle: Plain\n---\nNo diagrams.\n\n```python\nx = 1\n```\n",
    })
    build(site)
    net = page(site, "net/index.html")
    diagrams = net.find_all("pre", class_="mermaid")
    assert [d.text() for d in diagrams] == ["graph LR x --> h1 --> y", "sequenceDiagram A->>B: grad"]
    raw = (site / "public/net/index.html").read_text()
    assert "graph LR\n  x --&gt; h1 --&gt; y</pre>" in raw  # Mermaid needs the line breaks
    scripts = [s for s in net.find_all("script") if "mermaid" in s.text() or "console" in s.text()]
    assert [("mermaid.initialize" in s.text(), s.text().count("console.log")) for s in scripts] == [
        (True, 0), (False, 1)]  # the loader once, then the page's script once
    plain = page(site, "plain/index.html")
    page_scripts = [s for s in plain.find_all("script") if "qed-theme" not in s.text()  # the theme's own
                    and not s.attrs.get("src", "").endswith("js/theme.js")]
    assert plain.find_all("pre", class_="mermaid") == [] and page_scripts == []
    assert plain.find("div", class_="highlight")


def test_a_named_argument_given_twice_is_an_error_at_the_second() -> None:
    result = expand('{{< admonition type=tip type=warning >}}\nbody\n{{< /admonition >}}')
    assert len(result.errors) == 1
    assert result.errors[0].startswith("content/posts/here.md:4:25:")
    assert "'type' is given twice" in result.errors[0]


# ---------------------------------------------------------------- the themes' shortcodes

EMBEDS_ON = FakeSite(params={"embeds": True})


def only(tree: Element) -> Element:
    """The one element a call rendered (markdown's paragraph around an inline call left out)."""
    kids = [c for c in tree.children if isinstance(c, Element)]
    if len(kids) == 1 and kids[0].tag == "p":
        kids = [c for c in kids[0].children if isinstance(c, Element)]
    assert len(kids) == 1, kids
    return kids[0]


def rendered(body: str, **kwargs: Any) -> Element:
    result = expand(body, **kwargs)
    assert result.errors == []
    return only(result.tree())


def test_image_with_caption_is_a_figure_linked_to_the_large_picture() -> None:
    element = rendered('{{< image src="/l.jpg" caption="Light (`image`)" src_s="/s.jpg" src_l="/L.jpg" '
                       'title="T" class="wide" rel="me" >}}')
    expected = ('<figure class="wide"><a class="lightgallery" href="/L.jpg" title="T" data-thumbnail="/s.jpg" '
                'data-sub-html="<h2>Light (<code>image</code>)</h2><p>T</p>" rel="me">'
                '<img src="/l.jpg" srcset="/s.jpg, /l.jpg 1.5x, /L.jpg 2x" alt="/l.jpg" loading="lazy"></a>'
                '<figcaption class="image-caption">Light (<code>image</code>)</figcaption></figure>')
    assert element.shape() == only(parse_html(expected)).shape()


def test_image_positional_without_caption_is_a_plain_picture_with_markdown_alt() -> None:
    element = rendered('{{< image "/a.png" "An *a*" >}}')
    assert (element.tag, element.attrs) == ("img", {"src": "/a.png", "alt": "An a", "title": "An a", "loading": "lazy"})
    linked = rendered('{{< image "/a.png" "A" "Cap" >}}')  # positional: linked because captioned
    assert linked.tag == "figure" and linked.find("a", class_="lightgallery").attrs["href"] == "/a.png"
    unlinked = rendered('{{< image src="/a.png" linked=false width=300 >}}')
    assert unlinked.attrs == {"src": "/a.png", "alt": "/a.png", "title": "/a.png", "width": "300", "loading": "lazy"}


@pytest.mark.parametrize(("call", "expected"), [
    ('{{< link "https://assemble.io" >}}',
     '<a href="https://assemble.io" target="_blank" rel="noopener noreferrer">https://assemble.io</a>'),
    ('{{< link "https://github.com/upstage/" Upstage "Visit Upstage!" >}}',
     '<a href="https://github.com/upstage/" title="Visit Upstage!" target="_blank" '
     'rel="noopener noreferrer">Upstage</a>'),
    ('{{< link href="/about/" content="<b>About</b> **as is**" class="x" rel="me" >}}',
     '<a href="/about/" class="x" rel="me"><b>About</b> **as is**</a>'),
    ('{{< link "mailto:a@b.org" >}}', '<a href="mailto:a@b.org">mailto:a@b.org</a>'),
    ('{{< link href="/f.mp3" content="f" download="f.mp3" >}}', '<a href="/f.mp3" download="f.mp3">f</a>'),
    ('{{< link "javascript:alert(1)" x >}}', '<a href="#ZgotmplZ">x</a>'),
])
def test_link_call_forms(call: str, expected: str) -> None:
    assert rendered(call).shape() == only(parse_html(expected)).shape()


def test_version_badge_links_the_release_and_takes_the_type_colour() -> None:
    element = rendered("{{< version 0.2.0 changed >}}")
    assert element.attrs["href"] == "https://github.com/dillonzq/LoveIt/releases/tag/v0.2.0"
    badge = element.find("span", class_="version")
    assert "version-changed" in badge.attrs["class"].split()
    assert [badge.find(class_=c).text() for c in ("version-label", "version-number")] == ["CHANGED", "0.2.0"]
    assert "new" in rendered("{{< version 1.0 nonsense >}}").find(class_="version").attrs["class"]
    site = FakeSite(params={"repo_version": {"url": "https://example.org/tag/", "name": "Mine"}})
    mine = rendered("{{< version v3 deleted >}}", site=site)
    assert mine.attrs["href"] == "https://example.org/tag/v3"
    assert mine.find(class_="version").attrs["aria-label"] == "Mine DELETED | v3"


def test_person_is_an_h_card() -> None:
    element = rendered('{{< person url="https://e.org" name="Evgeny" nick="nekr0z" text="author" picture="/me.jpg" >}}')
    expected = ('<span class="h-card person-mention"><a href="https://e.org" class="u-url url" title="author">'
                '<img class="u-photo photo" src="/me.jpg" alt="nekr0z" loading="lazy">\u2009'
                '<span class="p-name fn">Evgeny</span> (<span class="p-nickname nickname">nekr0z</span>)</a></span>')
    assert element.shape() == only(parse_html(expected)).shape()
    plain = rendered('{{< person "https://d.com/" Dillon "author of LoveIt" >}}')
    assert plain.find("svg", class_="person-icon") and plain.find(class_="p-name").text() == "Dillon"


def test_friend_and_showcase_cards() -> None:
    card = rendered('{{< friend "Bob" "https://bob.org" "/av.png" "Hello" >}}')
    assert (card.tag, card.attrs["class"], card.attrs["href"]) == ("a", "friend-link", "https://bob.org")
    assert card.find(class_="friend-name").text() == "Bob" and card.find(class_="friend-bio").text() == "Hello"
    assert card.find("img").attrs["alt"] == "Bob avatar"
    box = rendered('{{< showcase title="T" summary="S" image="/i.png" link="/p/" column=3 >}}')
    assert box.attrs["class"] == "showcase-box column-3"
    assert box.find("a", class_="showcase-link").attrs["href"] == "/p/"
    assert box.find(class_="showcase-title").text() == "T"


def test_center_quote_math_raw_tag_auto_dark_env_and_comment() -> None:
    assert same_html(expand("{{< center-quote >}}**q**{{< /center-quote >}}").html(),
                     '<blockquote class="blockquote-center"><p><strong>q</strong></p></blockquote>')
    math = FakeMath()
    assert "$\\|x\\|_0$" in expand("{{< math >}}$\\|x\\|_0${{< /math >}}", math=math).html()
    assert math.calls[0][2] == "verbatim"
    raw = rendered('{{< raw "span" >}}**Hello** <b>x</b>{{< /raw >}}')
    assert raw.shape() == only(parse_html('<span class="fi-raw">**Hello** <b>x</b></span>')).shape()
    assert rendered("{{< auto-dark >}}<img src=a.svg>{{< /auto-dark >}}").attrs == {"class": "auto-dark-mode"}
    assert expand("{{< env production >}}*shown*{{< /env >}}").tree().find("em").text() == "shown"
    assert expand("{{< env development >}}hidden{{< /env >}}").html().strip() == ""
    assert expand("{{< comment >}}hidden{{< /comment >}}").html().strip() == ""


def test_typeit_shows_the_finished_text_in_place() -> None:
    element = rendered("{{< typeit tag=h4 class=big >}}\nA *typed* line\n{{< /typeit >}}")
    assert element.attrs == {"class": "typeit"}
    heading = element.find("h4", class_="big")
    assert heading.find("em").text() == "typed" and heading.text() == "A typed line"
    code = rendered("{{< typeit code=python >}}print(1){{< /typeit >}}").find(class_="highlight")
    assert code.find("code").attrs["data-lang"] == "python" and code.text().replace(" ", "") == "print(1)"


def test_fa_icon_is_font_awesome_markup() -> None:
    assert rendered("{{< fa-icon regular smile >}}").attrs == {"class": "fa-regular fa-smile", "aria-hidden": "true"}
    assert rendered('{{< fa-icon style=brands icon=github >}}').attrs["class"] == "fa-brands fa-github"


def test_tabs_name_their_tabs_and_select_the_default() -> None:
    body = ('{{< tabs defaultTab=1 >}}\n{{< tab title="One" >}}\nfirst **a**\n{{< /tab >}}\n'
            '{{< tab title="Two" >}}\nsecond\n{{< /tab >}}\n{{< /tabs >}}')
    result = expand(body)
    assert result.errors == []
    box = only(result.tree())
    buttons = box.find_all("button", class_="tab-button")
    assert [(b.text(), b.attrs["aria-selected"]) for b in buttons] == [("One", "false"), ("Two", "true")]
    panels = box.find_all(role="tabpanel")
    assert [p.attrs["aria-labelledby"] for p in panels] == [b.attrs["id"] for b in buttons]
    assert [p.attrs["id"] for p in panels] == [b.attrs["aria-controls"] for b in buttons]
    assert panels[0].find("strong").text() == "a" and panels[0].find(class_="tab-panel-title").text() == "One"
    (script,) = result.ctx.scripts
    assert "tabs-ready" in script and "http" not in script


def test_tabs_mistakes_are_reported() -> None:
    assert "tab: must be inside a tabs shortcode" in expand('{{< tab title="x" >}}y{{< /tab >}}').errors[0]
    assert "tabs: no tab inside" in expand("{{< tabs >}}\ntext\n{{< /tabs >}}").errors[0]
    result = expand('{{< tabs defaultTab=5 >}}{{< tab title="a" >}}x{{< /tab >}}{{< /tabs >}}')
    assert "defaultTab 5 is out of range" in str(result.ctx.diagnostics.warnings[0])
    assert only(result.tree()).find("button").attrs["aria-selected"] == "true"


def test_aplayer_tracks_play_in_the_browsers_own_player() -> None:
    body = ('{{< aplayer theme="#b7daff" >}}\n{{< audio name="S" artist="A" url="/s.mp3" />}}\n'
            '{{< audio name="T" url="/t.mp3" />}}\n{{< /aplayer >}}')
    box = rendered(body)
    assert box.attrs["class"] == "aplayer-shortcode"
    players = box.find_all("audio")
    assert [(a.attrs["src"], a.attrs["preload"]) for a in players] == [("/s.mp3", "none"), ("/t.mp3", "none")]
    assert [f.text() for f in box.find_all("figcaption")] == ["S – A", "T"]
    assert "audio: must be inside an aplayer shortcode" in expand('{{< audio url="/s.mp3" />}}').errors[0]


# ---------------------------------------------------------------- embeds: links unless the site opts in


@pytest.mark.parametrize(("call", "href"), [
    ("{{< youtube w7Ft2ymGmfc >}}", "https://www.youtube.com/watch?v=w7Ft2ymGmfc"),
    ('{{< youtube id="w7Ft2ymGmfc" start=30 >}}', "https://www.youtube.com/watch?v=w7Ft2ymGmfc&t=30s"),
    ("{{< vimeo 55073825 >}}", "https://vimeo.com/55073825"),
    ("{{< instagram CxOWiQNP2MO >}}", "https://www.instagram.com/p/CxOWiQNP2MO/"),
    ('{{< x user="SanDiegoZoo" id="1453110110599868418" >}}', "https://x.com/SanDiegoZoo/status/1453110110599868418"),
    ("{{< tweet 1453110110599868418 >}}", "https://x.com/i/status/1453110110599868418"),
    ('{{< twitter user="a" id="1" >}}', "https://x.com/a/status/1"),
    ('{{< twitter_simple user="a" id="1" >}}', "https://x.com/a/status/1"),
    ("{{< vimeo_simple 55073825 >}}", "https://vimeo.com/55073825"),
    ('{{< gist spf13 7896402 "img.html" >}}', "https://gist.github.com/spf13/7896402#file-img-html"),
    ("{{< bilibili BV1Sx411T7QQ 2 >}}", "https://www.bilibili.com/video/BV1Sx411T7QQ/?p=2"),
    ("{{< bilibili id=BV1TJ411C7An >}}", "https://www.bilibili.com/video/BV1TJ411C7An/?p=1"),
    ("{{< douyin 7153210534549162254 >}}", "https://www.douyin.com/video/7153210534549162254"),
    ("{{< spotify track 5ozeE4hXkEcBvuaiOFpFLY >}}", "https://open.spotify.com/track/5ozeE4hXkEcBvuaiOFpFLY"),
    ('{{< bluesky link="https://bsky.app/profile/a/post/b" >}}', "https://bsky.app/profile/a/post/b"),
    ("{{< music netease song 1868553 >}}", "https://music.163.com/#/song?id=1868553"),
    ('{{< music server=tencent type=playlist id=77 >}}', "https://y.qq.com/n/ryqq/playlist/77"),
    ('{{< music "https://music.163.com/#/playlist?id=60198" >}}', "https://music.163.com/#/playlist?id=60198"),
    ('{{< music auto="https://music.163.com/#/playlist?id=1" >}}', "https://music.163.com/#/playlist?id=1"),
    ("{{< mapbox 121.485 31.233 12 >}}", "https://www.openstreetmap.org/?mlat=31.233&mlon=121.485#map=12/31.233/121.485"),
])
def test_an_embed_is_a_link_to_the_service_by_default(call: str, href: str) -> None:
    result = expand(call)
    assert result.errors == []
    box = only(result.tree())
    assert "embed-placeholder" in box.attrs["class"].split()
    link = box.find("a")
    assert (link.attrs["href"], link.attrs["rel"]) == (href, "noopener noreferrer")
    assert result.ctx.scripts == [] and not box.find_all("iframe") and not box.find_all("script")


def test_music_file_plays_in_the_browsers_own_player_loading_nothing_first() -> None:
    figure = rendered('{{< music url="/music/w.mp3" name=Wavelength artist=oldmanyoung cover="https://x.org/c.jpg" >}}')
    assert figure.find("audio").attrs == {"controls": "", "preload": "none", "src": "/music/w.mp3"}
    assert figure.find("figcaption").text() == "Wavelength – oldmanyoung" and not figure.find_all("img")


def test_echarts_names_its_chart_and_reports_bad_data() -> None:
    result = expand('{{< echarts >}}\n{"title": {"text": "Sales"}, "series": []}\n{{< /echarts >}}')
    box = only(result.tree())
    assert "embed-placeholder" in box.attrs["class"] and box.find(class_="echarts-title").text() == "Sales"
    yaml_chart = only(expand("{{< echarts >}}\ntitle:\n  - text: From YAML\n{{< /echarts >}}").tree())
    assert yaml_chart.find(class_="echarts-title").text() == "From YAML"
    (error,) = expand('{{< echarts >}}\n{"title": oops}\n{{< /echarts >}}').errors
    assert error.startswith("content/posts/here.md:4:1: shortcode 'echarts': its body is invalid JSON")


def test_a_site_that_opts_in_gets_the_players() -> None:
    video = rendered("{{< bilibili BV1Sx411T7QQ 2 >}}", site=EMBEDS_ON)
    assert video.attrs["class"] == "bilibili embed-ratio"
    assert video.find("iframe").attrs["src"] == "https://player.bilibili.com/player.html?bvid=BV1Sx411T7QQ&page=2&autoplay=0"
    tube = rendered("{{< youtube id=abc start=5 >}}", site=EMBEDS_ON).find("iframe").attrs["src"]
    assert tube == "https://www.youtube.com/embed/abc?autoplay=0&controls=1&end=0&loop=0&mute=0&start=5"
    result = expand("{{< music netease song 1868553 >}}", site=EMBEDS_ON)
    player = only(result.tree())
    assert (player.tag, player.attrs["server"], player.attrs["type"], player.attrs["id"]) == (
        "meting-js", "netease", "song", "1868553")
    assert "Meting.min.js" in result.ctx.scripts[0]
    chart = expand('{{< echarts 50% 10rem >}}\n{"series": []}\n{{< /echarts >}}', site=EMBEDS_ON)
    div = chart.tree().find("div", class_="echarts")
    assert div.attrs["style"] == "width: 50%; height: 10rem;"
    assert json.loads(chart.tree().find("script", type="application/json").text()) == {"series": []}
    assert any("echarts.min.js" in s for s in chart.ctx.scripts)
    osm = rendered("{{< mapbox lng=2.35 lat=48.85 zoom=10 height=10rem >}}", site=EMBEDS_ON)
    assert osm.attrs["style"] == "width: 100%; height: 10rem;"
    assert "marker=48.85,2.35" in osm.find("iframe").attrs["src"]


def test_opting_in_is_per_service() -> None:
    site = FakeSite(params={"embeds": {"youtube": True}})
    assert rendered("{{< youtube abc >}}", site=site).find_all("iframe")
    assert "embed-placeholder" in rendered("{{< vimeo 1 >}}", site=site).attrs["class"]
    not_a_yes = FakeSite(params={"embeds": "yes"})  # only true opts in
    assert "embed-placeholder" in rendered("{{< youtube abc >}}", site=not_a_yes).attrs["class"]


def test_the_theme_documentation_fixture_loads_nothing_from_other_sites() -> None:
    """Every element that would fetch something (iframe, script, stylesheet, player, picture)
    points at the site itself, and every audio waits for the reader."""
    result = expand((SC_FIXTURES / "theme-shortcodes.md").read_text(encoding="utf-8"))
    assert result.errors == []
    tree = result.tree()
    assert not tree.find_all("iframe") and not tree.find_all("meting-js") and not tree.find_all("script")
    for element in tree.iter():
        if element.tag in ("img", "audio", "source", "video"):
            source = element.attrs.get("src", "")
            assert not source.startswith(("http:", "https:", "//")) or element.attrs.get("class") == "u-photo photo"
        if element.tag in ("audio", "video"):
            assert element.attrs["preload"] == "none"
    assert all("http" not in script for script in result.ctx.scripts)
    assert len(tree.find_all(class_="embed-placeholder")) == 19


def test_link_card_shows_title_address_and_icon() -> None:
    card = rendered('{{< link "https://lruihao.cn/x" "Blog" "T" true "/icon.png" >}}')
    assert card.attrs["class"] == "card-link" and card.attrs["rel"] == "noopener noreferrer"
    assert [card.find(class_=c).text() for c in ("cl-title", "cl-url")] == ["Blog", "lruihao.cn/x"]
    assert card.find("img", class_="cl-shortcut-image").attrs["src"] == "/icon.png"
    assert rendered('{{< link href="https://a.org" noreferrer=false >}}').attrs["rel"] == "noopener"


def test_timeline_lists_events_in_time_order() -> None:
    body = ("{{< timeline reverse=true placement=top >}}\nevents:\n  - timestamp: 2024-07-19 20:30\n"
            "    content: \"**Bold** event\"\n    type: primary\n  - timestamp: 2024-07-20\n    content: Second\n"
            "    color: \"#0CBD87\"\n    placement: bottom\n  - timestamp: 2023-01-01\n    content: Hidden time\n"
            "    hideTimestamp: true\n{{< /timeline >}}")
    timeline = rendered(body)
    items = timeline.find_all("li", class_="fi-timeline-item")
    assert [i.find(class_="fi-timeline-item__content").text() for i in items] == ["Second", "Bold event", "Hidden time"]
    assert [[c.attrs["class"] for c in i.children if isinstance(c, Element)] for i in items] == [
        ["fi-timeline-item__content", "fi-timeline-item__timestamp is-bottom"],
        ["fi-timeline-item__timestamp is-top", "fi-timeline-item__content"],
        ["fi-timeline-item__content"],
    ]
    assert "--timeline-circle-color: #0CBD87" in items[0].attrs["style"] and items[1].attrs["data-type"] == "primary"
    assert items[1].find("strong").text() == "Bold"
    events = "events:\n  - timestamp: 1\n    content: a\n"
    positional = rendered("{{< timeline false bottom true >}}\n" + events + "{{< /timeline >}}")
    assert "data-animation" in positional.attrs


def test_file_tree_folds_folders_below_the_level_and_lists_folders_first() -> None:
    body = ('{{< file-tree level=1 folder_slash=true ignore_list="node_modules" highlight_list="package.json" >}}\n'
            "- name: app\n  type: dir\n  children:\n    - name: package.json\n      type: file\n"
            "    - name: src\n      type: dir\n      children:\n        - name: index.ts\n"
            "    - name: node_modules\n      type: dir\n{{< /file-tree >}}")
    tree = rendered(body)
    folders = tree.find_all("details")
    assert [("open" in d.attrs, d.find("summary").text()) for d in folders] == [(True, "app/"), (False, "src/")]
    top = folders[0].find("ul", class_="file-tree")
    names = [li.find(class_="file-tree-label__inner").text() for li in top.children if isinstance(li, Element)]
    assert names == ["src/", "package.json"]  # folders first; node_modules ignored
    assert "is-highlighted" in tree.find(class_="is-highlighted").attrs["class"]
    toml = rendered('{{< file-tree >}}\n[[filetree]]\nname = "a.txt"\ntype = "file"\n{{< /file-tree >}}')
    assert toml.find(class_="file-tree-label__inner").text() == "a.txt"
    unread = expand("{{< file-tree path=\"content\" />}}")
    assert unread.errors == [] and "body only" in str(unread.ctx.diagnostics.warnings[0])


def test_reward_shows_each_way_behind_a_button() -> None:
    reward = rendered('{{< reward wechatpay="/w.gif" alipay="/a.gif" author="Me" comment="Thanks" >}}')
    box_id = reward.find("input", class_="reward-input").attrs["id"]
    assert reward.find("label", class_="reward-button").attrs["for"] == box_id
    assert [(i.attrs["src"], i.attrs["alt"]) for i in reward.find_all("img")] == [
        ("/w.gif", "Me WeChat Pay"), ("/a.gif", "Me Alipay")]
    assert reward.find(class_="comment").text() == "Thanks"


def test_unmarshal_tells_json_toml_and_yaml_apart_as_hugo() -> None:
    assert unmarshal('{"a": [1, 2]}') == {"a": [1, 2]}
    toml_ending_in_an_array = '[title]\ntext = "x"\n[legend]\ndata = [\n  "a"\n]'
    assert unmarshal(toml_ending_in_an_array) == {"title": {"text": "x"}, "legend": {"data": ["a"]}}
    assert unmarshal("title:\n  text: a = b") == {"title": {"text": "a = b"}}
    for bad in ('{"a": oops}', "a = [", "a: [", "[1, 2"):
        with pytest.raises(ValueError):
            unmarshal(bad)


def test_echarts_js_option_is_kept_as_code_for_the_browser() -> None:
    body = "{{< echarts js=true >}}\n{ title: { text: 'JS </script>' } }\n{{< /echarts >}}"
    assert "embed-placeholder" in rendered(body).attrs["class"]
    result = expand(body, site=EMBEDS_ON)
    script = result.tree().find("script", type="text/plain")
    assert script.attrs["data-fmt"] == "js" and script.text() == "{ title: { text: 'JS <\\/script>' } }"


def test_qr_draws_the_code_at_build_time_inside_the_page() -> None:
    image = rendered('{{< qr text="https://gohugo.io" alt="QR" class="qr" level=high scale=3 />}}')
    assert image.attrs["src"].startswith("data:image/svg+xml")
    assert (image.attrs["alt"], image.attrs["class"]) == ("QR", "qr")
    size = int(image.attrs["width"])
    assert size == int(image.attrs["height"]) and size % 3 == 0  # whole modules of 3 pixels
    bigger = rendered('{{< qr text="https://gohugo.io" level=high scale=6 />}}')
    assert int(bigger.attrs["width"]) == 2 * size
    from_body = rendered("{{< qr >}}\nhttps://gohugo.io\n{{< /qr >}}")
    assert from_body.attrs["src"] == rendered('{{< qr text="https://gohugo.io" />}}').attrs["src"]
    (error,) = expand("{{< qr text=x level=best />}}").errors
    assert "qr: level must be one of low, medium, quartile, high" in error


def test_fixit_encryptor_never_publishes_its_body() -> None:
    result = expand('{{< fixit-encryptor "password" >}}\nsecret text\n{{< /fixit-encryptor >}}')
    assert "cannot encrypt" in result.errors[0] and "secret" not in result.html()


def test_embeds_all_with_exceptions() -> None:
    site = FakeSite(params={"embeds": {"all": True, "x": False}})
    assert rendered("{{< vimeo 1 >}}", site=site).find_all("iframe")
    assert "embed-placeholder" in rendered('{{< x user="a" id="1" >}}', site=site).attrs["class"]


def test_admonition_titled_tilde_has_no_title_bar_as_in_fixit() -> None:
    box = rendered('{{< admonition tip "~" >}}\nJust the body\n{{< /admonition >}}')
    assert (box.tag, box.attrs["class"]) == ("div", "admonition tip untitled")
    assert not box.find_all(class_="admonition-title") and box.find("p").text() == "Just the body"
