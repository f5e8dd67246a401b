"""`qed new`: a content file made from an archetype, as `hugo new` does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2

from qed.errors import Location, QedError, display_path, read_source
from qed.templates import theme_dir


def create_content(site_root: Path, relative: str, now: dt.datetime) -> Path:
    """Write content/RELATIVE from the section's archetype (or default.md); never overwrite."""
    relative = relative.removeprefix("content/")
    target = (site_root / "content" / relative).resolve()
    if not target.is_relative_to((site_root / "content").resolve()) or target.suffix != ".md":
        raise QedError(f"'{relative}' must be a .md path inside content/, e.g. posts/my-note.md")
    if target.exists():
        raise QedError(f"{target.relative_to(site_root)} already exists; not overwriting it")
    archetype = _find_archetype(site_root, relative.split("/", 1)[0] if "/" in relative else "")
    title = target.stem.replace("-", " ").replace("_", " ").capitalize()
    shown = display_path(archetype, site_root)
    source = read_source(archetype, shown)
    try:
        text = jinja2.Template(source.text, keep_trailing_newline=True).render(
            title=title, date=now.isoformat(timespec="seconds"), name=target.stem)
    except jinja2.TemplateSyntaxError as exc:
        raise QedError(f"archetype template error: {exc.message}", Location(shown, exc.lineno or 0, 1)) from None
    except jinja2.TemplateError as exc:
        raise QedError(f"archetype template error: {exc}", Location(shown, 1, 1)) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def _find_archetype(site_root: Path, section: str) -> Path:
    """Hugo's order: the site's archetypes/, then the theme's, section-specific before default."""
    folders = [site_root / "archetypes", theme_dir(site_root) / "archetypes"]
    names = [f"{section}.md", "default.md"] if section else ["default.md"]
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    raise QedError("no archetype found (looked for archetypes/default.md in the site and the theme)")
