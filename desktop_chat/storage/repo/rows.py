"""Stored rows (dicts of column values) as domain objects; each raises when its row is unreadable."""

from __future__ import annotations

import json
from typing import Any

from desktop_chat.domain import (
    Conversation,
    ProviderProfile,
    Response,
    ResponseStatus,
    ToolCall,
    ToolExecution,
    ToolStatus,
    Usage,
    from_timestamp,
)
from desktop_chat.storage.repo.base import json_obj


def _opt_ts(value: float | None) -> Any:
    return from_timestamp(value) if value is not None else None


def profile(row: dict[str, Any]) -> ProviderProfile:
    """A provider_profile row."""
    headers = json_obj(row["headers"], "headers")
    return ProviderProfile(
        id=int(row["id"]),
        key_ref=str(row["key_ref"]),
        name=str(row["name"]),
        base_url=str(row["base_url"]),
        default_model=str(row["default_model"] or ""),
        headers={str(k): str(v) for k, v in headers.items()},
        needs_key=bool(row["needs_key"]),
    )


def conversation(row: dict[str, Any]) -> Conversation:
    """A conversation row."""
    return Conversation(
        id=int(row["id"]),
        uuid=str(row["uuid"]),
        title=str(row["title"] or ""),
        created_at=from_timestamp(float(row["created_at"])),
        updated_at=from_timestamp(float(row["updated_at"])),
        pinned=bool(row["pinned"]),
        archived=bool(row["archived"]),
        profile_id=row["profile"] if row["profile"] is None else int(row["profile"]),
        model=str(row["model"] or ""),
        system_prompt=row["system_prompt"],
        params=json_obj(row["params"], "params"),
        active_leaf_id=None if row["active_leaf_id"] is None else int(row["active_leaf_id"]),
    )


def response(row: dict[str, Any], text: str, reasoning: str) -> Response:
    """A response row, with its text and reasoning (chunks not yet compacted included)."""
    calls_raw = json.loads(row["tool_calls"] or "[]")
    if not isinstance(calls_raw, list):
        raise ValueError("tool_calls is not a JSON list")
    calls = tuple(
        ToolCall(
            str(c.get("id", "")),
            str(c.get("name", "")),
            str(c.get("arguments", "")),
            int(c.get("round") or 0),
            int(c.get("text_offset") or 0),
        )
        for c in calls_raw
    )
    status_raw = json_obj(row["tool_status"], "tool_status")
    usage_raw = row["usage"]
    return Response(
        id=int(row["id"]),
        message_id=int(row["message"]),
        status=ResponseStatus(row["status"]),
        text=text,
        reasoning=reasoning,
        tool_calls=calls,
        tool_status={str(k): ToolStatus(v) for k, v in status_raw.items()},
        finish_reason=row["finish_reason"],
        usage=Usage.from_dict(json_obj(usage_raw, "usage")) if usage_raw else None,
        model=str(row["model"] or ""),
        provider=str(row["provider"] or ""),
        error=row["error"],
        created_at=_opt_ts(row["created_at"]),
        updated_at=_opt_ts(row["updated_at"]),
        finished_at=_opt_ts(row["finished_at"]),
    )


def tool_execution(row: dict[str, Any]) -> ToolExecution:
    """A tool_execution row."""
    return ToolExecution(
        id=int(row["id"]),
        response_id=int(row["response"]),
        call_id=str(row["call_id"]),
        name=str(row["name"]),
        arguments=str(row["arguments"] or ""),
        status=ToolStatus(row["status"]),
        result=row["result"],
        error=row["error"],
        round=int(row["round"] or 0),
        created_at=_opt_ts(row["created_at"]),
        started_at=_opt_ts(row["started_at"]),
        finished_at=_opt_ts(row["finished_at"]),
    )
