"""The conversation list's source model: every conversation, in list order, keyed by id.

Measured with 10,000 conversations on the 2-core reference machine (bench/conversations.py): the model
holds every conversation as a light `ConversationSummary` (loading all of them takes about 15 ms, so
there is no paging) and keeps them in list order itself: pinned first, then newest first. Sorting in
the proxy would call a Python `lessThan` from C++ about 65,000 times (345 ms for 10,000 rows, again
after each filter change); the model instead bisects an insert and moves a row whose `updated_at`
changed with `beginMoveRows`, which keeps the selection.

The pieces around it: `groups.py` (day groups, no Qt), `roles.py`, `proxy.py` (the filter),
`delegate.py` (painting), `view.py`, and `pane.py` (the sidebar that puts them together).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QByteArray, QLocale, QModelIndex, QObject, Qt, QTimer, Signal

from desktop_chat.domain import ConversationSummary
from desktop_chat.services.chat import ChatService
from desktop_chat.services.chat_events import StreamEnded
from desktop_chat.services.conversations import ConversationService
from desktop_chat.ui.sidebar.groups import Clock, DayGroups, fold, group_label
from desktop_chat.ui.sidebar.roles import (
    ARCHIVED_ROLE,
    FILTER_ROLE,
    GROUP_LABEL_ROLE,
    GROUP_ROLE,
    ID_ROLE,
    PINNED_ROLE,
    STREAMING_ROLE,
    UNTITLED,
    UPDATED_ROLE,
    Index,
)


def _sort_key(s: ConversationSummary) -> tuple[bool, float, int]:
    return (not s.pinned, -s.updated_at, -s.id)


class ConversationListModel(QAbstractListModel):
    """Every conversation, pinned first then newest first, keyed by id; kept current by service signals.

    Nothing is re-read as a whole after start: an added, changed or removed conversation costs one
    summary query, and a conversation that moves (a new message) is moved, not reset.

    `flags()` is deliberately not overridden: a view lays out every row after each insert, removal or
    filter change and asks for each row's flags twice, and a Python `flags` doubles the cost of that
    layout (26 -> 41 ms at 10,000 rows). The rows are therefore not `ItemIsEditable`; the view opens
    its title editor itself (`ConversationView.rename`), and `setData` stores what it commits.
    """

    streaming_changed = Signal()
    archived_count_changed = Signal(int)

    def __init__(
        self,
        service: ConversationService,
        chat: ChatService | None = None,
        *,
        clock: Clock = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._clock = clock
        self._rows: list[ConversationSummary] = []
        self._row_of: dict[int, int] = {}
        self._keys: dict[int, str] = {}  # folded titles, filled as the filter asks
        self._streaming: set[int] = set()
        self._archived = 0
        self._groups = DayGroups.at(clock())
        self._day_timer = QTimer(self)
        self._day_timer.setInterval(60_000)
        self._day_timer.timeout.connect(self.refresh_day)
        self._day_timer.start()
        service.conversations_reset.connect(self.reload)
        service.conversation_added.connect(self._on_added)
        service.conversation_changed.connect(self._on_changed)
        service.conversation_removed.connect(self._on_removed)
        if chat is not None:
            chat.stream_started.connect(self._on_stream_started)
            chat.stream_finished.connect(self._on_stream_finished)
            self._streaming.update(chat.streaming_conversations())
        self.reload()

    # ---- loading and reacting -----------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read every summary from the store (at start, and if the service says all changed)."""
        self.beginResetModel()
        self._rows = sorted(self._service.summaries(), key=_sort_key)
        self._row_of = {s.id: i for i, s in enumerate(self._rows)}
        self._keys.clear()
        self._archived = sum(1 for s in self._rows if s.archived)
        self.endResetModel()
        self.archived_count_changed.emit(self._archived)

    def _reindex(self, first: int, last: int) -> None:
        rows, row_of = self._rows, self._row_of
        for i in range(first, min(last, len(rows) - 1) + 1):
            row_of[rows[i].id] = i

    def _position(self, summary: ConversationSummary) -> int:
        return bisect_left(self._rows, _sort_key(summary), key=_sort_key)

    def _count_archived(self, delta: int) -> None:
        if delta:
            self._archived += delta
            self.archived_count_changed.emit(self._archived)

    def _on_added(self, conversation_id: int) -> None:
        if conversation_id in self._row_of:
            self._on_changed(conversation_id)
            return
        summary = self._service.summary(conversation_id)
        if summary is None:
            return
        row = self._position(summary)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, summary)
        self._reindex(row, len(self._rows) - 1)
        self.endInsertRows()
        self._count_archived(int(summary.archived))

    def _on_changed(self, conversation_id: int) -> None:
        row = self._row_of.get(conversation_id)
        if row is None:  # not listed (yet): a conversation that became readable, say
            self._on_added(conversation_id)
            return
        old = self._rows[row]
        new = self._service.summary(conversation_id)
        if new is None:
            self._on_removed(conversation_id)
            return
        if new == old:
            return
        if new.title != old.title:
            self._keys.pop(conversation_id, None)
        roles: list[int] = [
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.EditRole,
            Qt.ItemDataRole.ToolTipRole,
        ]
        roles += [UPDATED_ROLE, PINNED_ROLE, ARCHIVED_ROLE, GROUP_ROLE, GROUP_LABEL_ROLE, FILTER_ROLE]
        del self._rows[row]
        dest = self._position(new)
        self._rows.insert(row, old)
        if dest != row:
            # Qt names the destination in the list before the move.
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), dest + 1 if dest > row else dest)
            del self._rows[row]
            self._rows.insert(dest, new)
            self._reindex(min(row, dest), max(row, dest))
            self.endMoveRows()
            index = self.index(dest)
            self.dataChanged.emit(index, index, roles)
        else:
            self._rows[row] = new
            index = self.index(row)
            self.dataChanged.emit(index, index, roles)
            if self._group_of(old) != self._group_of(new):
                # The header of the row below may come or go: rare (once a day per conversation at most).
                self.layoutAboutToBeChanged.emit()
                self.layoutChanged.emit()
        self._count_archived(int(new.archived) - int(old.archived))

    def _on_removed(self, conversation_id: int) -> None:
        row = self._row_of.get(conversation_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        removed = self._rows.pop(row)
        del self._row_of[conversation_id]
        self._reindex(row, len(self._rows) - 1)
        self.endRemoveRows()
        self._count_archived(-int(removed.archived))

    def _on_stream_started(self, conversation_id: int, _message_id: int) -> None:
        self.set_streaming(conversation_id, True)

    def _on_stream_finished(self, ended: StreamEnded) -> None:
        self.set_streaming(ended.conversation_id, False)

    def set_streaming(self, conversation_id: int, streaming: bool) -> None:
        """Show (or stop showing) that a conversation's answer is being written."""
        if streaming == (conversation_id in self._streaming):
            return
        if streaming:
            self._streaming.add(conversation_id)
        else:
            self._streaming.discard(conversation_id)
        row = self._row_of.get(conversation_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(
                index,
                index,
                [STREAMING_ROLE, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleDescriptionRole],
            )
        self.streaming_changed.emit()

    def refresh_day(self) -> None:
        """Regroup when the local day has changed (checked every minute; the clock is injectable)."""
        now = self._clock()
        if self._groups.covers(now):
            return
        self._groups = DayGroups.at(now)
        self.layoutAboutToBeChanged.emit()
        self.layoutChanged.emit()

    # ---- what the proxy, the delegate and the window ask ----------------------------------------------

    def _group_of(self, s: ConversationSummary) -> int:
        return self._groups.key(s.updated_at, s.pinned)

    def accepts(self, row: int, words: tuple[str, ...], show_archived: bool) -> bool:
        """Whether a row passes a filter: every word in its folded title."""
        s = self._rows[row]
        if s.archived and not show_archived:
            return False
        if not words:
            return True
        key = self._keys.get(s.id)
        if key is None:
            key = self._keys[s.id] = fold(s.title or UNTITLED)
        return all(w in key for w in words)

    def accepted_rows(self, words: tuple[str, ...], show_archived: bool) -> list[bool]:
        """`accepts` for every row at once, in one Python loop (for a whole filter change)."""
        keys = self._keys
        out: list[bool] = []
        append = out.append
        for s in self._rows:
            if s.archived and not show_archived:
                append(False)
            elif not words:
                append(True)
            else:
                key = keys.get(s.id)
                if key is None:
                    key = keys[s.id] = fold(s.title or UNTITLED)
                append(all(w in key for w in words))
        return out

    def row_of(self, conversation_id: int) -> int | None:
        """The row showing a conversation."""
        return self._row_of.get(conversation_id)

    def summary_at(self, row: int) -> ConversationSummary | None:
        """The conversation in a row."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def summary(self, conversation_id: int) -> ConversationSummary | None:
        """A listed conversation's summary."""
        row = self._row_of.get(conversation_id)
        return None if row is None else self._rows[row]

    def streaming_ids(self) -> list[int]:
        """Listed conversations whose answer is being written."""
        return [cid for cid in self._streaming if cid in self._row_of]

    def archived_count(self) -> int:
        """How many listed conversations are archived."""
        return self._archived

    # ---- model interface ------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Every conversation (the proxy hides what the filter leaves out)."""
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Title for display ("New chat" when untitled), the stored title for editing, custom roles."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        s = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return s.title or UNTITLED
        if role == ID_ROLE:
            return s.id
        if role == GROUP_ROLE:
            return self._group_of(s)
        if role == STREAMING_ROLE:
            return s.id in self._streaming
        if role == ARCHIVED_ROLE:
            return s.archived
        if role == PINNED_ROLE:
            return s.pinned
        if role == Qt.ItemDataRole.EditRole:
            return s.title
        if role == GROUP_LABEL_ROLE:
            return group_label(self._group_of(s), _month_name)
        if role == UPDATED_ROLE:
            return s.updated_at
        if role == FILTER_ROLE:
            return fold(s.title or UNTITLED)
        if role == Qt.ItemDataRole.ToolTipRole:
            when = datetime.fromtimestamp(s.updated_at).strftime("%Y-%m-%d %H:%M")
            lines = [s.title or UNTITLED, f"Updated {when}", *self._states(s)]
            return "\n".join(lines)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return ", ".join(self._states(s))
        return None

    def _states(self, s: ConversationSummary) -> list[str]:
        states = ["Pinned"] if s.pinned else []
        if s.archived:
            states.append("Archived")
        if s.id in self._streaming:
            states.append("Answering…")
        return states

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Rename in place (F2): stored through the service, which announces the change."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.row() >= len(self._rows):
            return False
        s = self._rows[index.row()]
        title = str(value or "").strip()
        if title != s.title:
            self._service.rename(s.id, title)
        return True

    def roleNames(self) -> dict[int, QByteArray]:
        """Names for QML and accessibility tools."""
        names = dict(super().roleNames())
        for role, name in (
            (ID_ROLE, b"conversationId"),
            (UPDATED_ROLE, b"updatedAt"),
            (PINNED_ROLE, b"pinned"),
            (ARCHIVED_ROLE, b"archived"),
            (STREAMING_ROLE, b"streaming"),
            (GROUP_ROLE, b"group"),
            (GROUP_LABEL_ROLE, b"groupLabel"),
            (FILTER_ROLE, b"filterKey"),
        ):
            names[role] = QByteArray(name)
        return names


def _month_name(month: int) -> str:
    return QLocale().standaloneMonthName(month, QLocale.FormatType.LongFormat)
