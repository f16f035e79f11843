"""The main window: conversation list on the left, transcript and composer on the right."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.domain import ApprovalDecision, Message, Role
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat import ChatError
from desktop_chat.services.history_jobs import JobEnded, JobProgress
from desktop_chat.services.providers import Preset
from desktop_chat.settings import (
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    LAST_CONVERSATION,
    SPLITTER_STATE,
    WINDOW_GEOMETRY,
)
from desktop_chat.ui.common.resources import app_icon
from desktop_chat.ui.composer import Composer
from desktop_chat.ui.model_picker import ModelPicker
from desktop_chat.ui.search.find_bar import FindBar
from desktop_chat.ui.sidebar.pane import ConversationSidebar
from desktop_chat.ui.transcript.model import TranscriptModel
from desktop_chat.ui.transcript.view import TranscriptView

log = logging.getLogger(__name__)


NO_PROVIDER_HINT = "Add a model provider to start chatting."
NO_MODEL_HINT = "Choose a model in the header to start chatting."
REVIEW_HINT = "Read-only review: a copy of the file is shown; sending is off and nothing is saved to it."


def _named(widget: QWidget, name: str, accessible: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


class MainWindow(QMainWindow):
    """The one window of the app."""

    closed = Signal()

    def __init__(
        self, services: AppServices, parent: QWidget | None = None, *, review: str | None = None
    ) -> None:
        super().__init__(parent)
        self.review = review  # a read-only look at this file: no sending, no provider set-up
        self.last_history_result = ""  # what the last export, import or backup said
        self._services = services
        self._settings = services.settings
        self._current_id: int | None = None
        self.setWindowTitle("Desktop Chat")
        self.setWindowIcon(app_icon() or QIcon())
        self.resize(1100, 720)

        services.conversations.rows_skipped.connect(
            lambda skipped: self._show_note(skipped.note)
        )  # before the list reads the store
        self.sidebar = ConversationSidebar(services.conversations, services.chat)
        self.conversation_model = self.sidebar.model  # what the list shows (the filter proxy)
        self.conversation_list = self.sidebar.view
        self.transcript_model = TranscriptModel(
            self, conversations=services.conversations, chat=services.chat
        )
        self._build()
        self._build_actions()
        if review:
            self.setWindowTitle(f"Review: {review} (read-only)")
            review_label = QLabel(REVIEW_HINT)
            review_label.setObjectName("reviewHint")
            self.statusBar().addPermanentWidget(review_label)
        services.conversations.conversation_removed.connect(self._on_removed)
        chat = services.chat
        chat.stream_started.connect(self._on_stream_changed)
        chat.stream_finished.connect(lambda ended: self._on_stream_changed(ended.conversation_id))
        services.providers.profiles_changed.connect(self._update_composer)
        self._settings.changed.connect(self._on_setting_changed)
        self._restore_state()
        for note in services.startup_notes():
            self._show_note(note)

    # ---- construction -----------------------------------------------------------------------

    def _build(self) -> None:
        left = self.sidebar  # New chat, filter, list, undo bar (ui/sidebar.py)
        self.new_button = self.sidebar.new_button
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.conversation_activated.connect(self._on_activated)
        listed = self.sidebar.source_model  # every conversation, whatever the filter shows
        listed.modelReset.connect(self._update_empty_state)
        listed.rowsInserted.connect(self._update_empty_state)
        listed.rowsRemoved.connect(self._update_empty_state)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 8, 8, 8)
        self.pages = QStackedWidget()
        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.transcript = TranscriptView(self.transcript_model)
        self.pages.addWidget(self.empty_label)
        self.pages.addWidget(self.transcript)

        header = QHBoxLayout()
        self.model_picker = ModelPicker(self._services.providers, self)
        self.model_picker.chosen.connect(self._on_model_chosen)
        header.addWidget(self.model_picker)
        self.setup_button = QPushButton("Set up a provider…")
        _named(self.setup_button, "setupProviderButton", "Set up a provider")
        self.setup_button.clicked.connect(self.show_welcome)
        header.addWidget(self.setup_button)
        header.addStretch(1)
        self.conversation_settings_button = QPushButton("Conversation settings…")
        _named(self.conversation_settings_button, "conversationSettingsButton", "Conversation settings")
        self.conversation_settings_button.setFlat(True)
        self.conversation_settings_button.setToolTip("System prompt, temperature and length (Ctrl+Shift+,)")
        self.conversation_settings_button.clicked.connect(self.open_conversation_settings)
        header.addWidget(self.conversation_settings_button)

        composer_row = QHBoxLayout()
        self.composer = Composer()
        _named(self.composer, "composer", "Message")
        self.composer.setMaximumHeight(120)
        self.composer.submitted.connect(self.send_message)
        self.composer.stop_requested.connect(self.stop_stream)
        self._wire_transcript()
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
        self.find_bar = FindBar()
        self.find_bar.go_to.connect(self._find_go_to)
        self.find_bar.closed.connect(self._find_closed)
        right_layout.addWidget(self.find_bar)
        right_layout.addWidget(self.pages, 1)
        right_layout.addLayout(composer_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 820])
        self.setCentralWidget(self.splitter)
        # Tab walks the panes in reading order: filter, list, transcript, composer, send.
        chain = [self.sidebar.filter_edit, self.sidebar.view, self.transcript, self.composer]
        for first, second in itertools.pairwise([*chain, self.send_button]):
            QWidget.setTabOrder(first, second)
        self._update_composer()
        self._update_empty_state()

    def _build_actions(self) -> None:
        new_action = QAction("New chat", self)
        new_action.setShortcut(QKeySequence.StandardKey.New)
        new_action.triggered.connect(self.new_conversation)
        self.filter_action = QAction("Filter the list", self)
        self.filter_action.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.filter_action.triggered.connect(self.sidebar.focus_filter)
        self.search_action = QAction("Search all conversations…", self)
        self.search_action.setShortcut(QKeySequence("Ctrl+K"))
        self.search_action.triggered.connect(self.open_search)
        self.find_action = QAction("Find in this conversation", self)
        self.find_action.setShortcut(QKeySequence("Ctrl+F"))
        self.find_action.triggered.connect(self.open_find)
        self.addActions([self.filter_action, self.search_action, self.find_action])
        settings_action = QAction("Settings…", self)
        settings_action.setShortcut(QKeySequence("Ctrl+,"))
        settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        settings_action.triggered.connect(self.open_settings)
        conversation_settings_action = QAction("Conversation settings…", self)
        conversation_settings_action.setShortcut(QKeySequence("Ctrl+Shift+,"))
        conversation_settings_action.triggered.connect(self.open_conversation_settings)
        self.addActions([settings_action, conversation_settings_action])
        close_action = QAction("Close conversation", self)
        close_action.setShortcuts([QKeySequence("Ctrl+W"), QKeySequence("Ctrl+F4")])
        close_action.triggered.connect(self.close_conversation)
        attach_action = QAction("Attach text file…", self)
        attach_action.setShortcut(QKeySequence.StandardKey.Open)  # Ctrl+O
        attach_action.triggered.connect(self.choose_files)
        self.addAction(attach_action)
        export_one = QAction("Export this conversation…", self)
        export_one.triggered.connect(lambda: self.choose_export(current_only=True))
        export_all = QAction("Export all conversations…", self)
        export_all.setShortcut(QKeySequence("Ctrl+Shift+E"))
        export_all.triggered.connect(lambda: self.choose_export(current_only=False))
        import_action = QAction("Import conversations…", self)
        import_action.setShortcut(QKeySequence("Ctrl+Shift+I"))
        import_action.triggered.connect(self.choose_import)
        backup_action = QAction("Back up now…", self)
        backup_action.triggered.connect(self.choose_backup)
        copy_markdown = QAction("Copy conversation as Markdown", self)
        copy_markdown.setShortcut(QKeySequence("Ctrl+Shift+M"))
        copy_markdown.triggered.connect(self.copy_conversation_markdown)
        self.addActions([export_all, import_action, copy_markdown])
        copy_answer_action = QAction("Copy last answer", self)
        copy_answer_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        copy_answer_action.triggered.connect(self.copy_last_answer)
        self.addActions([close_action, copy_answer_action])
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.addActions([new_action, quit_action])  # shortcuts work even with the menu bar hidden
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(new_action)
        file_menu.addAction(close_action)
        file_menu.addAction(attach_action)
        file_menu.addSeparator()
        file_menu.addAction(export_one)
        file_menu.addAction(export_all)
        file_menu.addAction(import_action)
        file_menu.addAction(backup_action)
        file_menu.addSeparator()
        file_menu.addAction(conversation_settings_action)
        file_menu.addAction(settings_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(copy_answer_action)
        edit_menu.addAction(copy_markdown)
        edit_menu.addAction(self.search_action)
        edit_menu.addAction(self.find_action)
        edit_menu.addAction(self.filter_action)

    # ---- state ------------------------------------------------------------------------------

    def _restore_state(self) -> None:
        geometry = self._settings.get(WINDOW_GEOMETRY)
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        splitter = self._settings.get(SPLITTER_STATE)
        if splitter:
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode()))
        last = self._settings.get(LAST_CONVERSATION)
        target = last if last and self.sidebar.is_shown(last) else self.sidebar.first_id()
        if target is not None:
            self.open_conversation(target)

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

    def _update_empty_state(self, *_: object) -> None:
        if self.sidebar.conversation_count() == 0:
            self.empty_label.setText(
                "<h2>Welcome to Desktop Chat</h2>"
                "<p>Your conversations will appear on the left, kept in one file on this computer.</p>"
                f"<p>{NO_PROVIDER_HINT}</p><p>Press <b>Ctrl+N</b> for a new chat.</p>"
            )
            self.pages.setCurrentWidget(self.empty_label)
        elif self._current_id is None:
            self.empty_label.setText("<p>Select a conversation.</p>")
            self.pages.setCurrentWidget(self.empty_label)

    def _on_activated(self, conversation_id: int) -> None:
        """The person picked a conversation in the list (or the list moved on after a delete)."""
        if conversation_id != self._current_id:
            self.open_conversation(conversation_id)

    def open_conversation(self, conversation_id: int) -> None:
        """Show a conversation's active branch (and select it in the list)."""
        self.sidebar.select_conversation(conversation_id)
        if conversation_id != self._current_id and self.find_bar.isVisible():
            self.find_bar.hide()
            self.transcript_model.set_highlight(None)
        self._current_id = conversation_id
        self.composer.cancel_editing()
        self.transcript_model.show_conversation(conversation_id)
        self.pages.setCurrentWidget(self.transcript)
        self.transcript.follow_bottom()
        self._update_composer()

    # ---- export, import, backup ---------------------------------------------------------------

    def export_history(self, fmt: str, path: Path, conversation_ids: list[int] | None = None) -> int:
        """Export in the background with a progress dialog; returns the job id."""
        job = self._services.history.export(fmt, path, conversation_ids)
        self._track(job, "Exporting conversations…")
        return job

    def import_history(self, path: Path) -> int:
        """Import an export file in the background with a progress dialog; returns the job id."""
        job = self._services.history.import_file(path)
        self._track(job, f"Importing {path.name}…")
        return job

    def backup_history(self, path: Path) -> int:
        """Back the database up in the background with a progress dialog; returns the job id."""
        job = self._services.history.backup(path)
        self._track(job, "Backing up…")
        return job

    def _track(self, job: int, title: str) -> None:
        from PySide6.QtWidgets import QProgressDialog

        dialog = QProgressDialog(title, "Cancel", 0, 0, self)
        dialog.setObjectName("historyProgress")
        dialog.setWindowTitle("Desktop Chat")
        dialog.setMinimumDuration(400)  # quick jobs never show it
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        history = self._services.history
        dialog.canceled.connect(lambda: history.cancel(job))

        def on_progress(progress: JobProgress) -> None:
            if progress.job_id == job:
                dialog.setMaximum(max(progress.total, 1))
                dialog.setValue(min(progress.done, max(progress.total, 1)))

        def on_end(ended: JobEnded) -> None:
            if ended.job_id != job:
                return
            text = ended.text
            history.progress.disconnect(on_progress)
            history.finished.disconnect(on_end)
            history.failed.disconnect(on_end)
            dialog.reset()
            dialog.deleteLater()
            self._show_note(text)
            self.last_history_result = text

        history.progress.connect(on_progress)
        history.finished.connect(on_end)
        history.failed.connect(on_end)

    def choose_export(self, *, current_only: bool) -> None:
        """Ask where (and in which format) to export, then export."""
        from PySide6.QtWidgets import QFileDialog

        if current_only and self._current_id is None:
            self._show_note("Open a conversation first.")
            return
        ids = [self._current_id] if current_only and self._current_id is not None else None
        dialog = QFileDialog(self, "Export conversations")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        filters = {
            "JSON, one complete file (*.json)": "json",
            "Markdown, one file each (*)": "md",
            "HTML, one file each (*)": "html",
        }
        dialog.setNameFilters(list(filters))
        dialog.selectFile("desktop_chat-export.json")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(path: str) -> None:
            fmt = filters.get(dialog.selectedNameFilter(), "json")
            self.export_history(fmt, Path(path), ids)

        dialog.fileSelected.connect(chosen)
        dialog.open()

    def choose_import(self) -> None:
        """Ask for an export file (this app's, ChatGPT's or Claude's), then import it."""
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self, "Import conversations")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Exports (*.json *.zip)", "All files (*)"])
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.import_history(Path(path)))
        dialog.open()

    def choose_backup(self) -> None:
        """Ask where to write a backup, then write it."""
        from datetime import date

        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self, "Back up your history")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(f"desktop_chat-backup-{date.today().isoformat()}.sqlite3")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.backup_history(Path(path)))
        dialog.open()

    def copy_conversation_markdown(self) -> str | None:
        """Ctrl+Shift+M: the open conversation (its branch) as Markdown on the clipboard."""
        if self._current_id is None:
            self._show_note("Open a conversation first.")
            return None
        text = self._services.history.markdown(self._current_id)
        self.transcript.copy_text(text)
        return text

    # ---- search --------------------------------------------------------------------------------

    def open_search(self) -> QWidget:
        """Ctrl+K: search every conversation (one panel, reused); returns it."""
        from desktop_chat.ui.search.panel import SearchPanel

        panel = self.findChild(SearchPanel)
        if panel is None:
            panel = SearchPanel(self._services.search, self)
            panel.open_requested.connect(self.open_hit)
        panel.show_for()
        return panel

    def open_hit(self, conversation_id: int, message_id: int, query: str = "") -> bool:
        """Open a conversation at a message (switching to its branch if needed), scrolled to and tinted."""
        if not self.sidebar.is_shown(conversation_id):
            self.sidebar.clear_filter()
            self.sidebar.set_show_archived(True)
        self.open_conversation(conversation_id)
        branch = {m.id for m in self._services.conversations.transcript(conversation_id)}
        if message_id not in branch:
            self._services.conversations.switch_branch(message_id)
        return self.transcript.reveal(message_id, terms=self._services.search.highlight_terms(query))

    def open_find(self) -> None:
        """Ctrl+F: find in the open conversation."""
        if self._current_id is None:
            self._show_note("Open a conversation first.")
            return
        self.find_bar.open_on(self._services.conversations.transcript(self._current_id))

    def _find_go_to(self, message_id: int) -> None:
        text = self.find_bar.field.text().strip()
        self.transcript.reveal(message_id, terms=(text,) if text else ())

    def _find_closed(self) -> None:
        self.transcript_model.set_highlight(None)
        self.composer.setFocus()

    def close_conversation(self) -> None:
        """Ctrl+W: put the open conversation away (it stays in the list; nothing is deleted)."""
        if self._current_id is None:
            return
        self._current_id = None
        self.sidebar.select_conversation(None)
        self.composer.cancel_editing()
        self.transcript_model.show_conversation(None)
        self._update_empty_state()
        self._update_composer()
        self.sidebar.view.setFocus()

    def choose_files(self) -> None:
        """Ctrl+O: pick text files the model may read (with the read_text_file tool)."""
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self, "Attach text files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filesSelected.connect(self.attach_files)
        dialog.open()

    def attach_files(self, paths: list[str]) -> list[str]:
        """Attach files to the open conversation (a new one if none is open) and mention them in the
        message box; returns the full paths attached."""
        if self._current_id is None:
            self.new_conversation()
        if self._current_id is None:
            return []
        attached: list[str] = []
        problems: list[str] = []
        for path in paths:
            try:
                attached.append(str(self._services.conversations.attach_file(self._current_id, Path(path))))
            except ValueError as exc:
                problems.append(str(exc))
        if attached:
            lines = "\n".join(f"[Attached file: {p}]" for p in attached)
            text = self.composer.toPlainText().rstrip()
            self.composer.setPlainText(f"{text}\n{lines}\n" if text else f"{lines}\n")
            self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
            self.composer.setFocus()
        names = ", ".join(Path(p).name for p in attached)
        note = f"Attached {names}: the model can read it." if attached else ""
        self._show_note(" ".join(x for x in (note, *problems) if x))
        return attached

    def copy_last_answer(self) -> str | None:
        """Ctrl+Shift+C: the open conversation's last answer (its Markdown) onto the clipboard."""
        model = self.transcript_model
        for row in range(model.rowCount() - 1, -1, -1):
            message = model.message_at(row)
            if message is not None and message.role is Role.ASSISTANT and message.text:
                self.transcript.copy_text(message.text)
                return message.text
        self._show_note("There is no answer to copy yet.")
        return None

    # ---- chatting ---------------------------------------------------------------------------

    def send_message(self) -> None:
        """Send what the composer holds (opening a new conversation if none is open)."""
        text = self.composer.toPlainText().strip()
        if not text or not self.send_button.isEnabled():
            return
        if self.composer.editing is not None:
            self._send_edit(self.composer.editing, text)
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
        self.transcript.follow_bottom()

    def stop_stream(self) -> None:
        """Stop the open conversation's answer."""
        if self._current_id is not None:
            self._services.chat.stop(self._current_id)

    def _on_stream_changed(self, conversation_id: int, _message_id: int = 0) -> None:
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
        target = None if self.review else chat.target(conversation)
        streaming = self._current_id is not None and chat.is_streaming(self._current_id)
        has_profiles = bool(self._services.providers.profiles())
        hint = NO_PROVIDER_HINT if not has_profiles else NO_MODEL_HINT
        if self.review:
            hint = REVIEW_HINT
        self.composer.setEnabled(target is not None)
        if target is not None and self.focusWidget() in (None, self.composer):
            self.composer.setFocus()  # typing goes to the composer from the start
        self.composer.setPlaceholderText(
            hint if target is None else f"Message {target.model} (Enter sends, Shift+Enter: new line)"
        )
        self.send_button.setEnabled(target is not None and not streaming)
        self.send_button.setToolTip(hint if target is None else "Send (Enter)")
        self.stop_button.setVisible(streaming)
        self._update_header(target.profile.id if target else None, target.model if target else "")

    def _update_header(self, profile_id: int | None, model: str) -> None:
        """The picker shows what the open conversation uses; setup and conversation settings as fit."""
        has_profiles = self.model_picker.profile_box.count() > 0
        if profile_id is None and has_profiles:
            profile_id = self._settings.get(DEFAULT_PROFILE) or None
        self.model_picker.set_target(profile_id, model)
        self.setup_button.setVisible(not has_profiles and not self.review)
        if self.review:
            self.model_picker.hide()
        self.conversation_settings_button.setVisible(self._current_id is not None)

    def _on_model_chosen(self, profile_id: int, model: str) -> None:
        """The picker's choice: the open conversation's model from now on, and the default for new ones."""
        providers = self._services.providers
        profile = providers.get(profile_id)
        if profile is None:
            return
        if self._current_id is not None:
            self._services.conversations.set_model(self._current_id, profile_id, model)
        providers.use(profile, model)
        self._update_composer()

    def _on_setting_changed(self, key: str) -> None:
        if key in (DEFAULT_PROFILE.key, DEFAULT_MODEL.key):
            self._update_composer()

    # ---- settings and first run ----------------------------------------------------------------

    def open_settings(self, page: str = "providers") -> QWidget:
        """Show the Settings dialog (one at a time, not modal); returns it. Not in a review."""
        if self.review:
            self._show_note(REVIEW_HINT)
            return self
        from desktop_chat.ui.settings.dialog import SettingsDialog

        dialog = next((d for d in self.findChildren(SettingsDialog) if d.isVisible()), None)
        if dialog is None:
            dialog = SettingsDialog(self._services, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if page != "providers":
            dialog.show_page(page)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def open_conversation_settings(self) -> QWidget | None:
        """Show the open conversation's settings (system prompt, temperature, max tokens); returns it."""
        from desktop_chat.ui.settings.conversation import ConversationSettingsDialog

        if self._current_id is None:
            self._show_note("Open a conversation first.")
            return None
        dialog = ConversationSettingsDialog(
            self._services.conversations, self._settings, self._current_id, self, tools=self._services.tools
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_welcome(
        self, *, local_presets: tuple[Preset, ...] | None = None, timeout: float | None = None
    ) -> QWidget:
        """The first-run welcome (local servers found here, or a cloud key), over the window, not blocking.

        Tests and screenshots pass their own `local_presets` (and detection `timeout`)."""
        from desktop_chat.ui.welcome import DETECT_TIMEOUT_S, WelcomeDialog

        dialog = next((d for d in self.findChildren(WelcomeDialog) if d.isVisible()), None)
        if dialog is None:
            dialog = WelcomeDialog(
                self._services.providers,
                self,
                local_presets=local_presets,
                timeout=DETECT_TIMEOUT_S if timeout is None else timeout,
            )
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.settings_requested.connect(self.open_settings)
            dialog.provider_added.connect(lambda _pid: self._update_composer())
        dialog.open()
        return dialog

    def show_welcome_if_needed(self) -> QWidget | None:
        """The welcome, when no provider is set up yet (at start, outside scripted runs and reviews)."""
        if self.review or self._services.providers.profiles():
            return None
        return self.show_welcome()

    # ---- transcript actions -----------------------------------------------------------------

    def _wire_transcript(self) -> None:
        """Actions on messages (buttons and keys in the transcript) go to the services."""
        chat = self._services.chat
        view = self.transcript
        view.edit_requested.connect(self.edit_message)
        view.regenerate_requested.connect(lambda mid: self._chat_action(chat.regenerate, mid))
        view.continue_requested.connect(lambda mid: self._chat_action(chat.continue_answer, mid))
        view.retry_requested.connect(lambda mid: self._chat_action(chat.continue_answer, mid))  # text kept
        view.switch_requested.connect(self._services.conversations.switch_branch)
        view.copied.connect(lambda _text: self._show_note("Copied to the clipboard."))
        view.approval_decided.connect(self._decide_approval)
        view.tool_cancel_requested.connect(chat.cancel_tool)
        self.composer.edit_last_requested.connect(self._edit_last)
        self.composer.files_dropped.connect(self.attach_files)

    def _decide_approval(self, execution_id: int, decision: ApprovalDecision) -> None:
        if not self._services.chat.approve(execution_id, decision):
            self._show_note("That tool call is no longer waiting.")

    def _chat_action(self, action: Callable[[int], object], message_id: int) -> None:
        try:
            action(message_id)
        except ChatError as exc:
            self._show_note(str(exc))

    def edit_message(self, message: Message) -> None:
        """Put a message of yours into the composer; sending it then starts a new branch."""
        self.composer.start_editing(message.id, message.text)

    def _edit_last(self) -> None:
        model = self.transcript_model
        for row in range(model.rowCount() - 1, -1, -1):
            message = model.message_at(row)
            if message is not None and message.role is Role.USER:
                self.edit_message(message)
                return

    def _send_edit(self, message_id: int, text: str) -> None:
        try:
            self._services.chat.edit_and_resend(message_id, text)
        except ChatError as exc:
            self._show_note(str(exc))
            return
        self.composer.finish_editing()
        self.transcript.follow_bottom()

    def current_conversation_id(self) -> int | None:
        """The conversation shown, if any."""
        return self._current_id

    def new_conversation(self) -> None:
        """Create an empty conversation and open it."""
        self.sidebar.clear_filter()  # the new one must show
        conversation = self._services.conversations.create()
        self.open_conversation(conversation.id)
        self.composer.setFocus()

    def _on_removed(self, conversation_id: int) -> None:
        # The list has already moved on to the next row (and opened it) when there was one.
        if conversation_id == self._current_id:
            self.sidebar.select_conversation(None)
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
