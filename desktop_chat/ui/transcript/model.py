"""The transcript of the open conversation: a Qt model of its active branch, one row per message.

Rows are id-keyed and loaded by pages of the branch (`PAGE_SIZE`, newest first; `load_older()` prepends
the page before the first row), never the whole conversation. Each row is a `TranscriptRow`: the message
(with the in-memory document while it streams), its `< i/n >` siblings, its tool executions, and UI state
(which parts are expanded).

It follows the services' signals:
- a patched answer marks its row dirty; a fixed-interval timer (one frame, never a debounce) refreshes
  dirty rows from `ChatService.live_response()`, so a fast stream changes a row at most once per frame;
  when the answer has ended, the row is read back from the store (the final document);
- tool status changes are applied at most 10 times a second (leading edge, then a 100 ms tick that also
  advances the elapsed time of running tools); an ended answer reloads its executions from the store, so
  nothing stays "running";
- a new message, regenerate, edit or branch switch reloads the newest page, keeping the rows (and older
  pages) that are still on the branch.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from desktop_chat.domain import Message
from desktop_chat.services.chat import ChatService
from desktop_chat.services.chat_events import (
    ApprovalRequest,
    ApprovalResolved,
    ResponseUpdate,
    StreamEnded,
    ToolUpdate,
)
from desktop_chat.services.conversations import ConversationService
from desktop_chat.ui.transcript.row import TranscriptRow
from desktop_chat.ui.transcript.text import accessible_text, display_text

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROLE_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
TEXT_ROLE = Qt.ItemDataRole.UserRole + 4
ROW_ROLE = Qt.ItemDataRole.UserRole + 5  # the TranscriptRow (for the delegate)
FRAME_MS = 16
TOOL_TICK_MS = 100  # tool rows change at most 10 times a second
PAGE_SIZE = 50

Index = QModelIndex | QPersistentModelIndex


class TranscriptModel(QAbstractListModel):
    """Messages of one branch, id-keyed, paged, kept current by the services' signals."""

    older_loaded = Signal(int)  # how many rows were prepended
    approval_shown = Signal(int)  # message id: one of its tool calls now waits for the person
    reloaded = Signal()  # rows replaced after a new message or another branch

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        conversations: ConversationService | None = None,
        chat: ChatService | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(parent)
        self._rows: list[TranscriptRow] = []
        self._row_of: dict[int, int] = {}
        self._conversation_id: int | None = None
        self._has_older = False
        self._conversations = conversations
        self._chat = chat
        self.page_size = page_size
        self._dirty: set[int] = set()  # message ids whose document changed
        self._tools_dirty: set[int] = set()  # message ids whose tool executions changed
        self.refresh_ms: list[float] | None = None  # per frame refresh durations, when a benchmark asks
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._refresh_dirty)
        self._tool_timer = QTimer(self)
        self._tool_timer.setInterval(TOOL_TICK_MS)
        self._tool_timer.timeout.connect(self._tool_tick)
        if chat is not None:
            chat.messages_changed.connect(self._on_messages_changed)
            chat.response_patched.connect(self._on_patched)
            chat.tool_status_changed.connect(self._on_tool_update)
            chat.stream_finished.connect(self._on_stream_finished)
            chat.approval_requested.connect(self._on_approval_requested)
            chat.approval_resolved.connect(self._on_approval_resolved)
        if conversations is not None:
            conversations.branch_changed.connect(self._on_messages_changed)

    # ---- loading -----------------------------------------------------------------------------------

    @property
    def conversation_id(self) -> int | None:
        """The conversation shown."""
        return self._conversation_id

    @property
    def has_older(self) -> bool:
        """True when older messages of the branch precede the first row."""
        return self._has_older

    def set_messages(
        self, messages: list[Message], conversation_id: int | None = None, *, has_older: bool = False
    ) -> None:
        """Show these messages (a conversation's branch, or a page of it)."""
        self.beginResetModel()
        self._conversation_id = conversation_id
        self._has_older = has_older
        self._rows = self._make_rows(messages)
        self._reindex()
        self._dirty.clear()
        self._tools_dirty.clear()
        self.endResetModel()
        self._start_tool_timer()

    def show_conversation(self, conversation_id: int | None) -> None:
        """Load the newest page of a conversation's active branch (None: empty)."""
        if conversation_id is None or self._conversations is None:
            self.set_messages([], None)
            return
        page = self._conversations.branch_page(conversation_id, limit=self.page_size)
        self.set_messages(page.messages, conversation_id, has_older=page.has_older)

    def load_older(self) -> int:
        """Prepend the page of the branch before the first row; returns how many rows were added."""
        if (
            not self._has_older
            or not self._rows
            or self._conversations is None
            or self._conversation_id is None
        ):
            return 0
        page = self._conversations.branch_page(
            self._conversation_id, before=self._rows[0].message, limit=self.page_size
        )
        fresh = [m for m in page.messages if m.id not in self._row_of]
        self._has_older = page.has_older and bool(fresh)
        if not fresh:
            return 0
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows[:0] = self._make_rows(fresh)
        self._reindex()
        self.endInsertRows()
        self.older_loaded.emit(len(fresh))
        return len(fresh)

    def reload(self) -> None:
        """Read the newest page again, keeping rows still on the branch (and the older pages above them)."""
        if self._conversations is None or self._conversation_id is None:
            return
        page = self._conversations.branch_page(self._conversation_id, limit=self.page_size)
        first = self._row_of.get(page.messages[0].id) if page.messages else None
        if first is None:
            self.show_conversation(self._conversation_id)
            self.reloaded.emit()
            return
        new_ids = [r.message.id for r in self._rows[:first]] + [m.id for m in page.messages]
        keep = 0
        while keep < min(len(new_ids), len(self._rows)) and new_ids[keep] == self._rows[keep].message.id:
            keep += 1
        if keep < len(self._rows):
            self.beginRemoveRows(QModelIndex(), keep, len(self._rows) - 1)
            del self._rows[keep:]
            self._reindex()
            self.endRemoveRows()
        stored = {m.id: m for m in page.messages}
        for row in self._rows[first:]:  # rows kept from the page: the store may know more now
            message = self._with_live(stored[row.message.id])
            if message != row.message:
                row.message = message
                self._changed(row)
        added = [stored[i] for i in new_ids[keep:]]
        if added:
            self.beginInsertRows(QModelIndex(), keep, keep + len(added) - 1)
            self._rows.extend(self._make_rows(added))
            self._reindex()
            self.endInsertRows()
        self._refresh_siblings(self._rows[first:keep])
        self._start_tool_timer()
        self.reloaded.emit()

    def _make_rows(self, messages: list[Message]) -> list[TranscriptRow]:
        rows = [TranscriptRow(self._with_live(m)) for m in messages]
        if self._chat is not None and self._conversation_id is not None:
            waiting = self._chat.pending_approvals(self._conversation_id)
            by_response = {r.message.response.id: r for r in rows if r.message.response is not None}
            for request in waiting:
                if request.response_id in by_response:
                    by_response[request.response_id].approvals[request.call_id] = request
        if self._conversations is not None and self._conversation_id is not None and messages:
            siblings = self._conversations.siblings(self._conversation_id, messages)
            for row in rows:
                row.siblings = siblings.get(row.message.id)
            self._load_executions(rows)
        return rows

    def _refresh_siblings(self, rows: list[TranscriptRow]) -> None:
        if self._conversations is None or self._conversation_id is None or not rows:
            return
        siblings = self._conversations.siblings(self._conversation_id, [r.message for r in rows])
        for row in rows:
            new = siblings.get(row.message.id)
            if new != row.siblings:
                row.siblings = new
                self._changed(row)

    def _load_executions(self, rows: Iterable[TranscriptRow]) -> None:
        if self._conversations is None:
            return
        wanted = {
            r.message.response.id: r
            for r in rows
            if r.message.response is not None and r.message.response.tool_calls
        }
        if not wanted:
            return
        found = self._conversations.tool_executions(list(wanted))
        for response_id, row in wanted.items():
            row.executions = {e.call_id: e for e in found.get(response_id, [])}

    def _reindex(self) -> None:
        self._row_of = {r.message.id: i for i, r in enumerate(self._rows)}

    def _with_live(self, message: Message) -> Message:
        if self._chat is None or message.response is None:
            return message
        live = self._chat.live_response(message.response.id)
        return message if live is None else dataclasses.replace(message, response=live)

    # ---- reacting to the services ------------------------------------------------------------------

    def _on_messages_changed(self, conversation_id: int) -> None:
        if conversation_id == self._conversation_id:
            self.reload()

    def _on_patched(self, update: ResponseUpdate) -> None:
        if update.conversation_id != self._conversation_id:
            return
        row = self._row_of.get(update.message_id)
        if row is None:
            return
        self._rows[row].note = update.note
        self._dirty.add(update.message_id)
        if not self._frame.isActive():
            self._frame.start()

    def _on_approval_requested(self, request: ApprovalRequest) -> None:
        if request.conversation_id != self._conversation_id:
            return
        for row in self._rows:
            if row.message.response is not None and row.message.response.id == request.response_id:
                row.approvals[request.call_id] = request
                row.message = self._with_live(row.message)  # the call itself, not a frame later
                self._changed(row, [Qt.ItemDataRole.DisplayRole, ROW_ROLE])
                self.approval_shown.emit(row.message.id)
                return

    def _on_approval_resolved(self, resolved: ApprovalResolved) -> None:
        for row in self._rows:
            for call_id, request in list(row.approvals.items()):
                if request.execution_id == resolved.execution_id:
                    del row.approvals[call_id]
                    self._tools_dirty.add(row.message.id)
                    self._changed(row, [Qt.ItemDataRole.DisplayRole, ROW_ROLE])

    def set_highlight(self, message_id: int | None, terms: tuple[str, ...] = ()) -> None:
        """Tint one message (a search hit) and mark `terms` in it; None clears it."""
        for row in self._rows:
            want = row.message.id == message_id
            new_terms = terms if want else ()
            if row.highlighted != want or row.highlight_terms != new_terms:
                row.highlighted = want
                row.highlight_terms = new_terms
                self._changed(row)

    def pending_approval(self, message_id: int) -> ApprovalRequest | None:
        """The first call of this message waiting for the person, if any."""
        row = self.row_at(self._row_of.get(message_id, -1))
        return next(iter(row.approvals.values()), None) if row is not None else None

    def _on_stream_finished(self, ended: StreamEnded) -> None:
        if ended.conversation_id != self._conversation_id:
            return
        for row in self._rows:  # every row whose document is not final in the view yet
            response = row.message.response
            if response is not None and not response.status.is_final:
                self._dirty.add(row.message.id)
        if self._dirty and not self._frame.isActive():
            self._frame.start()

    def _refresh_dirty(self) -> None:
        """One frame: the dirty rows take their documents from memory (or the store once ended)."""
        if not self._dirty:
            self._frame.stop()
            return
        started = time.perf_counter()
        dirty, self._dirty = self._dirty, set()
        for message_id in dirty:
            row_no = self._row_of.get(message_id)
            if row_no is None:
                continue
            row = self._rows[row_no]
            response = row.message.response
            live = self._chat.live_response(response.id) if self._chat and response is not None else None
            if live is not None:
                row.message = dataclasses.replace(row.message, response=live)
                if live.tool_calls and set(row.executions) != {c.id for c in live.tool_calls}:
                    self._tools_dirty.add(message_id)
                    self._start_tool_timer()
            elif self._conversations is not None:  # ended: the stored document is the final one
                row.message = self._conversations.message(message_id)
                row.note = None
                self._load_executions([row])
                self._tools_dirty.discard(message_id)
            self._changed(row, [Qt.ItemDataRole.DisplayRole, STATUS_ROLE, TEXT_ROLE, ROW_ROLE])
        if self.refresh_ms is not None:
            self.refresh_ms.append((time.perf_counter() - started) * 1000)

    def _on_tool_update(self, update: ToolUpdate) -> None:
        if update.conversation_id != self._conversation_id:
            return
        row = next(
            (r for r in self._rows if r.message.response and r.message.response.id == update.response_id),
            None,
        )
        if row is None:
            return
        self._tools_dirty.add(row.message.id)
        if not self._tool_timer.isActive():  # leading edge: show it now, then at most every tick
            self._tool_tick()
            self._tool_timer.start()

    def _start_tool_timer(self) -> None:
        if not self._tool_timer.isActive() and (
            self._tools_dirty or any(r.running_tools() for r in self._rows)
        ):
            self._tool_timer.start()

    def _tool_tick(self) -> None:
        """Apply tool changes (read from the store) and advance the elapsed time of running tools."""
        dirty, self._tools_dirty = self._tools_dirty, set()
        rows = [self._rows[i] for i in (self._row_of.get(mid) for mid in dirty) if i is not None]
        self._load_executions(rows)
        running = [r for r in self._rows if r.running_tools()]
        for row in {id(r): r for r in [*rows, *running]}.values():
            self._changed(row, [Qt.ItemDataRole.DisplayRole, ROW_ROLE])
        if not running and not self._tools_dirty:
            self._tool_timer.stop()

    def _changed(self, row: TranscriptRow, roles: list[int] | None = None) -> None:
        row.version += 1
        row_no = self._row_of.get(row.message.id)
        if row_no is not None:
            index = self.index(row_no)
            self.dataChanged.emit(index, index, roles or [])

    # ---- UI state ------------------------------------------------------------------------------------

    def is_expanded(self, message_id: int, part: str) -> bool:
        """Whether a part of a row ("reasoning", "tool:<call id>") is expanded."""
        row = self._row_of.get(message_id)
        return row is not None and part in self._rows[row].expanded

    def set_expanded(self, message_id: int, part: str, expanded: bool) -> None:
        """Expand or collapse a part of a row."""
        row_no = self._row_of.get(message_id)
        if row_no is None:
            return
        row = self._rows[row_no]
        if (part in row.expanded) != expanded:
            if expanded:
                row.expanded.add(part)
            else:
                row.expanded.discard(part)
            self._changed(row, [ROW_ROLE])

    # ---- model interface ---------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Messages shown."""
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Heading and text for display and accessibility; id, role, status, text and the row under custom
        roles."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        m = row.message
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return accessible_text(row)
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return m.id
        if role == ROLE_ROLE:
            return m.role.value
        if role == STATUS_ROLE:
            return m.response.status.value if m.response is not None else None
        if role == TEXT_ROLE:
            return m.text
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Rows can be current (keyboard) but are not editable or selectable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled

    def row_of(self, message_id: int) -> int | None:
        """The row showing a message, if loaded."""
        return self._row_of.get(message_id)

    def row_at(self, row: int) -> TranscriptRow | None:
        """A row's state."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def message_at(self, row: int) -> Message | None:
        """The message in a row."""
        return self._rows[row].message if 0 <= row < len(self._rows) else None

    def last_message(self) -> Message | None:
        """The newest message of the branch shown."""
        return self._rows[-1].message if self._rows else None
