"""The transcript of the open conversation: a Qt model of its active branch (one row per message)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from desktop_chat.domain import Message, ResponseStatus, Role

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROLE_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
TEXT_ROLE = Qt.ItemDataRole.UserRole + 4

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
    """`Assistant · interrupted`-style line above a message."""
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


class TranscriptModel(QAbstractListModel):
    """Messages of one branch, id-keyed."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages: list[Message] = []

    def set_messages(self, messages: list[Message]) -> None:
        """Show another conversation (or another branch)."""
        self.beginResetModel()
        self._messages = list(messages)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Messages shown."""
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Heading and text for display; id, role, status and text under custom roles."""
        if not index.isValid() or not 0 <= index.row() < len(self._messages):
            return None
        m = self._messages[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            text = m.text or "…"
            if m.response is not None and m.response.error:
                text += f"\n\n⚠ {m.response.error}"
            return f"{heading(m)}\n{text}"
        if role == ID_ROLE:
            return m.id
        if role == ROLE_ROLE:
            return m.role.value
        if role == STATUS_ROLE:
            return m.response.status.value if m.response is not None else None
        if role == TEXT_ROLE:
            return m.text
        return None
