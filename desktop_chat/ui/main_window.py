"""The main window: conversation list on the left, transcript and composer on the right."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QItemSelection, QModelIndex, Qt
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import LAST_CONVERSATION, SPLITTER_STATE, WINDOW_GEOMETRY
from desktop_chat.ui.conversation_list import ID_ROLE, ConversationListModel
from desktop_chat.ui.resources import app_icon
from desktop_chat.ui.transcript import TranscriptModel

log = logging.getLogger(__name__)

NO_PROVIDER_HINT = "Add a model provider to start chatting."


def _named(widget: QWidget, name: str, accessible: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


class MainWindow(QMainWindow):
    """The one window of the app."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._settings = services.settings
        self._current_id: int | None = None
        self.setWindowTitle("Desktop Chat")
        self.setWindowIcon(app_icon() or QIcon())
        self.resize(1100, 720)

        services.conversations.rows_skipped.connect(self._show_note)  # before the first page is read
        self.conversation_model = ConversationListModel(services.conversations, self)
        self.transcript_model = TranscriptModel(self)
        self._build()
        self._build_actions()
        services.conversations.conversation_removed.connect(self._on_removed)
        self._restore_state()
        for note in services.startup_notes():
            self._show_note(note)

    # ---- construction -----------------------------------------------------------------------

    def _build(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(8, 8, 0, 8)
        self.new_button = QPushButton("New chat")
        _named(self.new_button, "newChatButton", "New chat")
        self.new_button.clicked.connect(self.new_conversation)
        self.conversation_list = QListView()
        _named(self.conversation_list, "conversationList", "Conversations")
        self.conversation_list.setModel(self.conversation_model)
        self.conversation_list.setUniformItemSizes(True)
        self.conversation_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.conversation_list.selectionModel().selectionChanged.connect(self._on_selection)
        self.conversation_model.modelReset.connect(self._update_empty_state)
        self.conversation_model.rowsInserted.connect(self._update_empty_state)
        self.conversation_model.rowsRemoved.connect(self._update_empty_state)
        left_layout.addWidget(self.new_button)
        left_layout.addWidget(self.conversation_list)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 8, 8, 8)
        self.pages = QStackedWidget()
        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.transcript = QListView()
        _named(self.transcript, "transcript", "Transcript")
        self.transcript.setModel(self.transcript_model)
        self.transcript.setWordWrap(True)
        self.transcript.setSpacing(6)
        self.transcript.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.transcript.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.transcript.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.pages.addWidget(self.empty_label)
        self.pages.addWidget(self.transcript)

        composer_row = QHBoxLayout()
        self.composer = QPlainTextEdit()
        _named(self.composer, "composer", "Message")
        self.composer.setPlaceholderText(NO_PROVIDER_HINT)
        self.composer.setMaximumHeight(96)
        self.composer.setEnabled(False)
        self.send_button = QPushButton("Send")
        _named(self.send_button, "sendButton", "Send")
        self.send_button.setEnabled(False)
        self.send_button.setToolTip(NO_PROVIDER_HINT)
        composer_row.addWidget(self.composer, 1)
        composer_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        right_layout.addWidget(self.pages, 1)
        right_layout.addLayout(composer_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 820])
        self.setCentralWidget(self.splitter)
        self._update_empty_state()

    def _build_actions(self) -> None:
        new_action = QAction("New chat", self)
        new_action.setShortcut(QKeySequence.StandardKey.New)
        new_action.triggered.connect(self.new_conversation)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.addActions([new_action, quit_action])  # shortcuts work even with the menu bar hidden
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(new_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

    # ---- state ------------------------------------------------------------------------------

    def _restore_state(self) -> None:
        geometry = self._settings.get(WINDOW_GEOMETRY)
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        splitter = self._settings.get(SPLITTER_STATE)
        if splitter:
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode()))
        last = self._settings.get(LAST_CONVERSATION)
        row = self.conversation_model.row_of(last) if last else None
        self._select_row(row if row is not None else 0)

    def _save_state(self) -> None:
        self._settings.set(WINDOW_GEOMETRY, bytes(self.saveGeometry().toBase64().data()).decode())
        self._settings.set(SPLITTER_STATE, bytes(self.splitter.saveState().toBase64().data()).decode())
        self._settings.set(LAST_CONVERSATION, self._current_id or 0)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember geometry, splitter and the open conversation."""
        try:
            self._save_state()
        except OSError as exc:  # a full disk must not keep the window open
            log.warning("Could not save window state: %s", exc)
        super().closeEvent(event)

    # ---- behaviour --------------------------------------------------------------------------

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.conversation_model.rowCount():
            self.conversation_list.setCurrentIndex(self.conversation_model.index(row))

    def _update_empty_state(self, *_: object) -> None:
        if self.conversation_model.rowCount() == 0:
            self.empty_label.setText(
                "<h2>Welcome to Desktop Chat</h2>"
                "<p>Your conversations will appear on the left, kept in one file on this computer.</p>"
                f"<p>{NO_PROVIDER_HINT}</p><p>Press <b>Ctrl+N</b> for a new chat.</p>"
            )
            self.pages.setCurrentWidget(self.empty_label)
        elif self._current_id is None:
            self.empty_label.setText("<p>Select a conversation.</p>")
            self.pages.setCurrentWidget(self.empty_label)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            self.open_conversation(int(indexes[0].data(ID_ROLE)))

    def open_conversation(self, conversation_id: int) -> None:
        """Show a conversation's active branch."""
        self._current_id = conversation_id
        self.transcript_model.set_messages(self._services.conversations.transcript(conversation_id))
        self.pages.setCurrentWidget(self.transcript)
        self.transcript.scrollToBottom()

    def current_conversation_id(self) -> int | None:
        """The conversation shown, if any."""
        return self._current_id

    def new_conversation(self) -> None:
        """Create an empty conversation and open it."""
        conversation = self._services.conversations.create()
        row = self.conversation_model.row_of(conversation.id)
        if row is not None:
            self._select_row(row)

    def _on_removed(self, conversation_id: int) -> None:
        if conversation_id == self._current_id:
            self._current_id = None
            self.transcript_model.set_messages([])
            self._update_empty_state()

    def _show_note(self, text: str) -> None:
        log.info("%s", text)
        self.statusBar().showMessage(text, 15_000)

    def current_index(self) -> QModelIndex:
        """The selected row of the conversation list."""
        return self.conversation_list.currentIndex()
