"""Conversations as the UI sees them: list, open, create, rename, delete; each change announced."""

from __future__ import annotations

import logging
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class BranchPage:
    """A page of a conversation's active branch, oldest first, and whether older messages precede it."""

    messages: list[Message]
    has_older: bool


@dataclass(frozen=True, slots=True)
class Siblings:
    """Where a message stands among the alternatives at its place in the tree (`< 2/3 >`)."""

    index: int  # 1-based
    count: int
    ids: tuple[int, ...]

    def neighbour(self, step: int) -> int | None:
        """The sibling `step` places away (-1: previous, +1: next), if any."""
        i = self.index - 1 + step
        return self.ids[i] if 0 <= i < self.count else None


class ConversationService(QObject):
    """Reads and changes conversations; every change is announced so views update without polling."""

    conversations_reset = Signal()
    conversation_changed = Signal(int)
    conversation_added = Signal(int)
    conversation_removed = Signal(int)
    branch_changed = Signal(int)  # a conversation now shows another branch
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

    def branch_page(
        self, conversation_id: int, *, before: Message | None = None, limit: int = 50
    ) -> BranchPage:
        """The newest `limit` messages of the active branch, or the `limit` ones before `before`."""
        if before is not None:
            leaf = before.parent_id
        else:
            conversation = self._repo.get_conversation(conversation_id)
            leaf = conversation.active_leaf_id or self._repo.latest_message_id(conversation_id)
        if leaf is None:
            return BranchPage([], False)
        ids, more = self._repo.branch_ids(leaf, limit=limit)
        page = self._repo.messages_by_id(ids)
        self._report(page)  # type: ignore[arg-type]
        return BranchPage(page.items, more)

    def siblings(self, conversation_id: int, messages: list[Message]) -> dict[int, Siblings]:
        """`< i/n >` for each message that has alternatives (messages without any are left out)."""
        children = self._repo.sibling_ids(conversation_id, [m.parent_id for m in messages])
        out: dict[int, Siblings] = {}
        for m in messages:
            ids = children.get(m.parent_id, [m.id])
            if len(ids) > 1 and m.id in ids:
                out[m.id] = Siblings(ids.index(m.id) + 1, len(ids), tuple(ids))
        return out

    def switch_branch(self, message_id: int) -> None:
        """Show the branch through `message_id` (down to its newest message)."""
        message = self._repo.get_message(message_id)
        leaf = self._repo.newest_leaf_under(message_id)
        self._repo.update_conversation(message.conversation_id, active_leaf_id=leaf)
        self.branch_changed.emit(message.conversation_id)

    def transcript(self, conversation_id: int) -> list[Message]:
        """The messages of the conversation's active branch, oldest first."""
        conversation = self._repo.get_conversation(conversation_id)
        page = self._repo.list_messages(conversation_id)
        self._report(page)  # type: ignore[arg-type]
        return active_path(page.items, conversation.active_leaf_id)
