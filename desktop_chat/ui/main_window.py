"""The main window: conversation list on the left, transcript and composer on the right."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat import ChatError
from desktop_chat.settings import (
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    LAST_CONVERSATION,
    SPLITTER_STATE,
    WINDOW_GEOMETRY,
)
from desktop_chat.ui.composer import Composer
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

    closed = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._settings = services.settings
        self._current_id: int | None = None
        self._at_bottom = True
        self.setWindowTitle("Desktop Chat")
        self.setWindowIcon(app_icon() or QIcon())
        self.resize(1100, 720)

        services.conversations.rows_skipped.connect(self._show_note)  # before the first page is read
        self.conversation_model = ConversationListModel(services.conversations, self)
        self.transcript_model = TranscriptModel(
            self, conversations=services.conversations, chat=services.chat
        )
        self._build()
        self._build_actions()
        services.conversations.conversation_removed.connect(self._on_removed)
        chat = services.chat
        chat.stream_started.connect(self._on_stream_changed)
        chat.stream_finished.connect(self._on_stream_changed)
        chat.error.connect(lambda _cid, text: self._show_note(text))
        services.providers.profiles_changed.connect(self._fill_model_picker)
        self._settings.changed.connect(self._on_setting_changed)
        self.transcript_model.rowsInserted.connect(self._follow_bottom)
        self.transcript_model.dataChanged.connect(self._follow_bottom)
        self.transcript_model.modelReset.connect(self._follow_bottom)
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
        self.conversation_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.conversation_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
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

        header = QHBoxLayout()
        self.model_picker = QComboBox()
        _named(self.model_picker, "modelPicker", "Provider and model")
        self.model_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_picker.activated.connect(self._on_model_picked)
        header.addWidget(self.model_picker)
        header.addStretch(1)

        composer_row = QHBoxLayout()
        self.composer = Composer()
        _named(self.composer, "composer", "Message")
        self.composer.setMaximumHeight(120)
        self.composer.submitted.connect(self.send_message)
        self.composer.stop_requested.connect(self.stop_stream)
        self.send_button = QPushButton("Send")
        _named(self.send_button, "sendButton", "Send")
        self.send_button.clicked.connect(self.send_message)
        self.stop_button = QPushButton("Stop")
        _named(self.stop_button, "stopButton", "Stop the answer")
        self.stop_button.clicked.connect(self.stop_stream)
        self.stop_button.hide()
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        composer_row.addWidget(self.composer, 1)
        composer_row.addLayout(buttons)
        right_layout.addLayout(header)
        right_layout.addWidget(self.pages, 1)
        right_layout.addLayout(composer_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 820])
        self.setCentralWidget(self.splitter)
        self._fill_model_picker()
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
        """Remember geometry, splitter and the open conversation; announce `closed`."""
        try:
            self._save_state()
        except OSError as exc:  # a full disk must not keep the window open
            log.warning("Could not save window state: %s", exc)
        super().closeEvent(event)
        self.closed.emit()

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
        self._at_bottom = True
        self.transcript_model.show_conversation(conversation_id)
        self.pages.setCurrentWidget(self.transcript)
        self.transcript.scrollToBottom()
        self._update_composer()

    # ---- chatting ---------------------------------------------------------------------------

    def send_message(self) -> None:
        """Send what the composer holds (opening a new conversation if none is open)."""
        text = self.composer.toPlainText().strip()
        if not text or not self.send_button.isEnabled():
            return
        if self._current_id is None:
            self.new_conversation()
        if self._current_id is None:
            return
        try:
            self._services.chat.send(self._current_id, text)
        except ChatError as exc:
            self._show_note(str(exc))
            return
        self.composer.clear()
        self._at_bottom = True

    def stop_stream(self) -> None:
        """Stop the open conversation's answer."""
        if self._current_id is not None:
            self._services.chat.stop(self._current_id)

    def _on_stream_changed(self, conversation_id: int, *_: object) -> None:
        if conversation_id == self._current_id:
            self._update_composer()

    def _update_composer(self) -> None:
        chat = self._services.chat
        conversation = None
        if self._current_id is not None:
            try:
                conversation = self._services.conversations.get(self._current_id)
            except LookupError:
                conversation = None
        target = chat.target(conversation)
        streaming = self._current_id is not None and chat.is_streaming(self._current_id)
        self.composer.setEnabled(target is not None)
        self.composer.setPlaceholderText(
            NO_PROVIDER_HINT
            if target is None
            else f"Message {target.model} (Enter sends, Shift+Enter: new line)"
        )
        self.send_button.setEnabled(target is not None and not streaming)
        self.send_button.setToolTip(NO_PROVIDER_HINT if target is None else "Send (Enter)")
        self.stop_button.setVisible(streaming)

    def _fill_model_picker(self) -> None:
        picker = self.model_picker
        picker.clear()
        for profile in self._services.providers.profiles():
            model = profile.default_model
            picker.addItem(f"{profile.name} · {model or 'no model'}", (profile.id, model))
        current = (self._settings.get(DEFAULT_PROFILE), self._settings.get(DEFAULT_MODEL))
        for i in range(picker.count()):
            pid, model = picker.itemData(i)
            if pid == current[0] and (model == current[1] or not current[1]):
                picker.setCurrentIndex(i)
        picker.setVisible(picker.count() > 0)
        self._update_composer()

    def _on_model_picked(self, index: int) -> None:
        pid, model = self.model_picker.itemData(index)
        self._settings.set(DEFAULT_PROFILE, pid)
        self._settings.set(DEFAULT_MODEL, model)

    def _on_setting_changed(self, key: str) -> None:
        if key in (DEFAULT_PROFILE.key, DEFAULT_MODEL.key):
            self._fill_model_picker()

    def _follow_bottom(self, *_: object) -> None:
        """Keep the newest text in view, but only when the reader is already at the bottom."""
        bar = self.transcript.verticalScrollBar()
        if self._at_bottom:
            self.transcript.scrollToBottom()
        self._at_bottom = bar.value() >= bar.maximum() - 4

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
            self.transcript_model.show_conversation(None)
            self._update_empty_state()
            self._update_composer()

    def _show_note(self, text: str) -> None:
        log.info("%s", text)
        self.statusBar().showMessage(text, 15_000)

    def current_index(self) -> QModelIndex:
        """The selected row of the conversation list."""
        return self.conversation_list.currentIndex()
