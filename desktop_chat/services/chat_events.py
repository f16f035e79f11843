"""What the chat service announces: the payloads of its signals (frozen, typed, cheap to build)."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_chat.domain import ApprovalDecision, ResponseStatus, ToolStatus


@dataclass(frozen=True, slots=True)
class ResponseUpdate:
    """What one commit changed about an answer."""

    conversation_id: int
    message_id: int
    response_id: int
    status: ResponseStatus
    text_length: int
    tool_status: dict[str, ToolStatus]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """An answer stopped being written (tool rounds included), and how it ended."""

    conversation_id: int
    response_id: int
    status: ResponseStatus


@dataclass(frozen=True, slots=True)
class ToolUpdate:
    """A tool execution moved on."""

    conversation_id: int
    response_id: int
    execution_id: int
    call_id: str
    name: str
    status: ToolStatus


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A tool call waiting for the person's yes or no (it shows the full arguments)."""

    conversation_id: int
    response_id: int
    execution_id: int
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ApprovalResolved:
    """A waiting tool call got its answer (or the answer it belonged to stopped: `CANCELLED`)."""

    execution_id: int
    decision: ApprovalDecision
