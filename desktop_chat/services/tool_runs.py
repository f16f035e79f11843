"""One round of an answer's tool calls: recorded, asked about when the tool wants it, run, cancellable.

Each call becomes a `tool_execution` row (through the writer thread) and moves queued -> running ->
succeeded / failed / cancelled. A tool that `needs_approval` waits for the person's decision (once, this
conversation, always, deny); a denied or cancelled call is recorded as cancelled and the model is told.
Before the next round the rows are stored, so the results sent back are the stored ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from desktop_chat.domain import ApprovalDecision, ToolCall, ToolStatus
from desktop_chat.services.chat_events import ApprovalRequest, ApprovalResolved
from desktop_chat.services.conversations import ConversationService
from desktop_chat.services.live import LiveResponse
from desktop_chat.services.store_writes import StoreWrites
from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, TOOL_TIMEOUT, Settings
from desktop_chat.storage import Repo
from desktop_chat.tools.registry import ToolRegistry, ToolResult

log = logging.getLogger(__name__)

DECLINED = "The user declined to run this tool call."
CANCELLED_BY_USER = "The user cancelled this tool call while it ran."
ToolMoved = Callable[[LiveResponse, int, ToolCall, ToolStatus], None]


class ToolRunner:
    """Runs tool calls for the chat service, which announces what it reports."""

    def __init__(
        self,
        registry: ToolRegistry,
        writes: StoreWrites,
        settings: Settings,
        conversations: ConversationService,
        *,
        moved: ToolMoved,
        asked: Callable[[ApprovalRequest], object],
        answered: Callable[[ApprovalResolved], object],
    ) -> None:
        self._tools = registry
        self._writes = writes
        self._settings = settings
        self._conversations = conversations
        self._moved = moved
        self._asked = asked
        self._answered = answered
        self.approval_mode = "ask"  # "ask" the person; scripted runs: "all" or "none" (--approve-tools)
        self._approvals: dict[int, tuple[ApprovalRequest, asyncio.Future[ApprovalDecision]]] = {}
        self._allowed_here: dict[int, set[str]] = {}  # conversation id -> tools allowed for it
        self._running: dict[int, asyncio.Task[ToolResult]] = {}  # execution id -> running call

    def _record(self, execution_id: int, status: ToolStatus, **fields: str) -> None:
        self._writes.submit(
            lambda repo: repo.update_tool_execution(execution_id, status, **fields),
            label="a tool call's outcome",
        )

    def _move(
        self, live: LiveResponse, execution_id: int, call: ToolCall, status: ToolStatus, **fields: str
    ) -> None:
        if status is not ToolStatus.QUEUED:
            self._record(execution_id, status, **fields)
        self._moved(live, execution_id, call, status)

    async def run_round(self, live: LiveResponse, calls: list[ToolCall]) -> None:
        """Run one round's calls in order; their rows are stored when it returns (or is cancelled)."""

        def record(repo: Repo) -> list[int]:
            return [
                repo.add_tool_execution(live.response_id, c.id, c.name, c.arguments, round_no=c.round).id
                for c in calls
            ]

        ids = await self._writes.run(record, label="the tool calls")
        for call, execution_id in zip(calls, ids, strict=True):
            self._move(live, execution_id, call, ToolStatus.QUEUED)
        try:
            for call, execution_id in zip(calls, ids, strict=True):
                await self._run_one(live, execution_id, call)
        except asyncio.CancelledError:
            for call, execution_id in zip(calls, ids, strict=True):
                if live.tool_status.get(call.id) is ToolStatus.QUEUED:
                    self._move(live, execution_id, call, ToolStatus.CANCELLED, error="Not run.")
            raise
        finally:
            await asyncio.shield(self._writes.idle())

    async def _run_one(self, live: LiveResponse, execution_id: int, call: ToolCall) -> None:
        try:
            if not await self._approved(live, execution_id, call):
                self._move(live, execution_id, call, ToolStatus.CANCELLED, error=DECLINED)
                return
            self._move(live, execution_id, call, ToolStatus.RUNNING)
            timeout = self._settings.get(TOOL_TIMEOUT)
            task = asyncio.ensure_future(self._tools.run(call.name, call.arguments, timeout=timeout))
            self._running[execution_id] = task
            try:
                await asyncio.wait({task})  # the call alone may be cancelled (cancel_tool)
            finally:
                self._running.pop(execution_id, None)
                if not task.done():  # the answer itself was stopped
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        except asyncio.CancelledError:
            self._move(live, execution_id, call, ToolStatus.CANCELLED, error="Stopped by the user.")
            raise
        if task.cancelled():
            self._move(live, execution_id, call, ToolStatus.CANCELLED, error=CANCELLED_BY_USER)
            return
        result = task.result()
        if result.is_error:
            self._move(live, execution_id, call, ToolStatus.FAILED, error=result.text)
        else:
            self._move(live, execution_id, call, ToolStatus.SUCCEEDED, result=result.text)

    # ---- approvals -----------------------------------------------------------------------------

    async def _approved(self, live: LiveResponse, execution_id: int, call: ToolCall) -> bool:
        """Whether the call may run: asks the person when the tool wants it (waits for the answer)."""
        tool = self._tools.get(call.name)
        if tool is None or not tool.spec.needs_approval:
            return True
        if self.approval_mode != "ask":
            return self.approval_mode == "all"
        if call.name in self._settings.get(ALWAYS_ALLOWED_TOOLS):
            return True
        if call.name in self._allowed_in(live.conversation_id):
            return True
        request = ApprovalRequest(
            live.conversation_id, live.response_id, execution_id, call.id, call.name, call.arguments
        )
        future: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        self._approvals[execution_id] = (request, future)
        self._asked(request)
        try:
            decision = await future
        except asyncio.CancelledError:  # the answer was stopped while the question was open
            self._answered(ApprovalResolved(execution_id, ApprovalDecision.CANCELLED))
            raise
        finally:
            self._approvals.pop(execution_id, None)
        self._answered(ApprovalResolved(execution_id, decision))
        if decision is ApprovalDecision.ALWAYS:
            saved: list[str] = self._settings.get(ALWAYS_ALLOWED_TOOLS)
            if call.name not in saved:
                self._settings.set(ALWAYS_ALLOWED_TOOLS, [*saved, call.name])
        elif decision is ApprovalDecision.CONVERSATION:
            self._allow_in(live.conversation_id, call.name)
        return decision.allows

    def _allowed_in(self, conversation_id: int) -> set[str]:
        if conversation_id not in self._allowed_here:
            try:
                params: dict[str, object] = dict(self._conversations.get(conversation_id).params)
            except LookupError:
                params = {}
            saved = params.get("allowed_tools")
            self._allowed_here[conversation_id] = set(saved) if isinstance(saved, list) else set()
        return self._allowed_here[conversation_id]

    def _allow_in(self, conversation_id: int, name: str) -> None:
        allowed = self._allowed_in(conversation_id)
        allowed.add(name)
        self._conversations.set_params(conversation_id, allowed_tools=sorted(allowed))

    def pending(self, conversation_id: int | None = None) -> list[ApprovalRequest]:
        """Calls waiting for the person (of one conversation, or all)."""
        return [
            r
            for r, _ in self._approvals.values()
            if conversation_id is None or r.conversation_id == conversation_id
        ]

    def approve(self, execution_id: int, decision: ApprovalDecision) -> bool:
        """Answer a waiting call (once, this conversation, always, or deny). False if nothing waits."""
        decision = ApprovalDecision(decision)  # a plain "once" from a script works too
        if decision is ApprovalDecision.CANCELLED:
            raise ValueError("cancelled is what a stopped answer records, not a decision to make")
        waiting = self._approvals.get(execution_id)
        if waiting is None or waiting[1].done():
            return False
        waiting[1].set_result(decision)
        return True

    def cancel(self, execution_id: int) -> bool:
        """Cancel one running call (the answer goes on; the model is told). False if it is not running."""
        task = self._running.get(execution_id)
        if task is None or task.done():
            waiting = self._approvals.get(execution_id)
            if waiting is not None and not waiting[1].done():
                waiting[1].set_result(ApprovalDecision.DENY)
                return True
            return False
        task.cancel()
        return True
