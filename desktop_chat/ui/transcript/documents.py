"""Markdown blocks as laid-out QTextDocuments, and the cache that keeps them (`BlockDocs`).

A block is rendered once per (source, width, theme and font, muted) and kept in an LRU cache bounded by
the memory its documents hold (`DOC_CACHE_BYTES`, estimated by `doc_cost`), so a long transcript renders
each final block a single time while it is in reach; the open tail of a stream is rendered without
caching (it changes every frame). Documents never load anything (`SafeDocument`).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import ClassVar

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument, QTextOption

from desktop_chat.ui.transcript.markdown import Block, block_html, style_sheet
from desktop_chat.ui.transcript.style import TranscriptStyle

CODE_PAD = 8  # around a code block's text, inside its box
# What a laid-out QTextDocument holds, measured (RSS over 1,000 documents, offscreen): 50 KiB for a
# 300-character paragraph, 123 KiB for 2,000 characters, 244 KiB for 8,000. A cache counted in documents
# (1,500 of them) grew a long session's memory by up to 180 MiB, so the caches count estimated bytes.
DOC_BYTES = 40 * 1024
CHAR_BYTES = 32
DOC_CACHE_BYTES = 24 * 1024 * 1024
TAIL_HIGHLIGHT_LIMIT = 4000  # a longer code block is highlighted once it is final, not on every update


class SafeDocument(QTextDocument):
    """A document that never loads anything: no remote images, no files. Everything shown is in its HTML."""

    requested: ClassVar[deque[str]] = deque(maxlen=256)  # what Qt asked for lately (tests check it)

    def loadResource(self, type: int, name: QUrl | str) -> object:
        """Refuse every resource (and remember the request)."""
        SafeDocument.requested.append(name.toString() if isinstance(name, QUrl) else name)
        return None


def doc_cost(chars: int) -> int:
    """The estimated memory of a laid-out document of `chars` characters."""
    return DOC_BYTES + CHAR_BYTES * chars


def make_document(
    html_text: str, style: TranscriptStyle, width: float, *, mono: bool = False
) -> QTextDocument:
    """A laid-out document for some HTML at `width` pixels."""
    doc = SafeDocument()
    doc.setUndoRedoEnabled(False)
    doc.setDocumentMargin(0)
    doc.setDefaultFont(style.mono if mono else style.font)
    doc.setDefaultStyleSheet(style_sheet(style.html))
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    doc.setHtml(html_text)
    doc.setTextWidth(max(1.0, width))
    return doc


@dataclass(eq=False, slots=True)
class RenderedBlock:
    """A markdown block as a laid-out document, and the height of its box (code chrome included)."""

    block: Block
    doc: QTextDocument
    height: int
    bar: int = 0  # a code block's strip (language, Copy) above its text
    plain: bool = False  # code left unhighlighted while it streamed: render again once final

    @property
    def cost(self) -> int:
        """The estimated memory its document holds."""
        return doc_cost(len(self.block.source))

    @property
    def is_code(self) -> bool:
        """A code block (drawn in a box with its language and a Copy button)."""
        return self.block.is_code


def code_bar_height(style: TranscriptStyle) -> int:
    """The strip above a code block's text (language, Copy)."""
    return style.small_line + 8


class BlockDocs:
    """Rendered blocks, LRU-cached by (source, width, theme and font, muted), within `capacity` bytes."""

    def __init__(self, capacity: int = DOC_CACHE_BYTES) -> None:
        self._cache: OrderedDict[tuple[object, ...], RenderedBlock] = OrderedDict()
        self._capacity = capacity
        self.bytes = 0  # the estimated memory of the cached documents
        self.renders = 0  # how many blocks were rendered (tests, benchmarks)
        self.rendered_sources: list[str] = []  # filled only when `record` is set (tests)
        self.record = False

    def get(
        self,
        block: Block,
        width: int,
        style: TranscriptStyle,
        *,
        muted: bool = False,
        rendered: RenderedBlock | None = None,
    ) -> RenderedBlock:
        """The block rendered at `width`: from the cache, else `rendered` (the same block rendered while it
        was the open tail), else rendered now. Either way it is cached from then on."""
        key = (block.source, block.refs, width, style.key, muted)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        if rendered is None or rendered.plain or rendered.block.source != block.source:
            rendered = self.render(block, width, style, muted=muted)
        self._cache[key] = rendered
        self.bytes += rendered.cost
        while self.bytes > self._capacity and self._cache:
            self.bytes -= self._cache.popitem(last=False)[1].cost
        return rendered

    def cached(
        self, block: Block, width: int, style: TranscriptStyle, *, muted: bool = False
    ) -> RenderedBlock | None:
        """The block as rendered before, if it is in the cache (nothing is rendered or added)."""
        return self._cache.get((block.source, block.refs, width, style.key, muted))

    def render(
        self, block: Block, width: int, style: TranscriptStyle, *, muted: bool = False, tail: bool = False
    ) -> RenderedBlock:
        """Render a block (not cached: the open tail of a stream changes every frame)."""
        self.renders += 1
        if self.record:
            self.rendered_sources.append(block.source)
        plain = tail and block.is_code and len(block.source) > TAIL_HIGHLIGHT_LIMIT
        html_text = block_html(block.source, style.html, block.refs, plain_code=plain)
        if muted:
            html_text = f'<div style="color:{style.html.muted}">{html_text}</div>'
        if block.is_code:
            doc = make_document(html_text, style, width - 2 * CODE_PAD, mono=True)
            bar = code_bar_height(style)
            return RenderedBlock(block, doc, bar + round(doc.size().height()) + CODE_PAD, bar, plain)
        doc = make_document(html_text, style, width)
        return RenderedBlock(block, doc, round(doc.size().height()))

    def clear(self) -> None:
        """Forget every rendered block."""
        self._cache.clear()
        self.bytes = 0
