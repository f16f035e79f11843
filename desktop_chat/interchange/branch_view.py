"""What Markdown and HTML exports both show of a record: its active branch, each answer's parts in the
order they happened, and the labels around them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def active_branch(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages of the record's active branch, root first (the newest message's when no leaf is set)."""
    messages: list[dict[str, Any]] = record["messages"]
    if not messages:
        return []
    by_uuid = {m["uuid"]: m for m in messages}
    node = by_uuid.get(record.get("active_leaf_uuid"))
    if node is None:
        node = max(messages, key=lambda m: (m["created_at"], m["uuid"]))
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node is not None and node["uuid"] not in seen:
        seen.add(node["uuid"])
        path.append(node)
        node = by_uuid.get(node["parent_uuid"]) if node["parent_uuid"] is not None else None
    path.reverse()
    return path


def answer_parts(response: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """An answer as ("text", text, None) and ("tool", call, execution or None) parts, in the order they
    happened (each round of tool calls sits at its `text_offset`)."""
    executions = {e["call_id"]: e for e in response.get("tool_executions") or ()}  # the last run wins
    rounds: dict[int, list[dict[str, Any]]] = {}
    for call in response.get("tool_calls") or ():
        if isinstance(call, dict):
            rounds.setdefault(_int(call.get("round")), []).append(call)
    text: str = response.get("text") or ""
    parts: list[tuple[str, Any, Any]] = []
    pos = 0
    for round_no in sorted(rounds):
        calls = rounds[round_no]
        offset = min(max(pos, _int(calls[0].get("text_offset"))), len(text))
        if text[pos:offset].strip():
            parts.append(("text", text[pos:offset], None))
        parts.extend(("tool", c, executions.get(str(c.get("id", "")))) for c in calls)
        pos = offset
    if text[pos:].strip():
        parts.append(("text", text[pos:], None))
    return parts


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def when(ts: float) -> str:
    """An epoch time as people read it, in UTC (minutes)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def display_title(record: dict[str, Any]) -> str:
    """The title on one line ("Untitled conversation" when it has none)."""
    return " ".join(str(record.get("title") or "").split()) or "Untitled conversation"


def meta_line(record: dict[str, Any]) -> str:
    """When it started, with which model and provider."""
    bits = [when(record["created_at"])]
    if record.get("model"):
        bits.append(f"model {record['model']}")
    provider = record.get("provider")
    if provider:
        bits.append(f"via {provider['name']}")
    return " · ".join(bits)


def pretty_arguments(arguments: str) -> tuple[str, str]:
    """Tool arguments indented when they are JSON, with the fence language to show them in."""
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, indent=2), "json"
    except ValueError:
        return arguments, ""


def tool_sections(call: dict[str, Any], execution: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """What a tool call shows, as (label, text, fence language): its arguments, then its run's result and
    error when there are any."""
    arguments, lang = pretty_arguments(str(call.get("arguments") or ""))
    sections = [("Arguments", arguments, lang)]
    if execution is not None:
        if execution.get("result") is not None:
            sections.append(("Result", str(execution["result"]), ""))
        if execution.get("error"):
            sections.append(("Error", str(execution["error"]), ""))
    return sections


def tool_label(call: dict[str, Any], execution: dict[str, Any] | None) -> str:
    """The summary line of a tool call, with how its run ended."""
    status = f" ({execution['status']})" if execution is not None else ""
    return f"Tool call: {call.get('name') or 'tool'}{status}"


def status_note(response: dict[str, Any]) -> str:
    """A note under an answer that stopped without an error ("" for the others)."""
    status = response.get("status")
    if status == "cancelled":
        return "Stopped before it finished."
    if status == "interrupted" and not response.get("error"):
        return "Interrupted before it finished."
    return ""
