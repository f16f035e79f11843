"""Paints transcript rows (no widget per message) and turns clicks on them into actions.

Size hints are cheap: a row that was laid out at the current width reports its real height; any other row
reports an estimate from its text length, with no markdown rendered. The view asks `measure()` for the
rows it is about to show, which lays them out for real (and reports whether the height changed).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontMetrics, QHelpEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip

from desktop_chat.markdown_parser import is_safe_url
from desktop_chat.ui.transcript.documents import BlockDocs, code_bar_height
from desktop_chat.ui.transcript.layout import PREV, TOOL_PAD, Hit, MessageLayout
from desktop_chat.ui.transcript.model import ROW_ROLE
from desktop_chat.ui.transcript.paint import MessagePainter, PaintState
from desktop_chat.ui.transcript.row import TranscriptRow
from desktop_chat.ui.transcript.style import GAP, MARGIN_X, MARGIN_Y, PAD, TranscriptStyle

Index = QModelIndex | QPersistentModelIndex
# Laid-out messages are kept (most recently shown first) while their documents' estimated memory stays
# within LAYOUT_CACHE_BYTES, and never fewer than LAYOUT_CACHE_MIN of them (a screen or two of rows, so
# what is on screen is never laid out again per frame). Counted in messages (300) it grew by 70 MiB.
LAYOUT_CACHE_BYTES = 24 * 1024 * 1024
LAYOUT_CACHE_MIN = 40

_TIPS = {
    "copy": "Copy the message (Ctrl+C)",
    "edit": "Edit and send again as a new branch (Ctrl+E)",
    "regenerate": "Answer again as a new branch (Ctrl+R)",
    "continue": "Continue this answer (Enter)",
    "retry": "Try this answer again, keeping its text",
    "reasoning": "Show or hide the model's reasoning",
    "tool": "Show or hide the arguments and result",
    "code": "Copy the code",
    "approve": "Answer the tool's request (Y: allow once, N: deny, with the message selected)",
    "cancel_tool": "Stop this tool call; the model is told you cancelled it",
}


class TranscriptDelegate(QStyledItemDelegate):
    """Lays out, paints and hit-tests messages; clicks come out as `action_triggered`."""

    action_triggered = Signal(str, int, object)  # action, message id, argument (sibling id, code, url)

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        self.style = TranscriptStyle.from_widget(view)
        self.docs = BlockDocs()
        self._layouts: OrderedDict[int, MessageLayout] = OrderedDict()
        self._layout_costs: dict[int, int] = {}  # estimated bytes of each kept layout's documents
        self._layout_bytes = 0
        self._heights: dict[int, tuple[int, int]] = {}  # message id -> (width, height) when laid out
        self._reported: dict[int, int] = {}  # message id -> the height the view was last told
        self._hover: tuple[int, Hit] | None = None
        self._pressed: tuple[int, Hit] | None = None
        self.laid_out: set[int] = set()  # message ids ever laid out for real (tests check virtualization)

    # ---- style ---------------------------------------------------------------------------------------

    def refresh_style(self) -> bool:
        """Take the view's palette and font again; True when anything changed (caches are keyed by it)."""
        style = TranscriptStyle.from_widget(self._view)
        if style.key == self.style.key:
            return False
        self.style = style
        self._heights.clear()
        return True

    def row_width(self) -> int:
        """The width every row is laid out at."""
        return max(120, self._view.viewport().width())

    # ---- sizes ---------------------------------------------------------------------------------------

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """The real height of a row laid out at this width, else an estimate (nothing rendered)."""
        row: TranscriptRow | None = index.data(ROW_ROLE)
        if row is None:
            return QSize(1, 1)
        width = self.row_width()
        known = self._heights.get(row.message.id)
        height = known[1] if known is not None and known[0] == width else self.estimate(row, width)
        self._reported[row.message.id] = height
        return QSize(1, height)

    def estimate(self, row: TranscriptRow, width: int) -> int:
        """A height from the text's length and line count: close enough for rows nobody looks at."""
        style = self.style
        inner = max(40, width - 2 * (MARGIN_X + PAD))
        per_line = max(10, inner // max(1, QFontMetrics(style.font).averageCharWidth()))
        text = row.message.text
        fences = text.count("```") // 2
        lines = text.count("\n") + len(text) // per_line + 1
        blocks = text.count("\n\n") + 1
        height = 2 * (MARGIN_Y + PAD) + style.line + 6 + lines * style.line + blocks * GAP
        height += fences * (code_bar_height(style) + 8) + style.small_line + 6
        response = row.message.response
        if response is not None:
            height += len(response.tool_calls) * (style.line + 2 * TOOL_PAD + GAP)
            if response.reasoning:
                height += style.small_line + 8
            if response.error:
                height += 3 * style.line + 2 * PAD
        return height

    def layout_for(self, index: Index) -> MessageLayout | None:
        """The row laid out for real at the current width (rendering what is not cached)."""
        row: TranscriptRow | None = index.data(ROW_ROLE)
        if row is None:
            return None
        message_id = row.message.id
        layout = self._layouts.get(message_id)
        if layout is None:
            layout = self._layouts[message_id] = MessageLayout(message_id)
        else:
            self._layouts.move_to_end(message_id)
        width = self.row_width()
        if not layout.is_current(row, width, self.style):
            layout.update(row, width, self.style, self.docs)
            cost = layout.cost
            self._layout_bytes += cost - self._layout_costs.get(message_id, 0)
            self._layout_costs[message_id] = cost
            self._trim_layouts()
        self._heights[message_id] = (width, layout.height)
        self.laid_out.add(message_id)
        return layout

    def _trim_layouts(self) -> None:
        while self._layout_bytes > LAYOUT_CACHE_BYTES and len(self._layouts) > LAYOUT_CACHE_MIN:
            message_id, _ = self._layouts.popitem(last=False)
            self._layout_bytes -= self._layout_costs.pop(message_id, 0)

    def measure(self, index: Index) -> bool:
        """Lay a row out for real; True when its height differs from what the view was told."""
        layout = self.layout_for(index)
        return layout is not None and self._reported.get(layout.message_id) != layout.height

    # ---- painting ------------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Paint a message (only the part inside the viewport)."""
        layout = self.layout_for(index)
        if layout is None:
            return
        if self._reported.get(layout.message_id) != layout.height:
            self.sizeHintChanged.emit(index)  # the view relayouts on its next turn
        rect = QRect(option.rect)
        clip = rect.intersected(self._view.viewport().rect())
        hover = self._hover[1] if self._hover is not None and self._hover[0] == layout.message_id else None
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        MessagePainter(layout).paint(painter, rect, clip, PaintState(hover, focused, datetime.now(UTC)))

    # ---- events --------------------------------------------------------------------------------------

    def editorEvent(
        self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem, index: Index
    ) -> bool:
        """Hover, press and click on buttons, expanders, code Copy and links (opened only on a click)."""
        kind = event.type()
        if kind not in (
            QEvent.Type.MouseMove,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
        ):
            return False
        assert isinstance(event, QMouseEvent)
        layout = self.layout_for(index)
        if layout is None:
            return False
        rect = QRect(option.rect)
        hit = layout.hit_at(event.position().toPoint() - rect.topLeft())
        if kind == QEvent.Type.MouseMove:
            self.set_hover(layout.message_id, hit)
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if kind == QEvent.Type.MouseButtonPress:
            self._pressed = (layout.message_id, hit) if hit is not None else None
        elif kind == QEvent.Type.MouseButtonRelease:
            pressed, self._pressed = self._pressed, None
            if hit is not None and pressed == (layout.message_id, hit):
                self._activate(layout.message_id, hit)
        return hit is not None

    def helpEvent(
        self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem, index: Index
    ) -> bool:
        """Tooltips: a link's address, what a button does."""
        layout = self.layout_for(index)
        if layout is None or event.type() != QEvent.Type.ToolTip:
            return False
        hit = layout.hit_at(event.pos() - QRect(option.rect).topLeft())
        if hit is None:
            QToolTip.hideText()
            return False
        if hit.action == "link":
            tip = str(hit.arg)
        elif hit.action == "switch":
            tip = "Previous version (Alt+Left)" if hit.label == PREV else "Next version (Alt+Right)"
        else:
            tip = _TIPS.get(hit.action, "")
        QToolTip.showText(event.globalPos(), tip, view)
        return bool(tip)

    def set_hover(self, message_id: int | None, hit: Hit | None) -> None:
        """What the mouse is over (None: nothing); repaints the rows concerned and sets the cursor."""
        new = (message_id, hit) if message_id is not None and hit is not None else None
        if new == self._hover:
            return
        old, self._hover = self._hover, new
        viewport = self._view.viewport()
        if new is None:
            viewport.unsetCursor()
        else:
            viewport.setCursor(Qt.CursorShape.PointingHandCursor)
        model = self._view.model()
        for entry in (old, new):
            if entry is None or model is None:
                continue
            row = getattr(model, "row_of", lambda _id: None)(entry[0])
            if row is not None:
                viewport.update(self._view.visualRect(model.index(row, 0)))

    def _activate(self, message_id: int, hit: Hit) -> None:
        if hit.action == "link" and not is_safe_url(str(hit.arg)):
            return
        self.action_triggered.emit(hit.action, message_id, hit.arg)
