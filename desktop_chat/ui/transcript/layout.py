"""Where everything of one message goes at one width (no widgets, no painting: see paint.py).

A message is laid out top to bottom: heading, reasoning (a collapsed line that expands to its text), the
body (markdown blocks, with the tool calls where they were made), a transient note, the inline error box
with Retry, and the footer (`< i/n >`, action buttons, model and token usage). The layout also answers
what is under a point (`hit_at`).

Markdown is rendered block by block into cached QTextDocuments (`BlockDocs`, keyed by block source, width,
theme and font); each run of text between tool calls is a `Segment`, which renders only what changed.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from PySide6.QtCore import QPoint, QPointF, QRect
from PySide6.QtGui import QFontMetrics, QTextDocument

from desktop_chat.domain import ApprovalDecision, ResponseStatus, Role, ToolCall, ToolStatus
from desktop_chat.ui.transcript.documents import (
    CODE_PAD,
    BlockDocs,
    RenderedBlock,
    doc_cost,
    make_document,
)
from desktop_chat.ui.transcript.row import TranscriptRow
from desktop_chat.ui.transcript.segment import Segment
from desktop_chat.ui.transcript.style import GAP, MARGIN_X, MARGIN_Y, PAD, TranscriptStyle
from desktop_chat.ui.transcript.text import (
    STATUS_GLYPH,
    approval_html,
    stop_note,
    text_and_tools,
    tool_details_html,
    tool_status_text,
    usage_text,
)

BUTTON_PAD = 7
TOOL_PAD = 6


@dataclass(frozen=True, slots=True)
class Hit:
    """Something clickable in a message: an action, and what it acts on."""

    action: str  # copy, edit, regenerate, continue, retry, switch, reasoning, tool, code, link
    arg: object = None
    rect: QRect = field(default_factory=QRect, compare=False)
    label: str = field(default="", compare=False)
    enabled: bool = field(default=True, compare=False)


@dataclass(slots=True)
class ToolBox:
    """A tool call's box in the body: its top, height, and the documents shown in it."""

    call: ToolCall
    y: int
    height: int
    expanded: bool
    details: QTextDocument | None = None
    approval: QTextDocument | None = None  # the question and the full arguments, while it waits


@dataclass(slots=True)
class Part:
    """A piece of the body from `y` down: a run of markdown or a tool call."""

    kind: str  # segment, tool
    y: int
    segment: Segment | None = None
    tool: ToolBox | None = None


class MessageLayout:
    """Where everything of one message goes at one width, and what is under a point."""

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self.height = 0
        self.width = 0
        self.version = -1
        self.style_key: tuple[object, ...] = ()
        self.hits: list[Hit] = []
        # what the painter reads (row coordinates)
        self.row: TranscriptRow | None = None
        self.style: TranscriptStyle | None = None
        self.x0 = MARGIN_X + PAD  # left edge of the content
        self.inner = 0  # width of the content
        self.reasoning = Segment(muted=True)
        self.reasoning_height = 0  # 0 while collapsed
        self.parts: list[Part] = []  # the body, top to bottom
        self.empty_y = -1  # where "…" goes when there is no text yet (-1: there is)
        self.note: tuple[int, QTextDocument] | None = None  # top, document
        self.error: tuple[QRect, QTextDocument] | None = None  # box, document
        self.footer_y = 0
        self.switch_label = (QRect(), "")  # the `i/n` between < and >
        self.usage = ""
        self.usage_x = 0
        self._docs = BlockDocs(0)
        self._segments: list[Segment] = []
        self._details: dict[tuple[object, ...], QTextDocument] = {}

    @property
    def cost(self) -> int:
        """The estimated memory of the documents this layout keeps alive."""
        docs = list(self._details.values())
        docs += [self.note[1]] if self.note else []
        docs += [self.error[1]] if self.error else []
        return (
            self.reasoning.cost
            + sum(segment.cost for segment in self._segments)
            + sum(doc_cost(doc.characterCount()) for doc in docs)
        )

    def is_current(self, row: TranscriptRow, width: int, style: TranscriptStyle) -> bool:
        """True when the layout already reflects this row at this width and style."""
        return self.version == row.version and self.width == width and self.style_key == style.key

    # ---- layout ------------------------------------------------------------------------------------

    def update(self, row: TranscriptRow, width: int, style: TranscriptStyle, docs: BlockDocs) -> None:
        """Lay the message out again (cheap when only its tail or a status changed)."""
        if self.is_current(row, width, style):
            return
        self.row, self.version, self.width, self.style_key = row, row.version, width, style.key
        self.style, self._docs = style, docs
        self.inner = max(40, width - 2 * (MARGIN_X + PAD))
        self.hits = []
        y = MARGIN_Y + PAD + style.line + 6  # the heading
        y = self._layout_reasoning(row, y)
        y = self._layout_body(row, y)
        y = self._layout_notes(row, y)
        self.footer_y = y
        y = self._layout_footer(row, y)
        self.height = y + PAD + MARGIN_Y

    def _layout_reasoning(self, row: TranscriptRow, y: int) -> int:
        response = row.message.response
        style = self._st
        if response is None or not response.reasoning:
            return y
        width = QFontMetrics(style.small).horizontalAdvance("▾ Reasoning (thinking…)") + 12
        self.hits.append(Hit("reasoning", None, QRect(self.x0, y, width, style.small_line + 4)))
        y += style.small_line + 8
        self.reasoning_height = 0
        if "reasoning" in row.expanded:
            self.reasoning.update(response.reasoning, self.inner - 12, style, self._docs)
            self.reasoning_height = self.reasoning.height
            y += self.reasoning_height + GAP
        return y

    def _layout_body(self, row: TranscriptRow, y: int) -> int:
        message = row.message
        response = message.response
        text = message.text
        calls = sorted(response.tool_calls, key=lambda c: (c.text_offset, c.round)) if response else []
        self.parts = []
        self.empty_y = -1
        if not text.strip() and not calls:
            self.empty_y = y
            return y + self._st.line + GAP
        texts = 0
        for piece in text_and_tools(text, calls):
            if isinstance(piece, ToolCall):
                tool = self._layout_tool(row, piece, y)
                self.hits.append(
                    Hit("tool", piece.id, QRect(self.x0, y, self.inner, self._st.line + 2 * TOOL_PAD))
                )
                self.parts.append(Part("tool", y, tool=tool))
                y += tool.height + GAP
                continue
            if texts == len(self._segments):
                self._segments.append(Segment())
            segment = self._segments[texts]
            texts += 1
            if piece.strip():
                segment.update(piece, self.inner, self._st, self._docs)
                self.parts.append(Part("segment", y, segment=segment))
                y += segment.height + GAP
        del self._segments[texts:]
        return y

    def _layout_tool(self, row: TranscriptRow, call: ToolCall, y: int) -> ToolBox:
        style = self._st
        tool = ToolBox(call, y, style.line + 2 * TOOL_PAD, f"tool:{call.id}" in row.expanded)
        request = row.approvals.get(call.id)
        execution = row.executions.get(call.id)
        if request is None and execution is not None and row.tool_status(call.id) is ToolStatus.RUNNING:
            fm = QFontMetrics(style.small)
            label = "Cancel"
            w = fm.horizontalAdvance(label) + 2 * BUTTON_PAD
            status = tool_status_text(ToolStatus.RUNNING, execution, datetime.now(UTC)) + " 000"
            right = (
                self.x0
                + self.inner
                - TOOL_PAD
                - fm.horizontalAdvance(f"{STATUS_GLYPH[ToolStatus.RUNNING]} {status}")
                - 8
            )
            rect = QRect(right - w, y + TOOL_PAD - 2, w, style.line + 4)
            self.hits.append(Hit("cancel_tool", execution.id, rect, label))
        if request is not None:
            tool.approval = self._doc_for(
                ("approval", call.id, request.arguments),
                lambda: approval_html(call.name, request.arguments),
                self.inner - 2 * TOOL_PAD - 14,
                mono=True,
            )
            tool.height += round(tool.approval.size().height()) + TOOL_PAD
            fm = QFontMetrics(style.small)
            x = self.x0 + TOOL_PAD + 14
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
                self.inner - 2 * TOOL_PAD - 14,
                mono=True,
            )
            tool.height += round(tool.details.size().height()) + TOOL_PAD
        return tool

    def _layout_notes(self, row: TranscriptRow, y: int) -> int:
        message = row.message
        response = message.response
        style = self._st
        note = row.note or stop_note(message)
        self.note = None
        if note:
            doc = self._doc_for(("note", note), lambda: html.escape(note), self.inner)
            self.note = (y, doc)
            y += round(doc.size().height()) + GAP
        self.error = None
        if response is not None and response.status is ResponseStatus.ERROR:
            error = response.error or "The answer failed."
            doc = self._doc_for(("error", error), lambda: html.escape(error), self.inner - 2 * PAD)
            button_h = style.small_line + 6
            box = QRect(self.x0, y, self.inner, PAD + round(doc.size().height()) + 6 + button_h + PAD)
            self.error = (box, doc)
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
        x = self.x0
        siblings = row.siblings
        if siblings is not None and siblings.count > 1:
            for label, step in ((PREV, -1), (f"{siblings.index}/{siblings.count}", 0), (NEXT, 1)):
                w = fm.horizontalAdvance(label) + (2 * BUTTON_PAD if step else 4)
                if step:
                    target = siblings.neighbour(step)
                    self.hits.append(Hit("switch", target, QRect(x, y, w, h), label, target is not None))
                else:
                    self.switch_label = (QRect(x, y, w, h), label)
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
        self.usage = usage_text(message)
        self.usage_x = x + 12
        return y + h

    @property
    def _st(self) -> TranscriptStyle:
        assert self.style is not None
        return self.style

    def tool_details(self, call_id: str) -> str | None:
        """The text of a tool call's expanded details (None when collapsed)."""
        for part in self.parts:
            if part.tool is not None and part.tool.call.id == call_id and part.tool.details is not None:
                return part.tool.details.toPlainText()
        return None

    # ---- hit testing -------------------------------------------------------------------------------

    def hit_at(self, point: QPoint) -> Hit | None:
        """What is under `point` (row coordinates): a button, an expander, a code block's Copy, a link."""
        for hit in self.hits:
            if hit.rect.contains(point):
                return hit if hit.enabled else None
        for part in self.parts:
            segment = part.segment
            if segment is None or not part.y <= point.y() < part.y + segment.height:
                continue
            found = segment.block_at(point.y() - part.y)
            if found is None:
                return None
            top, rb = found
            local = QPointF(point.x() - self.x0, point.y() - part.y - top)
            if rb.is_code:
                copy = self.copy_rect(rb, part.y + top)
                if copy.contains(point):
                    return Hit("code", rb.block.code, copy, "Copy")
                local -= QPointF(CODE_PAD, rb.bar)
            href = rb.doc.documentLayout().anchorAt(local)
            return Hit("link", href) if href else None
        return None

    def copy_rect(self, rb: RenderedBlock, top: int) -> QRect:
        """Where a code block's Copy button is (row coordinates; `top` is the block's)."""
        w = QFontMetrics(self._st.small).horizontalAdvance("Copy") + 2 * BUTTON_PAD
        return QRect(self.x0 + self.inner - w - 4, top + 3, w, rb.bar - 6)


APPROVAL_BUTTONS = (
    (ApprovalDecision.ONCE, "Allow once"),
    (ApprovalDecision.CONVERSATION, "Allow in this chat"),
    (ApprovalDecision.ALWAYS, "Always allow"),
    (ApprovalDecision.DENY, "Deny"),
)
PREV = "\u2039"  # single angle quotation marks: < and > of the branch switcher
NEXT = "\u203a"
