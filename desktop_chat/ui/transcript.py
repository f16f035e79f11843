"""The transcript of the open conversation: a Qt model of its active branch (one row per message).

It follows the chat service's signals: a new message or branch reloads the rows; a patched answer marks
its row dirty, and a fixed-interval timer (one frame) refreshes dirty rows from the service's in-memory
document, so a fast stream repaints at most once per frame and never starves (no debounce).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer

from desktop_chat.domain import Message, ResponseStatus, Role
from desktop_chat.services.chat import ChatService, ResponseUpdate
from desktop_chat.services.conversations import ConversationService

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROLE_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
TEXT_ROLE = Qt.ItemDataRole.UserRole + 4
FRAME_MS = 16

Index = QModelIndex | QPersistentModelIndex

_SPEAKER = {Role.USER: "You", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System", Role.TOOL: "Tool"}
_STATUS_NOTE = {
    ResponseStatus.PENDING: "waiting for the model",
    ResponseStatus.STREAMING: "answering",
    ResponseStatus.ERROR: "failed",
    ResponseStatus.CANCELLED: "stopped",
    ResponseStatus.INTERRUPTED: "interrupted",
}


def heading(message: Message) -> str:
    """`Assistant · model · interrupted`-style line above a message."""
    speaker = _SPEAKER.get(message.role, message.role.value)
    response = message.response
    if response is None:
        return speaker
    parts = [speaker]
    if response.model:
        parts.append(response.model)
    note = _STATUS_NOTE.get(response.status)
    if note:
        parts.append(note)
    return " · ".join(parts)


def body_with_tools(message: Message) -> str:
    """The message text with a line for each tool call where the call was made."""
    response = message.response
    if response is None or not response.tool_calls:
        return message.text
    text, parts, pos = response.text, [], 0
    for call in sorted(response.tool_calls, key=lambda c: c.text_offset):
        offset = min(max(pos, call.text_offset), len(text))
        if text[pos:offset].strip():
            parts.append(text[pos:offset].strip("\n"))
        status = response.tool_status.get(call.id, "queued")
        parts.append(f"[tool] {call.name} · {status}")
        pos = offset
    if text[pos:].strip():
        parts.append(text[pos:].strip("\n"))
    return "\n".join(parts)


class TranscriptModel(QAbstractListModel):
    """Messages of one branch, id-keyed, kept current by the chat service's signals."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        conversations: ConversationService | None = None,
        chat: ChatService | None = None,
    ) -> None:
        super().__init__(parent)
        self._messages: list[Message] = []
        self._row_of: dict[int, int] = {}
        self._notes: dict[int, str] = {}  # message id -> transient note (retrying...)
        self._conversation_id: int | None = None
        self._conversations = conversations
        self._chat = chat
        self._dirty: set[int] = set()
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._refresh_dirty)
        if chat is not None:
            chat.messages_changed.connect(self._on_messages_changed)
            chat.response_patched.connect(self._on_patched)

    # ---- loading -----------------------------------------------------------------------------------

    def set_messages(self, messages: list[Message], conversation_id: int | None = None) -> None:
        """Show another conversation (or another branch)."""
        self.beginResetModel()
        self._conversation_id = conversation_id
        self._messages = [self._with_live(m) for m in messages]
        self._row_of = {m.id: i for i, m in enumerate(self._messages)}
        self._dirty.clear()
        self._notes.clear()
        self.endResetModel()

    def show_conversation(self, conversation_id: int | None) -> None:
        """Load a conversation's active branch from the services (None: empty)."""
        if conversation_id is None or self._conversations is None:
            self.set_messages([], None)
            return
        self.set_messages(self._conversations.transcript(conversation_id), conversation_id)

    def _with_live(self, message: Message) -> Message:
        if self._chat is None or message.response is None:
            return message
        live = self._chat.live_response(message.response.id)
        return message if live is None else dataclasses.replace(message, response=live)

    def _on_messages_changed(self, conversation_id: int) -> None:
        if conversation_id == self._conversation_id:
            self.show_conversation(conversation_id)

    def _on_patched(self, update: ResponseUpdate) -> None:
        if update.conversation_id != self._conversation_id or update.message_id not in self._row_of:
            return
        if update.note:
            self._notes[update.message_id] = update.note
        else:
            self._notes.pop(update.message_id, None)
        self._dirty.add(update.message_id)
        if not self._frame.isActive():
            self._frame.start()

    def _refresh_dirty(self) -> None:
        if not self._dirty:
            self._frame.stop()
            return
        dirty, self._dirty = self._dirty, set()
        for message_id in dirty:
            row = self._row_of.get(message_id)
            if row is None:
                continue
            current = self._messages[row]
            live = self._chat.live_response(current.response.id) if self._chat and current.response else None
            if live is not None:
                self._messages[row] = dataclasses.replace(current, response=live)
            elif self._conversations is not None:  # finished: the stored document is the final one
                self._messages[row] = self._conversations.message(message_id)
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, STATUS_ROLE, TEXT_ROLE])

    # ---- model interface ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Messages shown."""
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Heading and text for display; id, role, status and text under custom roles."""
        if not index.isValid() or not 0 <= index.row() < len(self._messages):
            return None
        m = self._messages[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            lines = [heading(m), body_with_tools(m) or "…"]
            note = self._notes.get(m.id)
            if note:
                lines.append(f"⏳ {note}")
            if m.response is not None and m.response.error:
                lines.append(f"\n⚠ {m.response.error}")
            return "\n".join(lines)
        if role == ID_ROLE:
            return m.id
        if role == ROLE_ROLE:
            return m.role.value
        if role == STATUS_ROLE:
            return m.response.status.value if m.response is not None else None
        if role == TEXT_ROLE:
            return m.text
        return None

    def message_at(self, row: int) -> Message | None:
        """The message in a row."""
        return self._messages[row] if 0 <= row < len(self._messages) else None

    def last_message(self) -> Message | None:
        """The newest message of the branch shown."""
        return self._messages[-1] if self._messages else None
