"""The conversation list: an id-keyed, paged Qt model over the conversation service."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QObject, QPersistentModelIndex, Qt

from desktop_chat.domain import Conversation
from desktop_chat.services.conversations import ConversationService

ID_ROLE = Qt.ItemDataRole.UserRole + 1
UPDATED_ROLE = Qt.ItemDataRole.UserRole + 2
PINNED_ROLE = Qt.ItemDataRole.UserRole + 3
UNTITLED = "New chat"

Index = QModelIndex | QPersistentModelIndex


class ConversationListModel(QAbstractListModel):
    """Conversations, pinned first then newest first, loaded a page at a time as the view scrolls."""

    PAGE_SIZE = 200

    def __init__(self, service: ConversationService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._rows: list[Conversation] = []
        self._row_of: dict[int, int] = {}
        self._total = 0
        service.conversations_reset.connect(self.reload)
        service.conversation_added.connect(self._on_added)
        service.conversation_changed.connect(self._on_changed)
        service.conversation_removed.connect(self._on_removed)
        self.reload()

    # ---- loading ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the first page from the store."""
        self.beginResetModel()
        self._total = self._service.count()
        self._rows = self._service.page(0, self.PAGE_SIZE)
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._row_of = {c.id: i for i, c in enumerate(self._rows)}

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        """True while more pages wait in the store."""
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        """Append the next page."""
        if parent.isValid():
            return
        more = [c for c in self._service.page(len(self._rows), self.PAGE_SIZE) if c.id not in self._row_of]
        if not more:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._rows.extend(more)
        self._reindex()
        self.endInsertRows()

    # ---- reacting to the service ------------------------------------------------------------

    def _on_added(self, conversation_id: int) -> None:
        conversation = self._service.get(conversation_id)
        row = 0
        while row < len(self._rows) and self._rows[row].pinned and not conversation.pinned:
            row += 1
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, conversation)
        self._total += 1
        self._reindex()
        self.endInsertRows()

    def _on_changed(self, conversation_id: int) -> None:
        row = self._row_of.get(conversation_id)
        if row is None:
            return
        self._rows[row] = self._service.get(conversation_id)
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    def _on_removed(self, conversation_id: int) -> None:
        row = self._row_of.get(conversation_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._total -= 1
        self._reindex()
        self.endRemoveRows()

    # ---- model interface --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Rows loaded so far."""
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Title for display, id/updated/pinned under custom roles."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        c = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return ("📌 " if c.pinned else "") + (c.title or UNTITLED)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{c.title or UNTITLED}\nUpdated {c.updated_at.astimezone():%Y-%m-%d %H:%M}"
        if role == ID_ROLE:
            return c.id
        if role == UPDATED_ROLE:
            return c.updated_at.timestamp()
        if role == PINNED_ROLE:
            return c.pinned
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        """Names for QML and accessibility tools."""
        names = dict(super().roleNames())
        for role, name in (
            (ID_ROLE, b"conversationId"),
            (UPDATED_ROLE, b"updatedAt"),
            (PINNED_ROLE, b"pinned"),
        ):
            names[role] = QByteArray(name)
        return names

    def row_of(self, conversation_id: int) -> int | None:
        """The row showing a conversation, if loaded."""
        return self._row_of.get(conversation_id)

    def conversation_at(self, row: int) -> Conversation | None:
        """The conversation in a row."""
        return self._rows[row] if 0 <= row < len(self._rows) else None
