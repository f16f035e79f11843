"""Conversations as the UI sees them: list, open, create, rename, delete; each change announced."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop_chat.domain import Conversation, Message, Page, SkippedRow
from desktop_chat.storage import Repo

log = logging.getLogger(__name__)


def active_path(messages: list[Message], leaf_id: int | None) -> list[Message]:
    """The branch that ends at `leaf_id` (or at the newest message), root first."""
    if not messages:
        return []
    by_id = {m.id: m for m in messages}
    node = by_id.get(leaf_id) if leaf_id is not None else None
    if node is None:
        node = messages[-1]
    path: list[Message] = []
    seen: set[int] = set()
    while node is not None and node.id not in seen:
        seen.add(node.id)
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    path.reverse()
    return path


def describe_skipped(skipped: list[SkippedRow]) -> str:
    """One line for a person about rows that could not be read."""
    if not skipped:
        return ""
    kinds = sorted({s.table.replace("_", " ") for s in skipped})
    ids = ", ".join(str(s.row_id) for s in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
    return (
        f"{len(skipped)} {'/'.join(kinds)} row(s) could not be read and are not shown (ids {ids}); "
        "see the log for details."
    )


class ConversationService(QObject):
    """Reads and changes conversations; every change is announced so views update without polling."""

    conversations_reset = Signal()
    conversation_changed = Signal(int)
    conversation_added = Signal(int)
    conversation_removed = Signal(int)
    rows_skipped = Signal(str)

    def __init__(self, repo: Repo, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._repo = repo

    def _report(self, page: Page[object]) -> None:
        if page.skipped:
            self.rows_skipped.emit(describe_skipped(page.skipped))

    def count(self) -> int:
        """How many conversations the list shows."""
        return self._repo.count_conversations()

    def page(self, offset: int, limit: int) -> list[Conversation]:
        """A page of the list, pinned first then newest first; unreadable rows are reported, not fatal."""
        page = self._repo.list_conversations(offset=offset, limit=limit)
        self._report(page)  # type: ignore[arg-type]
        return page.items

    def get(self, conversation_id: int) -> Conversation:
        """One conversation."""
        return self._repo.get_conversation(conversation_id)

    def create(self, title: str = "") -> Conversation:
        """A new empty conversation."""
        conversation = self._repo.create_conversation(title)
        self.conversation_added.emit(conversation.id)
        return conversation

    def notify_changed(self, conversation_id: int) -> None:
        """Tell views a conversation changed (its answer started or ended, its title...)."""
        self.conversation_changed.emit(conversation_id)

    def rename(self, conversation_id: int, title: str) -> None:
        """Change a conversation's title."""
        self._repo.update_conversation(conversation_id, title=title.strip())
        self.conversation_changed.emit(conversation_id)

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and everything in it."""
        self._repo.delete_conversation(conversation_id)
        self.conversation_removed.emit(conversation_id)

    def message(self, message_id: int) -> Message:
        """One message with its (stored) response document."""
        return self._repo.get_message(message_id)

    def transcript(self, conversation_id: int) -> list[Message]:
        """The messages of the conversation's active branch, oldest first."""
        conversation = self._repo.get_conversation(conversation_id)
        page = self._repo.list_messages(conversation_id)
        self._report(page)  # type: ignore[arg-type]
        return active_path(page.items, conversation.active_leaf_id)
