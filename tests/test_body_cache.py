"""Page bodies reused from the cache exactly when nothing they depend on has changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from qed.bodies import render_bodies
from qed.body_cache import BodyCache
from qed.config import load_config
from qed.content import ContentOptions, load_site
from qed.errors import BuildFailed, Diagnostics
from qed.pipeline import BuildOptions, build_site
from qed.templates import create_environment
from tests.conftest import page

SITE = {
    "content/posts/a.md": "---\ntitle: A\ndate: 2024-01-02\n---\nSee [B]({{< relref \"b.md\" >}}) and $x^2$.\n",
    "content/posts/b.md": "---\ntitle: B\ndate: 2024-01-01\n---\n{{< note >}}Bee{{< /note >}}\n",
    "content/posts/c.md": "---\ntitle: C\ndate: 2024-01-03\n---\nA set $\\\\{x\\\\}$ written for Hugo.\n",
    "layouts/shortcodes/note.html": "<aside class=\"note\">{{ inner }}</aside>\n",
}


def build(site: Path, **options) -> tuple[list[str], list[str]]:
    """Build in this process; (progress lines, warnings)."""
    said: list[str] = []
    result = build_site(BuildOptions(source=site, jobs=1, **options), said.append)
    return said, [str(w) for w in result.warnings]


def rendered(said: list[str]) -> str:
    return next(line for line in said if line.startswith("rendering "))


def test_an_unchanged_site_renders_no_body_and_an_edit_only_its_page(make_site):
    site = make_site(SITE)
    assert rendered(build(site)[0]) == "rendering 3 of 3 pages"
    assert rendered(build(site)[0]) == "rendering 0 of 3 pages"
    (site / "content/posts/b.md").write_text(SITE["content/posts/b.md"].replace("Bee", "Wasp"))
    assert rendered(build(site)[0]) == "rendering 1 of 3 pages"
    assert page(site, "posts/b/index.html").find("aside", class_="note").text() == "Wasp"
    assert rendered(build(site, clean=True)[0]) == "rendering 3 of 3 pages"


def test_a_template_or_another_pages_url_change_renders_again(make_site):
    site = make_site(SITE)
    build(site)
    (site / "layouts/shortcodes/note.html").write_text("<aside class=\"note changed\">{{ inner }}</aside>\n")
    assert rendered(build(site)[0]) == "rendering 3 of 3 pages"
    assert page(site, "posts/b/index.html").find("aside", class_="changed")
    (site / "content/posts/b.md").write_text(SITE["content/posts/b.md"].replace("title: B", "title: B\nslug: bee"))
    build(site)
    links = {a.text(): a.attrs["href"] for a in page(site, "posts/a/index.html").find("article").find_all("a")}
    assert links["B"] == "/posts/bee/"


def test_a_reused_body_still_reports_its_warnings_and_errors_are_never_reused(make_site):
    site = make_site(SITE)
    warned = [w for w in build(site)[1] if "double-escaped" in w]
    again = [w for w in build(site)[1] if "double-escaped" in w]
    assert warned == again and len(again) == 1 and again[0].startswith("content/posts/c.md:")
    (site / "content/posts/b.md").write_text("---\ntitle: B\n---\n{{< nosuch >}}\n")
    for _ in range(2):
        with pytest.raises(BuildFailed) as failure:
            build(site)
        assert "unknown shortcode 'nosuch'" in str(failure.value.errors[0])


def test_an_unchanged_page_is_read_in_outline_and_whole_only_when_finished_again(make_site):
    """A warm build reads what every page defines (labels, claims, messages), not every
    page's HTML and formulas; a page typeset and finished again gets its whole body."""
    site_dir = make_site(SITE)
    build(site_dir)
    site = load_site(load_config(site_dir, Diagnostics()), ContentOptions(), Diagnostics())
    pages = [p for p in site.all_pages if p.file is not None]
    cache = BodyCache(site.config.cache_dir / "bodies.sqlite")
    outlines = cache.lookup(site, pages)
    assert cache.outlined == set(outlines) == {"posts/a.md", "posts/b.md", "posts/c.md"}
    a = outlines["posts/a.md"]
    assert a.content == "" and len(a.math.formulas) == 1
    whole = cache.full("posts/a.md")
    assert "x^2" in whole.math.formulas[0].tex and whole.content and whole.labels == a.labels


def test_fresh_bodies_come_back_in_outline_and_the_cache_gives_them_whole(make_site, tmp_path):
    """No process holds every page's HTML: render_bodies stores each body and returns its
    outline; finishing reads the whole body back."""
    site_dir = make_site(SITE)
    diagnostics = Diagnostics()
    site = load_site(load_config(site_dir, diagnostics), ContentOptions(), diagnostics)
    cache = BodyCache(tmp_path / "bodies.sqlite")
    bodies = render_bodies(site, create_environment(site_dir, site.base_url), diagnostics, cache=cache)
    assert [body.content for body in bodies] == ["", "", ""]
    assert cache.outlined == {"posts/a.md", "posts/b.md", "posts/c.md"}
    whole = cache.full("posts/b.md")
    assert "Bee" in "".join(whole.html_blocks.values()) and whole.content and whole.claims == bodies[1].claims
    assert len(bodies[0].math.formulas) == len(cache.full("posts/a.md").math.formulas) == 1
