"""The theme's words in the site's language (qed/i18n.py): the data file, a site's own
i18n/ files, the choice of language, and admonition titles in a built zh-cn site."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from qed.i18n import i18n_dirs, load_translations, site_language
from qed.templates import default_theme_dir
from tests.conftest import build, page, run_qed, write_files

THEME_WORDS = load_translations([default_theme_dir() / "i18n"])
ADMONITION_TYPES = ("note", "abstract", "info", "tip", "success", "question", "warning", "failure",
                    "danger", "bug", "example", "quote")


def config(**raw: str) -> SimpleNamespace:
    return SimpleNamespace(raw=raw)


def test_every_language_loveit_ships_names_every_admonition_type() -> None:
    languages = [name for name in THEME_WORDS.table]
    assert len(languages) == 26 and {"en", "zh-cn", "zh-tw", "ja", "pt-br", "ru"} <= set(languages)
    for language in languages:
        for kind in ADMONITION_TYPES:
            assert THEME_WORDS.table[language].get(kind), (language, kind)


@pytest.mark.parametrize(("language", "words"), [
    ("zh-cn", ["注意", "信息", "引用", "新增"]),
    ("zh-CN", ["注意", "信息", "引用", "新增"]),
    ("zh", ["注意", "信息", "引用", "新增"]),
    ("de", ["Notiz", "Info", "Zitat", "NEU"]),
    ("fr-FR", ["Remarque", "Info", "Citation", "NOUVEAU"]),
    ("pt", ["Nota", "Info", "Citação", "NOVO"]),
    ("en-us", ["Note", "Info", "Quote", "NEW"]),
    ("xx", ["Note", "Info", "Quote", "NEW"]),
])
def test_words_follow_the_language_with_region_and_script_fallbacks(language: str, words: list[str]) -> None:
    assert [THEME_WORDS.translate(key, language) for key in ("note", "info", "quote", "new")] == words


def test_traditional_chinese_scripts_and_regions_read_the_zh_tw_words() -> None:
    for language in ("zh-TW", "zh-Hant", "zh-HK"):
        assert THEME_WORDS.translate("question", language) == "問題"
    assert THEME_WORDS.translate("question", "zh-SG") == "问题"


def test_a_word_missing_in_a_language_is_the_english_one() -> None:
    assert THEME_WORDS.translate("deprecated", "de") == "DEPRECATED"
    assert THEME_WORDS.translate("deprecated", "zh-cn") == "弃用"
    assert THEME_WORDS.translate("todo", "zh-tw") == "待辦"  # FixIt's word
    assert THEME_WORDS.translate("no-such-word", "zh-cn") == ""


def test_the_language_is_default_content_language_then_language_code() -> None:
    assert site_language(config(defaultContentLanguage="zh-cn", languageCode="en-US")) == "zh-cn"
    assert site_language(config(defaultContentLanguage="", languageCode="zh_CN")) == "zh-cn"
    assert site_language(config()) == "en" and site_language(None) == "en"


def test_a_site_overrides_words_with_its_own_i18n_files_in_hugos_formats(tmp_path: Path) -> None:
    site = write_files(tmp_path, {
        "i18n/zh-CN.toml": '[note]\nother = "笔记"\n[admonition]\ntodo = "待做"\n',
        "i18n/en.yaml": "tip: Hint\nquote:\n  other: Citation\n",
        "i18n/fr.json": '{"note": "Nota bene"}',
    })
    words = load_translations(i18n_dirs(site, [default_theme_dir()]))
    assert words.translate("note", "zh-cn") == "笔记" and words.translate("info", "zh-cn") == "信息"
    assert words.translate("admonition.todo", "zh-cn") == "待做"
    assert (words.translate("tip", "en"), words.translate("quote", "en")) == ("Hint", "Citation")
    assert words.translate("note", "fr") == "Nota bene"


def test_a_zh_cn_site_shows_the_themes_chinese_titles(make_site) -> None:
    site = make_site({
        "config.toml": 'title = "中文"\nbaseURL = "http://example.org/"\nlanguageCode = "zh-CN"\n'
                       'defaultContentLanguage = "zh-cn"\n',
        "content/posts/a.md": """
            ---
            title: 测试
            ---
            {{< admonition >}}
            默认
            {{< /admonition >}}

            {{< admonition info >}}
            信息
            {{< /admonition >}}

            {{< admonition quote "自己的标题" >}}
            引用
            {{< /admonition >}}

            > [!WARNING]
            > 警告

            {{< version 0.2.0 changed >}}
        """,
    })
    result = build(site)
    assert "has no effect" not in result.stderr  # defaultContentLanguage is read now
    tree = page(site, "posts/a/index.html")
    titles = [box.find(class_="admonition-title").text() for box in tree.find_all(class_="admonition")]
    assert titles == ["注意", "信息", "自己的标题", "警告"]
    assert tree.find(class_="version-label").text() == "更改"


def test_changing_a_sites_words_rebuilds_the_pages_that_show_them(make_site) -> None:
    site = make_site({
        "config.yaml": "title: T\nbaseURL: http://example.org/\ndefaultContentLanguage: zh-cn\n",
        "content/a.md": "---\ntitle: A\n---\n{{< admonition >}}\nbody\n{{< /admonition >}}\n",
    })
    build(site)
    assert page(site, "a/index.html").find(class_="admonition-title").text() == "注意"
    write_files(site, {"i18n/zh-CN.yaml": "note: 笔记\n"})
    build(site)  # the rendered body is cached; the site's words are part of its key
    assert page(site, "a/index.html").find(class_="admonition-title").text() == "笔记"


@pytest.mark.parametrize(("name", "text", "line"), [
    ("zh-CN.toml", '[note]\nother = "a"\nbroken = \n', 3),
    ("de.yaml", "note: Notiz\ntip: [unclosed\n", 3),
    ("fr.json", '{"note": "x",\n "tip": }', 2),
])
def test_a_broken_words_file_is_an_error_at_its_line(make_site, name: str, text: str, line: int) -> None:
    site = make_site({
        "config.yaml": "title: T\n",
        f"i18n/{name}": text,
        "content/a.md": "---\ntitle: A\n---\nx\n",
    })
    result = run_qed(site)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"i18n/{name}:{line}" in result.stderr and "cannot read the translations" in result.stderr


def test_language_code_alone_gives_the_theme_words_of_that_language(make_site) -> None:
    """Checked against Hugo + LoveIt: `languageCode = "zh-CN"` without defaultContentLanguage shows 注意."""
    site = make_site({"config.yaml": "title: t\nlanguageCode: zh-CN\n",
                      "content/posts/a.md": "---\ntitle: a\n---\n{{< admonition note >}}\nx\n{{< /admonition >}}\n"})
    build(site)
    assert "注意" in (site / "public/posts/a/index.html").read_text(encoding="utf-8")
