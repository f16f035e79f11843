"""The conversation list's view: a one-column tree, rows painted by ConversationDelegate.

A `QTreeView` in per-item scroll mode asks the delegate for the size of the rows it shows only; a
`QListView` with rows of different heights (day headers) asks for every row on every insert, removal
or filter change: 50-75 ms at 10,000 rows. The view also renames in place (F2), tracks the hovered row
and animates the streaming dots (5 fps, streaming rows only).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from desktop_chat.ui.sidebar.delegate import ConversationDelegate
from desktop_chat.ui.sidebar.model import ConversationListModel
from desktop_chat.ui.sidebar.proxy import ConversationFilterProxy
from desktop_chat.ui.sidebar.roles import ID_ROLE, Index


class ConversationView(QTreeView):
    """The list's view: one column, no branches, rows painted by ConversationDelegate.

    A tree view in per-item scroll mode asks for the heights of the rows it shows only (a list view
    with rows of different heights lays out all of them on every change).
    """

    ANIMATION_MS = 200  # streaming dots: 5 frames a second, streaming rows only
    delete_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._after_rename_timer = QTimer(self)  # a child timer, not a functor-based single shot
        self._after_rename_timer.setSingleShot(True)
        self._after_rename_timer.setInterval(0)
        self._after_rename_timer.timeout.connect(self._after_rename)
        self.delegate = ConversationDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setExpandsOnDoubleClick(False)
        self.setIndentation(0)
        self.setUniformRowHeights(False)
        self.setAllColumnsShowFocus(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # F2: see rename()
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setMouseTracking(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._hover = QPersistentModelIndex()
        self._editing = QPersistentModelIndex()
        self.delegate.closeEditor.connect(self._rename_closed)
        self._animation = QTimer(self)
        self._animation.setInterval(self.ANIMATION_MS)
        self._animation.timeout.connect(self._animate)
        self._list: ConversationListModel | None = None
        self._proxy: ConversationFilterProxy | None = None

    def set_models(self, proxy: ConversationFilterProxy, source: ConversationListModel) -> None:
        """Show `proxy` (over `source`) and follow its streaming conversations."""
        self._proxy, self._list = proxy, source
        self.setModel(proxy)
        source.streaming_changed.connect(self._update_animation)
        self._update_animation()

    # ---- renaming in place -------------------------------------------------------------------------

    def rename(self, index: QModelIndex) -> None:
        """Edit a row's title in place (F2, or Rename in the menu): Enter keeps it, Escape cancels.

        A persistent editor, opened here rather than by Qt's edit triggers, which need `ItemIsEditable`
        (see ConversationListModel on flags).
        """
        if not index.isValid():
            return
        self._close_rename()
        self.scrollTo(index)
        self._editing = QPersistentModelIndex(index)
        self.openPersistentEditor(index)
        editor = self.indexWidget(index)
        if editor is not None:
            editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def renaming(self) -> QWidget | None:
        """The open title editor, if any."""
        if not self._editing.isValid():
            return None
        return self.indexWidget(self.model().index(self._editing.row(), 0))

    def _close_rename(self) -> None:
        if self._editing.isValid():
            index = self.model().index(self._editing.row(), 0)
            self._editing = QPersistentModelIndex()
            self.closePersistentEditor(index)

    def _rename_closed(self, _editor: QWidget, _hint: QStyledItemDelegate.EndEditHint) -> None:
        # Qt's own closeEditor slot ran first and gave the view the focus back. The editor is released
        # on the next loop turn: Escape closes it from inside its own key event, and closing a
        # persistent editor there crashes Qt.
        self._after_rename_timer.start()

    def _after_rename(self) -> None:
        self._close_rename()
        if QApplication.focusWidget() is None:
            self.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """F2 renames the current row."""
        if event.key() == Qt.Key.Key_F2 and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.rename(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- streaming animation -----------------------------------------------------------------------

    def _update_animation(self) -> None:
        if self._list is not None and self._list.streaming_ids():
            if not self._animation.isActive():
                self._animation.start()
        else:
            self._animation.stop()

    def streaming_rects(self) -> list[QRect]:
        """Where the visible streaming rows are (what one animation frame repaints)."""
        if self._list is None or self._proxy is None:
            return []
        area = self.viewport().rect()
        rects = []
        for cid in self._list.streaming_ids():
            index = self._proxy.index_of(cid)
            if index.isValid():
                rect = self.visualRect(index)
                if rect.intersects(area):
                    rects.append(rect)
        return rects

    def _animate(self) -> None:
        if self._list is None or not self._list.streaming_ids():
            self._animation.stop()
            return
        self.delegate.phase = (self.delegate.phase + 1) % 3
        for rect in self.streaming_rects():
            self.viewport().update(rect)

    def animation_active(self) -> bool:
        """True while the streaming dots are animated."""
        return self._animation.isActive()

    # ---- painting ----------------------------------------------------------------------------------

    def drawRow(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Only the delegate paints (no branch, row background or focus frame from the tree)."""
        opt = QStyleOptionViewItem(option)
        state = opt.state & ~(
            QStyle.StateFlag.State_Selected
            | QStyle.StateFlag.State_MouseOver
            | QStyle.StateFlag.State_HasFocus
        )
        if self.selectionModel().isSelected(index):
            state |= QStyle.StateFlag.State_Selected
        if self._hover.isValid() and self._hover == index:
            state |= QStyle.StateFlag.State_MouseOver
        opt.state = state
        opt.widget = self
        self.delegate.paint(painter, opt, index)

    def _set_hover(self, index: QModelIndex) -> None:
        if index == self._hover:
            return
        if self._hover.isValid():
            old = self.model().index(self._hover.row(), 0)
            self.viewport().update(self.visualRect(old))
        if index.isValid():
            self.viewport().update(self.visualRect(index))
        self._hover = QPersistentModelIndex(index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Track the hovered row (hover background)."""
        self._set_hover(self.indexAt(event.position().toPoint()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        """No hovered row once the mouse has left."""
        self._set_hover(QModelIndex())
        super().leaveEvent(event)

    def focusInEvent(self, event: Any) -> None:
        """The selected row turns from muted to highlighted."""
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: Any) -> None:
        """The selected row turns muted."""
        super().focusOutEvent(event)
        self.viewport().update()

    # ---- helpers -----------------------------------------------------------------------------------

    def current_id(self) -> int | None:
        """The conversation in the current row."""
        index = self.currentIndex()
        return int(index.data(ID_ROLE)) if index.isValid() else None

    def id_at(self, pos: QPoint) -> int | None:
        """The conversation under a viewport position."""
        index = self.indexAt(pos)
        return int(index.data(ID_ROLE)) if index.isValid() else None
