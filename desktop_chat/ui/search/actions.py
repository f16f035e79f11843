"""Searching from the window: every conversation (Ctrl+K, the search panel) or the open one (Ctrl+F,
the find bar). A hit opens its conversation on the hit's branch, scrolled to, with the terms tinted."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.common.window_part import WindowPart
from desktop_chat.ui.search.find_bar import FindBar
from desktop_chat.ui.sidebar.pane import ConversationSidebar
from desktop_chat.ui.transcript.model import TranscriptModel
from desktop_chat.ui.transcript.view import TranscriptView


class SearchActions(WindowPart):
    """The window's two searches and where their hits lead.

    `current` tells the open conversation, `open_conversation` opens one, and `find_closed` runs when
    the find bar closes; why a search cannot start comes out of `note`.
    """

    def __init__(
        self,
        services: AppServices,
        window: QWidget,
        *,
        sidebar: ConversationSidebar,
        transcript: TranscriptView,
        model: TranscriptModel,
        find_bar: FindBar,
        current: Callable[[], int | None],
        open_conversation: Callable[[int], None],
        find_closed: Callable[[], None],
    ) -> None:
        super().__init__(window, current=current)
        self._services = services
        self._sidebar = sidebar
        self._transcript = transcript
        self._model = model
        self._find_bar = find_bar
        self._open_conversation = open_conversation
        self._after_find = find_closed
        find_bar.go_to.connect(self._find_go_to)
        find_bar.closed.connect(self._find_closed)

    def open_search(self) -> QWidget:
        """Ctrl+K: search every conversation (one panel, reused); returns it."""
        from desktop_chat.ui.search.panel import SearchPanel

        panel = self._window.findChild(SearchPanel)
        if panel is None:
            panel = SearchPanel(self._services.search, self._window)
            panel.open_requested.connect(self.open_hit)
        panel.show_for()
        return panel

    def open_hit(self, conversation_id: int, message_id: int, query: str = "") -> bool:
        """Open a conversation at a message (switching to its branch if needed), scrolled to and tinted."""
        if not self._sidebar.is_shown(conversation_id):
            self._sidebar.clear_filter()
            self._sidebar.set_show_archived(True)
        self._open_conversation(conversation_id)
        conversations = self._services.conversations
        branch = {m.id for m in conversations.transcript(conversation_id)}
        terms = self._services.search.highlight_terms(query)
        if message_id not in branch:  # shown once the other branch is
            conversations.switch_branch(
                message_id, then=lambda: self._transcript.reveal(message_id, terms=terms)
            )
            return True
        return self._transcript.reveal(message_id, terms=terms)

    def open_find(self) -> None:
        """Ctrl+F: find in the open conversation."""
        current = self._current()
        if current is None:
            self.note.emit("Open a conversation first.")
            return
        self._find_bar.open_on(self._services.conversations.transcript(current))

    def _find_go_to(self, message_id: int) -> None:
        text = self._find_bar.field.text().strip()
        self._transcript.reveal(message_id, terms=(text,) if text else ())

    def _find_closed(self) -> None:
        self._model.set_highlight(None)
        self._after_find()
