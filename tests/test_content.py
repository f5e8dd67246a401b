"""The content model: URLs by Hugo's rules, publishing rules, ordering, sections and taxonomies."""

import datetime as dt
import random

import pytest

from qed.config import load_config
from qed.content import ContentOptions, load_site, sort_pages, urlize
from qed.errors import Diagnostics
from tests.conftest import write_files

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def load(tmp_path, files, **options):
    write_files(tmp_path, files)
    diagnostics = Diagnostics()
    site = load_site(load_config(tmp_path, diagnostics), ContentOptions(now=NOW, **options), diagnostics)
    return site, diagnostics


def paths(site):
    return {p.source_path: p.path for p in site.all_pages if p.source_path}


def test_pretty_urls_slug_url_and_bundles(tmp_path):
    site, diagnostics = load(tmp_path, {
        "content/posts/My First Post.md": "---\ntitle: A\n---\n",
        "content/posts/b.md": "---\nslug: custom-name\n---\n",
        "content/posts/c.md": "---\nurl: /elsewhere/page\n---\n",
        "content/posts/bundle/index.md": "---\ntitle: B\n---\n",
        "content/posts/_index.md": "---\ntitle: All posts\n---\n",
        "content/about.md": "---\ntitle: About\n---\n",
    })
    assert not diagnostics.errors
    assert paths(site) == {
        "posts/My First Post.md": "/posts/my-first-post/",
        "posts/b.md": "/posts/custom-name/",
        "posts/c.md": "/elsewhere/page/",
        "posts/bundle/index.md": "/posts/bundle/",
        "posts/_index.md": "/posts/",
        "about.md": "/about/",
    }
    bundle = next(p for p in site.pages if p.source_path == "posts/bundle/index.md")
    assert bundle.bundle_dir == tmp_path / "content/posts/bundle"
    assert bundle.output_path == "posts/bundle/index.html"


def test_permalink_patterns_from_config(tmp_path):
    site, _ = load(tmp_path, {
        "config.yaml": "permalinks:\n  posts: /:year/:month/:slug/\n",
        "content/posts/x.md": "---\ntitle: Chain Rule!\ndate: 2024-03-05\n---\n",
        "content/posts/y.md": "---\ntitle: Y\nslug: why\ndate: 2023-12-01\n---\n",
    })
    assert paths(site) == {"posts/x.md": "/2024/03/chain-rule/", "posts/y.md": "/2023/12/why/"}


def test_base_url_with_a_path_prefixes_rel_permalinks(tmp_path):
    site, _ = load(tmp_path, {"config.yaml": "baseURL: https://me.github.io/notes/\n",
                              "content/posts/x.md": "---\ntitle: X\n---\n"})
    page = site.pages[0]
    assert page.path == "/posts/x/"
    assert page.rel_permalink == "/notes/posts/x/"
    assert page.permalink == "https://me.github.io/notes/posts/x/"


def test_two_pages_with_one_url_is_an_error_at_the_second(tmp_path):
    _, diagnostics = load(tmp_path, {"content/a.md": "---\nurl: /same/\n---\n",
                                     "content/b.md": "---\ntitle: B\nurl: /same/\n---\n"})
    assert [str(e) for e in diagnostics.errors] == ["content/b.md:3:1: URL /same/ is also used by content/a.md"]


@pytest.mark.parametrize(("front", "flag", "published"), [
    ("draft: true", {}, False),
    ("draft: true", {"drafts": True}, True),
    ("date: 2030-01-01", {}, False),
    ("date: 2030-01-01", {"future": True}, True),
    ("publishDate: 2030-01-01\ndate: 2020-01-01", {}, False),
    ("expiryDate: 2024-01-01", {}, False),
    ("expiryDate: 2024-01-01", {"expired": True}, True),
    ("expiryDate: 2026-01-01", {}, True),
])
def test_drafts_future_and_expired_pages_are_left_out_unless_asked(tmp_path, front, flag, published):
    site, _ = load(tmp_path, {"content/p.md": f"---\ntitle: P\n{front}\n---\n"}, **flag)
    assert bool(site.pages) is published


def test_hugo_ordering_weight_then_date_then_title(tmp_path):
    site, _ = load(tmp_path, {
        "content/a.md": "---\ntitle: Alpha\ndate: 2020-01-01\n---\n",
        "content/b.md": "---\ntitle: Beta\ndate: 2024-01-01\n---\n",
        "content/c.md": "---\ntitle: Gamma\ndate: 2024-01-01\n---\n",
        "content/d.md": "---\ntitle: Delta\nweight: 2\n---\n",
        "content/e.md": "---\ntitle: Epsilon\nweight: 1\ndate: 2000-01-01\n---\n",
    })
    assert [p.title for p in site.pages] == ["Epsilon", "Delta", "Beta", "Gamma", "Alpha"]
    assert [p.title for p in sort_pages(list(reversed(site.pages)))] == [p.title for p in site.pages]


def test_sections_and_taxonomies(tmp_path):
    site, _ = load(tmp_path, {
        "content/posts/a.md": "---\ntitle: A\ntags: [Machine Learning, math]\ncategories: [notes]\n---\n",
        "content/posts/b.md": "---\ntitle: B\ntags: [math]\n---\n",
        "content/notes/c.md": "---\ntitle: C\n---\n",
    })
    assert list(site.sections) == ["notes", "posts"]
    assert [p.title for p in site.sections["posts"].pages] == ["A", "B"]
    assert {term: [p.title for p in pages] for term, pages in site.taxonomies["tags"].items()} == {
        "Machine Learning": ["A"], "math": ["A", "B"]}
    term_paths = {p.path for p in site.taxonomy_pages}
    assert {"/tags/", "/tags/machine-learning/", "/tags/math/", "/categories/", "/categories/notes/"} <= term_paths


def test_unknown_front_matter_keys_become_params_as_in_hugo(tmp_path):
    site, _ = load(tmp_path, {"content/p.md": "---\ntitle: P\nauthor: Ann\nparams:\n  mood: calm\n---\n"})
    assert site.pages[0].params == {"author": "Ann", "mood": "calm"}


def test_wrong_field_types_are_errors_at_the_key_line(tmp_path):
    _, diagnostics = load(tmp_path, {"content/p.md": "---\ntitle: P\ndraft: maybe\nweight: heavy\ndate: soon\n---\n"})
    assert [str(e) for e in diagnostics.errors] == [
        "content/p.md:3:1: 'draft' must be true or false",
        "content/p.md:4:1: 'weight' must be a whole number",
        "content/p.md:5:1: 'date': expected a date like 2024-05-01 or 2024-05-01T10:00:00Z, got 'soon'",
    ]


def test_errors_of_several_files_are_all_collected(tmp_path):
    _, diagnostics = load(tmp_path, {"content/a.md": "---\ntitle: [\n---\n", "content/b.md": "+++\nx = \n+++\n"})
    assert [e.location.path for e in diagnostics.errors] == ["content/a.md", "content/b.md"]


def test_get_page_follows_hugo_ref_forms(tmp_path):
    site, _ = load(tmp_path, {"content/posts/x.md": "---\ntitle: X\n---\n",
                              "content/posts/b/index.md": "---\ntitle: B\n---\n"})
    x = site.get_page("posts/x.md")
    assert x is not None and x.title == "X"
    assert site.get_page("/posts/x") is x and site.get_page("x") is x and site.get_page("x.md") is x
    assert site.get_page("posts/b").title == "B"
    assert site.get_page("posts/missing.md") is None


def test_urlize_matches_hugo():
    assert urlize("Machine Learning") == "machine-learning"
    assert urlize("Café au lait!") == "cafe-au-lait"


@pytest.mark.parametrize(("front", "line", "message"), [
    ("tags: [x, '..']", 3, "tags term '..': URL /tags/../ has a '.', '..' or empty part"),
    ("tags:\n  - ../posts", 3, "tags term '../posts': URL /tags/../posts/ has a '.', '..'"),
    ("categories: ['']", 3, "categories term '': URL /categories// has a '.', '..' or empty part"),
    ("slug: ../../escape", 3, "slug: URL /posts/../../escape/ has a '.', '..'"),
    ("url: /a/../../etc/x/", 3, "url: URL /a/../../etc/x/ has a '.', '..'"),
    ("aliases: [/../../outside/]", 3, "alias /../../outside/: URL /../../outside/ has a '.', '..'"),
    ("url: \"/a\\x01b/\"", 3, "url: URL /a\x01b/ has a control character or a backslash"),
])
def test_urls_that_would_leave_their_folder_are_refused_at_their_line(tmp_path, front, line, message):
    _, diagnostics = load(tmp_path, {"content/posts/a.md": f"---\ntitle: A\n{front}\n---\n",
                                     "content/posts/b.md": "---\ntitle: B\n---\n"})
    assert len(diagnostics.errors) == 1
    error = diagnostics.errors[0]
    assert (str(error.location), error.message[:len(message)]) == (f"content/posts/a.md:{line}:1", message)


@pytest.mark.parametrize(("files", "where", "message"), [
    ({"content/a.md": "---\ntitle: A\nurl: /tags/math/\n---\n", "content/b.md": "---\ntitle: B\nTags: [Math]\n---\n"},
     "content/b.md:3:1", "URL /tags/math/ is also used by content/a.md"),
    ({"content/posts/a.md": "---\ntitle: A\naliases: [/posts/]\n---\n"},
     "content/posts/a.md:3:1", "alias /posts/ would overwrite the section posts"),
    ({"content/a.md": "---\ntitle: A\nurl: /\n---\n"}, "content/a.md:3:1", "URL / is also used by the home page"),
    ({"content/a.md": "---\ntitle: A\nurl: /x.html\n---\n", "content/b.md": "---\ntitle: B\nurl: /x.html/b/\n---\n"},
     "content/b.md:3:1", "URL /x.html/b/ is also used by content/a.md"),
])
def test_pages_and_aliases_written_over_another_page_are_refused(tmp_path, files, where, message):
    _, diagnostics = load(tmp_path, files)
    assert [(str(e.location), e.message) for e in diagnostics.errors] == [(where, message)]


def test_terms_spelled_differently_with_one_url_are_one_term(tmp_path):
    site, diagnostics = load(tmp_path, {"content/a.md": "---\ntitle: A\ntags: [Math, math]\n---\n",
                                        "content/b.md": "---\ntitle: B\ntags: [math]\n---\n"})
    assert not diagnostics.errors
    assert {term: [p.title for p in pages] for term, pages in site.taxonomies["tags"].items()} == {"Math": ["A", "B"]}


def test_related_pages_share_tags_and_neighbours_are_the_older_and_newer_post(tmp_path) -> None:
    site, _ = load(tmp_path, {
        "content/posts/a.md": "---\ntitle: A\ndate: 2024-01-01\ntags: [x, y]\n---\n",
        "content/posts/b.md": "---\ntitle: B\ndate: 2024-01-02\ntags: [x]\n---\n",
        "content/posts/c.md": "---\ntitle: C\ndate: 2024-01-03\ntags: [X, y]\n---\n",
        "content/posts/d.md": "---\ntitle: D\ndate: 2024-01-04\n---\n",
        "content/about.md": "---\ntitle: About\ntags: [x]\n---\n",
    })
    by_title = {p.title: p for p in site.pages}
    assert [p.title for p in site.related(by_title["A"])] == ["C", "B", "About"]
    assert site.related(by_title["D"]) == []
    assert [p and p.title for p in site.neighbours(by_title["B"])] == ["A", "C"]
    assert [p and p.title for p in site.neighbours(by_title["D"])] == ["C", None]
    assert site.neighbours(by_title["About"]) == (None, None)


def test_related_pages_rank_as_defined_on_a_larger_site(tmp_path) -> None:
    """The tag index gives what the definition says: most shared tags, then the site's order."""
    rng = random.Random(7)
    tags = ["a", "b", "c", "d", "e", "f"]
    site, _ = load(tmp_path, {
        f"content/posts/p{i:02}.md": f"---\ntitle: P{i}\ndate: 2024-01-{1 + i % 28:02}\n"
                                     f"tags: {rng.sample(tags + [t.upper() for t in tags], rng.randint(0, 4))}\n---\n"
        for i in range(60)})

    def by_definition(page, limit=5):
        mine = {t.lower() for t in page.tags}
        ranked = sorted((-len(mine & {t.lower() for t in other.tags}), index, other)
                        for index, other in enumerate(site.pages) if other is not page)
        return [other for shared, _, other in ranked if shared][:limit]

    assert sum(1 for page in site.pages if site.related(page)) > 40
    for page in site.pages:
        assert site.related(page) == by_definition(page)
        assert site.related(page, limit=2) == by_definition(page, limit=2)


def test_an_index_file_in_a_taxonomy_folder_gives_that_list_page_its_title_as_in_hugo(tmp_path):
    """LoveIt's exampleSite has content/tags/_index.md: the tags page's front matter, not a section."""
    site, diagnostics = load(tmp_path, {"content/tags/_index.md": "---\ntitle: All tags\n---\nEvery tag.\n",
                                        "content/tags/math/_index.md": "---\ntitle: Mathematics\n---\n",
                                        "content/posts/a.md": "---\ntitle: A\ntags: [Math]\n---\n"})
    assert not diagnostics.errors
    assert "tags" not in site.sections
    by_path = {p.path: p for p in site.taxonomy_pages}
    assert (by_path["/tags/"].kind, by_path["/tags/"].title) == ("taxonomy", "All tags")
    assert (by_path["/tags/math/"].kind, by_path["/tags/math/"].title) == ("term", "Mathematics")
    assert [p.title for p in by_path["/tags/math/"].pages] == ["A"]


def test_translations_by_file_name_build_the_default_language_only(tmp_path):
    """Hugo's `index.en.md` / `index.zh-cn.md`: the default language's file is the page, at the
    URL the file without its suffix has; another language's is not read (qed builds one)."""
    site, diagnostics = load(tmp_path, {
        "config.yaml": "title: T\ndefaultContentLanguage: en\nlanguages: {en: {weight: 1}, zh-cn: {weight: 2}}\n",
        "content/posts/a/index.en.md": "---\ntitle: A\n---\n",
        "content/posts/a/index.zh-cn.md": "---\ntitle: 甲\n---\n",
        "content/posts/b.en.md": "---\ntitle: B\n---\n",
        "content/posts/b.zh-cn.md": "---\ntitle: 乙\n---\n",
        "content/posts/v1.2.md": "---\ntitle: Version\n---\n",  # not a language: a file name with a dot
        "content/tags/x/_index.zh-cn.md": "---\ntitle: 标签\n---\n"})
    assert not diagnostics.errors
    assert sorted((p.title, p.path) for p in site.pages) == [
        ("A", "/posts/a/"), ("B", "/posts/b/"), ("Version", "/posts/v1.2/")]


def test_a_leaf_bundle_at_the_top_is_a_page_not_a_section(tmp_path):
    site, diagnostics = load(tmp_path, {"content/about/index.md": "---\ntitle: About\n---\n",
                                        "content/about/me.png": "png",
                                        "content/posts/a/index.md": "---\ntitle: A\n---\n"})
    assert not diagnostics.errors
    assert set(site.sections) == {"posts"}
    assert {p.title: (p.path, p.section) for p in site.pages} == {"About": ("/about/", ""), "A": ("/posts/a/", "posts")}
