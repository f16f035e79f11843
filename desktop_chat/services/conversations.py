"""Conversations as the UI sees them: list, open, create, rename, pin, archive, delete with undo; each
change announced."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_chat.domain import Conversation, ConversationSummary, Message, Page, SkippedRow, ToolExecution
from desktop_chat.services.store_writes import StoreWrites
from desktop_chat.storage import Repo

log = logging.getLogger(__name__)

UNDO_WINDOW_MS = 10_000  # how long a deleted conversation can be restored


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


APP_PARAMS = ("tools", "allowed_tools")  # kept in a conversation's params, never sent to the provider


def tools_choice(params: dict[str, object]) -> list[str] | None:
    """A conversation's tools: None for all, [] for none, else the chosen names."""
    value = params.get("tools")
    if value == "none":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return None


def _with_values(params: dict[str, Any], **values: object) -> dict[str, Any]:
    """`params` with `values` set (a None value removes its key)."""
    out = dict(params)
    for key, value in values.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


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
class RowsSkipped:
    """Stored rows that could not be read (the rest is shown), and one line about them for a person."""

    rows: tuple[SkippedRow, ...]

    @property
    def note(self) -> str:
        """What the person is told."""
        return describe_skipped(list(self.rows))


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
    """Reads and changes conversations; every change is announced so views update without polling.

    Signals:
        conversations_reset(): everything may have changed (an import): read the list again.
        conversation_changed(int): conversation id: its title, flags, model or last activity changed.
        conversation_added(int): conversation id: a new conversation (or one whose deletion was undone).
        conversation_removed(int): conversation id: gone from the list (deleted, or waiting to be).
        branch_changed(int): conversation id: it now shows another branch.
        rows_skipped(RowsSkipped): stored rows that could not be read were left out.
        deletion_requested(int): conversation id: hidden now, deleted after the undo window (stop its answer).
        deletions_changed(): the pending deletions changed (one added, undone or carried out).
    """

    conversations_reset = Signal()
    conversation_changed = Signal(int)
    conversation_added = Signal(int)
    conversation_removed = Signal(int)
    branch_changed = Signal(int)
    rows_skipped = Signal(RowsSkipped)
    deletion_requested = Signal(int)
    deletions_changed = Signal()

    def __init__(self, repo: Repo, writes: StoreWrites, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._repo = repo  # reads (this thread's connection); every write goes through `writes`
        self._writes = writes
        self.undo_window_ms = UNDO_WINDOW_MS
        # Deleted but still restorable, oldest first: the row stays in the store until the timer fires
        # (or the app quits), so a crash in between loses nothing.
        self._attached: dict[int, list[Path]] = {}  # conversation id -> files the person attached (this run)
        self._pending: dict[int, float] = {}  # conversation id -> when it goes (time.monotonic())
        # One timer for every pending deletion, not a timer per deletion: nothing to deleteLater.
        self._deletion_timer = QTimer(self)
        self._deletion_timer.setSingleShot(True)
        self._deletion_timer.timeout.connect(self._carry_out_due)

    def _report(self, page: Page[object]) -> None:
        if page.skipped:
            self.rows_skipped.emit(RowsSkipped(tuple(page.skipped)))

    def count(self) -> int:
        """How many conversations the list shows."""
        return self._repo.count_conversations()

    def page(self, offset: int, limit: int) -> list[Conversation]:
        """A page of the list, pinned first then newest first; unreadable rows are reported, not fatal."""
        page = self._repo.list_conversations(offset=offset, limit=limit)
        self._report(page)  # type: ignore[arg-type]
        return page.items

    def summaries(self) -> list[ConversationSummary]:
        """Every conversation the list shows (archived too), as light summaries, in no set order."""
        page = self._repo.conversation_summaries()
        self._report(page)  # type: ignore[arg-type]
        if not self._pending:
            return page.items
        return [s for s in page.items if s.id not in self._pending]

    def summary(self, conversation_id: int) -> ConversationSummary | None:
        """One conversation's summary; None when it is gone, unreadable or waiting to be deleted."""
        if conversation_id in self._pending:
            return None
        return self._repo.conversation_summary(conversation_id)

    def get(self, conversation_id: int) -> Conversation:
        """One conversation."""
        return self._repo.get_conversation(conversation_id)

    async def create(self, title: str = "") -> Conversation:
        """A new empty conversation (announced once it is stored)."""
        conversation = await self._writes.run(
            lambda repo: repo.create_conversation(title), label="a new conversation"
        )
        self.conversation_added.emit(conversation.id)
        return conversation

    def _change(self, conversation_id: int, label: str, job: Callable[[Repo], object]) -> None:
        """Save a change of a conversation; `conversation_changed` once it is stored."""
        self._writes.submit(job, label=label, then=lambda _r: self.conversation_changed.emit(conversation_id))

    def reload_all(self) -> None:
        """Tell views that any conversation may have changed (after an import): they read them again."""
        self.conversations_reset.emit()

    def notify_changed(self, conversation_id: int) -> None:
        """Tell views a conversation changed (its answer started or ended, its title...)."""
        self.conversation_changed.emit(conversation_id)

    def rename(self, conversation_id: int, title: str) -> None:
        """Change a conversation's title (it keeps its place in the list)."""
        title = title.strip()
        self._change(
            conversation_id,
            "the conversation's title",
            lambda repo: repo.update_conversation(conversation_id, title=title, touch=False),
        )

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """Pin a conversation to the top of the list, or unpin it."""
        self._change(
            conversation_id,
            "pinning the conversation",
            lambda repo: repo.update_conversation(conversation_id, pinned=pinned, touch=False),
        )

    def set_archived(self, conversation_id: int, archived: bool) -> None:
        """Archive a conversation (the list hides it unless asked) or bring it back."""
        self._change(
            conversation_id,
            "archiving the conversation",
            lambda repo: repo.update_conversation(conversation_id, archived=archived, touch=False),
        )

    def set_model(self, conversation_id: int, profile_id: int, model: str) -> None:
        """The provider profile and model this conversation's next answers use (its place in the list
        stays)."""
        model = model.strip()
        self._change(
            conversation_id,
            "the conversation's model",
            lambda repo: repo.update_conversation(
                conversation_id, profile_id=profile_id, model=model, touch=False
            ),
        )

    def set_options(
        self,
        conversation_id: int,
        *,
        system_prompt: str | None,
        temperature: float | None,
        max_tokens: int | None,
    ) -> None:
        """This conversation's system prompt (None: the default one) and request parameters (None: the
        provider's default, left out of the request); other stored parameters are kept."""

        def job(repo: Repo) -> None:
            params = _with_values(
                repo.get_conversation(conversation_id).params, temperature=temperature, max_tokens=max_tokens
            )
            repo.update_conversation(conversation_id, system_prompt=system_prompt, params=params, touch=False)

        self._change(conversation_id, "the conversation's settings", job)

    def attach_file(self, conversation_id: int, path: Path) -> Path:
        """Let the model read a text file the person picked or dropped (for this run); returns its full path.

        Raises ValueError when it is not a readable file."""
        full = Path(path).expanduser().resolve()
        if not full.is_file():
            raise ValueError(f"{full} is not a file.")
        files = self._attached.setdefault(conversation_id, [])
        if full not in files:
            files.append(full)
        return full

    def attached_files(self, conversation_id: int | None = None) -> list[Path]:
        """Files attached to a conversation (or to any, for the read-file tool)."""
        if conversation_id is not None:
            return list(self._attached.get(conversation_id, []))
        return [f for files in self._attached.values() for f in files]

    def set_params(self, conversation_id: int, **values: object) -> None:
        """Store app-side settings of a conversation (None removes a key); other parameters are kept."""

        def job(repo: Repo) -> None:
            params = _with_values(repo.get_conversation(conversation_id).params, **values)
            repo.update_conversation(conversation_id, params=params, touch=False)

        self._change(conversation_id, "the conversation's settings", job)

    def set_tools(self, conversation_id: int, tools: str | list[str]) -> None:
        """Which tools this conversation offers the model: "all", "none", or a list of tool names."""
        if tools == "all":
            self.set_params(conversation_id, tools=None)
        elif tools == "none":
            self.set_params(conversation_id, tools="none")
        elif isinstance(tools, list):
            self.set_params(conversation_id, tools=sorted(set(tools)))
        else:
            raise ValueError(f"tools must be 'all', 'none' or a list of names, not {tools!r}")

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and everything in it, undoably.

        It leaves the list at once (`conversation_removed`) but stays in the store for
        `undo_window_ms`, until `undo_delete`, or until `finalize_deletions` (at quit). A crash before
        then keeps it: the safe direction.
        """
        if conversation_id in self._pending:
            return
        self._pending[conversation_id] = time.monotonic() + self.undo_window_ms / 1000
        self._schedule_deletions()
        self.deletion_requested.emit(conversation_id)
        self.conversation_removed.emit(conversation_id)
        self.deletions_changed.emit()

    def pending_deletions(self) -> list[int]:
        """Conversations deleted but still restorable, oldest first."""
        return list(self._pending)

    def undo_delete(self, conversation_id: int | None = None) -> int | None:
        """Restore a deleted conversation (by default the last one deleted); returns its id, if any."""
        if conversation_id is None:
            if not self._pending:
                return None
            conversation_id = next(reversed(self._pending))
        if self._pending.pop(conversation_id, None) is None:
            return None
        self._schedule_deletions()
        self.conversation_added.emit(conversation_id)
        self.deletions_changed.emit()
        return conversation_id

    def finalize_deletions(self) -> None:
        """Carry out every pending deletion now (at quit, before the store closes: queued for the writer,
        which finishes its queue before it stops)."""
        for conversation_id in list(self._pending):
            self._carry_out(conversation_id)
        self._schedule_deletions()

    def _schedule_deletions(self) -> None:
        """Arm the timer for the next pending deletion (or stop it when none is left)."""
        if not self._pending:
            self._deletion_timer.stop()
            return
        wait = min(self._pending.values()) - time.monotonic()
        self._deletion_timer.start(max(0, int(wait * 1000) + 1))

    def _carry_out_due(self) -> None:
        now = time.monotonic()
        for conversation_id, due in list(self._pending.items()):
            if due <= now:
                self._carry_out(conversation_id)
        self._schedule_deletions()

    def _carry_out(self, conversation_id: int) -> None:
        if self._pending.pop(conversation_id, None) is None:
            return

        def not_deleted(_error: BaseException) -> None:  # the row is still there: list it again
            log.error("Could not delete conversation %d; it is listed again", conversation_id)
            self.conversation_added.emit(conversation_id)

        self._writes.submit(
            lambda repo: repo.delete_conversation(conversation_id),
            label="deleting a conversation",
            failed=not_deleted,
        )
        self.deletions_changed.emit()

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

    def switch_branch(self, message_id: int, then: Callable[[], object] | None = None) -> None:
        """Show the branch through `message_id` (down to its newest message): stored, then announced
        (`branch_changed`), then `then()`."""
        conversation_id = self._repo.get_message(message_id).conversation_id

        def job(repo: Repo) -> None:
            leaf = repo.newest_leaf_under(message_id)
            repo.update_conversation(conversation_id, active_leaf_id=leaf)

        def shown(_result: object) -> None:
            self.branch_changed.emit(conversation_id)
            if then is not None:
                then()

        self._writes.submit(job, label="the branch shown", then=shown)

    def tool_executions(self, response_ids: list[int]) -> dict[int, list[ToolExecution]]:
        """The tool runs of these answers, by response id, in order (one query)."""
        return self._repo.tool_executions_for(response_ids)

    def transcript(self, conversation_id: int) -> list[Message]:
        """The messages of the conversation's active branch, oldest first."""
        conversation = self._repo.get_conversation(conversation_id)
        page = self._repo.list_messages(conversation_id)
        self._report(page)  # type: ignore[arg-type]
        return active_path(page.items, conversation.active_leaf_id)
