"""Geometry and painting of one message of the transcript (no widgets: a delegate paints these).

A message is laid out top to bottom: heading, reasoning (a collapsed line that expands to its text), the
body (markdown blocks, with the tool calls where they were made), a transient note, the inline error box
with Retry, and the footer (`< i/n >`, action buttons, model and token usage).

Markdown is rendered block by block into cached QTextDocuments (`BlockDocs`, keyed by block source, width,
theme and font). A `Segment` keeps the rendered final blocks of its text and their offsets; an update
renders only blocks that became final since the last one and the open tail, and a paint draws only the
blocks inside the clip, so the cost of a streaming update does not grow with the answer.
"""

from __future__ import annotations

import bisect
import html
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFontMetrics,
    QPainter,
    QPalette,
    QTextCharFormat,
    QTextDocument,
    QTextOption,
)

from desktop_chat.domain import (
    ApprovalDecision,
    Message,
    ResponseStatus,
    Role,
    ToolCall,
    ToolStatus,
)
from desktop_chat.ui.transcript.markdown import Block, BlockSplitter, block_html, style_sheet
from desktop_chat.ui.transcript.row import TranscriptRow
from desktop_chat.ui.transcript.style import GAP, MARGIN_X, MARGIN_Y, PAD, RADIUS, TranscriptStyle
from desktop_chat.ui.transcript.text import (
    STATUS_GLYPH,
    approval_html,
    short_arguments,
    status_note,
    stop_note,
    text_and_tools,
    tool_details_html,
    tool_status_text,
    usage_text,
)

CODE_PAD = 8
BUTTON_PAD = 7
TOOL_PAD = 6
DOC_CACHE_SIZE = 1500
TAIL_HIGHLIGHT_LIMIT = 4000  # a longer code block is highlighted once it is final, not on every update


class SafeDocument(QTextDocument):
    """A document that never loads anything: no remote images, no files. Everything shown is in its HTML."""

    requested: ClassVar[deque[str]] = deque(maxlen=256)  # what Qt asked for lately (tests check it)

    def loadResource(self, type: int, name: QUrl | str) -> object:
        """Refuse every resource (and remember the request)."""
        SafeDocument.requested.append(name.toString() if isinstance(name, QUrl) else name)
        return None


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
    def is_code(self) -> bool:
        """A code block (drawn in a box with its language and a Copy button)."""
        return self.block.is_code


def code_bar_height(style: TranscriptStyle) -> int:
    """The strip above a code block's text (language, Copy)."""
    return style.small_line + 8


class BlockDocs:
    """Rendered blocks, LRU-cached by (source, width, theme and font, muted)."""

    def __init__(self, capacity: int = DOC_CACHE_SIZE) -> None:
        self._cache: OrderedDict[tuple[object, ...], RenderedBlock] = OrderedDict()
        self._capacity = capacity
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
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
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


class Segment:
    """A run of markdown between tool calls, rendered block by block; final blocks are kept."""

    def __init__(self, *, muted: bool = False) -> None:
        self.muted = muted
        self.splitter = BlockSplitter()
        self.final: list[RenderedBlock] = []
        self.tops: list[int] = []  # top of each final block, from the segment's top
        self.final_height = 0  # final blocks and the gaps after them
        self.tail: list[RenderedBlock] = []
        self.height = 0
        self._generation = -1
        self._form: tuple[object, ...] = ()

    def update(self, text: str, width: int, style: TranscriptStyle, docs: BlockDocs) -> None:
        """Bring the rendered blocks up to `text` (rendering only what became final, and the tail)."""
        form = (width, style.key)
        self.splitter.update(text)
        if form != self._form or self.splitter.generation != self._generation:
            self._form, self._generation = form, self.splitter.generation
            self.final, self.tops, self.final_height, self.tail = [], [], 0, []
        previous_tail = {rb.block.source: rb for rb in self.tail}
        for block in self.splitter.final[len(self.final) :]:
            reused = previous_tail.get(block.source)  # the tail block, now final, was rendered as it is
            rendered = docs.get(block, width, style, muted=self.muted, rendered=reused)
            self.tops.append(self.final_height)
            self.final.append(rendered)
            self.final_height += rendered.height + GAP
        self.tail = [
            self._tail_block(b, previous_tail.get(b.source), width, style, docs) for b in self.splitter.tail
        ]
        tail_height = sum(rb.height + GAP for rb in self.tail)
        self.height = max(0, self.final_height + tail_height - GAP)

    def _tail_block(
        self, block: Block, before: RenderedBlock | None, width: int, style: TranscriptStyle, docs: BlockDocs
    ) -> RenderedBlock:
        if before is not None and before.plain:  # unchanged since the last update: the stream paused or
            return docs.get(block, width, style, muted=self.muted)  # ended, so highlight it now
        if before is not None:
            return before
        cached = docs.cached(block, width, style, muted=self.muted)
        return cached or docs.render(block, width, style, muted=self.muted, tail=True)

    def visible(self, top: int, bottom: int) -> Iterator[tuple[int, RenderedBlock]]:
        """(y, block) for the blocks that overlap [top, bottom) (segment coordinates)."""
        start = max(0, bisect.bisect_right(self.tops, top) - 1)
        for i in range(start, len(self.final)):
            y = self.tops[i]
            if y >= bottom:
                return
            if y + self.final[i].height > top:
                yield y, self.final[i]
        y = self.final_height
        for rb in self.tail:
            if y >= bottom:
                return
            if y + rb.height > top:
                yield y, rb
            y += rb.height + GAP

    def block_at(self, y: int) -> tuple[int, RenderedBlock] | None:
        """The block under `y` (segment coordinates), with its top."""
        for top, rb in self.visible(y, y + 1):
            if top <= y < top + rb.height:
                return top, rb
        return None


@dataclass(frozen=True, slots=True)
class Hit:
    """Something clickable in a message: an action, and what it acts on."""

    action: str  # copy, edit, regenerate, continue, retry, switch, reasoning, tool, code, link
    arg: object = None
    rect: QRect = field(default_factory=QRect, compare=False)
    label: str = field(default="", compare=False)
    enabled: bool = field(default=True, compare=False)


@dataclass(slots=True)
class _Tool:
    call: ToolCall
    y: int
    height: int
    expanded: bool
    details: QTextDocument | None = None
    approval: QTextDocument | None = None  # the question and the full arguments, while it waits


@dataclass(slots=True)
class _Part:
    kind: str  # segment, tool
    y: int
    segment: Segment | None = None
    tool: _Tool | None = None


@dataclass(frozen=True, slots=True)
class PaintState:
    """What a paint needs besides the layout."""

    hover: Hit | None = None
    focused: bool = False
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Ctx:
    """One paint: the painter, the visible part (row coordinates) and the hover/focus/time state."""

    painter: QPainter
    clip: QRect
    state: PaintState


class MessageLayout:
    """Where everything of one message goes at one width, and how it is painted."""

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self.height = 0
        self.width = 0
        self.version = -1
        self.style_key: tuple[object, ...] = ()
        self.hits: list[Hit] = []
        self._style: TranscriptStyle | None = None
        self._docs = BlockDocs(0)
        self._x0 = MARGIN_X + PAD
        self._inner = 0
        self._segments: list[Segment] = []
        self._reasoning = Segment(muted=True)
        self._reasoning_h = 0
        self._parts: list[_Part] = []
        self._details: dict[tuple[object, ...], QTextDocument] = {}
        self._row: TranscriptRow | None = None
        self._note: tuple[int, QTextDocument] | None = None
        self._error: tuple[QRect, QTextDocument] | None = None
        self._empty_y = -1
        self._footer_y = 0
        self._usage = ""
        self._usage_x = 0
        self._switch_label = (QRect(), "")

    def is_current(self, row: TranscriptRow, width: int, style: TranscriptStyle) -> bool:
        """True when the layout already reflects this row at this width and style."""
        return self.version == row.version and self.width == width and self.style_key == style.key

    # ---- layout ------------------------------------------------------------------------------------

    def update(self, row: TranscriptRow, width: int, style: TranscriptStyle, docs: BlockDocs) -> None:
        """Lay the message out again (cheap when only its tail or a status changed)."""
        if self.is_current(row, width, style):
            return
        self._row, self.version, self.width, self.style_key = row, row.version, width, style.key
        self._style, self._docs = style, docs
        self._inner = max(40, width - 2 * (MARGIN_X + PAD))
        self.hits = []
        y = MARGIN_Y + PAD + style.line + 6  # the heading
        y = self._layout_reasoning(row, y)
        y = self._layout_body(row, y)
        y = self._layout_notes(row, y)
        self._footer_y = y
        y = self._layout_footer(row, y)
        self.height = y + PAD + MARGIN_Y

    def _layout_reasoning(self, row: TranscriptRow, y: int) -> int:
        response = row.message.response
        style = self._st
        if response is None or not response.reasoning:
            return y
        width = QFontMetrics(style.small).horizontalAdvance("▾ Reasoning (thinking…)") + 12
        self.hits.append(Hit("reasoning", None, QRect(self._x0, y, width, style.small_line + 4)))
        y += style.small_line + 8
        self._reasoning_h = 0
        if "reasoning" in row.expanded:
            self._reasoning.update(response.reasoning, self._inner - 12, style, self._docs)
            self._reasoning_h = self._reasoning.height
            y += self._reasoning_h + GAP
        return y

    def _layout_body(self, row: TranscriptRow, y: int) -> int:
        message = row.message
        response = message.response
        text = message.text
        calls = sorted(response.tool_calls, key=lambda c: (c.text_offset, c.round)) if response else []
        self._parts = []
        self._empty_y = -1
        if not text.strip() and not calls:
            self._empty_y = y
            return y + self._st.line + GAP
        texts = 0
        for piece in text_and_tools(text, calls):
            if isinstance(piece, ToolCall):
                tool = self._layout_tool(row, piece, y)
                self.hits.append(
                    Hit("tool", piece.id, QRect(self._x0, y, self._inner, self._st.line + 2 * TOOL_PAD))
                )
                self._parts.append(_Part("tool", y, tool=tool))
                y += tool.height + GAP
                continue
            if texts == len(self._segments):
                self._segments.append(Segment())
            segment = self._segments[texts]
            texts += 1
            if piece.strip():
                segment.update(piece, self._inner, self._st, self._docs)
                self._parts.append(_Part("segment", y, segment=segment))
                y += segment.height + GAP
        del self._segments[texts:]
        return y

    def _layout_tool(self, row: TranscriptRow, call: ToolCall, y: int) -> _Tool:
        style = self._st
        tool = _Tool(call, y, style.line + 2 * TOOL_PAD, f"tool:{call.id}" in row.expanded)
        request = row.approvals.get(call.id)
        execution = row.executions.get(call.id)
        if request is None and execution is not None and row.tool_status(call.id) is ToolStatus.RUNNING:
            fm = QFontMetrics(style.small)
            label = "Cancel"
            w = fm.horizontalAdvance(label) + 2 * BUTTON_PAD
            status = tool_status_text(ToolStatus.RUNNING, execution, datetime.now(UTC)) + " 000"
            right = self._x0 + self._inner - TOOL_PAD - fm.horizontalAdvance(f"◔ {status}") - 8
            rect = QRect(right - w, y + TOOL_PAD - 2, w, style.line + 4)
            self.hits.append(Hit("cancel_tool", execution.id, rect, label))
        if request is not None:
            tool.approval = self._doc_for(
                ("approval", call.id, request.arguments),
                lambda: approval_html(call.name, request.arguments),
                self._inner - 2 * TOOL_PAD - 14,
                mono=True,
            )
            tool.height += round(tool.approval.size().height()) + TOOL_PAD
            fm = QFontMetrics(style.small)
            x = self._x0 + TOOL_PAD + 14
            by = y + tool.height
            h = style.small_line + 10
            for decision, label in APPROVAL_BUTTONS:
                w = fm.horizontalAdvance(label) + 2 * BUTTON_PAD + 4
                self.hits.append(Hit("approve", (request.execution_id, decision), QRect(x, by, w, h), label))
                x += w + 6
            tool.height += h + TOOL_PAD
            return tool
        if tool.expanded:
            execution = row.executions.get(call.id)
            result = execution.result if execution is not None else None
            error = execution.error if execution is not None else None
            key = ("tool", call.id, call.arguments, result, error)
            tool.details = self._doc_for(
                key,
                lambda: tool_details_html(call.arguments, result, error),
                self._inner - 2 * TOOL_PAD - 14,
                mono=True,
            )
            tool.height += round(tool.details.size().height()) + TOOL_PAD
        return tool

    def _layout_notes(self, row: TranscriptRow, y: int) -> int:
        message = row.message
        response = message.response
        style = self._st
        note = row.note or stop_note(message)
        self._note = None
        if note:
            doc = self._doc_for(("note", note), lambda: html.escape(note), self._inner)
            self._note = (y, doc)
            y += round(doc.size().height()) + GAP
        self._error = None
        if response is not None and response.status is ResponseStatus.ERROR:
            error = response.error or "The answer failed."
            doc = self._doc_for(("error", error), lambda: html.escape(error), self._inner - 2 * PAD)
            button_h = style.small_line + 6
            box = QRect(self._x0, y, self._inner, PAD + round(doc.size().height()) + 6 + button_h + PAD)
            self._error = (box, doc)
            retry_w = QFontMetrics(style.small).horizontalAdvance("Retry") + 2 * BUTTON_PAD
            retry = QRect(box.left() + PAD, box.bottom() + 1 - PAD - button_h, retry_w, button_h)
            self.hits.append(Hit("retry", None, retry, "Retry"))
            y += box.height() + GAP
        return y

    def _doc_for(
        self, key: tuple[object, ...], make: Callable[[], str], width: int, *, mono: bool = False
    ) -> QTextDocument:
        full = (*key, width, self.style_key)
        doc = self._details.get(full)
        if doc is None:
            body = f'<div style="white-space:pre-wrap">{make()}</div>'
            doc = make_document(body, self._st, width, mono=mono)
            if len(self._details) > 32:
                self._details.clear()
            self._details[full] = doc
        return doc

    def _layout_footer(self, row: TranscriptRow, y: int) -> int:
        message = row.message
        style = self._st
        fm = QFontMetrics(style.small)
        h = style.small_line + 6
        x = self._x0
        siblings = row.siblings
        if siblings is not None and siblings.count > 1:
            for label, step in ((PREV, -1), (f"{siblings.index}/{siblings.count}", 0), (NEXT, 1)):
                w = fm.horizontalAdvance(label) + (2 * BUTTON_PAD if step else 4)
                if step:
                    target = siblings.neighbour(step)
                    self.hits.append(Hit("switch", target, QRect(x, y, w, h), label, target is not None))
                else:
                    self._switch_label = (QRect(x, y, w, h), label)
                x += w
            x += 8
        response = message.response
        actions = [("copy", "Copy")]
        if message.role is Role.USER:
            actions.append(("edit", "Edit"))
        if message.role is Role.ASSISTANT and (response is None or response.status.is_final):
            actions.append(("regenerate", "Regenerate"))
            if message.can_continue and response is not None and response.status is not ResponseStatus.ERROR:
                actions.append(("continue", "Continue"))  # a failed answer has Retry in its error box
        for action, label in actions:
            w = fm.horizontalAdvance(label) + 2 * BUTTON_PAD
            self.hits.append(Hit(action, None, QRect(x, y, w, h), label))
            x += w + 2
        self._usage = usage_text(message)
        self._usage_x = x + 12
        return y + h

    @property
    def _st(self) -> TranscriptStyle:
        assert self._style is not None
        return self._style

    def tool_details(self, call_id: str) -> str | None:
        """The text of a tool call's expanded details (None when collapsed)."""
        for part in self._parts:
            if part.tool is not None and part.tool.call.id == call_id and part.tool.details is not None:
                return part.tool.details.toPlainText()
        return None

    # ---- hit testing -------------------------------------------------------------------------------

    def hit_at(self, point: QPoint) -> Hit | None:
        """What is under `point` (row coordinates): a button, an expander, a code block's Copy, a link."""
        for hit in self.hits:
            if hit.rect.contains(point):
                return hit if hit.enabled else None
        for part in self._parts:
            segment = part.segment
            if segment is None or not part.y <= point.y() < part.y + segment.height:
                continue
            found = segment.block_at(point.y() - part.y)
            if found is None:
                return None
            top, rb = found
            local = QPointF(point.x() - self._x0, point.y() - part.y - top)
            if rb.is_code:
                copy = self._copy_rect(rb, part.y + top)
                if copy.contains(point):
                    return Hit("code", rb.block.code, copy, "Copy")
                local -= QPointF(CODE_PAD, rb.bar)
            href = rb.doc.documentLayout().anchorAt(local)
            return Hit("link", href) if href else None
        return None

    def _copy_rect(self, rb: RenderedBlock, top: int) -> QRect:
        w = QFontMetrics(self._st.small).horizontalAdvance("Copy") + 2 * BUTTON_PAD
        return QRect(self._x0 + self._inner - w - 4, top + 3, w, rb.bar - 6)

    # ---- painting ----------------------------------------------------------------------------------

    def paint(self, painter: QPainter, rect: QRect, clip: QRect, state: PaintState) -> None:
        """Paint the message into `rect` (its row), drawing only what intersects `clip` (both in the
        painter's coordinates)."""
        row, style = self._row, self._style
        if row is None or style is None:
            return
        painter.save()
        painter.translate(rect.topLeft())
        painter.setClipRect(QRect(0, 0, rect.width(), rect.height()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        ctx = _Ctx(painter, clip.translated(-rect.topLeft()), state)
        card = QRectF(MARGIN_X, MARGIN_Y, rect.width() - 2 * MARGIN_X, self.height - 2 * MARGIN_Y)
        if row.message.role is Role.USER:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.user_bg)
            painter.drawRoundedRect(card, RADIUS, RADIUS)
        if row.highlighted:  # the hit of a search, shown tinted
            tint = QColor(style.focus)
            tint.setAlpha(40)
            painter.setPen(style.focus)
            painter.setBrush(tint)
            painter.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)
        if state.focused:
            painter.setPen(style.focus)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)
        self._paint_heading(ctx, row.message)
        self._paint_reasoning(ctx, row)
        for part in self._parts:
            if part.segment is not None:
                self._paint_segment(ctx, part.segment, QPoint(self._x0, part.y))
            elif (
                part.tool is not None
                and part.y <= ctx.clip.bottom()
                and part.y + part.tool.height > ctx.clip.top()
            ):
                self._paint_tool(ctx, row, part.tool)
        if self._empty_y >= 0:
            painter.setPen(style.muted)
            painter.setFont(style.font)
            painter.drawText(
                QRect(self._x0, self._empty_y, self._inner, style.line), Qt.AlignmentFlag.AlignVCenter, "…"
            )
        if self._note is not None:
            _draw_doc(painter, self._note[1], QPointF(self._x0, self._note[0]), style.muted)
        if self._error is not None:
            box, doc = self._error
            painter.setPen(style.error_border)
            painter.setBrush(style.error_bg)
            painter.drawRoundedRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)
            _draw_doc(painter, doc, QPointF(box.left() + PAD, box.top() + PAD), style.error_text)
        self._paint_footer(ctx, row)
        painter.restore()

    def _paint_heading(self, ctx: _Ctx, message: Message) -> None:
        style, painter = self._st, ctx.painter
        line = QRect(self._x0, MARGIN_Y + PAD, self._inner, style.line)
        who = message.role.label
        painter.setFont(style.bold)
        painter.setPen(style.text)
        painter.drawText(line, Qt.AlignmentFlag.AlignVCenter, who)
        response = message.response
        extra = " · ".join(p for p in ((response.model if response else ""), status_note(message)) if p)
        if extra:
            x = line.left() + QFontMetrics(style.bold).horizontalAdvance(who) + 8
            failed = response is not None and response.status is ResponseStatus.ERROR
            painter.setFont(style.font)
            painter.setPen(style.failed if failed else style.muted)
            room = line.right() - x
            text = QFontMetrics(style.font).elidedText(f"· {extra}", Qt.TextElideMode.ElideRight, room)
            painter.drawText(QRect(x, line.top(), room, line.height()), Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_reasoning(self, ctx: _Ctx, row: TranscriptRow) -> None:
        hit = next((h for h in self.hits if h.action == "reasoning"), None)
        response = row.message.response
        if hit is None or response is None:
            return
        style, painter = self._st, ctx.painter
        expanded = "reasoning" in row.expanded
        self._paint_hover(ctx, hit)
        label = ("▾ " if expanded else "▸ ") + "Reasoning"
        if not response.status.is_final and not response.text:
            label += " (thinking…)"
        painter.setFont(style.small)
        painter.setPen(style.muted)
        painter.drawText(hit.rect.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, label)
        if expanded:
            top = hit.rect.bottom() + 5
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.card_border)
            painter.drawRect(QRect(self._x0 + 2, top, 3, self._reasoning_h))
            self._paint_segment(ctx, self._reasoning, QPoint(self._x0 + 12, top))

    def _paint_segment(self, ctx: _Ctx, segment: Segment, at: QPoint) -> None:
        color = self._st.muted if segment.muted else self._st.text
        clip = ctx.clip
        for top, rb in segment.visible(clip.top() - at.y(), clip.bottom() + 1 - at.y()):
            y = at.y() + top
            if rb.is_code:
                self._paint_code(ctx, rb, y)
                continue
            if rb.block.kind == "blockquote_open":  # a bar along the quote
                ctx.painter.setPen(Qt.PenStyle.NoPen)
                ctx.painter.setBrush(self._st.card_border)
                ctx.painter.drawRoundedRect(QRectF(at.x() + 2, y, 3, rb.height), 1.5, 1.5)
            terms = self._row.highlight_terms if self._row is not None and self._row.highlighted else ()
            _draw_doc(
                ctx.painter, rb.doc, QPointF(at.x(), y), color, clip.translated(-at.x(), -y), terms=terms
            )

    def _paint_code(self, ctx: _Ctx, rb: RenderedBlock, y: int) -> None:
        style, painter = self._st, ctx.painter
        painter.setPen(style.code_border)
        painter.setBrush(style.code_bg)
        painter.drawRoundedRect(
            QRectF(self._x0 + 0.5, y + 0.5, self._inner - 1, rb.height - 1), RADIUS, RADIUS
        )
        painter.setFont(style.small)
        painter.setPen(style.muted)
        info = rb.block.info.split(maxsplit=1)
        bar = QRect(self._x0 + CODE_PAD, y, self._inner - 80, rb.bar)
        painter.drawText(bar, Qt.AlignmentFlag.AlignVCenter, info[0] if info else "code")
        copy = self._copy_rect(rb, y)
        self._paint_button(ctx, Hit("code", rb.block.code, copy, "Copy"))
        _draw_doc(painter, rb.doc, QPointF(self._x0 + CODE_PAD, y + rb.bar), style.text)

    def _paint_tool(self, ctx: _Ctx, row: TranscriptRow, tool: _Tool) -> None:
        style, painter = self._st, ctx.painter
        call = tool.call
        hovered = ctx.state.hover is not None and ctx.state.hover == Hit("tool", call.id)
        painter.setPen(style.code_border)
        painter.setBrush(style.button_hover if hovered else style.code_bg)
        painter.drawRoundedRect(
            QRectF(self._x0 + 0.5, tool.y + 0.5, self._inner - 1, tool.height - 1), RADIUS, RADIUS
        )
        status = row.tool_status(call.id)
        now = ctx.state.now or datetime.now(UTC)
        label = f"{STATUS_GLYPH[status]} {tool_status_text(status, row.executions.get(call.id), now)}"
        if call.id in row.approvals:
            label = "○ waiting for your answer"
        line = QRect(self._x0 + TOOL_PAD, tool.y + TOOL_PAD, self._inner - 2 * TOOL_PAD, style.line)
        painter.setFont(style.small)
        painter.setPen(style.running if call.id in row.approvals else _status_color(style, status))
        painter.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        status_w = QFontMetrics(style.small).horizontalAdvance(label) + 12
        painter.setPen(style.muted)
        painter.drawText(line, Qt.AlignmentFlag.AlignVCenter, "▾" if tool.expanded else "▸")
        x = line.left() + 14
        name = call.name or "tool"
        painter.setFont(style.bold)
        painter.setPen(style.text)
        painter.drawText(
            QRect(x, line.top(), line.width(), line.height()), Qt.AlignmentFlag.AlignVCenter, name
        )
        x += QFontMetrics(style.bold).horizontalAdvance(name) + 8
        room = line.right() - status_w - x
        if room > 20:
            args = QFontMetrics(style.mono).elidedText(
                short_arguments(call.arguments), Qt.TextElideMode.ElideRight, room
            )
            painter.setFont(style.mono)
            painter.setPen(style.muted)
            painter.drawText(QRect(x, line.top(), room, line.height()), Qt.AlignmentFlag.AlignVCenter, args)
        if tool.details is not None:
            at = QPointF(self._x0 + TOOL_PAD + 14, tool.y + style.line + 2 * TOOL_PAD)
            _draw_doc(painter, tool.details, at, style.text)
        if tool.approval is not None:
            at = QPointF(self._x0 + TOOL_PAD + 14, tool.y + style.line + 2 * TOOL_PAD)
            _draw_doc(painter, tool.approval, at, style.text)
        for hit in self.hits:
            inside = tool.y <= hit.rect.top() < tool.y + tool.height
            if inside and hit.action in ("approve", "cancel_tool"):
                self._paint_button(ctx, hit)

    def _paint_footer(self, ctx: _Ctx, row: TranscriptRow) -> None:
        style, painter = self._st, ctx.painter
        for hit in self.hits:
            if hit.action in ("switch", "copy", "edit", "regenerate", "continue", "retry"):
                self._paint_button(ctx, hit)
        if row.siblings is not None and row.siblings.count > 1:
            rect, label = self._switch_label
            painter.setFont(style.small)
            painter.setPen(style.muted)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        room = self._x0 + self._inner - self._usage_x
        if self._usage and room > 40:
            painter.setFont(style.small)
            painter.setPen(style.muted)
            text = QFontMetrics(style.small).elidedText(self._usage, Qt.TextElideMode.ElideLeft, room)
            rect = QRect(self._usage_x, self._footer_y, room, style.small_line + 6)
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_hover(self, ctx: _Ctx, hit: Hit) -> bool:
        hovered = hit.enabled and ctx.state.hover is not None and ctx.state.hover == hit
        if hovered:
            ctx.painter.setPen(Qt.PenStyle.NoPen)
            ctx.painter.setBrush(self._st.button_hover)
            ctx.painter.drawRoundedRect(QRectF(hit.rect), 4, 4)
        return hovered

    def _paint_button(self, ctx: _Ctx, hit: Hit) -> None:
        style, painter = self._st, ctx.painter
        framed = hit.action in ("retry", "approve", "cancel_tool")
        if framed:
            deny = (
                hit.action == "approve" and isinstance(hit.arg, tuple) and hit.arg[1] is ApprovalDecision.DENY
            )
            allow = hit.action == "approve" and not deny
            painter.setPen(
                style.link
                if allow
                else style.card_border
                if hit.action == "cancel_tool"
                else style.error_border
            )
            painter.setBrush(style.base)
            painter.drawRoundedRect(QRectF(hit.rect).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        hovered = self._paint_hover(ctx, hit)
        painter.setFont(style.small)
        if not hit.enabled:
            painter.setPen(style.card_border)
        else:
            painter.setPen(style.text if hovered or framed else style.muted)
        painter.drawText(hit.rect, Qt.AlignmentFlag.AlignCenter, hit.label)


APPROVAL_BUTTONS = (
    (ApprovalDecision.ONCE, "Allow once"),
    (ApprovalDecision.CONVERSATION, "Allow in this chat"),
    (ApprovalDecision.ALWAYS, "Always allow"),
    (ApprovalDecision.DENY, "Deny"),
)
PREV = "\u2039"  # single angle quotation marks: < and > of the branch switcher
NEXT = "\u203a"


def _status_color(style: TranscriptStyle, status: ToolStatus) -> QColor:
    if status is ToolStatus.RUNNING:
        return style.running
    if status is ToolStatus.SUCCEEDED:
        return style.ok
    if status is ToolStatus.FAILED:
        return style.failed
    return style.muted


def _draw_doc(
    painter: QPainter,
    doc: QTextDocument,
    at: QPointF,
    color: QColor,
    clip: QRect | None = None,
    *,
    terms: tuple[str, ...] = (),
) -> None:
    painter.save()
    painter.translate(at)
    context = QAbstractTextDocumentLayout.PaintContext()
    palette = QPalette(context.palette)
    palette.setColor(QPalette.ColorRole.Text, color)
    context.palette = palette
    if clip is not None:
        context.clip = QRectF(clip)
    if terms:
        context.selections = _term_selections(doc, terms)
    doc.documentLayout().draw(painter, context)
    painter.restore()


HIT_BG = QColor("#fff3a8")
HIT_FG = QColor("#000000")


def _term_selections(
    doc: QTextDocument, terms: tuple[str, ...]
) -> list[QAbstractTextDocumentLayout.Selection]:
    """Every occurrence of the terms (ignoring case), marked like a search hit."""
    fmt = QTextCharFormat()
    fmt.setBackground(HIT_BG)
    fmt.setForeground(HIT_FG)
    out: list[QAbstractTextDocumentLayout.Selection] = []
    for term in terms:
        cursor = doc.find(term, 0)
        while not cursor.isNull() and len(out) < 500:
            selection = QAbstractTextDocumentLayout.Selection()
            selection.cursor = cursor
            selection.format = fmt
            out.append(selection)
            cursor = doc.find(term, cursor)
    return out
