"""One row of the transcript: a message and everything shown with it (plain data the model keeps current)."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_chat.domain import Message, ToolExecution, ToolStatus
from desktop_chat.services.chat_events import ApprovalRequest
from desktop_chat.services.conversations import Siblings

OPEN_TOOL = (ToolStatus.QUEUED, ToolStatus.RUNNING)  # a tool call that has not ended


@dataclass(eq=False, slots=True)
class TranscriptRow:
    """One row: a message and everything shown with it. `version` changes whenever any of it does."""

    message: Message
    siblings: Siblings | None = None
    executions: dict[str, ToolExecution] = field(default_factory=dict)  # by tool call id
    expanded: set[str] = field(default_factory=set)  # "reasoning", "tool:<call id>"
    note: str | None = None  # transient state: "Rate limited. Retrying in 5 s"
    approvals: dict[str, ApprovalRequest] = field(default_factory=dict)  # calls waiting for a yes or no
    highlighted: bool = False  # a search hit being shown
    highlight_terms: tuple[str, ...] = ()  # its words to mark
    version: int = 0

    def tool_status(self, call_id: str) -> ToolStatus:
        """A call's status: the execution's when known, else the document's."""
        execution = self.executions.get(call_id)
        response = self.message.response
        status = response.tool_status.get(call_id, ToolStatus.QUEUED) if response is not None else None
        if execution is not None and (status is None or status in OPEN_TOOL):
            status = execution.status
        if status in OPEN_TOOL and response is not None and response.status.is_final:
            return ToolStatus.CANCELLED  # the answer ended: nothing of it is still running
        return status or ToolStatus.QUEUED

    def running_tools(self) -> bool:
        """True while a tool call of this answer runs or waits."""
        response = self.message.response
        return response is not None and any(self.tool_status(c.id) in OPEN_TOOL for c in response.tool_calls)
