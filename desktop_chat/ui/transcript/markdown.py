"""Markdown for the transcript: CommonMark + GFM tables and strikethrough, as HTML for QTextDocument.

Safety: raw HTML is shown as text; only http, https and mailto links become anchors (others stay plain
text); images are never fetched: `![alt](url)` becomes "[image: alt]" with the URL as an ordinary link.

Streaming: `BlockSplitter` cuts a growing text into top-level blocks with their source spans. Every block
but the last is final (a later line cannot change it), so a view renders it once and caches it by its
source; only the open tail is parsed again per update, whatever the length of the text before it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from desktop_chat.markdown_parser import image_label, is_safe_url, parser
from desktop_chat.ui.transcript.highlight import highlight_html, language_of

if TYPE_CHECKING:  # markdown-it (~35 ms) is imported on the first render, after the window's first paint
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict


def normalize(text: str) -> str:
    """Line ends and NULs as markdown-it sees them, so source offsets match the parser's lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\0", "\ufffd") if "\0" in text else text


@dataclass(frozen=True, slots=True)
class HtmlColors:
    """The colours the HTML needs (hex strings), part of every cache key."""

    link: str = "#0b62c4"
    muted: str = "#6a737d"
    code_bg: str = "#eff1f3"
    border: str = "#c8ccd0"
    header_bg: str = "#f3f4f6"
    dark: bool = False
    mono: str = "monospace"


@dataclass(frozen=True, slots=True)
class Block:
    """One top-level markdown block: its source (trailing blank lines included) and where it starts."""

    source: str
    start: int
    kind: str  # the opening token's type: paragraph_open, fence, table_open, heading_open, ...
    info: str = ""  # a fence's info string
    refs: tuple[tuple[str, str, str], ...] = ()  # link reference definitions known before this block

    @property
    def end(self) -> int:
        """Offset just after the block's source."""
        return self.start + len(self.source)

    @property
    def is_code(self) -> bool:
        """A fenced or indented code block."""
        return self.kind in ("fence", "code_block")

    @property
    def code(self) -> str:
        """The code of a code block (without fences), as the copy button copies it."""
        if not self.is_code:
            return ""
        tokens = _md().parse(self.source)
        return next((t.content for t in tokens if t.type in ("fence", "code_block")), "")


def _md() -> MarkdownIt:
    return parser(_renderer_class())


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


def _references(env: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    refs = env.get("references") or {}
    return tuple(sorted((k, v.get("href", ""), v.get("title", "")) for k, v in refs.items()))


def split_blocks(text: str, *, refs: tuple[tuple[str, str, str], ...] = ()) -> list[Block]:
    """`text` (already normalized) as top-level blocks covering it from the first block to the end."""
    env: dict[str, Any] = {"references": {k: {"href": h, "title": t} for k, h, t in refs}} if refs else {}
    tokens = _md().parse(text, env)
    starts = _line_starts(text)
    heads: list[tuple[int, Token]] = []
    for token in tokens:
        if token.level == 0 and token.nesting >= 0 and token.map is not None:
            heads.append((starts[min(token.map[0], len(starts) - 1)], token))
    known = _references(env) if env.get("references") else refs  # every definition in the text
    return [
        Block(
            text[start : heads[i + 1][0] if i + 1 < len(heads) else len(text)], start, t.type, t.info, known
        )
        for i, (start, t) in enumerate(heads)
    ]


class BlockSplitter:
    """Top-level blocks of a text that grows at its end; only the open tail is parsed again.

    A block is final once the next block has started on a complete line (a partial last line may still
    turn out to continue the block before it). `generation` changes when the text stopped extending the
    final blocks (another text), so a consumer knows to drop what it built from them.
    """

    def __init__(self) -> None:
        self.final: list[Block] = []  # read-only for consumers; only ever extended within a generation
        self.tail: list[Block] = []  # the open blocks (one, or two while a new one starts on the last line)
        self.generation = 0
        self.parsed_chars = 0  # how much text the last update parsed (tests and benchmarks)
        self._prefix = ""  # the text the final blocks cover
        self._text = ""
        self._refs: tuple[tuple[str, str, str], ...] = ()

    def blocks(self) -> list[Block]:
        """Every block of the last text."""
        return [*self.final, *self.tail]

    def update(self, text: str) -> None:
        """Split `text`: the final blocks are kept while `text` extends them, the rest is parsed again."""
        text = normalize(text)
        if text is self._text or text == self._text:
            self.parsed_chars = 0
            return
        if not text.startswith(self._prefix):
            self._prefix, self.final, self._refs = "", [], ()
            self.generation += 1
        base = len(self._prefix)
        tail = text[base:]
        self.parsed_chars = len(tail)
        blocks = [
            Block(b.source, b.start + base, b.kind, b.info, b.refs)
            for b in split_blocks(tail, refs=self._refs)
        ]
        if not blocks and tail.strip():  # e.g. only link definitions so far
            blocks = [Block(tail, base, "paragraph_open")]
        last_line = text.rfind("\n") + 1  # blocks starting on a partial last line prove nothing yet
        done = 0
        while done + 1 < len(blocks) and blocks[done + 1].start < last_line:
            done += 1
        if done:
            self.final.extend(blocks[:done])
            self._prefix = text[: blocks[done].start]
            self._refs = blocks[done].refs
        self.tail = blocks[done:]
        self._text = text


# ---------------------------------------------------------------------------------------- rendering


@lru_cache(maxsize=1)
def _renderer_class() -> type:
    """The renderer class (defined on first use: its base class comes with markdown-it)."""
    from markdown_it.renderer import RendererHTML

    class _QtRenderer(RendererHTML):
        """HTML in the subset QTextDocument understands, with the transcript's safety rules."""

        def __init__(self, parser: Any = None) -> None:
            super().__init__(parser)

        @staticmethod
        def _colors(env: EnvType) -> HtmlColors:
            colors = env.get("colors")
            return colors if isinstance(colors, HtmlColors) else HtmlColors()

        def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            token = tokens[idx]
            alt = html.escape(self.renderInlineAsText(token.children or [], options, env))
            src = str(token.attrGet("src") or "")
            label = image_label(alt)
            if not is_safe_url(src):
                return html.escape(label)
            return f'<a href="{html.escape(src)}">{label}</a>'

        def code_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            c = self._colors(env)
            code = html.escape(tokens[idx].content, quote=False).replace(" ", "&nbsp;")
            style = f"background-color:{c.code_bg}; font-family:{c.mono}"
            return f'<code style="{style}">&nbsp;{code}&nbsp;</code>'

        def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            token = tokens[idx]
            return self._code(token.content, language_of(token.info), env)

        def code_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            return self._code(tokens[idx].content, "", env)

        def _code(self, code: str, language: str, env: EnvType) -> str:
            c = self._colors(env)
            code = code[:-1] if code.endswith("\n") else code
            body = (
                html.escape(code, quote=False)
                if env.get("plain_code")
                else highlight_html(code, language, dark=c.dark)
            )
            return f'<pre style="white-space:pre-wrap; font-family:{c.mono}">{body}</pre>\n'

        def table_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            c = self._colors(env)
            return (
                f'<table border="1" cellspacing="0" cellpadding="5" '
                f'style="border-collapse:collapse; border-color:{c.border}; border-style:solid">\n'
            )

        def th_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            c = self._colors(env)
            return f'<th{self._align(tokens[idx])} style="background-color:{c.header_bg}">'

        def td_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            return f"<td{self._align(tokens[idx])}>"

        @staticmethod
        def _align(token: Token) -> str:
            style = str(token.attrGet("style") or "")
            return f' align="{style.split(":", 1)[1]}"' if style.startswith("text-align:") else ""

        def blockquote_open(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            c = self._colors(env)
            return f'<blockquote style="color:{c.muted}; margin-left:14px; margin-right:0px">'

        def hr(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
            return "<hr />\n"

    return _QtRenderer


STYLE_SHEET = """
p, ul, ol, pre, table, blockquote, h1, h2, h3, h4, h5, h6 { margin-top: 0px; margin-bottom: 0px; }
li { margin-top: 2px; margin-bottom: 2px; }
li p { margin-bottom: 4px; }
h1 { font-size: x-large; } h2 { font-size: large; } h3 { font-size: medium; }
h4, h5, h6 { font-size: medium; }
"""


def style_sheet(colors: HtmlColors) -> str:
    """The default style sheet of every block's document."""
    return f"{STYLE_SHEET}\na {{ color: {colors.link}; }}\n"


def block_html(
    source: str, colors: HtmlColors, refs: tuple[tuple[str, str, str], ...] = (), *, plain_code: bool = False
) -> str:
    """One block (or any markdown) as HTML for QTextDocument (the transcript caches the documents).
    `plain_code` leaves code unhighlighted (a long code block still streaming)."""
    env: dict[str, Any] = {"colors": colors, "plain_code": plain_code}
    if refs:
        env["references"] = {k: {"href": h, "title": t} for k, h, t in refs}
    return str(_md().render(source, env))


def to_html(text: str, colors: HtmlColors | None = None) -> str:
    """A whole text as HTML (tests and one-off uses; the transcript renders block by block)."""
    return str(_md().render(normalize(text), {"colors": colors or HtmlColors()}))
