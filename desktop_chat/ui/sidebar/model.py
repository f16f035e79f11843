"""The conversation list: an id-keyed source model, a filter proxy, a delegate and a view.

Measured with 10,000 conversations on the 2-core reference machine (bench/conversations.py):

- The source model holds every conversation as a light `ConversationSummary` (loading all of them
  takes about 15 ms, so there is no paging) and keeps them in list order itself: pinned first, then
  newest first. Sorting in the proxy would call a Python `lessThan` from C++ about 65,000 times
  (345 ms for 10,000 rows, again after each filter change); the model instead bisects an insert and
  moves a row whose `updated_at` changed with `beginMoveRows`, which keeps the selection.
- The proxy only filters (title words, case and diacritics folded; archived hidden unless asked):
  one Python call per row, about 10 ms per keystroke.
- The view is a `QTreeView` in per-item scroll mode, so it asks the delegate for the size of the rows
  it shows only. A `QListView` with rows of different heights (day headers) asks for every row on
  every insert, removal or filter change: 50-75 ms at 10,000 rows.
- Day-group headers (Pinned, Today, Yesterday, Previous 7 days, Previous 30 days, then "Month Year")
  are painted inside the first row of each group; the delegate compares a row's group with the row
  above it, so grouping follows the filter for free.
- Streaming conversations show three pulsing dots; a 5 fps timer repaints those rows only.
"""

from __future__ import annotations

import time
import unicodedata
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QByteArray,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from desktop_chat.domain import ConversationSummary
from desktop_chat.services.chat import ChatService
from desktop_chat.services.chat_events import StreamEnded
from desktop_chat.services.conversations import ConversationService

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
Clock = Callable[[], float]

# ---- folding and day groups (plain Python) ----------------------------------------------------------


def fold(text: str) -> str:
    """`text` for matching: case folded, accents dropped ("Café" -> "cafe"); ASCII takes a fast path."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


PINNED, TODAY, YESTERDAY, WEEK, MONTH = range(5)
_MONTHS_BASE = 1000  # group key of an older month: base + year * 12 + month - 1
_FIXED_LABELS = {
    PINNED: "Pinned",
    TODAY: "Today",
    YESTERDAY: "Yesterday",
    WEEK: "Previous 7 days",
    MONTH: "Previous 30 days",
}


def _midnight(day: date) -> float:
    """Local midnight at the start of `day`, as epoch seconds (DST-correct: a naive local time)."""
    return datetime.combine(day, day_time.min).timestamp()


@dataclass(frozen=True, slots=True)
class DayGroups:
    """Where each day group starts, for one local day (rebuilt when the day changes)."""

    today: float
    yesterday: float
    week: float
    month: float
    tomorrow: float

    @classmethod
    def at(cls, now: float) -> DayGroups:
        """The groups as seen at `now` (epoch seconds), in local time."""
        day = date.fromtimestamp(now)
        return cls(
            _midnight(day),
            _midnight(day - timedelta(days=1)),
            _midnight(day - timedelta(days=7)),
            _midnight(day - timedelta(days=30)),
            _midnight(day + timedelta(days=1)),
        )

    def key(self, updated_at: float, pinned: bool) -> int:
        """The group of a conversation: an int, equal for the rows under one header."""
        if pinned:
            return PINNED
        if updated_at >= self.today:
            return TODAY
        if updated_at >= self.yesterday:
            return YESTERDAY
        if updated_at >= self.week:
            return WEEK
        if updated_at >= self.month:
            return MONTH
        try:
            day = date.fromtimestamp(updated_at)
        except (OverflowError, OSError, ValueError):  # a nonsense timestamp: the oldest group
            return _MONTHS_BASE
        return _MONTHS_BASE + day.year * 12 + day.month - 1

    def covers(self, now: float) -> bool:
        """True while `now` is still the day these groups were made for."""
        return self.today <= now < self.tomorrow


def group_label(key: int, month_name: Callable[[int], str] | None = None) -> str:
    """The header of a group ("Today", "March 2024"...)."""
    fixed = _FIXED_LABELS.get(key)
    if fixed is not None:
        return fixed
    if key == _MONTHS_BASE:
        return "Older"
    year, month0 = divmod(key - _MONTHS_BASE, 12)
    name = month_name(month0 + 1) if month_name is not None else date(2000, month0 + 1, 1).strftime("%B")
    return f"{name} {year}"


def _sort_key(s: ConversationSummary) -> tuple[bool, float, int]:
    return (not s.pinned, -s.updated_at, -s.id)


# ---- source model -------------------------------------------------------------------------------------


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


# ---- filter proxy -----------------------------------------------------------------------------------


class ConversationFilterProxy(QSortFilterProxyModel):
    """Filters as you type (every word in the title, case and accents ignored) and hides archived rows.

    It does not sort: the source model already keeps list order (see the module notes for why).
    """

    def __init__(self, source: ConversationListModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._list = source
        self._words: tuple[str, ...] = ()
        self._text = ""
        self._show_archived = False
        self._batch: list[bool] | None = None  # answers by source row, during a filter change only
        self.setFilterRole(FILTER_ROLE)
        self.setSourceModel(source)

    def _refilter(self, words: tuple[str, ...], show_archived: bool) -> None:
        # Qt asks filterAcceptsRow for every row: answer from one list computed in Python first
        # (about 3 ms for 10,000 rows) instead of a model call per row.
        self.beginFilterChange()
        self._words, self._show_archived = words, show_archived
        self._batch = self._list.accepted_rows(words, show_archived)
        try:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        finally:
            self._batch = None

    def set_filter_text(self, text: str) -> None:
        """Show only conversations whose title holds every word of `text`."""
        words = tuple(fold(text).split())
        self._text = text
        if words != self._words:
            self._refilter(words, self._show_archived)

    def filter_text(self) -> str:
        """The text the list is filtered by."""
        return self._text

    def is_filtering(self) -> bool:
        """True while a filter hides rows."""
        return bool(self._words)

    def set_show_archived(self, show: bool) -> None:
        """Show archived conversations too (in their place by date)."""
        if show != self._show_archived:
            self._refilter(self._words, show)

    def show_archived(self) -> bool:
        """Whether archived conversations are shown."""
        return self._show_archived

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        """Whether a source row shows (Qt calls this once per row on a filter change)."""
        batch = self._batch
        if batch is not None and source_row < len(batch):
            return batch[source_row]
        return self._list.accepts(source_row, self._words, self._show_archived)

    def index_of(self, conversation_id: int) -> QModelIndex:
        """The proxy index showing a conversation (invalid when not listed or filtered out)."""
        row = self._list.row_of(conversation_id)
        if row is None:
            return QModelIndex()
        return self.mapFromSource(self._list.index(row))

    def row_of(self, conversation_id: int) -> int | None:
        """The row showing a conversation, if it is shown."""
        index = self.index_of(conversation_id)
        return index.row() if index.isValid() else None

    def id_at(self, row: int) -> int | None:
        """The conversation in a shown row."""
        index = self.index(row, 0)
        return int(index.data(ID_ROLE)) if index.isValid() else None

    def ids(self) -> list[int]:
        """Every shown conversation, top to bottom (for tests and keyboard logic; O(rows))."""
        return [int(self.index(r, 0).data(ID_ROLE)) for r in range(self.rowCount())]


# ---- painting ---------------------------------------------------------------------------------------

_H_PAD = 10  # text inset inside a row
_V_PAD = 7  # above and below a title
_INSET = 4  # row background inset from the view's edges
_DOT = 6  # streaming dot size
_DOT_GAP = 4


def _has(state: QStyle.StateFlag, flag: QStyle.StateFlag) -> bool:
    return bool(state & flag)


class ConversationDelegate(QStyledItemDelegate):
    """Paints a row: a day header when it starts a group, the elided title, the streaming dots.

    Rows have one height except the first of each group, which is taller by the header; sizeHint is a
    cached font metric plus one comparison with the row above.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.phase = 0  # streaming animation frame, advanced by the view's timer
        self._metrics_for: tuple[str, int] | None = None
        self._row_h = 0
        self._header_h = 0
        self._header_font = QFont()

    # ---- geometry ----------------------------------------------------------------------------------

    def _metrics(self, option: QStyleOptionViewItem) -> tuple[int, int]:
        font = option.font
        key = (font.key(), int(font.pointSizeF() * 10))
        if key != self._metrics_for:
            self._metrics_for = key
            self._row_h = QFontMetrics(font).height() + 2 * _V_PAD
            header = QFont(font)
            header.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
            header.setWeight(QFont.Weight.DemiBold)
            self._header_font = header
            self._header_h = QFontMetrics(header).height() + 14
        return self._row_h, self._header_h

    @staticmethod
    def header_of(index: QModelIndex | QPersistentModelIndex) -> str | None:
        """The group header painted in this row: set when the row above belongs to another group."""
        group = index.data(GROUP_ROLE)
        if group is None:
            return None
        row = index.row()
        if row > 0 and index.model().index(row - 1, 0).data(GROUP_ROLE) == group:
            return None
        return str(index.data(GROUP_LABEL_ROLE))

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Row height, plus the header's when the row starts a group."""
        row_h, header_h = self._metrics(option)
        return QSize(120, row_h + (header_h if self.header_of(index) is not None else 0))

    def item_rect(self, option: QStyleOptionViewItem, index: Index) -> QRect:
        """The part of the row that is the conversation (below any header)."""
        _row_h, header_h = self._metrics(option)
        rect: QRect = option.rect
        top = header_h if self.header_of(index) is not None else 0
        return rect.adjusted(_INSET, top, -_INSET, 0)

    # ---- painting ----------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Header, background (selected, hovered), elided title, state marks."""
        row_h, header_h = self._metrics(option)
        rect: QRect = option.rect
        palette: QPalette = option.palette
        state: QStyle.StateFlag = option.state
        widget: QWidget | None = option.widget
        painter.save()
        header = self.header_of(index)
        if header is not None:
            painter.setFont(self._header_font)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            header_rect = QRect(
                rect.left() + _INSET + _H_PAD, rect.top(), rect.width() - 2 * _H_PAD, header_h
            )
            painter.drawText(
                header_rect.adjusted(0, 0, 0, -4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                header,
            )
            rect = rect.adjusted(0, header_h, 0, 0)
        item = QRect(rect.left() + _INSET, rect.top() + 1, rect.width() - 2 * _INSET, row_h - 2)
        selected = _has(state, QStyle.StateFlag.State_Selected)
        focused = widget is not None and widget.hasFocus()
        text_color = palette.color(QPalette.ColorRole.Text)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected or _has(state, QStyle.StateFlag.State_MouseOver):
            background = QColor(palette.color(QPalette.ColorRole.Highlight))
            if selected and focused:
                text_color = palette.color(QPalette.ColorRole.HighlightedText)
            else:
                background.setAlphaF(0.28 if selected else 0.12)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(background)
            painter.drawRoundedRect(item, 6, 6)
        archived = bool(index.data(ARCHIVED_ROLE))
        streaming = bool(index.data(STREAMING_ROLE))
        font = QFont(option.font)
        right = _H_PAD
        if streaming:
            right += 3 * _DOT + 2 * _DOT_GAP + 6
        if archived:
            font.setItalic(True)
            if not (selected and focused):
                text_color = palette.color(QPalette.ColorRole.PlaceholderText)
        painter.setFont(font)
        text_rect = item.adjusted(_H_PAD, 0, -right, 0)
        title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        elided = QFontMetrics(font).elidedText(title, Qt.TextElideMode.ElideRight, max(0, text_rect.width()))
        painter.setPen(text_color)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
        if streaming:
            self._paint_dots(painter, item, text_color if selected and focused else None, palette)
        painter.restore()

    def _paint_dots(self, painter: QPainter, item: QRect, color: QColor | None, palette: QPalette) -> None:
        base = QColor(color if color is not None else palette.color(QPalette.ColorRole.Highlight))
        x = item.right() - _H_PAD - 3 * _DOT - 2 * _DOT_GAP
        y = item.center().y() - _DOT // 2
        painter.setPen(Qt.PenStyle.NoPen)
        for i in range(3):
            dot = QColor(base)
            dot.setAlphaF(1.0 if i == self.phase % 3 else 0.35)
            painter.setBrush(dot)
            painter.drawEllipse(x + i * (_DOT + _DOT_GAP), y, _DOT, _DOT)

    # ---- renaming in place -------------------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        """A line edit for the title (empty means "New chat")."""
        editor = QLineEdit(parent)
        editor.setObjectName("conversationTitleEditor")
        editor.setAccessibleName("Conversation title")
        editor.setPlaceholderText(UNTITLED)
        editor.setFrame(True)
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        """Start from the stored title, all selected."""
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        """Store the new title (Enter or focus out; Escape cancels)."""
        if isinstance(editor, QLineEdit) and not editor.property("cancelled"):
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Remember Escape: closing the (persistent) editor moves the focus, and a focus-out commits."""
        if (
            isinstance(watched, QLineEdit)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            watched.setProperty("cancelled", True)
        return super().eventFilter(watched, event)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: Index) -> None:
        """Over the title, below any header."""
        editor.setGeometry(self.item_rect(option, index))


# ---- view -------------------------------------------------------------------------------------------


class ConversationView(QTreeView):
    """The list's view: one column, no branches, rows painted by ConversationDelegate.

    A tree view in per-item scroll mode asks for the heights of the rows it shows only (a list view
    with rows of different heights lays out all of them on every change).
    """

    ANIMATION_MS = 200  # streaming dots: 5 frames a second, streaming rows only
    delete_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._after_rename_timer = QTimer(self)  # a child timer, not a functor-based single shot
        self._after_rename_timer.setSingleShot(True)
        self._after_rename_timer.setInterval(0)
        self._after_rename_timer.timeout.connect(self._after_rename)
        self.delegate = ConversationDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setExpandsOnDoubleClick(False)
        self.setIndentation(0)
        self.setUniformRowHeights(False)
        self.setAllColumnsShowFocus(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # F2: see rename()
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setMouseTracking(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._hover = QPersistentModelIndex()
        self._editing = QPersistentModelIndex()
        self.delegate.closeEditor.connect(self._rename_closed)
        self._animation = QTimer(self)
        self._animation.setInterval(self.ANIMATION_MS)
        self._animation.timeout.connect(self._animate)
        self._list: ConversationListModel | None = None
        self._proxy: ConversationFilterProxy | None = None

    def set_models(self, proxy: ConversationFilterProxy, source: ConversationListModel) -> None:
        """Show `proxy` (over `source`) and follow its streaming conversations."""
        self._proxy, self._list = proxy, source
        self.setModel(proxy)
        source.streaming_changed.connect(self._update_animation)
        self._update_animation()

    # ---- renaming in place -------------------------------------------------------------------------

    def rename(self, index: QModelIndex) -> None:
        """Edit a row's title in place (F2, or Rename in the menu): Enter keeps it, Escape cancels.

        A persistent editor, opened here rather than by Qt's edit triggers, which need `ItemIsEditable`
        (see ConversationListModel on flags).
        """
        if not index.isValid():
            return
        self._close_rename()
        self.scrollTo(index)
        self._editing = QPersistentModelIndex(index)
        self.openPersistentEditor(index)
        editor = self.indexWidget(index)
        if editor is not None:
            editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def renaming(self) -> QWidget | None:
        """The open title editor, if any."""
        if not self._editing.isValid():
            return None
        return self.indexWidget(self.model().index(self._editing.row(), 0))

    def _close_rename(self) -> None:
        if self._editing.isValid():
            index = self.model().index(self._editing.row(), 0)
            self._editing = QPersistentModelIndex()
            self.closePersistentEditor(index)

    def _rename_closed(self, _editor: QWidget, _hint: QStyledItemDelegate.EndEditHint) -> None:
        # Qt's own closeEditor slot ran first and gave the view the focus back. The editor is released
        # on the next loop turn: Escape closes it from inside its own key event, and closing a
        # persistent editor there crashes Qt.
        self._after_rename_timer.start()

    def _after_rename(self) -> None:
        self._close_rename()
        if QApplication.focusWidget() is None:
            self.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """F2 renames the current row."""
        if event.key() == Qt.Key.Key_F2 and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.rename(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- streaming animation -----------------------------------------------------------------------

    def _update_animation(self) -> None:
        if self._list is not None and self._list.streaming_ids():
            if not self._animation.isActive():
                self._animation.start()
        else:
            self._animation.stop()

    def streaming_rects(self) -> list[QRect]:
        """Where the visible streaming rows are (what one animation frame repaints)."""
        if self._list is None or self._proxy is None:
            return []
        area = self.viewport().rect()
        rects = []
        for cid in self._list.streaming_ids():
            index = self._proxy.index_of(cid)
            if index.isValid():
                rect = self.visualRect(index)
                if rect.intersects(area):
                    rects.append(rect)
        return rects

    def _animate(self) -> None:
        if self._list is None or not self._list.streaming_ids():
            self._animation.stop()
            return
        self.delegate.phase = (self.delegate.phase + 1) % 3
        for rect in self.streaming_rects():
            self.viewport().update(rect)

    def animation_active(self) -> bool:
        """True while the streaming dots are animated."""
        return self._animation.isActive()

    # ---- painting ----------------------------------------------------------------------------------

    def drawRow(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Only the delegate paints (no branch, row background or focus frame from the tree)."""
        opt = QStyleOptionViewItem(option)
        state = opt.state & ~(
            QStyle.StateFlag.State_Selected
            | QStyle.StateFlag.State_MouseOver
            | QStyle.StateFlag.State_HasFocus
        )
        if self.selectionModel().isSelected(index):
            state |= QStyle.StateFlag.State_Selected
        if self._hover.isValid() and self._hover == index:
            state |= QStyle.StateFlag.State_MouseOver
        opt.state = state
        opt.widget = self
        self.delegate.paint(painter, opt, index)

    def _set_hover(self, index: QModelIndex) -> None:
        if index == self._hover:
            return
        if self._hover.isValid():
            old = self.model().index(self._hover.row(), 0)
            self.viewport().update(self.visualRect(old))
        if index.isValid():
            self.viewport().update(self.visualRect(index))
        self._hover = QPersistentModelIndex(index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Track the hovered row (hover background)."""
        self._set_hover(self.indexAt(event.position().toPoint()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        """No hovered row once the mouse has left."""
        self._set_hover(QModelIndex())
        super().leaveEvent(event)

    def focusInEvent(self, event: Any) -> None:
        """The selected row turns from muted to highlighted."""
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: Any) -> None:
        """The selected row turns muted."""
        super().focusOutEvent(event)
        self.viewport().update()

    # ---- helpers -----------------------------------------------------------------------------------

    def current_id(self) -> int | None:
        """The conversation in the current row."""
        index = self.currentIndex()
        return int(index.data(ID_ROLE)) if index.isValid() else None

    def id_at(self, pos: QPoint) -> int | None:
        """The conversation under a viewport position."""
        index = self.indexAt(pos)
        return int(index.data(ID_ROLE)) if index.isValid() else None
