"""A whole conversation as stored, by uuid: what export reads and an import writes in one transaction.

Plain frozen records, no format knowledge: timestamps are the stored float epoch seconds (bit for bit),
JSON columns are decoded, statuses are the stored strings, and messages name their parents by uuid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TreeToolExecution:
    """One tool run of an answer."""

    call_id: str
    name: str
    arguments: str
    status: str
    result: str | None
    error: str | None
    round: int
    created_at: float
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True, slots=True)
class TreeResponse:
    """The response document of an assistant message (its text includes chunks not yet compacted)."""

    status: str
    text: str
    reasoning: str
    tool_calls: list[Any]
    tool_status: dict[str, Any]
    finish_reason: str | None
    usage: dict[str, Any] | None
    model: str
    provider: str
    error: str | None
    created_at: float
    updated_at: float
    finished_at: float | None
    tool_executions: tuple[TreeToolExecution, ...]


@dataclass(frozen=True, slots=True)
class TreeMessage:
    """One message; `parent_uuid` None for a first message."""

    uuid: str
    parent_uuid: str | None
    role: str
    content: str
    created_at: float
    response: TreeResponse | None


@dataclass(frozen=True, slots=True)
class TreeProvider:
    """The provider profile a conversation uses, without its key or headers."""

    name: str
    base_url: str
    default_model: str
    needs_key: bool


@dataclass(frozen=True, slots=True)
class ConversationTree:
    """A conversation with every message of every branch (stored order: oldest row first)."""

    uuid: str
    title: str
    created_at: float
    updated_at: float
    pinned: bool
    archived: bool
    model: str
    system_prompt: str | None
    params: dict[str, Any]
    provider: TreeProvider | None
    active_leaf_uuid: str | None
    messages: tuple[TreeMessage, ...]
