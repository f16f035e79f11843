"""Painting a laid-out message: what `MessageLayout` placed, with the hover, focus and time of one paint.

Only what intersects the clip is drawn: the markdown blocks of a segment come from `Segment.visible`, so a
paint costs the same whatever the length of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFontMetrics,
    QPainter,
    QPalette,
    QTextCharFormat,
    QTextDocument,
)

from desktop_chat.domain import ApprovalDecision, Message, ResponseStatus, Role, ToolStatus
from desktop_chat.ui.transcript.documents import CODE_PAD, RenderedBlock
from desktop_chat.ui.transcript.layout import TOOL_PAD, Hit, MessageLayout, ToolBox
from desktop_chat.ui.transcript.row import TranscriptRow
from desktop_chat.ui.transcript.segment import Segment
from desktop_chat.ui.transcript.style import MARGIN_X, MARGIN_Y, PAD, RADIUS, TranscriptStyle
from desktop_chat.ui.transcript.text import STATUS_GLYPH, heading_detail, short_arguments, tool_status_text


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


class MessagePainter:
    """Paints one laid-out message (made for one paint: it reads the layout as it is now)."""

    def __init__(self, layout: MessageLayout) -> None:
        self._layout = layout
        self._x0 = layout.x0
        self._inner = layout.inner

    @property
    def _st(self) -> TranscriptStyle:
        assert self._layout.style is not None
        return self._layout.style

    def paint(self, painter: QPainter, rect: QRect, clip: QRect, state: PaintState) -> None:
        """Paint the message into `rect` (its row), drawing only what intersects `clip` (both in the
        painter's coordinates)."""
        layout = self._layout
        row, style = layout.row, layout.style
        if row is None or style is None:
            return
        painter.save()
        painter.translate(rect.topLeft())
        painter.setClipRect(QRect(0, 0, rect.width(), rect.height()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        ctx = _Ctx(painter, clip.translated(-rect.topLeft()), state)
        card = QRectF(MARGIN_X, MARGIN_Y, rect.width() - 2 * MARGIN_X, layout.height - 2 * MARGIN_Y)
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
        for part in layout.parts:
            if part.segment is not None:
                self._paint_segment(ctx, part.segment, QPoint(self._x0, part.y))
            elif (
                part.tool is not None
                and part.y <= ctx.clip.bottom()
                and part.y + part.tool.height > ctx.clip.top()
            ):
                self._paint_tool(ctx, row, part.tool)
        if layout.empty_y >= 0:
            painter.setPen(style.muted)
            painter.setFont(style.font)
            painter.drawText(
                QRect(self._x0, layout.empty_y, self._inner, style.line), Qt.AlignmentFlag.AlignVCenter, "…"
            )
        if layout.note is not None:
            _draw_doc(painter, layout.note[1], QPointF(self._x0, layout.note[0]), style.muted)
        if layout.error is not None:
            box, doc = layout.error
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
        extra = heading_detail(message)
        if extra:
            x = line.left() + QFontMetrics(style.bold).horizontalAdvance(who) + 8
            failed = response is not None and response.status is ResponseStatus.ERROR
            painter.setFont(style.font)
            painter.setPen(style.failed if failed else style.muted)
            room = line.right() - x
            text = QFontMetrics(style.font).elidedText(f"· {extra}", Qt.TextElideMode.ElideRight, room)
            painter.drawText(QRect(x, line.top(), room, line.height()), Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_reasoning(self, ctx: _Ctx, row: TranscriptRow) -> None:
        hit = next((h for h in self._layout.hits if h.action == "reasoning"), None)
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
            painter.drawRect(QRect(self._x0 + 2, top, 3, self._layout.reasoning_height))
            self._paint_segment(ctx, self._layout.reasoning, QPoint(self._x0 + 12, top))

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
            row = self._layout.row
            terms = row.highlight_terms if row is not None and row.highlighted else ()
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
        copy = self._layout.copy_rect(rb, y)
        self._paint_button(ctx, Hit("code", rb.block.code, copy, "Copy"))
        _draw_doc(painter, rb.doc, QPointF(self._x0 + CODE_PAD, y + rb.bar), style.text)

    def _paint_tool(self, ctx: _Ctx, row: TranscriptRow, tool: ToolBox) -> None:
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
        for hit in self._layout.hits:
            inside = tool.y <= hit.rect.top() < tool.y + tool.height
            if inside and hit.action in ("approve", "cancel_tool"):
                self._paint_button(ctx, hit)

    def _paint_footer(self, ctx: _Ctx, row: TranscriptRow) -> None:
        style, painter, layout = self._st, ctx.painter, self._layout
        for hit in layout.hits:
            if hit.action in ("switch", "copy", "edit", "regenerate", "continue", "retry"):
                self._paint_button(ctx, hit)
        if row.siblings is not None and row.siblings.count > 1:
            rect, label = layout.switch_label
            painter.setFont(style.small)
            painter.setPen(style.muted)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        room = self._x0 + self._inner - layout.usage_x
        if layout.usage and room > 40:
            painter.setFont(style.small)
            painter.setPen(style.muted)
            text = QFontMetrics(style.small).elidedText(layout.usage, Qt.TextElideMode.ElideLeft, room)
            rect = QRect(layout.usage_x, layout.footer_y, room, style.small_line + 6)
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
        context.selections = term_selections(doc, terms)
    doc.documentLayout().draw(painter, context)
    painter.restore()


HIT_BG = QColor("#fff3a8")
HIT_FG = QColor("#000000")


def term_selections(
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
