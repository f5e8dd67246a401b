"""The command line as a user runs it: builds, flags, one-line errors with locations, exit codes."""

import os
import subprocess
import sys

from tests.conftest import build, page, run_qed

POST = """
---
title: "Chain rule"
date: 2024-03-01
tags: [calculus, "machine learning"]
---
Some **prose** about derivatives.

```python
def grad(f):
    return f
```
"""


def test_build_writes_a_browsable_site(make_site):
    site = make_site({"content/posts/chain.md": POST, "content/posts/draft.md": "---\ntitle: WIP\ndraft: true\n---\n"})
    result = build(site)
    assert "built" in result.stderr
    home = page(site, "index.html")
    assert [a.attrs["href"] for a in home.find_all("a") if a.text() == "Chain rule"] == ["/posts/chain/"]
    assert "WIP" not in home.text()
    post = page(site, "posts/chain/index.html")
    assert post.find("h1").text() == "Chain rule"
    assert post.find("time").attrs["datetime"].startswith("2024-03-01")
    assert post.find("span", class_="reading-time").text() == "1 min read"
    assert [a.text() for a in post.find("ul", class_="tags").find_all("a")] == ["#calculus", "#machine learning"]
    assert post.find("div", class_="highlight").find("span", class_="k").text() == "def"
    assert (site / "public/tags/machine-learning/index.html").is_file()
    assert (site / "public/index.xml").is_file() and (site / "public/sitemap.xml").is_file()


def test_drafts_appear_only_with_D(make_site):
    site = make_site({"content/posts/draft.md": "---\ntitle: WIP\ndraft: true\n---\nx\n"})
    result = build(site)
    assert not (site / "public/posts/draft").exists()
    assert "1 draft left out (-D to include)" in result.stderr  # a missing post is not a mystery
    result = build(site, "-D")
    assert (site / "public/posts/draft/index.html").is_file()
    assert "left out" not in result.stderr


def test_a_ref_to_a_draft_says_it_is_a_draft(make_site):
    site = make_site({"content/posts/draft.md": "---\ntitle: WIP\ndraft: true\n---\nx\n",
                      "content/posts/a.md": '---\ntitle: A\n---\nSee [it]({{< ref "posts/draft.md" >}}).\n'})
    result = run_qed(site)
    assert result.returncode == 1
    assert 'content/posts/a.md:4:10: ref: page "posts/draft.md" not found (it is a draft: -D includes it)' \
        in result.stderr.splitlines()


def test_errors_are_one_line_each_with_location_and_exit_1(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\ndraft: sometimes\n---\n",
                      "content/b.md": "---\ntitle: [unclosed\n---\n"})
    result = run_qed(site)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "content/a.md:3:1: 'draft' must be true or false"
    assert lines[1].startswith("content/b.md:2:17:")  # where the list should have been closed
    assert "Traceback" not in result.stderr
    assert lines[-1] == "build failed with 2 errors; the last good site is untouched"


def test_a_failed_build_leaves_the_last_good_site(make_site):
    site = make_site({"content/a.md": "---\ntitle: Good\n---\nfine\n"})
    build(site)
    before = (site / "public/a/index.html").read_text()
    (site / "content/a.md").write_text("---\ntitle: Broken\ndate: never\n---\n")
    assert run_qed(site).returncode == 1
    assert (site / "public/a/index.html").read_text() == before
    assert sorted(p.name for p in site.iterdir()) == [".qed-cache", "content", "public"]  # only the cache beside


def test_a_template_error_fails_the_build_halfway_and_keeps_public(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\nx\n"})
    build(site)
    (site / "layouts").mkdir()
    (site / "layouts/single.html").write_text("{% extends 'baseof.html' %}\n{% block main %}\n{{ page.nope }}\n"
                                              "{% endblock %}\n")
    result = run_qed(site)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("layouts/single.html:3: template error:")
    assert (site / "public/a/index.html").is_file()


def test_a_hugo_layout_is_named_before_any_slow_stage(make_site):
    """A Hugo site brought over with its Go layouts: every one is reported, with what to do,
    before verifiers or KaTeX run (the claim's verifier does not even exist)."""
    site = make_site({
        "content/a.md": "---\ntitle: A\n---\n{{< theorem verify=\"nowhere:f\" >}}$x${{< /theorem >}}\n",
        "layouts/_default/single.html": '{{ define "main" }}<h1>{{ .Title }}</h1>{{ end }}\n',
        "layouts/partials/head.html": "<title>{{ .Site.Title }}</title>\n",
    })
    result = run_qed(site)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["layouts/_default/single.html", "layouts/partials/head.html"]
    assert all("Hugo (Go) template" in line for line in lines[:2])
    assert "nowhere" not in result.stderr


def test_site_layouts_override_the_theme(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\nx\n",
                      "layouts/single.html": "<p class='mine'>{{ page.title }}</p>"})
    build(site)
    assert page(site, "a/index.html").find("p", class_="mine").text() == "A"


def test_destination_base_url_and_source_flags(make_site, tmp_path):
    site = make_site({"content/a.md": "---\ntitle: A\n---\nx\n"})
    out = tmp_path / "elsewhere"
    result = run_qed(tmp_path, "build", "-s", str(site), "-d", str(out), "-b", "https://x.org/sub/")
    assert result.returncode == 0, result.stderr
    html = (out / "a/index.html").read_text()
    assert 'href="https://x.org/sub/a/"' in html and 'href="/sub/css/main.css"' in html


def test_refuses_to_build_into_the_site_folder(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n"})
    result = run_qed(site, "build", "-d", ".")
    assert result.returncode == 1
    assert "refusing to build into" in result.stderr and "site folder itself" in result.stderr
    assert (site / "content/a.md").is_file()


def test_quiet_prints_nothing_on_success(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n"})
    assert build(site, "--quiet").stderr == ""


def test_new_creates_a_post_from_the_archetype(make_site):
    site = make_site({"content/.keep": ""})
    result = run_qed(site, "new", "posts/my-first-note.md")
    assert result.returncode == 0, result.stderr
    text = (site / "content/posts/my-first-note.md").read_text()
    assert 'title: "My first note"' in text and "draft: true" in text
    again = run_qed(site, "new", "posts/my-first-note.md")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_a_broken_archetype_is_a_located_error(make_site):
    site = make_site({"content/.keep": "", "archetypes/default.md": "---\ntitle: {{ title \n---\n"})
    result = run_qed(site, "new", "posts/x.md")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()  # one line, and no "build failed": nothing was being built
    assert line.startswith("archetypes/default.md:3:1: archetype template error")
    (site / "archetypes/default.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    result = run_qed(site, "new", "posts/x.md")
    assert result.returncode == 1 and result.stderr.startswith("archetypes/default.md:2:11: not UTF-8")
    assert not (site / "content/posts/x.md").exists()


def test_version_and_help(make_site):
    site = make_site({"content/.keep": ""})
    assert run_qed(site, "version").stdout.startswith("qed ")
    as_module = subprocess.run([sys.executable, "-m", "qed", "version"], cwd=site, capture_output=True, text=True)
    assert as_module.stdout == run_qed(site, "version").stdout
    help_text = run_qed(site, "build", "--help").stdout
    for flag in ("--drafts", "--future", "--expired", "--destination", "--base-url", "--clean", "--quiet", "--debug"):
        assert flag in help_text


def test_missing_content_folder_is_a_clear_error(make_site):
    site = make_site({"README.txt": "not a site"})
    result = run_qed(site)
    assert result.returncode == 1 and "no content/ folder here" in result.stderr


def test_summary_line_when_not_a_terminal(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n"})
    result = build(site)
    assert result.stderr.startswith("built ") and os.linesep not in result.stderr.strip()


def test_errors_are_listed_by_file_then_line(make_site):
    site = make_site({"content/b.md": "---\ntitle: B\n---\n{{< nosuch >}}\n",
                      "content/a.md": "---\ntitle: A\n---\n\n{{< nosuch >}}\n{{< nosuch >}}\n"})
    result = run_qed(site)
    places = [line.split(": ", 1)[0] for line in result.stderr.splitlines() if line.startswith("content/")]
    assert places == ["content/a.md:5:1", "content/a.md:6:1", "content/b.md:4:1"]


def test_errors_of_a_file_are_listed_top_to_bottom(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n{{< notr >}}\ntext\n{{< /note >}}\n"})
    result = run_qed(site)
    lines = [line for line in result.stderr.splitlines() if line.startswith("content/a.md:")]
    assert [line.split(":")[1] for line in lines] == ["4", "6"]
    assert "did you mean 'note'" in lines[0] or "notr" in lines[0]


def test_a_file_with_many_errors_shows_the_first_twenty_and_counts_the_rest(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\n---\n" + "{{< nosuch >}}\n" * 30,
                      "content/b.md": "---\ntitle: B\n---\n{{< nosuch >}}\n"})
    result = run_qed(site)
    lines = result.stderr.splitlines()
    shown = [int(line.split(":")[1]) for line in lines if line.startswith("content/a.md:") and "unknown" in line]
    assert shown == list(range(4, 24))
    assert "content/a.md: 10 more errors in this file not shown" in lines
    assert any(line.startswith("content/b.md:4:1: unknown shortcode") for line in lines)
    assert "build failed with 31 errors" in result.stderr and result.returncode == 1


def tree(folder):
    """Every file and folder below `folder`, with the size, time and mode of files: what a write changes."""
    return {str(path.relative_to(folder)): "folder" if path.is_dir() else
            (path.lstat().st_size, path.lstat().st_mtime_ns, path.lstat().st_mode) for path in folder.rglob("*")}


def test_check_writes_nothing_but_its_caches_and_the_junit_file_asked_for(make_site, tmp_path):
    site = make_site({
        "content/posts/a/index.md": '---\ntitle: A\ntags: [x]\n---\n$x^2$\n\n'
                                    '{{< theorem id="thm:a" verify="sq:check" >}}$x^2 \\ge 0${{< /theorem >}}\n',
        "content/posts/a/data.csv": "1,2\n",
        "static/robots.txt": "User-agent: *\n",
        "verifiers/sq.py": "from qed import verifier\nfrom helper import square\n\n\n@verifier\n"
                           "def check():\n    assert square(3) == 9\n",
        "verifiers/helper.py": "def square(x):\n    return x * x\n",
    })
    build(site)
    (site / "content/posts/a/index.md").write_text((site / "content/posts/a/index.md").read_text() + "\nMore.\n")
    before = tree(tmp_path)
    assert run_qed(site, "check").returncode == 0
    assert run_qed(site, "check", "--junit", "results/junit.xml").returncode == 0
    after = tree(tmp_path)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert {name for name in changed if not name.startswith("site/.qed-cache")} == {
        "site/results", "site/results/junit.xml"}
    cache = {name.split("/")[2] for name in changed if name.startswith("site/.qed-cache/")}
    assert cache <= {"katex.sqlite", "bodies.sqlite", "texts.sqlite", "verification", "hypothesis"}, cache
