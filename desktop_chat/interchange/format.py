"""The export format (docs/export-format.md): its name and version, and conversation records.

A record is the JSON object of one conversation, as a plain dict. `record_from_tree` builds it from what
the store holds (for every export); the importers build records of the same shape from what they read
(`new_conversation`, `new_response`, `new_execution` for the foreign formats), and `tree_from_record`
turns one into what the store writes, storing unfinished answers as interrupted and queued or running
tools as cancelled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import desktop_chat
from desktop_chat.domain import ResponseStatus, Role, ToolStatus
from desktop_chat.storage.repo import INTERRUPTED_ERROR, TOOL_STOPPED_ERROR
from desktop_chat.storage.tree import (
    ConversationTree,
    TreeMessage,
    TreeProvider,
    TreeResponse,
    TreeToolExecution,
)

FORMAT = "desktop_chat"
FORMAT_VERSION = 1


def without_userinfo(url: str) -> str:
    """A base URL without any `user:password@` part (never export credentials)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


# ---- store -> record (export) -------------------------------------------------------------------------


def _execution_record(t: TreeToolExecution) -> dict[str, Any]:
    return {
        "call_id": t.call_id,
        "name": t.name,
        "arguments": t.arguments,
        "status": t.status,
        "result": t.result,
        "error": t.error,
        "round": t.round,
        "created_at": t.created_at,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
    }


def _response_record(r: TreeResponse) -> dict[str, Any]:
    return {
        "status": r.status,
        "text": r.text,
        "reasoning": r.reasoning,
        "tool_calls": r.tool_calls,
        "tool_status": r.tool_status,
        "finish_reason": r.finish_reason,
        "usage": r.usage,
        "model": r.model,
        "provider": r.provider,
        "error": r.error,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "finished_at": r.finished_at,
        "tool_executions": [_execution_record(t) for t in r.tool_executions],
    }


def record_from_tree(tree: ConversationTree) -> dict[str, Any]:
    """The record of a stored conversation (messages in stored order; no key, key reference or header)."""
    provider = tree.provider
    return {
        "uuid": tree.uuid,
        "title": tree.title,
        "created_at": tree.created_at,
        "updated_at": tree.updated_at,
        "pinned": tree.pinned,
        "archived": tree.archived,
        "model": tree.model,
        "system_prompt": tree.system_prompt,
        "params": tree.params,
        "provider": None
        if provider is None
        else {
            "name": provider.name,
            "base_url": without_userinfo(provider.base_url),
            "default_model": provider.default_model,
            "needs_key": provider.needs_key,
        },
        "active_leaf_uuid": tree.active_leaf_uuid,
        "messages": [
            {
                "uuid": m.uuid,
                "parent_uuid": m.parent_uuid,
                "role": m.role,
                "content": m.content,
                "created_at": m.created_at,
                "response": None if m.response is None else _response_record(m.response),
            }
            for m in tree.messages
        ],
    }


# ---- records the importers build ------------------------------------------------------------------------


def new_conversation(
    conversation_uuid: str,
    title: str,
    times: tuple[float, float],
    messages: list[dict[str, Any]],
    active_leaf: str | None,
    *,
    model: str = "",
    archived: bool = False,
) -> dict[str, Any]:
    """A conversation record read from another app (no provider, default prompt and parameters)."""
    return {
        "uuid": conversation_uuid,
        "title": title,
        "created_at": times[0],
        "updated_at": times[1],
        "pinned": False,
        "archived": archived,
        "model": model,
        "system_prompt": None,
        "params": {},
        "provider": None,
        "active_leaf_uuid": active_leaf,
        "messages": messages,
    }


def new_response(
    text: str,
    ts: float | None,
    *,
    provider: str,
    model: str = "",
    reasoning: str = "",
    finish: str | None = None,
) -> dict[str, Any]:
    """A finished answer's response record, without tool calls yet (times may be filled in later)."""
    return {
        "status": ResponseStatus.DONE.value,
        "text": text,
        "reasoning": reasoning,
        "tool_calls": [],
        "tool_status": {},
        "finish_reason": finish,
        "usage": None,
        "model": model,
        "provider": provider,
        "error": None,
        "created_at": ts,
        "updated_at": ts,
        "finished_at": ts,
        "tool_executions": [],
    }


def new_execution(
    call: dict[str, Any], result: str | None, error: str | None, start: float | None, end: float | None
) -> dict[str, Any]:
    """The tool execution record of a tool call record: failed when there is an error."""
    return {
        "call_id": call["id"],
        "name": call["name"],
        "arguments": call["arguments"],
        "status": (ToolStatus.FAILED if error is not None else ToolStatus.SUCCEEDED).value,
        "result": result,
        "error": error,
        "round": call["round"],
        "created_at": start,
        "started_at": start,
        "finished_at": end,
    }


# ---- record -> store (import) ---------------------------------------------------------------------------


def _tree_execution(t: dict[str, Any], response_updated: Any) -> TreeToolExecution:
    status = ToolStatus(t["status"])
    error, finished = t.get("error"), t.get("finished_at")
    if status in (ToolStatus.QUEUED, ToolStatus.RUNNING):
        status = ToolStatus.CANCELLED
        error = error or TOOL_STOPPED_ERROR
        finished = finished if finished is not None else response_updated
    return TreeToolExecution(
        call_id=str(t["call_id"]),
        name=str(t["name"]),
        arguments=str(t.get("arguments") or ""),
        status=status.value,
        result=t.get("result"),
        error=error,
        round=int(t.get("round") or 0),
        created_at=float(t["created_at"]),
        started_at=None if t.get("started_at") is None else float(t["started_at"]),
        finished_at=None if finished is None else float(finished),
    )


def _tree_response(response: dict[str, Any]) -> TreeResponse:
    status = ResponseStatus(response["status"])
    error = response.get("error")
    finished = response.get("finished_at")
    if not status.is_final:
        status, error = ResponseStatus.INTERRUPTED, error or INTERRUPTED_ERROR
        finished = response["updated_at"] if finished is None else finished
    stopped = (ToolStatus.QUEUED.value, ToolStatus.RUNNING.value)
    tool_status = {
        str(k): ToolStatus.CANCELLED.value if v in stopped else ToolStatus(v).value
        for k, v in (response.get("tool_status") or {}).items()
    }
    return TreeResponse(
        status=status.value,
        text=str(response.get("text") or ""),
        reasoning=str(response.get("reasoning") or ""),
        tool_calls=list(response.get("tool_calls") or []),
        tool_status=tool_status,
        finish_reason=response.get("finish_reason"),
        usage=response.get("usage"),
        model=str(response.get("model") or ""),
        provider=str(response.get("provider") or ""),
        error=error,
        created_at=float(response["created_at"]),
        updated_at=float(response["updated_at"]),
        finished_at=None if finished is None else float(finished),
        tool_executions=tuple(
            _tree_execution(t, response["updated_at"]) for t in response.get("tool_executions") or ()
        ),
    )


def _tree_message(message: dict[str, Any]) -> TreeMessage:
    response = message.get("response")
    return TreeMessage(
        uuid=str(message["uuid"]),
        parent_uuid=message.get("parent_uuid"),
        role=Role(message["role"]).value,
        content=str(message.get("content") or ""),
        created_at=float(message["created_at"]),
        response=None if response is None else _tree_response(response),
    )


def tree_from_record(record: dict[str, Any]) -> ConversationTree:
    """What the store writes for a record (messages parents first, as the importers order them).

    Unfinished answers become interrupted (text kept), queued or running tools cancelled; a provider
    is named by its `name` (the store uses the profile of that name, or creates one without a key).
    Raises KeyError, TypeError or ValueError for a record that is not of the documented shape.
    """
    provider = record.get("provider")
    return ConversationTree(
        uuid=str(record["uuid"]),
        title=str(record.get("title") or ""),
        created_at=float(record["created_at"]),
        updated_at=float(record["updated_at"]),
        pinned=bool(record.get("pinned")),
        archived=bool(record.get("archived")),
        model=str(record.get("model") or ""),
        system_prompt=record.get("system_prompt"),
        params=record.get("params") or {},
        provider=None
        if not provider or not provider.get("name")
        else TreeProvider(
            name=str(provider["name"]),
            base_url=str(provider.get("base_url") or ""),
            default_model=str(provider.get("default_model") or ""),
            needs_key=bool(provider.get("needs_key", True)),
        ),
        active_leaf_uuid=record.get("active_leaf_uuid"),
        messages=tuple(_tree_message(m) for m in record.get("messages") or ()),
    )


def export_document(conversations: list[dict[str, Any]]) -> dict[str, Any]:
    """The top-level JSON object around exported conversation records."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": desktop_chat.version(),
        "conversations": conversations,
    }
