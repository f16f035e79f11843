"""Reading ChatGPT's data export (`conversations.json`): its `mapping` tree becomes branches.

Tool use is paired: an assistant node addressed to a tool (`recipient` other than "all") becomes an
assistant message with one tool call, and the `tool` node answering it becomes that call's tool
execution (result, or error for `system_error`). A tool node that answers no call is kept as a `tool`
message with readable text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from desktop_chat.domain import Role
from desktop_chat.interchange.format import new_conversation, new_execution, new_response
from desktop_chat.interchange.importers.shared import (
    ImportEntryError,
    conversation_times,
    message_uuid,
    newest,
    obj,
    parse_timestamp,
    stable_uuid,
    tree_order,
)

_CHATGPT_HIDDEN_TYPES = {"user_editable_context", "model_editable_context", "reasoning_recap"}


def _chatgpt_part(part: Any, images: list[str]) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return ""
    kind = str(part.get("content_type") or "")
    if kind == "audio_transcription":
        return str(part.get("text") or "")
    pointer = str(part.get("asset_pointer") or "")
    if pointer:
        file_id = pointer.rsplit("/", 1)[-1]
        name = next((n for n in images if n.startswith(file_id)), file_id)
        what = "image" if "image" in kind else "audio" if "audio" in kind else "file"
        return f"[{what}: {name}]"
    return f"[attachment: {kind or 'unknown'}]"


def _chatgpt_text(content: dict[str, Any], images: list[str]) -> str | None:
    """A node's text, or None for a content type this importer does not know."""
    kind = content.get("content_type")
    parts, text = content.get("parts"), content.get("text")
    if kind in ("text", "multimodal_text"):
        items = parts if isinstance(parts, list) else []
        return "\n".join(t for t in (_chatgpt_part(p, images) for p in items) if t)
    if kind == "tether_quote":
        quote = "\n".join(f"> {line}" for line in str(text or "").splitlines())
        source = " ".join(str(content.get(k) or "") for k in ("title", "url")).strip()
        return f"{quote}\n\n— {source}" if source else quote
    if kind == "tether_browsing_display":
        return str(content.get("result") or content.get("summary") or "")
    if kind == "thoughts":
        thoughts = content.get("thoughts")
        items = thoughts if isinstance(thoughts, list) else []
        return "\n\n".join(
            "\n\n".join(s for s in (str(t.get("summary") or ""), str(t.get("content") or "")) if s)
            for t in items
            if isinstance(t, dict)
        )
    if isinstance(text, str):  # code, execution_output, system_error and others with a text
        return text
    if isinstance(parts, list):
        return "\n".join(t for t in (_chatgpt_part(p, images) for p in parts) if t)
    return None


def _chatgpt_attachments(metadata: dict[str, Any]) -> str:
    items = metadata.get("attachments")
    names = [
        str(a.get("name") or a.get("id") or "file")
        for a in (items if isinstance(items, list) else [])
        if isinstance(a, dict)
    ]
    return "\n".join(f"[attachment: {n}]" for n in names)


def from_chatgpt(entry: dict[str, Any], images: list[str], notes: list[str]) -> dict[str, Any]:
    """The record of one ChatGPT conversation (`images`: the data export's file names)."""
    conversation_uuid = stable_uuid("chatgpt", entry.get("conversation_id") or entry.get("id"), entry)
    mapping = entry.get("mapping")
    if not isinstance(mapping, dict):
        raise ImportEntryError('no message tree ("mapping" is missing or not an object)')
    nodes = {str(k): v for k, v in mapping.items() if isinstance(v, dict)}
    for key in mapping:
        if str(key) not in nodes:
            notes.append(f"node {key} skipped: not an object")
    children: dict[str | None, list[str]] = {}
    for key, node in nodes.items():
        parent = node.get("parent")
        parent = str(parent) if isinstance(parent, str | int) and not isinstance(parent, bool) else None
        if parent is not None and parent not in nodes:
            notes.append(f"node {key}: its parent {parent} is missing; kept as a first message")
            parent = None
        children.setdefault(parent, []).append(key)

    def order(key: str) -> tuple[float, str]:
        message = nodes[key].get("message")
        ts = parse_timestamp(message.get("create_time")) if isinstance(message, dict) else None
        return (ts or 0.0, key)

    messages: list[dict[str, Any]] = []
    by_uuid: dict[str, dict[str, Any]] = {}
    walk = _Walk(conversation_uuid, nodes, images, by_uuid, notes)
    host: dict[str, str | None] = {}  # node id -> the message it became or hangs under
    stack: list[tuple[str, str | None, str, float | None]] = [
        (k, None, "", None) for k in sorted(children.get(None, []), key=order, reverse=True)
    ]
    seen: set[str] = set()
    while stack:
        key, parent_uuid, reasoning, parent_ts = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        kept, reasoning = _chatgpt_node(walk, key, parent_uuid, reasoning, parent_ts)
        if kept is not None and kept["uuid"] not in by_uuid:
            messages.append(kept)
            by_uuid[kept["uuid"]] = kept
        here = kept["uuid"] if kept is not None else parent_uuid
        host[key] = here
        here_ts = kept["created_at"] if kept is not None else parent_ts
        stack.extend(
            (c, here, reasoning, here_ts) for c in sorted(children.get(key, []), key=order, reverse=True)
        )
    if len(seen) < len(nodes):
        notes.append(f"{len(nodes) - len(seen)} node(s) skipped: their parent links form a loop")
    if not messages:
        raise ImportEntryError("no messages")
    times = conversation_times(entry, "create_time", "update_time", messages, notes)
    current = entry.get("current_node")
    leaf = host.get(str(current)) if isinstance(current, str) else None
    title = entry.get("title")
    model = entry.get("default_model_slug")
    return new_conversation(
        conversation_uuid,
        title if isinstance(title, str) else "",
        times,
        tree_order(messages, notes),
        leaf or newest(messages),
        model=model if isinstance(model, str) else "",
        archived=entry.get("is_archived") is True,
    )


@dataclass(frozen=True, slots=True)
class _Walk:
    """What every node of one conversation's walk is read with."""

    conversation_uuid: str
    nodes: dict[str, dict[str, Any]]  # the mapping's nodes, by id
    images: list[str]
    by_uuid: dict[str, dict[str, Any]]  # the messages kept so far
    notes: list[str]


def _chatgpt_node(
    walk: _Walk, key: str, parent_uuid: str | None, reasoning: str, parent_ts: float | None
) -> tuple[dict[str, Any] | None, str]:
    """The message a mapping node becomes (None: skipped, or folded into its parent) and the reasoning
    still waiting for the next answer below it."""
    msg = walk.nodes[key].get("message")
    if not isinstance(msg, dict):
        return None, reasoning
    author, metadata, content = obj(msg.get("author")), obj(msg.get("metadata")), obj(msg.get("content"))
    role = author.get("role")
    kind = content.get("content_type")
    if (
        role == "system"
        or metadata.get("is_visually_hidden_from_conversation")
        or metadata.get("is_user_system_message")
        or kind in _CHATGPT_HIDDEN_TYPES
    ):
        return None, reasoning
    text = _chatgpt_text(content, walk.images)
    if text is None:
        walk.notes.append(f"node {key} skipped: unknown content type {kind!r}")
        return None, reasoning
    ts = parse_timestamp(msg.get("create_time"))
    ts = ts if ts is not None else parent_ts
    if kind == "thoughts":
        return None, "\n\n".join(t for t in (reasoning, text) if t)
    muuid = message_uuid(walk.conversation_uuid, key)
    base = {"uuid": muuid, "parent_uuid": parent_uuid, "created_at": ts, "response": None}
    if role == "user":
        text = "\n\n".join(t for t in (text.strip(), _chatgpt_attachments(metadata)) if t)
        return ({**base, "role": Role.USER.value, "content": text} if text else None), reasoning
    model = str(metadata.get("model_slug") or "")
    if role == "assistant":
        recipient = msg.get("recipient")
        if isinstance(recipient, str) and recipient not in ("", "all"):
            arguments = (
                text if _is_json_object(text) else json.dumps({"code" if kind == "code" else "input": text})
            )
            response = new_response("", ts, provider="ChatGPT", model=model, reasoning=reasoning)
            response["tool_calls"] = [
                {"id": f"call_{key}", "name": recipient, "arguments": arguments, "round": 0, "text_offset": 0}
            ]
            return {**base, "role": Role.ASSISTANT.value, "content": "", "response": response}, ""
        if kind == "code" and text:
            text = f"```{content.get('language') or ''}\n{text}\n```"
        if not text.strip():
            return None, reasoning
        details = obj(metadata.get("finish_details"))
        finish = details.get("type") if isinstance(details.get("type"), str) else None
        response = new_response(text, ts, provider="ChatGPT", model=model, reasoning=reasoning, finish=finish)
        return {**base, "role": Role.ASSISTANT.value, "content": "", "response": response}, ""
    if role == "tool":
        name = str(author.get("name") or "tool")
        error = text if kind == "system_error" else None
        caller = walk.by_uuid.get(parent_uuid) if parent_uuid is not None else None
        answer = caller.get("response") if caller is not None else None
        if answer is not None and answer["tool_calls"] and not answer["tool_executions"]:
            call = answer["tool_calls"][0]
            execution = new_execution(
                call, None if error is not None else text, error, answer["created_at"], ts
            )
            answer["tool_executions"].append(execution)
            answer["tool_status"][call["id"]] = execution["status"]
            return None, reasoning  # folded into the call: what follows hangs under the caller
        if not text.strip():
            return None, reasoning
        return {**base, "role": Role.TOOL.value, "content": f"Tool result ({name}):\n\n{text}"}, reasoning
    walk.notes.append(f"node {key} skipped: unknown author role {role!r}")
    return None, reasoning


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
