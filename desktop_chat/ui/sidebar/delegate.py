"""Paints a conversation-list row: the day header when the row starts a group, the title, the dots.

Day-group headers are painted inside the first row of each group; the delegate compares a row's group
with the row above it, so grouping follows the filter for free. Streaming conversations show three
pulsing dots (the view's timer advances `phase`). The delegate also provides the in-place title editor.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop_chat.ui.sidebar.roles import (
    ARCHIVED_ROLE,
    GROUP_LABEL_ROLE,
    GROUP_ROLE,
    STREAMING_ROLE,
    UNTITLED,
    Index,
)

_H_PAD = 10  # text inset inside a row
_V_PAD = 7  # above and below a title
_INSET = 4  # row background inset from the view's edges
_DOT = 6  # streaming dot size
_DOT_GAP = 4


def _has(state: QStyle.StateFlag, flag: QStyle.StateFlag) -> bool:
    return bool(state & flag)


class ConversationDelegate(QStyledItemDelegate):
    """Paints a row: a day header when it starts a group, the elided title, the streaming dots.

    Rows have one height except the first of each group, which is taller by the header; sizeHint is a
    cached font metric plus one comparison with the row above.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.phase = 0  # streaming animation frame, advanced by the view's timer
        self._metrics_for: tuple[str, int] | None = None
        self._row_h = 0
        self._header_h = 0
        self._header_font = QFont()

    # ---- geometry ----------------------------------------------------------------------------------

    def _metrics(self, option: QStyleOptionViewItem) -> tuple[int, int]:
        font = option.font
        key = (font.key(), int(font.pointSizeF() * 10))
        if key != self._metrics_for:
            self._metrics_for = key
            self._row_h = QFontMetrics(font).height() + 2 * _V_PAD
            header = QFont(font)
            header.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
            header.setWeight(QFont.Weight.DemiBold)
            self._header_font = header
            self._header_h = QFontMetrics(header).height() + 14
        return self._row_h, self._header_h

    @staticmethod
    def header_of(index: QModelIndex | QPersistentModelIndex) -> str | None:
        """The group header painted in this row: set when the row above belongs to another group."""
        group = index.data(GROUP_ROLE)
        if group is None:
            return None
        row = index.row()
        if row > 0 and index.model().index(row - 1, 0).data(GROUP_ROLE) == group:
            return None
        return str(index.data(GROUP_LABEL_ROLE))

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Row height, plus the header's when the row starts a group."""
        row_h, header_h = self._metrics(option)
        return QSize(120, row_h + (header_h if self.header_of(index) is not None else 0))

    def item_rect(self, option: QStyleOptionViewItem, index: Index) -> QRect:
        """The part of the row that is the conversation (below any header)."""
        _row_h, header_h = self._metrics(option)
        rect: QRect = option.rect
        top = header_h if self.header_of(index) is not None else 0
        return rect.adjusted(_INSET, top, -_INSET, 0)

    # ---- painting ----------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Header, background (selected, hovered), elided title, state marks."""
        row_h, header_h = self._metrics(option)
        rect: QRect = option.rect
        palette: QPalette = option.palette
        state: QStyle.StateFlag = option.state
        widget: QWidget | None = option.widget
        painter.save()
        header = self.header_of(index)
        if header is not None:
            painter.setFont(self._header_font)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            header_rect = QRect(
                rect.left() + _INSET + _H_PAD, rect.top(), rect.width() - 2 * _H_PAD, header_h
            )
            painter.drawText(
                header_rect.adjusted(0, 0, 0, -4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                header,
            )
            rect = rect.adjusted(0, header_h, 0, 0)
        item = QRect(rect.left() + _INSET, rect.top() + 1, rect.width() - 2 * _INSET, row_h - 2)
        selected = _has(state, QStyle.StateFlag.State_Selected)
        focused = widget is not None and widget.hasFocus()
        text_color = palette.color(QPalette.ColorRole.Text)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected or _has(state, QStyle.StateFlag.State_MouseOver):
            background = QColor(palette.color(QPalette.ColorRole.Highlight))
            if selected and focused:
                text_color = palette.color(QPalette.ColorRole.HighlightedText)
            else:
                background.setAlphaF(0.28 if selected else 0.12)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(background)
            painter.drawRoundedRect(item, 6, 6)
        archived = bool(index.data(ARCHIVED_ROLE))
        streaming = bool(index.data(STREAMING_ROLE))
        font = QFont(option.font)
        right = _H_PAD
        if streaming:
            right += 3 * _DOT + 2 * _DOT_GAP + 6
        if archived:
            font.setItalic(True)
            if not (selected and focused):
                text_color = palette.color(QPalette.ColorRole.PlaceholderText)
        painter.setFont(font)
        text_rect = item.adjusted(_H_PAD, 0, -right, 0)
        title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        elided = QFontMetrics(font).elidedText(title, Qt.TextElideMode.ElideRight, max(0, text_rect.width()))
        painter.setPen(text_color)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
        if streaming:
            self._paint_dots(painter, item, text_color if selected and focused else None, palette)
        painter.restore()

    def _paint_dots(self, painter: QPainter, item: QRect, color: QColor | None, palette: QPalette) -> None:
        base = QColor(color if color is not None else palette.color(QPalette.ColorRole.Highlight))
        x = item.right() - _H_PAD - 3 * _DOT - 2 * _DOT_GAP
        y = item.center().y() - _DOT // 2
        painter.setPen(Qt.PenStyle.NoPen)
        for i in range(3):
            dot = QColor(base)
            dot.setAlphaF(1.0 if i == self.phase % 3 else 0.35)
            painter.setBrush(dot)
            painter.drawEllipse(x + i * (_DOT + _DOT_GAP), y, _DOT, _DOT)

    # ---- renaming in place -------------------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        """A line edit for the title (empty means "New chat")."""
        editor = QLineEdit(parent)
        editor.setObjectName("conversationTitleEditor")
        editor.setAccessibleName("Conversation title")
        editor.setPlaceholderText(UNTITLED)
        editor.setFrame(True)
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        """Start from the stored title, all selected."""
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        """Store the new title (Enter or focus out; Escape cancels)."""
        if isinstance(editor, QLineEdit) and not editor.property("cancelled"):
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Remember Escape: closing the (persistent) editor moves the focus, and a focus-out commits."""
        if (
            isinstance(watched, QLineEdit)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            watched.setProperty("cancelled", True)
        return super().eventFilter(watched, event)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: Index) -> None:
        """Over the title, below any header."""
        editor.setGeometry(self.item_rect(option, index))
