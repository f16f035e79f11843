"""Reading this app's own JSON export: each record checked field by field (docs/export-format.md).

A conversation whose own fields are wrong is skipped whole; a message that is wrong is left out (and
noted), and its replies become first messages.
"""

from __future__ import annotations

import math
from typing import Any

from desktop_chat.domain import ResponseStatus, Role, ToolStatus
from desktop_chat.interchange.importers.shared import ImportEntryError, tree_order


def _want(entry: dict[str, Any], key: str, kinds: type | tuple[type, ...], *, optional: bool = False) -> Any:
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kinds) or isinstance(value, bool) is not (kinds is bool):
        raise ImportEntryError(
            f'"{key}" is missing or not a {getattr(kinds, "__name__", "value of the right type")}'
        )
    return value


def _ts_field(entry: dict[str, Any], key: str, *, optional: bool = False) -> float | None:
    value = entry.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ImportEntryError(f'"{key}" is missing or not a number of seconds')
    return float(value)


def from_desktop_chat(entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """The record of one exported conversation, checked (ImportEntryError says what is wrong)."""
    conversation_uuid = _want(entry, "uuid", str)
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise ImportEntryError('"params" is not an object')
    provider = entry.get("provider")
    if provider is not None and not (isinstance(provider, dict) and isinstance(provider.get("name"), str)):
        raise ImportEntryError('"provider" is not an object with a "name"')
    raw_messages = entry.get("messages", [])
    if not isinstance(raw_messages, list):
        raise ImportEntryError('"messages" is not a list')
    messages: list[dict[str, Any]] = []
    for number, raw in enumerate(raw_messages, 1):
        try:
            messages.append(_desktop_chat_message(raw))
        except ImportEntryError as exc:
            notes.append(f"message {number} skipped: {exc}")
    leaf = entry.get("active_leaf_uuid")
    return {
        "uuid": conversation_uuid,
        "title": _want(entry, "title", str, optional=True) or "",
        "created_at": _ts_field(entry, "created_at"),
        "updated_at": _ts_field(entry, "updated_at"),
        "pinned": bool(entry.get("pinned")),
        "archived": bool(entry.get("archived")),
        "model": _want(entry, "model", str, optional=True) or "",
        "system_prompt": _want(entry, "system_prompt", str, optional=True),
        "params": params,
        "provider": provider,
        "active_leaf_uuid": leaf if isinstance(leaf, str) else None,
        "messages": tree_order(messages, notes),
    }


def _desktop_chat_message(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImportEntryError("not an object")
    role = raw.get("role")
    if role not in {r.value for r in Role}:
        raise ImportEntryError(f"unknown role {role!r}")
    response = raw.get("response")
    return {
        "uuid": _want(raw, "uuid", str),
        "parent_uuid": _want(raw, "parent_uuid", str, optional=True),
        "role": role,
        "content": _want(raw, "content", str, optional=True) or "",
        "created_at": _ts_field(raw, "created_at"),
        "response": None if response is None else _desktop_chatnew_response(response),
    }


def _desktop_chatnew_response(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImportEntryError("its response is not an object")
    if raw.get("status") not in {s.value for s in ResponseStatus}:
        raise ImportEntryError(f"unknown response status {raw.get('status')!r}")
    calls = raw.get("tool_calls", [])
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        raise ImportEntryError('"tool_calls" is not a list of objects')
    tool_status = raw.get("tool_status", {})
    statuses = {s.value for s in ToolStatus}
    if not isinstance(tool_status, dict) or not all(v in statuses for v in tool_status.values()):
        raise ImportEntryError('"tool_status" is not an object of tool statuses')
    usage = raw.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise ImportEntryError('"usage" is not an object')
    executions = raw.get("tool_executions", [])
    if not isinstance(executions, list):
        raise ImportEntryError('"tool_executions" is not a list')
    return {
        "status": raw["status"],
        "text": _want(raw, "text", str, optional=True) or "",
        "reasoning": _want(raw, "reasoning", str, optional=True) or "",
        "tool_calls": calls,
        "tool_status": tool_status,
        "finish_reason": _want(raw, "finish_reason", str, optional=True),
        "usage": usage,
        "model": _want(raw, "model", str, optional=True) or "",
        "provider": _want(raw, "provider", str, optional=True) or "",
        "error": _want(raw, "error", str, optional=True),
        "created_at": _ts_field(raw, "created_at"),
        "updated_at": _ts_field(raw, "updated_at"),
        "finished_at": _ts_field(raw, "finished_at", optional=True),
        "tool_executions": [_desktop_chatnew_execution(e) for e in executions],
    }


def _desktop_chatnew_execution(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImportEntryError("a tool execution is not an object")
    if raw.get("status") not in {s.value for s in ToolStatus}:
        raise ImportEntryError(f"unknown tool execution status {raw.get('status')!r}")
    round_no = raw.get("round", 0)
    if isinstance(round_no, bool) or not isinstance(round_no, int):
        raise ImportEntryError('a tool execution\'s "round" is not a whole number')
    return {
        "call_id": _want(raw, "call_id", str),
        "name": _want(raw, "name", str),
        "arguments": _want(raw, "arguments", str, optional=True) or "",
        "status": raw["status"],
        "result": _want(raw, "result", str, optional=True),
        "error": _want(raw, "error", str, optional=True),
        "round": round_no,
        "created_at": _ts_field(raw, "created_at"),
        "started_at": _ts_field(raw, "started_at", optional=True),
        "finished_at": _ts_field(raw, "finished_at", optional=True),
    }
