"""Theorem-like blocks: the `Claim` model, automatic numbering, labels, short references.

A theorem shortcode template calls `ctx.claims.declare(...)` (a `PageClaims`, one per
page); that numbers the block, defines its label for `{{< ref >}}` and returns the
`Claim`, whose badge is written as `marker("claim", claim.key)` and filled in after
verification. Numbers are fixed when the page is read (shared or per-type counters,
reset per page or per `##` section), so references and headings agree.

Nothing here runs a verifier: statuses are computed by `qed.verification`, never
written by the author.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from qed.body import BodyContext, Label
from qed.codemap import CodeMap
from qed.errors import Diagnostics, Location
from qed.markdown import ENV_CTX, ENV_ORIGIN
from qed.options import Option, one_of, read_options

KIND_LABELS: dict[str, str] = {
    "theorem": "Theorem",
    "lemma": "Lemma",
    "proposition": "Proposition",
    "corollary": "Corollary",
    "definition": "Definition",
    "example": "Example",
    "exercise": "Exercise",
    "remark": "Remark",
    "proof": "Proof",
}
STATEMENT_KINDS = frozenset({"theorem", "lemma", "proposition", "corollary"})
"""Kinds that assert something: `strict` requires these to name a verifier."""
UNNUMBERED_KINDS = frozenset({"proof"})

ID_RE = re.compile(r"^[A-Za-z][\w.:-]*$")
_ADMONITION_TITLE_RE = re.compile(
    r"^\s*(?P<kind>" + "|".join(label for label in KIND_LABELS.values()) + r")\b\.?\s*"
    r"(?P<number>\d+(?:\.\d+)*)?\.?\s*(?:\((?P<title>.*)\))?\s*$",
    re.IGNORECASE,
)


OPTIONS = (
    Option("counter", "counter", one_of("shared", "per-type"), "shared",
           "one sequence for every kind (Theorem 1, Lemma 2) or one per kind"),
    Option("reset", "reset", one_of("page", "section"), "page",
           "numbers restart on each page, or at each `##` heading (numbers become 2.3)"),
)


@dataclass(frozen=True)
class TheoremSettings:
    """The site's `theorems:` config: one counter for all kinds or one per kind; reset when."""

    counter: str = "shared"  # "shared" | "per-type"
    reset: str = "page"  # "page" | "section" (each `##` heading; numbers become "2.3")

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None, diagnostics: Diagnostics | None = None,
                    location: Location | None = None) -> TheoremSettings:
        """Validate the raw `theorems:` dict; bad values are reported and replaced by defaults."""
        return cls(**read_options(section, OPTIONS, "theorems", diagnostics, location))


@dataclass(frozen=True)
class Claim:
    """One theorem-like block: what it says, where it is, which verifier checks it."""

    key: str  # marker key: the id, or a generated "claim-<page>-<n>" for blocks without one
    id: str | None
    kind: str  # "theorem", "lemma", ...
    number: str | None  # "3", "2.3"; None for proofs
    title: str | None
    verify: str | None  # "module:function"; None = no verifier
    uses: tuple[str, ...]
    expect_false: bool
    location: Location
    page_url: str  # "/posts/x/" (with the site's base path)
    base_path: str = "/"  # the site's base path, for links to the verification pages
    page_title: str = ""
    statement: str = ""  # the raw inner markdown (shown on the verification page)
    samples: int | None = None  # per-claim overrides from the shortcode
    timeout: float | None = None
    memory: int | None = None  # MB; None = the config's verify.memory
    rtol: float | None = None  # default tolerances of assert_close for this claim
    atol: float | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def heading(self) -> str:
        """"Theorem 3": the block's heading and what a reference prints."""
        return f"{self.label} {self.number}" if self.number else self.label

    @property
    def display(self) -> str:
        """"Theorem 3 (Chain Rule)": used in messages and reports."""
        return f"{self.heading} ({self.title})" if self.title else self.heading

    @property
    def anchor(self) -> str:
        return self.id or self.key

    @property
    def url(self) -> str:
        return f"{self.page_url}#{self.anchor}"

    @property
    def is_statement(self) -> bool:
        return self.kind in STATEMENT_KINDS


@dataclass
class PageClaims:
    """The claims of one page, in order; created by the pipeline as `PageClaims(ctx)`."""

    ctx: BodyContext
    settings: TheoremSettings | None = None
    claims: list[Claim] = field(default_factory=list)
    _counters: dict[tuple[str, int], int] = field(default_factory=dict)
    _section_lines: list[int] | None = None

    def __post_init__(self) -> None:
        if self.settings is None:
            config = getattr(getattr(self.ctx.site, "config", None), "section", None)
            raw = config("theorems") if callable(config) else {}
            self.settings = TheoremSettings.from_config(raw)

    # -- called from templates ---------------------------------------------------------

    def declare(self, kind: str, params: Any, inner: str | None, position: Location) -> Claim | None:
        """Number a block, define its label, remember it; None if the call is unusable.

        `kind` is the shortcode name; for `admonition` the kind and title come from its
        title ("Theorem 2 (Chain Rule)"). Errors go to the page's diagnostics at `position`.
        """
        args = _Args(params)
        kind, title, written_number = self._kind_and_title(kind, args, position)
        if kind is None:
            return None
        claim_id = self._checked_id(args.get("id"), position)
        verify = self._checked_verify(kind, args.get("verify"), position)
        expect_false = self._checked_expect(args.get("expect"), position)
        number = None if kind in UNNUMBERED_KINDS else self._next_number(kind, position)
        if written_number and number and written_number != number:
            self.ctx.diagnostics.warning(
                f"admonition title says {KIND_LABELS[kind]} {written_number}, but it is number {number}",
                position)
        claim = Claim(
            key=claim_id or self._generated_key(),
            id=claim_id,
            kind=kind,
            number=number,
            title=title,
            verify=verify,
            uses=_split_ids(args.get("uses")),
            expect_false=expect_false,
            location=position,
            page_url=getattr(self.ctx.page, "rel_permalink", "/"),
            base_path=self._base_path(),
            page_title=str(getattr(self.ctx.page, "title", "") or ""),
            statement=inner or "",
            samples=self._checked_number("samples", args.get("samples"), int, position),
            timeout=self._checked_number("timeout", args.get("timeout"), float, position),
            memory=self._checked_number("memory", args.get("memory"), int, position),
            rtol=self._checked_number("rtol", args.get("rtol"), float, position),
            atol=self._checked_number("atol", args.get("atol"), float, position),
        )
        for used in claim.uses:
            if not ID_RE.match(used):
                self.ctx.diagnostics.error(f"uses: '{used}' is not a valid id", position)
        self.claims.append(claim)
        if claim_id:
            self.ctx.define_label(Label(claim_id, claim.heading, claim.url, position, "claim"))
        return claim

    # -- helpers -----------------------------------------------------------------------

    def _kind_and_title(self, name: str, args: _Args, position: Location
                        ) -> tuple[str | None, str | None, str | None]:
        if name in KIND_LABELS:
            title = args.get("title", args.positional(0))
            return name, (str(title) if title else None), None
        if name == "admonition":
            text = str(args.get("title", args.positional(1)) or "")
            match = _ADMONITION_TITLE_RE.match(text)
            if match is None:
                self.ctx.diagnostics.error(
                    f"admonition with verify= needs a title like 'Theorem (Name)', got {text!r}", position)
                return None, None, None
            return match.group("kind").lower(), match.group("title"), match.group("number")
        self.ctx.diagnostics.error(f"'{name}' is not a theorem-like block", position)
        return None, None, None

    def _checked_id(self, value: Any, position: Location) -> str | None:
        if value in (None, ""):
            return None
        text = str(value)
        if not ID_RE.match(text):
            self.ctx.diagnostics.error(
                f"id '{text}' must start with a letter and use only letters, digits and _ . : -", position)
            return None
        return text

    def _checked_verify(self, kind: str, value: Any, position: Location) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        if kind in UNNUMBERED_KINDS:
            self.ctx.diagnostics.error("a proof cannot name a verifier; put verify= on the statement", position)
            return None
        if not text:
            self.ctx.diagnostics.error("verify= names nothing; write verify=\"module:function\"", position)
            return None
        return text

    def _checked_expect(self, value: Any, position: Location) -> bool:
        if value is None:
            return False
        text = str(value).strip().lower()
        if text in ("false", "falsified", "no"):
            return True
        if text not in ("true", "yes", ""):
            self.ctx.diagnostics.error(f"expect= must be true or false, got {value!r}", position)
        return False

    def _checked_number(self, name: str, value: Any, kind: type, position: Location) -> Any:
        if value in (None, ""):
            return None
        try:
            number = kind(value)
        except (TypeError, ValueError):
            number = None
        if number is None or number <= 0:
            self.ctx.diagnostics.error(f"{name}= must be a positive number, got {value!r}", position)
            return None
        return number

    def _next_number(self, kind: str, position: Location) -> str:
        assert self.settings is not None
        section = self._section_of(position) if self.settings.reset == "section" else 0
        counter = "*" if self.settings.counter == "shared" else kind
        value = self._counters.get((counter, section), 0) + 1
        self._counters[(counter, section)] = value
        return f"{section}.{value}" if self.settings.reset == "section" else str(value)

    def _section_of(self, position: Location) -> int:
        """How many `##` headings (outside code, as markdown parses the body) precede `position`."""
        if self._section_lines is None:
            self._section_lines = _section_heading_lines(self.ctx.source.text, getattr(self.ctx.page, "body_offset", 0))
        return sum(1 for line in self._section_lines if line < position.line)

    def _generated_key(self) -> str:
        source = str(getattr(self.ctx.page, "source_path", "") or self.ctx.source.path)
        slug = re.sub(r"[^\w.-]+", "-", source).strip("-") or "page"
        return f"claim-{slug}-{len(self.claims) + 1}"

    def _base_path(self) -> str:
        config = getattr(self.ctx.site, "config", None)
        base_url = str(getattr(config, "base_url", "/") or "/")
        path = urlparse(base_url).path if "://" in base_url else base_url
        return path if path.endswith("/") else path + "/"


@dataclass(frozen=True)
class _Args:
    """Named and positional shortcode arguments behind one `get`."""

    params: Any

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default) if isinstance(self.params, Mapping) else default

    def positional(self, index: int) -> Any:
        if isinstance(self.params, (list, tuple)) and len(self.params) > index:
            return self.params[index]
        return None


def _split_ids(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def _section_heading_lines(text: str, body_offset: int) -> list[int]:
    """1-based file lines of the body's `##` headings (front matter is not markdown)."""
    first_line = text.count("\n", 0, body_offset) + 1
    return [first_line + line for line in CodeMap.of(text[body_offset:], with_headings=True).heading_lines(2)]


# ---------------------------------------------------------------------------------------
# Short references in markdown: `@thm:chain-rule` and `[](#thm:chain-rule)`

_AT_REF_RE = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_-]*:[\w.:-]*[\w])")


def reference_plugin(md: Any) -> None:
    """markdown-it plugin: `@thm:x` and `[](#thm:x)` become `ctx.reference` markers.

    Needs `env[ENV_CTX]` (the page's `BodyContext`) and optionally `env[ENV_ORIGIN]`
    (the `Location` of the rendered text's first line) in the render env; without a
    context it leaves the text alone. Only ids with a `prefix:` are matched, so e-mail
    addresses and @mentions stay text; code spans are never touched.
    """
    md.core.ruler.push("qed_references", _rewrite_references)


def _rewrite_references(state: Any) -> None:
    ctx = state.env.get(ENV_CTX) if isinstance(state.env, dict) else None
    if ctx is None:
        return
    origin = state.env.get(ENV_ORIGIN) or Location(ctx.source.path, 1)
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        line = (block.map[0] if block.map else 0) + origin.line
        block.children = _rewrite_children(block.children, ctx, Location(origin.path, line), state)


def _rewrite_children(children: list[Any], ctx: BodyContext, start: Location, state: Any) -> list[Any]:
    from markdown_it.token import Token

    out: list[Any] = []
    line_offset = 0
    i = 0
    while i < len(children):
        token = children[i]
        if token.type in ("softbreak", "hardbreak"):
            line_offset += 1
        href = token.attrGet("href") if token.type == "link_open" else None
        if (isinstance(href, str) and href.startswith("#") and ID_RE.match(href[1:]) and ":" in href
                and i + 1 < len(children) and children[i + 1].type == "link_close"):
            html = Token("html_inline", "", 0)
            html.content = ctx.reference(href[1:], start.shifted(line_offset))
            out.append(html)
            i += 2
            continue
        if token.type == "text" and "@" in token.content:
            out.extend(_split_text(token, ctx, start.shifted(line_offset)))
        else:
            out.append(token)
        i += 1
    return out


def _split_text(token: Any, ctx: BodyContext, where: Location) -> list[Any]:
    from markdown_it.token import Token

    pieces: list[Any] = []
    last = 0
    for match in _AT_REF_RE.finditer(token.content):
        if match.start() > last:
            text = Token("text", "", 0)
            text.content = token.content[last:match.start()]
            pieces.append(text)
        html = Token("html_inline", "", 0)
        html.content = ctx.reference(match.group(1), where)
        pieces.append(html)
        last = match.end()
    if not pieces:
        return [token]
    if last < len(token.content):
        text = Token("text", "", 0)
        text.content = token.content[last:]
        pieces.append(text)
    return pieces
