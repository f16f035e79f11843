"""The main window: conversation list on the left, transcript and composer on the right.

It is built in two steps so that start-up shows a window first: the frame (title, size, the split, the
menu bar and status bar, in the theme's colours) needs only PySide6 and the settings; `attach(services)`
then imports and builds the rest into it. `MainWindow(services)` does both at once.

Parts with a job of their own live beside it: `header.py`, `message_actions.py`, `attachments.py`,
`history_actions.py`, `search/actions.py`, `window_dialogs.py` and `empty_state.py`."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.settings import (
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    LAST_CONVERSATION,
    SPLITTER_STATE,
    WINDOW_GEOMETRY,
    Settings,
)
from desktop_chat.ui.common.forms import named
from desktop_chat.ui.common.resources import app_icon
from desktop_chat.ui.empty_state import NO_MODEL_HINT, NO_PROVIDER_HINT, REVIEW_HINT

if TYPE_CHECKING:
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.services.providers import Preset
    from desktop_chat.ui.attachments import FileAttacher
    from desktop_chat.ui.composer import Composer
    from desktop_chat.ui.empty_state import EmptyState
    from desktop_chat.ui.header import ChatHeader
    from desktop_chat.ui.history_actions import HistoryActions
    from desktop_chat.ui.message_actions import MessageActions
    from desktop_chat.ui.search.actions import SearchActions
    from desktop_chat.ui.search.find_bar import FindBar
    from desktop_chat.ui.sidebar.pane import ConversationSidebar
    from desktop_chat.ui.transcript.model import TranscriptModel
    from desktop_chat.ui.transcript.view import TranscriptView

log = logging.getLogger(__name__)
Shortcut = QKeySequence | QKeySequence.StandardKey | str
MENUS = ("&File", "&Edit")  # in the frame from the start, so attaching moves nothing on screen


class MainWindow(QMainWindow):
    """The one window of the app."""

    closed = Signal()
    attached = Signal()  # the content is built (start-up: after the frame's first paint)

    _services: AppServices
    sidebar: ConversationSidebar
    transcript_model: TranscriptModel
    transcript: TranscriptView
    composer: Composer
    empty_label: EmptyState
    header: ChatHeader
    find_bar: FindBar
    message_actions: MessageActions
    attacher: FileAttacher
    history_actions: HistoryActions
    search: SearchActions

    def __init__(
        self,
        services: AppServices | None = None,
        parent: QWidget | None = None,
        *,
        review: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(parent)
        if services is None and settings is None:
            raise ValueError("MainWindow needs its services, or the settings to show its frame")
        self.review = review  # a read-only look at this file: no sending, no provider set-up
        self._settings = settings if settings is not None else services.settings  # type: ignore[union-attr]
        self._current_id: int | None = None
        self.is_attached = False
        self._build_frame()
        if services is not None:
            self.attach(services)

    # ---- construction -----------------------------------------------------------------------

    def _build_frame(self) -> None:
        """What shows before anything else is loaded: title, size, the split, the bars."""
        self.setWindowTitle(f"Review: {self.review} (read-only)" if self.review else "Desktop Chat")
        self.setWindowIcon(app_icon() or QIcon())
        self.resize(1100, 720)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(QWidget())  # the sidebar's place
        self.splitter.addWidget(QWidget())  # the transcript's and composer's
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 820])
        self.setCentralWidget(self.splitter)
        self._menus = {title: self.menuBar().addMenu(title) for title in MENUS}
        if self.review:
            review_label = QLabel(REVIEW_HINT)
            review_label.setObjectName("reviewHint")
            self.statusBar().addPermanentWidget(review_label)
        else:
            self.statusBar()
        self._restore_geometry()

    def attach(self, services: AppServices) -> None:
        """Build the window's content on `services` (once) and open the last conversation."""
        if self.is_attached:
            raise RuntimeError("the window is attached already")
        from desktop_chat.ui.common.widget_tasks import Jobs
        from desktop_chat.ui.sidebar.pane import ConversationSidebar
        from desktop_chat.ui.transcript.model import TranscriptModel

        self._services = services
        self._jobs = Jobs(self)
        services.writes.write_failed.connect(lambda failure: self._show_note(failure.message))
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
        self._build_helpers()
        self._build_actions()
        services.conversations.conversation_removed.connect(self._on_removed)
        chat = services.chat
        chat.stream_started.connect(self._on_stream_changed)
        chat.stream_finished.connect(lambda ended: self._on_stream_changed(ended.conversation_id))
        services.providers.profiles_changed.connect(self._update_composer)
        self._settings.changed_for(DEFAULT_PROFILE, DEFAULT_MODEL).connect(self._update_composer)
        self.is_attached = True
        self._restore_state()
        for note in services.startup_notes():
            self._show_note(note)
        self.attached.emit()

    def _build(self) -> None:
        from desktop_chat.ui.composer import Composer
        from desktop_chat.ui.empty_state import EmptyState
        from desktop_chat.ui.header import ChatHeader
        from desktop_chat.ui.search.find_bar import FindBar
        from desktop_chat.ui.transcript.view import TranscriptView

        left = self.sidebar  # New chat, filter, list, undo bar (ui/sidebar/)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.conversation_activated.connect(self._on_activated)
        listed = self.sidebar.source_model  # every conversation, whatever the filter shows
        for change in (listed.modelReset, listed.rowsInserted, listed.rowsRemoved):
            change.connect(self._update_empty_state)

        right = self.chat_pane = QWidget()  # held: PySide's replaceWidget does not take ownership
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 8, 8, 8)
        self.pages = QStackedWidget()
        self.empty_label = EmptyState()
        self.transcript = TranscriptView(self.transcript_model)
        self.pages.addWidget(self.empty_label)
        self.pages.addWidget(self.transcript)

        self.header = ChatHeader(self._services.providers)
        self.model_picker = self.header.model_picker
        self.model_picker.chosen.connect(self._on_model_chosen)
        self.setup_button = self.header.setup_button
        self.setup_button.clicked.connect(self.show_welcome)
        self.conversation_settings_button = self.header.conversation_settings_button
        self.conversation_settings_button.clicked.connect(self.open_conversation_settings)

        composer_row = QHBoxLayout()
        self.composer = Composer()
        named(self.composer, "composer", "Message")
        self.composer.setMaximumHeight(120)
        self.composer.submitted.connect(self.send_message)
        self.composer.stop_requested.connect(self.stop_stream)
        self.send_button = QPushButton("Send")
        named(self.send_button, "sendButton", "Send")
        self.send_button.clicked.connect(self.send_message)
        self.stop_button = QPushButton("Stop")
        named(self.stop_button, "stopButton", "Stop the answer")
        self.stop_button.clicked.connect(self.stop_stream)
        self.stop_button.hide()
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        composer_row.addWidget(self.composer, 1)
        composer_row.addLayout(buttons)
        right_layout.addWidget(self.header)
        self.find_bar = FindBar()
        right_layout.addWidget(self.find_bar)
        right_layout.addWidget(self.pages, 1)
        right_layout.addLayout(composer_row)

        sizes = self.splitter.sizes()
        for index, widget in enumerate((left, right)):
            placeholder = self.splitter.replaceWidget(index, widget)  # the frame's
            if placeholder is not None:
                placeholder.deleteLater()
        self.splitter.setSizes(sizes)
        # Tab walks the panes in reading order: filter, list, transcript, composer, send.
        chain = [self.sidebar.filter_edit, self.sidebar.view, self.transcript, self.composer]
        for first, second in itertools.pairwise([*chain, self.send_button]):
            QWidget.setTabOrder(first, second)
        self._update_composer()
        self._update_empty_state()

    def _build_helpers(self) -> None:
        """The window's parts with a job of their own: message actions, attaching files, history, search."""
        from desktop_chat.ui.attachments import FileAttacher
        from desktop_chat.ui.history_actions import HistoryActions
        from desktop_chat.ui.message_actions import MessageActions
        from desktop_chat.ui.search.actions import SearchActions

        services, current = self._services, self.current_conversation_id
        self.message_actions = MessageActions(
            services.chat, services.conversations, self.transcript, self.transcript_model, self.composer
        )
        self.attacher = FileAttacher(
            services.conversations, self.composer, self, current=current, open_new=self.new_conversation
        )
        self.history_actions = HistoryActions(
            services.history, self, current=current, copy=self.transcript.copy_text
        )
        self.search = SearchActions(
            services,
            self,
            sidebar=self.sidebar,
            transcript=self.transcript,
            model=self.transcript_model,
            find_bar=self.find_bar,
            current=current,
            open_conversation=self.open_conversation,
            find_closed=self.composer.setFocus,
        )
        for helper in (self.message_actions, self.attacher, self.history_actions, self.search):
            helper.note.connect(self._show_note)

    def _action(self, text: str, slot: Callable[[], object], *keys: Shortcut) -> QAction:
        action = QAction(text, self)
        sequences = [QKeySequence(key) for key in keys]
        action.setShortcuts([s for s in sequences if not s.isEmpty()])  # no binding here: no shortcut
        action.triggered.connect(slot)
        self.addAction(action)  # the shortcut works even with the menu bar hidden
        return action

    def _menu(self, title: str, *groups: list[QAction]) -> None:
        menu: QMenu = self._menus.get(title) or self.menuBar().addMenu(title)
        for i, group in enumerate(groups):
            if i:
                menu.addSeparator()
            menu.addActions(group)

    def _build_actions(self) -> None:
        new = self._action("New chat", self._new_from_action, QKeySequence.StandardKey.New)
        self.filter_action = self._action("Filter the list", self.sidebar.focus_filter, "Ctrl+Shift+K")
        self.search_action = self._action("Search all conversations…", self.open_search, "Ctrl+K")
        self.find_action = self._action("Find in this conversation", self.search.open_find, "Ctrl+F")
        settings_action = self._action("Settings…", self.open_settings, "Ctrl+,")
        settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        conversation_settings_action = self._action(
            "Conversation settings…", self.open_conversation_settings, "Ctrl+Shift+,"
        )
        close_action = self._action("Close conversation", self.close_conversation, "Ctrl+W", "Ctrl+F4")
        attach_action = self._action("Attach text file…", self.attacher.choose, QKeySequence.StandardKey.Open)
        copy_answer = self._action("Copy last answer", self.message_actions.copy_last_answer, "Ctrl+Shift+C")
        quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        history = self.history_actions
        self.addActions([history.export_all, history.import_action, history.copy_markdown_action])
        self._menu(
            "&File",
            [new, close_action, attach_action],
            [history.export_one, history.export_all, history.import_action, history.backup_action],
            [conversation_settings_action, settings_action],
            [quit_action],
        )
        edit = [copy_answer, history.copy_markdown_action, self.search_action, self.find_action]
        self._menu("&Edit", [*edit, self.filter_action])

    # ---- state ------------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = self._settings.get(WINDOW_GEOMETRY)
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        splitter = self._settings.get(SPLITTER_STATE)
        if splitter:
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode()))

    def _restore_state(self) -> None:
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
            if self.is_attached:  # a frame closed before its content came changes nothing
                self._save_state()
        except OSError as exc:  # a full disk must not keep the window open
            log.warning("Could not save window state: %s", exc)
        super().closeEvent(event)
        self.closed.emit()

    # ---- the open conversation ---------------------------------------------------------------

    def _update_empty_state(self, *_: object) -> None:
        count = self.sidebar.conversation_count()
        if count == 0 or self._current_id is None:
            self.empty_label.show_for(count)
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

    def close_conversation(self) -> None:
        """Ctrl+W: put the open conversation away (it stays in the list; nothing is deleted)."""
        if self._current_id is None:
            return
        self.composer.cancel_editing()
        self._show_none()
        self.sidebar.view.setFocus()

    def current_conversation_id(self) -> int | None:
        """The conversation shown, if any."""
        return self._current_id

    def new_conversation(self, then: Callable[[int], object] | None = None) -> None:
        """Create an empty conversation and open it once it is stored (then `then(its id)`)."""
        self.sidebar.clear_filter()  # the new one must show

        def opened(conversation_id: int) -> None:
            if then is not None:
                then(conversation_id)

        self._jobs.start(self.create_conversation, opened, lambda exc: self._show_note(str(exc)))

    def _new_from_action(self) -> None:
        self.new_conversation()  # (an action's `triggered` would pass its checked state as `then`)

    async def create_conversation(self) -> int:
        """Create an empty conversation, open it and put the focus in the message box; its id."""
        conversation = await self._services.conversations.create()
        if not shiboken6.isValid(self):  # the window closed meanwhile
            return conversation.id
        self.sidebar.clear_filter()
        self.open_conversation(conversation.id)
        self.composer.setFocus()
        return conversation.id

    def _on_removed(self, conversation_id: int) -> None:
        # The list has already moved on to the next row (and opened it) when there was one.
        if conversation_id == self._current_id:
            self._show_none()

    def _show_none(self) -> None:
        self._current_id = None
        self.sidebar.select_conversation(None)
        self.transcript_model.show_conversation(None)
        self._update_empty_state()
        self._update_composer()

    # ---- chatting ---------------------------------------------------------------------------

    def send_message(self) -> None:
        """Send what the composer holds (to a new conversation, once it is stored, if none is open)."""
        text = self.composer.toPlainText().strip()
        if not text or not self.send_button.isEnabled():
            return
        if self.composer.editing is not None:
            self.message_actions.send_edit(self.composer.editing, text)
            return
        self.composer.clear()  # at once; the text comes back if it cannot be sent
        if self._current_id is None:
            self.new_conversation(then=lambda conversation_id: self._send(conversation_id, text))
        else:
            self._send(self._current_id, text)

    def _send(self, conversation_id: int, text: str) -> None:
        from desktop_chat.services.chat import ChatError

        try:
            self._services.chat.send(conversation_id, text)
        except ChatError as exc:
            self._show_note(str(exc))
            if not self.composer.toPlainText():
                self.composer.setPlainText(text)
            return
        self.transcript.follow_bottom()
        self._update_composer()

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
        self.header.show_target(
            target.profile.id if target else None,
            target.model if target else "",
            default_profile=self._settings.get(DEFAULT_PROFILE) or None,
            review=bool(self.review),
            conversation_open=self._current_id is not None,
        )

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

    # ---- search, settings and first run --------------------------------------------------------

    def open_search(self) -> QWidget:
        """Ctrl+K: search every conversation (one panel, reused); returns it."""
        return self.search.open_search()

    def open_settings(self, page: str = "providers") -> QWidget:
        """Show the Settings dialog (one at a time, not modal); returns it. Not in a review."""
        if self.review:
            self._show_note(REVIEW_HINT)
            return self
        from desktop_chat.ui import window_dialogs

        return window_dialogs.open_settings(self, self._services, page)

    def open_conversation_settings(self) -> QWidget | None:
        """Show the open conversation's settings (system prompt, temperature, max tokens); returns it."""
        if self._current_id is None:
            self._show_note("Open a conversation first.")
            return None
        from desktop_chat.ui import window_dialogs

        return window_dialogs.open_conversation_settings(self, self._services, self._current_id)

    def show_welcome(
        self, *, local_presets: tuple[Preset, ...] | None = None, timeout: float | None = None
    ) -> QWidget:
        """The first-run welcome (local servers found here, or a cloud key), over the window, not blocking.

        Tests and screenshots pass their own `local_presets` (and detection `timeout`)."""
        from desktop_chat.ui import window_dialogs

        return window_dialogs.show_welcome(
            self,
            self._services,
            local_presets=local_presets,
            timeout=timeout,
            open_settings=self.open_settings,
            provider_added=self._update_composer,
        )

    def show_welcome_if_needed(self) -> QWidget | None:
        """The welcome, when no provider is set up yet (at start, outside scripted runs and reviews)."""
        if self.review or self._services.providers.profiles():
            return None
        return self.show_welcome()

    def _show_note(self, text: str) -> None:
        log.info("%s", text)
        self.statusBar().showMessage(text, 15_000)
