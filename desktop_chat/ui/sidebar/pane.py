"""The left pane: New chat, the filter, the conversation list, the undo bar and "Show archived".

The sidebar keeps the list's selection on the conversation the window has open: the user picking a row
(or the list moving to the next row after a delete or archive) emits `conversation_activated`; the
window opening a conversation calls `select_conversation`. Filtering never opens anything: the open
conversation stays selected while it is shown, and is selected again when it shows again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QMenu, QPushButton, QVBoxLayout, QWidget

from desktop_chat.services.chat import ChatService
from desktop_chat.services.conversations import ConversationService
from desktop_chat.ui.sidebar.groups import Clock
from desktop_chat.ui.sidebar.model import ConversationListModel
from desktop_chat.ui.sidebar.proxy import ConversationFilterProxy
from desktop_chat.ui.sidebar.roles import UNTITLED
from desktop_chat.ui.sidebar.undo_bar import UndoBar
from desktop_chat.ui.sidebar.view import ConversationView


def _short(title: str, limit: int = 40) -> str:
    title = title or UNTITLED
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


class ConversationSidebar(QWidget):
    """New chat button, filter, list, undo bar; the conversation actions live here."""

    conversation_activated = Signal(int)  # the person picked a conversation (or the list moved on)
    new_requested = Signal()

    def __init__(
        self,
        conversations: ConversationService,
        chat: ChatService | None = None,
        *,
        clock: Clock = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self._conversations = conversations
        self._open_id: int | None = None
        self._quiet = 0
        self._deleted: dict[int, tuple[str, bool]] = {}  # pending deletion -> (title, was open)

        self.source_model = ConversationListModel(conversations, chat, clock=clock, parent=self)
        self.model = ConversationFilterProxy(self.source_model, self)

        self.new_button = QPushButton("New chat")
        self.new_button.setObjectName("newChatButton")
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("New chat (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("conversationFilter")
        self.filter_edit.setAccessibleName("Filter conversations")
        self.filter_edit.setPlaceholderText("Filter (Ctrl+Shift+K)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter_text)
        self.filter_edit.installEventFilter(self)

        self.view = ConversationView()
        self.view.setObjectName("conversationList")
        self.view.setAccessibleName("Conversations")
        self.view.set_models(self.model, self.source_model)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.customContextMenuRequested.connect(self._context_menu)

        self.no_match = QLabel()
        self.no_match.setObjectName("noMatch")
        self.no_match.setWordWrap(True)
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match.setEnabled(False)  # drawn in the muted text colour
        self.no_match.hide()

        self.undo_bar = UndoBar()
        self.undo_bar.undo_clicked.connect(self.undo_delete)

        self.archived_toggle = QCheckBox()
        self.archived_toggle.setObjectName("showArchived")
        self.archived_toggle.setAccessibleName("Show archived conversations")
        self.archived_toggle.toggled.connect(self.set_show_archived)
        self.source_model.archived_count_changed.connect(self._update_archived_toggle)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        layout.setSpacing(6)
        layout.addWidget(self.new_button)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.no_match)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.undo_bar)
        layout.addWidget(self.archived_toggle)

        self._actions()
        conversations.deletions_changed.connect(self._on_deletions_changed)
        # The source's signals, not the proxy's: a filter change emits one per range of rows.
        for signal in (self.source_model.rowsInserted, self.source_model.rowsRemoved):
            signal.connect(self._update_no_match)
        self._update_archived_toggle(self.source_model.archived_count())

    def _actions(self) -> None:
        delete = QAction("Delete", self.view)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self._delete_current)
        self.view.addAction(delete)
        undo = QAction("Undo delete", self)
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        # Only with the focus in the sidebar: Ctrl+Z in the composer undoes typing. The filter and the
        # title editor take their own Ctrl+Z first (text undo).
        undo.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.triggered.connect(self.undo_delete)
        self.addAction(undo)

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Selection changes made here (filtering, following the window) open nothing."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    # ---- selection -----------------------------------------------------------------------------------

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._quiet or not current.isValid():
            return
        cid = self.view.current_id()
        if cid is None or cid == self._open_id:
            return
        self._open_id = cid
        self.conversation_activated.emit(cid)

    def select_conversation(self, conversation_id: int | None) -> None:
        """Follow the conversation the window has open (selects it when shown; never emits)."""
        self._open_id = conversation_id
        if conversation_id is not None and self.view.current_id() == conversation_id:
            return
        self._sync_selection()

    def _sync_selection(self) -> None:
        with self._quietly():
            index = self.model.index_of(self._open_id) if self._open_id is not None else QModelIndex()
            if index.isValid():
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
            else:
                self.view.selectionModel().clear()

    def open_id(self) -> int | None:
        """The conversation the sidebar believes is open."""
        return self._open_id

    def first_id(self) -> int | None:
        """The top shown conversation."""
        return self.model.id_at(0)

    def is_shown(self, conversation_id: int) -> bool:
        """True when the list shows the conversation (not filtered out, not archived and hidden)."""
        return self.model.index_of(conversation_id).isValid()

    def conversation_count(self) -> int:
        """Every conversation, shown or not (archived and filtered out ones too)."""
        return self.source_model.rowCount()

    # ---- filter and archived -------------------------------------------------------------------------

    def focus_filter(self) -> None:
        """Ctrl+Shift+K: type to filter."""
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def set_filter_text(self, text: str) -> None:
        """Filter the list; the open conversation stays selected while it is shown."""
        if self.filter_edit.text() != text:
            self.filter_edit.setText(text)  # comes back here through textChanged
            return
        self._refilter(lambda: self.model.set_filter_text(text))

    def clear_filter(self) -> None:
        """Show every conversation again."""
        self.set_filter_text("")

    def set_show_archived(self, show: bool) -> None:
        """Show archived conversations in the list (dimmed), or hide them."""
        if self.archived_toggle.isChecked() != show:
            self.archived_toggle.setChecked(show)  # comes back here through toggled
            return
        self._refilter(lambda: self.model.set_show_archived(show))
        self._update_archived_toggle(self.source_model.archived_count())

    def _refilter(self, change: Callable[[], None]) -> None:
        """Change what the list shows (opening nothing), then select the open conversation if shown."""
        with self._quietly():
            change()
        self._sync_selection()
        self._update_no_match()

    def _update_archived_toggle(self, count: int) -> None:
        self.archived_toggle.setText(f"Show archived ({count})" if count else "Show archived")
        self.archived_toggle.setVisible(count > 0 or self.archived_toggle.isChecked())

    def _update_no_match(self, *_: object) -> None:
        text = self.model.filter_text().strip()
        empty = self.model.rowCount() == 0 and bool(text)
        if empty:
            self.no_match.setText(f"No conversation titles match “{_short(text, 30)}”.")
        self.no_match.setVisible(empty)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """In the filter: Escape clears it, Down or Enter moves to the list."""
        if watched is self.filter_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Escape and self.filter_edit.text():
                self.clear_filter()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.model.rowCount():
                if not self.view.currentIndex().isValid():
                    self.view.setCurrentIndex(self.model.index(0, 0))  # opens it
                self.view.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
        return super().eventFilter(watched, event)

    # ---- conversation actions ------------------------------------------------------------------------

    def _delete_current(self) -> None:
        cid = self.view.current_id()
        if cid is not None:
            self.delete_conversation(cid)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete now, undoable from the bar or with Ctrl+Z until the undo window closes."""
        summary = self.source_model.summary(conversation_id)
        title = summary.title if summary is not None else ""
        was_open = conversation_id == self._open_id
        self._deleted[conversation_id] = (title, was_open)
        self._conversations.delete(conversation_id)  # the list moves to the next row, which opens
        self.undo_bar.show_deleted(title)

    def undo_delete(self) -> None:
        """Restore the last deleted conversation; it opens again if it was open."""
        pending = [cid for cid in self._conversations.pending_deletions() if cid in self._deleted]
        if not pending:
            return
        _title, was_open = self._deleted.pop(pending[-1])
        cid = self._conversations.undo_delete(pending[-1])
        if cid is None:
            return
        if was_open:
            self._open_id = None
            index = self.model.index_of(cid)
            if index.isValid():
                self.view.setCurrentIndex(index)  # opens it
                self.view.scrollTo(index)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_deletions_changed(self) -> None:
        pending = self._conversations.pending_deletions()
        for cid in list(self._deleted):
            if cid not in pending:
                del self._deleted[cid]
        shown = [cid for cid in pending if cid in self._deleted]
        if shown:
            if self.undo_bar.isVisible():
                self.undo_bar.show_deleted(self._deleted[shown[-1]][0])
        else:
            self.undo_bar.hide()

    def rename_conversation(self, conversation_id: int) -> None:
        """Edit the title in place (as F2 does)."""
        self.view.rename(self.model.index_of(conversation_id))

    def toggle_pinned(self, conversation_id: int) -> None:
        """Pin to the top, or unpin."""
        summary = self.source_model.summary(conversation_id)
        if summary is not None:
            self._conversations.set_pinned(conversation_id, not summary.pinned)
            self._scroll_to_current()

    def toggle_archived(self, conversation_id: int) -> None:
        """Archive (hidden unless "Show archived"; the list moves on), or unarchive."""
        summary = self.source_model.summary(conversation_id)
        if summary is not None:
            self._conversations.set_archived(conversation_id, not summary.archived)
            self._scroll_to_current()

    def _scroll_to_current(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.view.scrollTo(index)

    def _context_menu(self, pos: QPoint) -> None:
        self.context_menu(pos).exec(self.view.viewport().mapToGlobal(pos))

    def context_menu(self, pos: QPoint) -> QMenu:
        """Rename, Pin, Archive, Delete for the row at `pos`; New chat and Show archived anywhere."""
        menu = QMenu(self)
        menu.setObjectName("conversationMenu")
        cid = self.view.id_at(pos)
        summary = self.source_model.summary(cid) if cid is not None else None
        if cid is not None and summary is not None:
            menu.addAction("Rename", lambda: self.rename_conversation(cid)).setShortcut(
                QKeySequence(Qt.Key.Key_F2)
            )
            menu.addAction("Unpin" if summary.pinned else "Pin", lambda: self.toggle_pinned(cid))
            menu.addAction("Unarchive" if summary.archived else "Archive", lambda: self.toggle_archived(cid))
            menu.addSeparator()
            menu.addAction("Delete", lambda: self.delete_conversation(cid)).setShortcut(
                QKeySequence(QKeySequence.StandardKey.Delete)
            )
            menu.addSeparator()
        menu.addAction("New chat", self.new_requested.emit)
        show = menu.addAction("Show archived")
        show.setCheckable(True)
        show.setChecked(self.model.show_archived())
        show.toggled.connect(self.set_show_archived)
        return menu
