"""Reading Claude's data export (`conversations.json`): branches by `parent_message_uuid`, thinking as
reasoning, `tool_use`/`tool_result` blocks as tool calls with their executions."""

from __future__ import annotations

import json
from typing import Any

from desktop_chat.domain import Role
from desktop_chat.interchange.format import new_conversation, new_execution, new_response
from desktop_chat.interchange.importers.shared import (
    ImportEntryError,
    conversation_times,
    message_uuid,
    newest,
    parse_timestamp,
    stable_uuid,
    text_of,
    tree_order,
)

CLAUDE_ROOT = "00000000-0000-4000-8000-000000000000"  # Claude's parent of a conversation's first message


def _claude_result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(c.get("text") or "") if isinstance(c, dict) else str(c) for c in content).strip()
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def _claude_body(
    raw: dict[str, Any], ts: float | None
) -> tuple[str, str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Text, reasoning, tool calls and tool executions of one Claude message."""
    blocks = raw.get("content")
    text_field = text_of(raw.get("text"))
    if not isinstance(blocks, list) or not blocks:
        return text_field, "", [], []
    text, reasoning = "", []
    calls: list[dict[str, Any]] = []
    executions: list[dict[str, Any]] = []
    round_no, previous = -1, ""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            text += ("\n\n" if text and block["text"] else "") + block["text"]
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            reasoning.append(block["thinking"])
        elif kind == "tool_use":
            if previous != "tool_use":
                round_no += 1
            arguments = block.get("input", {})
            calls.append(
                {
                    "id": str(block.get("id") or f"toolu_{len(calls) + 1}"),
                    "name": str(block.get("name") or "tool"),
                    "arguments": json.dumps(arguments, ensure_ascii=False),
                    "round": round_no,
                    "text_offset": len(text),
                }
            )
        elif kind == "tool_result":
            done = {e["call_id"] for e in executions}
            wanted = block.get("tool_use_id")
            call = next((c for c in calls if c["id"] == wanted and c["id"] not in done), None) or next(
                (c for c in calls if c["id"] not in done), None
            )
            if call is not None:
                result = _claude_result_text(block.get("content"))
                failed = block.get("is_error") is True
                executions.append(
                    new_execution(call, None if failed else result, result if failed else None, ts, ts)
                )
        if kind in ("text", "tool_use", "tool_result"):
            previous = str(kind)
    if not text and not calls:
        text = text_field
    return text, "\n\n".join(reasoning), calls, executions


def _claude_files(raw: dict[str, Any]) -> str:
    refs: list[str] = []
    for key, what in (("attachments", "attachment"), ("files", "file"), ("files_v2", "file")):
        items = raw.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                name = item.get("file_name") or item.get("name") or item.get("file_uuid") or "file"
                ref = f"[{what}: {name}]"
                if ref not in refs and f"[attachment: {name}]" not in refs:
                    refs.append(ref)
    return "\n".join(refs)


def from_claude(entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """The record of one Claude conversation."""
    conversation_uuid = stable_uuid("claude", entry.get("uuid"), entry)
    raw_messages = entry.get("chat_messages")
    if not isinstance(raw_messages, list):
        raise ImportEntryError('no messages ("chat_messages" is missing or not a list)')
    linear = not any(isinstance(m, dict) and "parent_message_uuid" in m for m in raw_messages)
    kept: dict[str, dict[str, Any]] = {}
    dropped: dict[str, str | None] = {}  # skipped message id -> its parent id
    messages: list[dict[str, Any]] = []
    previous: str | None = None
    model = text_of(entry.get("model"))
    for number, raw in enumerate(raw_messages, 1):
        if not isinstance(raw, dict):
            notes.append(f"message {number} skipped: not an object")
            continue
        ident = str(raw.get("uuid") or f"#{number}")
        parent = previous if linear else raw.get("parent_message_uuid")
        parent = str(parent) if isinstance(parent, str) and parent != CLAUDE_ROOT else None
        previous = ident
        sender = raw.get("sender")
        ts = parse_timestamp(raw.get("created_at"))
        text, reasoning, calls, executions = _claude_body(raw, ts)
        files = _claude_files(raw)
        text = "\n\n".join(t for t in (text.strip(), files) if t)
        if sender not in ("human", "assistant") or not (text or calls or reasoning):
            why = f"unknown sender {sender!r}" if sender not in ("human", "assistant") else "empty"
            notes.append(f"message {ident} skipped: {why}")
            dropped[ident] = parent
            continue
        message: dict[str, Any] = {"uuid": ident, "parent_uuid": parent, "created_at": ts, "response": None}
        if sender == "human":
            message.update(role=Role.USER.value, content=text)
        else:
            response = new_response(text, ts, provider="Claude", model=model, reasoning=reasoning)
            response["tool_calls"] = calls
            response["tool_executions"] = executions
            response["tool_status"] = {e["call_id"]: e["status"] for e in executions}
            message.update(role=Role.ASSISTANT.value, content="", response=response)
        kept[ident] = message
        messages.append(message)
    if not messages:
        raise ImportEntryError("no messages")
    for message in messages:  # hang messages under the nearest kept ancestor, then give them stable uuids
        parent, hops = message["parent_uuid"], 0
        while parent is not None and parent in dropped and hops < len(dropped):
            parent, hops = dropped[parent], hops + 1
        message["parent_uuid"] = parent
    ids = {ident: message_uuid(conversation_uuid, ident) for ident in kept}
    for message in messages:
        message["uuid"] = ids[message["uuid"]]
        parent = message["parent_uuid"]
        message["parent_uuid"] = (
            None if parent is None else ids.get(parent, message_uuid(conversation_uuid, parent))
        )
    times = conversation_times(entry, "created_at", "updated_at", messages, notes)
    leaf = entry.get("current_leaf_message_uuid")
    ordered = tree_order(messages, notes)
    name = entry.get("name")
    return new_conversation(
        conversation_uuid,
        name if isinstance(name, str) else "",
        times,
        ordered,
        (ids.get(leaf) if isinstance(leaf, str) else None) or newest(messages),
        model=model,
    )
