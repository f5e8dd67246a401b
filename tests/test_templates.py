"""Templates: Hugo's lookup order, a site's layouts over the theme's, errors at the template line."""

from __future__ import annotations

from qed.config import load_config
from qed.content import ContentOptions, Page, load_site
from qed.errors import Diagnostics
from qed.templates import create_environment, favicons, lookup_names, menu_items
from tests.conftest import page, run_qed


def test_lookup_follows_hugos_order_most_specific_first():
    single = Page(kind="page", source_path="posts/x.md", section="posts", layout="wide")
    assert lookup_names(single) == ["posts/wide.html", "posts/single.html", "_default/wide.html",
                                    "_default/single.html", "wide.html", "single.html"]
    home = Page(kind="home", source_path="")
    assert lookup_names(home) == ["_default/home.html", "_default/index.html", "_default/list.html",
                                  "home.html", "index.html", "list.html"]


def test_a_sites_layout_replaces_the_themes_and_filters_are_there(make_site):
    site = make_site({"config.yaml": "title: T\nbaseURL: https://x.org/notes/\n",
                      "content/posts/p.md": "---\ntitle: P\ndate: 2024-01-02\n---\nBody\n",
                      "layouts/single.html": '<p class="mine">{{ page.title }} {{ "a/" | relurl }} '
                                             '{{ page.date | date("%Y") }}</p>'})
    assert run_qed(site).returncode == 0
    assert page(site, "posts/p/index.html").find("p", class_="mine").text() == "P /notes/a/ 2024"


def test_a_go_template_is_an_error_at_its_line_with_a_hint(make_site):
    site = make_site({"config.yaml": "title: T\n", "content/p.md": "---\ntitle: P\n---\nx\n",
                      "layouts/single.html": "<h1>\n{{ .Title }}</h1>\n"})
    result = run_qed(site)
    assert result.returncode == 1
    assert result.stderr.startswith("layouts/single.html:2: template error:") and "Jinja2" in result.stderr


def test_urls_that_could_run_code_are_refused_as_hugo_refuses_them(make_site):
    site = make_site({"config.yaml": "title: T\n", "content/p.md": (
        '---\ntitle: P\n---\n{{< figure src="javascript:alert(1)" link=" JaVa\tScript:x()" caption="c" >}}\n\n'
        '{{< figure src="data:text/html,x" >}}\n\n{{< figure src="/img/a.png" link="https://x.org/" >}}\n')})
    assert run_qed(site).returncode == 0
    tree = page(site, "p/index.html")
    assert [img.attrs["src"] for img in tree.find_all("img")] == ["#ZgotmplZ", "#ZgotmplZ", "/img/a.png"]
    assert [a.attrs["href"] for a in tree.find("article").find_all("a") if a.find("img")] == [
        "#ZgotmplZ", "https://x.org/"]


def test_a_sites_own_favicon_replaces_the_themes(tmp_path) -> None:
    assert favicons(tmp_path) == [("favicon.svg", "image/svg+xml"), ("favicon.ico", "image/x-icon")]
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "favicon.png").write_bytes(b"\x89PNG")
    assert favicons(tmp_path) == [("favicon.png", "image/png")]


def test_menu_entries_follow_hugos_order_and_page_refs(make_site) -> None:
    root = make_site({"config.yaml": """
        menu:
          main:
            - {name: About, url: /about/}
            - {name: Posts, pageRef: posts, weight: 2}
            - {name: Home, url: /, weight: 1}
        """, "content/posts/_index.md": "---\ntitle: All posts\n---\n"})
    site = load_site(load_config(root, Diagnostics()), ContentOptions(), Diagnostics())
    assert menu_items(site) == [("Home", "/"), ("Posts", "/posts/"), ("About", "/about/")]


def test_the_header_shows_the_logo_the_menu_and_the_sites_own_favicon(make_site) -> None:
    site = make_site({"config.yaml": """
        title: Notes
        baseURL: https://x.org/notes/
        params:
          header: {title: {logo: /images/logo.svg}}
        menu:
          main: [{name: Everything, pageRef: posts, weight: 1}]
        """, "content/posts/_index.md": "---\ntitle: Posts\n---\n", "content/posts/a.md": "---\ntitle: A\n---\nx\n",
        "static/favicon.ico": "ico"})
    result = run_qed(site)
    assert result.returncode == 0, result.stderr
    home = page(site, "index.html")
    header = home.find("header", class_="site-header")
    assert header.find("img", class_="site-logo").attrs["src"] == "/notes/images/logo.svg"
    assert [(a.text(), a.attrs["href"]) for a in header.find("nav").find_all("a")] == [("Everything", "/notes/posts/")]
    assert [link.attrs["href"] for link in home.find_all("link") if link.attrs.get("rel") == "icon"] == [
        "/notes/favicon.ico"]


def test_compiled_templates_are_kept_between_builds_and_follow_their_source(tmp_path) -> None:
    layout = tmp_path / "layouts" / "partials" / "greeting.html"
    layout.parent.mkdir(parents=True)
    layout.write_text("Hello {{ name }}", encoding="utf-8")
    cache = tmp_path / ".qed-cache"

    def render() -> str:
        env = create_environment(tmp_path, "/", cache_dir=cache)
        return env.get_template("partials/greeting.html").render(name="reader")

    assert render() == "Hello reader"
    kept = sorted(path.name for path in cache.glob("templates-*/*"))
    assert kept  # compiled once, written for the next build
    assert render() == "Hello reader"
    assert sorted(path.name for path in cache.glob("templates-*/*")) == kept
    layout.write_text("Goodbye {{ name }}", encoding="utf-8")  # a changed layout is compiled again
    assert render() == "Goodbye reader"
    (cache / next(iter(cache.glob("templates-*"))).name / kept[0]).write_bytes(b"damaged")
    assert render() == "Goodbye reader"
    create_environment(tmp_path, "/", cache_dir=cache, clear=True)  # --clean
    assert not list(cache.glob("templates-*/*"))
