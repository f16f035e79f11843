"""Reading this app's own JSON export: each record checked field by field (docs/export-format.md).

A conversation whose own fields are wrong is skipped whole; a message that is wrong is left out (and
noted), and its replies become first messages.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from desktop_chat.domain import ResponseStatus, Role, ToolStatus, Usage
from desktop_chat.interchange.importers.shared import MAX_TS, MIN_TS, ImportEntryError, tree_order

_ROLES = {r.value for r in Role}
_RESPONSE_STATUSES = {s.value for s in ResponseStatus}
_TOOL_STATUSES = {s.value for s in ToolStatus}
_USAGE_KEYS = [f.name for f in fields(Usage)]
_MAX_WHOLE = 2**31 - 1  # rounds and offsets: far more than any answer has, and always an SQLite integer


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
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ImportEntryError(f'"{key}" is missing or not a number of seconds')
    if not MIN_TS <= value <= MAX_TS:  # also NaN, and integers no float can hold
        raise ImportEntryError(f'"{key}" is not a time between 1970 and 3000')
    return float(value)


def _whole(value: Any) -> bool:
    """A whole number of the size rounds, offsets and token counts have."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_WHOLE


def _one_of(value: Any, allowed: set[str]) -> bool:
    return isinstance(value, str) and value in allowed


def _tool_call(call: Any) -> dict[str, Any]:
    """A tool call record: an object with string `id`, `name`, `arguments`, whole `round`, `text_offset`."""
    if not isinstance(call, dict):
        raise ImportEntryError('"tool_calls" is not a list of objects')
    for key in ("id", "name", "arguments"):
        if call.get(key) is not None and not isinstance(call[key], str):
            raise ImportEntryError(f'a tool call\'s "{key}" is not a str')
    for key in ("round", "text_offset"):
        if call.get(key) is not None and not _whole(call[key]):
            raise ImportEntryError(f'a tool call\'s "{key}" is not a whole number')
    return call


def _usage(usage: Any) -> dict[str, Any] | None:
    if usage is not None and not isinstance(usage, dict):
        raise ImportEntryError('"usage" is not an object')
    if usage is not None and not all(usage.get(k) is None or _whole(usage[k]) for k in _USAGE_KEYS):
        raise ImportEntryError('"usage" has a token count that is not a whole number')
    return usage


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
    if not _one_of(role, _ROLES):
        raise ImportEntryError(f"unknown role {role!r}")
    response = raw.get("response")
    return {
        "uuid": _want(raw, "uuid", str),
        "parent_uuid": _want(raw, "parent_uuid", str, optional=True),
        "role": role,
        "content": _want(raw, "content", str, optional=True) or "",
        "created_at": _ts_field(raw, "created_at"),
        "response": None if response is None else _desktop_chat_response(response),
    }


def _desktop_chat_response(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImportEntryError("its response is not an object")
    if not _one_of(raw.get("status"), _RESPONSE_STATUSES):
        raise ImportEntryError(f"unknown response status {raw.get('status')!r}")
    calls = raw.get("tool_calls", [])
    if not isinstance(calls, list):
        raise ImportEntryError('"tool_calls" is not a list of objects')
    calls = [_tool_call(c) for c in calls]
    tool_status = raw.get("tool_status", {})
    if not isinstance(tool_status, dict) or not all(_one_of(v, _TOOL_STATUSES) for v in tool_status.values()):
        raise ImportEntryError('"tool_status" is not an object of tool statuses')
    usage = _usage(raw.get("usage"))
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
        "tool_executions": [_desktop_chat_execution(e) for e in executions],
    }


def _desktop_chat_execution(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImportEntryError("a tool execution is not an object")
    if not _one_of(raw.get("status"), _TOOL_STATUSES):
        raise ImportEntryError(f"unknown tool execution status {raw.get('status')!r}")
    round_no = raw.get("round", 0)
    if not _whole(round_no):
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
