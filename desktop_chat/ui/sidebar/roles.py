"""What each row of the conversation list carries: the item data roles, in one place, and the title an
untitled conversation shows."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

ID_ROLE = Qt.ItemDataRole.UserRole + 1
UPDATED_ROLE = Qt.ItemDataRole.UserRole + 2
PINNED_ROLE = Qt.ItemDataRole.UserRole + 3
ARCHIVED_ROLE = Qt.ItemDataRole.UserRole + 4
STREAMING_ROLE = Qt.ItemDataRole.UserRole + 5
GROUP_ROLE = Qt.ItemDataRole.UserRole + 6
GROUP_LABEL_ROLE = Qt.ItemDataRole.UserRole + 7
FILTER_ROLE = Qt.ItemDataRole.UserRole + 8
UNTITLED = "New chat"

Index = QModelIndex | QPersistentModelIndex
