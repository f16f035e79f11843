"""Importing conversations: this app's JSON export (lossless), ChatGPT's and Claude's data exports.

Every source is first turned into the records `Repo.import_conversation` stores (the shape of the JSON
export, see docs/export-format.md); each conversation is then stored in its own transaction, so a bad
entry is skipped whole and reported, never stored in part. Re-importing is idempotent: conversation ids
map to stable uuids, and a conversation whose uuid is already stored is left as it is ("unchanged").

ChatGPT tool use is paired: an assistant node addressed to a tool (`recipient` other than "all") becomes
an assistant message with one tool call, and the `tool` node answering it becomes that call's tool
execution (result, or error for `system_error`). A tool node that answers no call is kept as a `tool`
message with readable text.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from desktop_chat.domain import ResponseStatus, Role, ToolStatus
from desktop_chat.services.export import FORMAT, FORMAT_VERSION
from desktop_chat.storage import Repo

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

# uuid5 namespace for ids that are not UUIDs (never change it: re-imports would duplicate).
NAMESPACE = uuid.UUID("5b0f6a52-8f1e-4d0a-9a63-2d3c1f6e7b48")
CLAUDE_ROOT = "00000000-0000-4000-8000-000000000000"  # Claude's parent of a conversation's first message
_MIN_TS, _MAX_TS = 0.0, 32_503_680_000.0  # 1970 .. 3000
BATCH_SIZE = 200  # conversations per commit (each still all-or-nothing on its own)


@dataclass
class ImportReport:
    """What an import did: the format read, conversations stored, already present, and what was skipped
    (each with the reason)."""

    format: str
    imported: int
    unchanged: int
    skipped: list[str]
    cancelled: bool = False


class _Bad(ValueError):
    """Part of an entry cannot be imported (the message says why)."""


# ---- reading and detecting -------------------------------------------------------------------------


def detect_format(data: Any) -> str:
    """ "desktop_chat", "chatgpt" or "claude" for parsed export JSON; ValueError saying why otherwise."""
    if isinstance(data, dict):
        if data.get("format") == FORMAT:
            version = data.get("version")
            if not isinstance(version, int) or isinstance(version, bool):
                raise ValueError('a desktop_chat export without a valid "version" number')
            if version > FORMAT_VERSION:
                raise ValueError(
                    f"written by a newer desktop_chat (format version {version}; this version reads "
                    f"up to {FORMAT_VERSION}): update desktop_chat to import it"
                )
            return FORMAT
        if "mapping" in data:
            return "chatgpt"
        if "chat_messages" in data:
            return "claude"
        raise ValueError(
            'not a conversation export: a JSON object without "format": "desktop_chat" '
            "(nor a single ChatGPT or Claude conversation)"
        )
    if isinstance(data, list):
        for entry in data:
            if isinstance(entry, dict):
                if "mapping" in entry or "current_node" in entry:
                    return "chatgpt"
                if "chat_messages" in entry:
                    return "claude"
        raise ValueError(
            'a JSON list, but no entry looks like a ChatGPT conversation (with a "mapping") or a Claude '
            'conversation (with "chat_messages")'
        )
    raise ValueError(
        f"not a conversation export: expected a JSON object or list, found {type(data).__name__}"
    )


def read_export(path: Path) -> tuple[Any, list[str]]:
    """The parsed JSON of an export file, or of the `conversations.json` inside a data-export .zip, and the
    names of the zip's other files (to name images)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            candidates = sorted((n for n in names if PurePosixPath(n).name == "conversations.json"), key=len)
            if not candidates:
                raise ValueError(f"{path.name} is a .zip without a conversations.json")
            raw = archive.read(candidates[0])
            others = [PurePosixPath(n).name for n in names if n != candidates[0]]
    else:
        raw, others = path.read_bytes(), []
    try:
        return json.loads(raw.decode("utf-8-sig")), others
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not UTF-8 text: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not valid JSON: {exc}") from exc


def import_file(
    repo: Repo, path: Path, *, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> ImportReport:
    """Import every conversation in an export file (this app's JSON, ChatGPT's conversations.json or its
    data-export .zip, Claude's conversations.json). Raises ValueError when the file is not one of these.

    `progress(done, total)` after each conversation; `cancelled()` is checked between conversations, and
    what was imported before stays.
    """
    data, files = read_export(path)
    fmt = detect_format(data)
    if fmt == FORMAT:
        entries = data.get("conversations")
        if not isinstance(entries, list):
            raise ValueError('a desktop_chat export without a "conversations" list')
    else:
        entries = data if isinstance(data, list) else [data]
    images = _image_names(files)
    report = ImportReport(fmt, 0, 0, [])
    total = len(entries)
    done = 0
    while done < total and not report.cancelled:
        with repo.import_batch():  # each conversation is its own savepoint inside the batch
            for entry in entries[done : done + BATCH_SIZE]:
                if cancelled is not None and cancelled():
                    report.cancelled = True
                    break
                done += 1
                _import_entry(repo, entry, fmt, done, images=images, report=report)
                if progress is not None:
                    progress(done, total)
    return report


def _import_entry(
    repo: Repo, entry: Any, fmt: str, number: int, *, images: list[str], report: ImportReport
) -> None:
    """Store one entry whole, or add why it was skipped to the report."""
    label = _label(entry, fmt, number)
    notes: list[str] = []
    try:
        if not isinstance(entry, dict):
            raise _Bad(f"not a conversation object (found {type(entry).__name__})")
        known = _conversation_uuid(entry, fmt)
        if known is not None and repo.conversation_uuid_exists(known):
            report.unchanged += 1  # already stored: not even read
            return
        if fmt == FORMAT:
            record = _from_desktop_chat(entry, notes)
        elif fmt == "chatgpt":
            record = _from_chatgpt(entry, images, notes)
        else:
            record = _from_claude(entry, notes)
        stored = repo.import_conversation(record)
    except Exception as exc:  # one bad entry must not stop the others
        reason = str(exc) if isinstance(exc, _Bad) else f"could not be imported ({type(exc).__name__}: {exc})"
        report.skipped.append(f"{label}: {reason}")
        log.warning("Import skipped %s: %s", label, reason)
        return
    if stored is None:
        report.unchanged += 1
    else:
        report.imported += 1
        report.skipped.extend(f"{label}: {note}" for note in notes)


def _conversation_uuid(entry: dict[str, Any], fmt: str) -> str | None:
    """The uuid an entry will be stored under, when it is cheap to know before reading the entry."""
    if fmt == FORMAT:
        value = entry.get("uuid")
        return value if isinstance(value, str) else None
    ident = entry.get("conversation_id") or entry.get("id") if fmt == "chatgpt" else entry.get("uuid")
    if isinstance(ident, str | int) and not isinstance(ident, bool) and str(ident).strip():
        return stable_uuid(fmt, ident)
    return None


def _label(entry: Any, fmt: str, number: int) -> str:
    if not isinstance(entry, dict):
        return f"entry {number}"
    if fmt == "chatgpt":
        title, ident = entry.get("title"), entry.get("conversation_id") or entry.get("id")
    elif fmt == "claude":
        title, ident = entry.get("name"), entry.get("uuid")
    else:
        title, ident = entry.get("title"), entry.get("uuid")
    title = title if isinstance(title, str) and title.strip() else "untitled"
    return f"conversation {' '.join(title.split())[:80]!r} (id {ident if ident else f'#{number}'})"


def _image_names(files: list[str]) -> list[str]:
    """The data export's file names that may hold images (`file-abc-photo.png`), sorted."""
    return sorted(n for n in files if n.startswith(("file-", "file_")))


# ---- shared helpers -------------------------------------------------------------------------------


def stable_uuid(source: str, ident: Any, entry: Any = None) -> str:
    """The stored uuid for a foreign id: the id itself when it is a UUID, else a uuid5 of it (of the
    entry's content when there is no id), so importing the same file twice finds the same uuid."""
    if isinstance(ident, str | int) and not isinstance(ident, bool) and str(ident).strip():
        try:
            return uuid.UUID(str(ident)).hex
        except ValueError:
            return uuid.uuid5(NAMESPACE, f"{source}:{ident}").hex
    digest = json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)
    return uuid.uuid5(NAMESPACE, f"{source}-content:{digest}").hex


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _message_uuid(conversation_uuid: str, ident: str) -> str:
    return uuid.uuid5(uuid.UUID(conversation_uuid), ident).hex


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO-8601 string; None when missing or not a plausible time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        ts = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            ts = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)
            ts = parsed.timestamp()
    else:
        return None
    if not math.isfinite(ts) or not _MIN_TS <= ts <= _MAX_TS:
        return None
    return ts


def _tree_order(messages: list[dict[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
    """Messages parents first, otherwise by (created_at, uuid); duplicate uuids dropped, unknown parents and
    loops broken (those messages become first messages), each noted."""
    by_uuid: dict[str, dict[str, Any]] = {}
    for m in messages:
        if m["uuid"] in by_uuid:
            notes.append(f"message {m['uuid']}: a second message with this id was skipped")
        else:
            by_uuid[m["uuid"]] = m
    children: dict[str | None, list[dict[str, Any]]] = {}
    for m in by_uuid.values():
        parent = m["parent_uuid"]
        if parent is not None and parent not in by_uuid:
            notes.append(f"message {m['uuid']}: its parent {parent} is missing; kept as a first message")
            m["parent_uuid"] = parent = None
        children.setdefault(parent, []).append(m)
    out: list[dict[str, Any]] = []
    ready = [(m["created_at"], m["uuid"]) for m in children.get(None, [])]
    heapq.heapify(ready)
    placed: set[str] = set()
    while len(placed) < len(by_uuid):
        if not ready:  # the rest only hang off each other: a loop of parent links
            rest = min((m["created_at"], m["uuid"]) for u, m in by_uuid.items() if u not in placed)
            notes.append(f"message {rest[1]}: its parent links form a loop; kept as a first message")
            by_uuid[rest[1]]["parent_uuid"] = None
            ready.append(rest)
        _, uid = heapq.heappop(ready)
        placed.add(uid)
        out.append(by_uuid[uid])
        for child in children.get(uid, ()):
            if child["uuid"] not in placed:
                heapq.heappush(ready, (child["created_at"], child["uuid"]))
    return out


def _newest(messages: list[dict[str, Any]]) -> str | None:
    return max(messages, key=lambda m: (m["created_at"], m["uuid"]))["uuid"] if messages else None


def _response(
    text: str,
    ts: float | None,
    *,
    provider: str,
    model: str = "",
    reasoning: str = "",
    finish: str | None = None,
) -> dict[str, Any]:
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


def _execution(
    call: dict[str, Any], result: str | None, error: str | None, start: float | None, end: float | None
) -> dict[str, Any]:
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


def _conversation_times(
    entry: dict[str, Any],
    created_key: str,
    updated_key: str,
    messages: list[dict[str, Any]],
    notes: list[str],
) -> tuple[float, float]:
    """The conversation's created and updated times; messages without a readable time get the time of
    the message they answer, else the conversation's (their responses and tool runs likewise)."""
    created, updated = parse_timestamp(entry.get(created_key)), parse_timestamp(entry.get(updated_key))
    for key, value in ((created_key, created), (updated_key, updated)):
        if value is None and entry.get(key) is not None:
            notes.append(f"{key} {entry.get(key)!r} is not a time; used the messages' times")
    known = [m["created_at"] for m in messages if m["created_at"] is not None]
    if created is None:
        created = min(known) if known else (updated if updated is not None else time.time())
    by_uuid = {m["uuid"]: m for m in messages}
    for m in messages:
        if m["created_at"] is None:
            parent, hops = by_uuid.get(m["parent_uuid"] or ""), 0
            while parent is not None and parent["created_at"] is None and hops < len(messages):
                parent, hops = by_uuid.get(parent["parent_uuid"] or ""), hops + 1
            m["created_at"] = parent["created_at"] if parent is not None else created
        at = m["created_at"]
        response = m.get("response")
        if response is not None:
            for key in ("created_at", "updated_at", "finished_at"):
                response[key] = at if response[key] is None else response[key]
            for execution in response["tool_executions"]:
                for key in ("created_at", "started_at", "finished_at"):
                    execution[key] = at if execution[key] is None else execution[key]
    if updated is None:
        updated = max([created, *known])
    return created, updated


def _record(
    conversation_uuid: str,
    title: str,
    times: tuple[float, float],
    messages: list[dict[str, Any]],
    active_leaf: str | None,
    *,
    model: str = "",
    archived: bool = False,
) -> dict[str, Any]:
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


# ---- this app's format ------------------------------------------------------------------------------


def _want(entry: dict[str, Any], key: str, kinds: type | tuple[type, ...], *, optional: bool = False) -> Any:
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kinds) or isinstance(value, bool) is not (kinds is bool):
        raise _Bad(f'"{key}" is missing or not a {getattr(kinds, "__name__", "value of the right type")}')
    return value


def _ts_field(entry: dict[str, Any], key: str, *, optional: bool = False) -> float | None:
    value = entry.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad(f'"{key}" is missing or not a number of seconds')
    return float(value)


def _from_desktop_chat(entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    conversation_uuid = _want(entry, "uuid", str)
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise _Bad('"params" is not an object')
    provider = entry.get("provider")
    if provider is not None and not (isinstance(provider, dict) and isinstance(provider.get("name"), str)):
        raise _Bad('"provider" is not an object with a "name"')
    raw_messages = entry.get("messages", [])
    if not isinstance(raw_messages, list):
        raise _Bad('"messages" is not a list')
    messages: list[dict[str, Any]] = []
    for number, raw in enumerate(raw_messages, 1):
        try:
            messages.append(_desktop_chat_message(raw))
        except _Bad as exc:
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
        "messages": _tree_order(messages, notes),
    }


def _desktop_chat_message(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Bad("not an object")
    role = raw.get("role")
    if role not in {r.value for r in Role}:
        raise _Bad(f"unknown role {role!r}")
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
        raise _Bad("its response is not an object")
    if raw.get("status") not in {s.value for s in ResponseStatus}:
        raise _Bad(f"unknown response status {raw.get('status')!r}")
    calls = raw.get("tool_calls", [])
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        raise _Bad('"tool_calls" is not a list of objects')
    tool_status = raw.get("tool_status", {})
    statuses = {s.value for s in ToolStatus}
    if not isinstance(tool_status, dict) or not all(v in statuses for v in tool_status.values()):
        raise _Bad('"tool_status" is not an object of tool statuses')
    usage = raw.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise _Bad('"usage" is not an object')
    executions = raw.get("tool_executions", [])
    if not isinstance(executions, list):
        raise _Bad('"tool_executions" is not a list')
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
        raise _Bad("a tool execution is not an object")
    if raw.get("status") not in {s.value for s in ToolStatus}:
        raise _Bad(f"unknown tool execution status {raw.get('status')!r}")
    round_no = raw.get("round", 0)
    if isinstance(round_no, bool) or not isinstance(round_no, int):
        raise _Bad('a tool execution\'s "round" is not a whole number')
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


# ---- ChatGPT ----------------------------------------------------------------------------------------

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


def _from_chatgpt(entry: dict[str, Any], images: list[str], notes: list[str]) -> dict[str, Any]:
    conversation_uuid = stable_uuid("chatgpt", entry.get("conversation_id") or entry.get("id"), entry)
    mapping = entry.get("mapping")
    if not isinstance(mapping, dict):
        raise _Bad('no message tree ("mapping" is missing or not an object)')
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
        kept, reasoning = _chatgpt_node(
            key,
            nodes[key],
            conversation_uuid=conversation_uuid,
            parent_uuid=parent_uuid,
            reasoning=reasoning,
            parent_ts=parent_ts,
            images=images,
            by_uuid=by_uuid,
            notes=notes,
        )
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
        raise _Bad("no messages")
    times = _conversation_times(entry, "create_time", "update_time", messages, notes)
    current = entry.get("current_node")
    leaf = host.get(str(current)) if isinstance(current, str) else None
    title = entry.get("title")
    model = entry.get("default_model_slug")
    return _record(
        conversation_uuid,
        title if isinstance(title, str) else "",
        times,
        _tree_order(messages, notes),
        leaf or _newest(messages),
        model=model if isinstance(model, str) else "",
        archived=entry.get("is_archived") is True,
    )


def _chatgpt_node(
    key: str,
    node: dict[str, Any],
    *,
    conversation_uuid: str,
    parent_uuid: str | None,
    reasoning: str,
    parent_ts: float | None,
    images: list[str],
    by_uuid: dict[str, dict[str, Any]],
    notes: list[str],
) -> tuple[dict[str, Any] | None, str]:
    """The message a mapping node becomes (None: skipped, or folded into its parent) and the reasoning
    still waiting for the next answer below it."""
    msg = node.get("message")
    if not isinstance(msg, dict):
        return None, reasoning
    author, metadata, content = _obj(msg.get("author")), _obj(msg.get("metadata")), _obj(msg.get("content"))
    role = author.get("role")
    kind = content.get("content_type")
    if (
        role == "system"
        or metadata.get("is_visually_hidden_from_conversation")
        or metadata.get("is_user_system_message")
        or kind in _CHATGPT_HIDDEN_TYPES
    ):
        return None, reasoning
    text = _chatgpt_text(content, images)
    if text is None:
        notes.append(f"node {key} skipped: unknown content type {kind!r}")
        return None, reasoning
    ts = parse_timestamp(msg.get("create_time"))
    ts = ts if ts is not None else parent_ts
    if kind == "thoughts":
        return None, "\n\n".join(t for t in (reasoning, text) if t)
    muuid = _message_uuid(conversation_uuid, key)
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
            response = _response("", ts, provider="ChatGPT", model=model, reasoning=reasoning)
            response["tool_calls"] = [
                {"id": f"call_{key}", "name": recipient, "arguments": arguments, "round": 0, "text_offset": 0}
            ]
            return {**base, "role": Role.ASSISTANT.value, "content": "", "response": response}, ""
        if kind == "code" and text:
            text = f"```{content.get('language') or ''}\n{text}\n```"
        if not text.strip():
            return None, reasoning
        details = _obj(metadata.get("finish_details"))
        finish = details.get("type") if isinstance(details.get("type"), str) else None
        response = _response(text, ts, provider="ChatGPT", model=model, reasoning=reasoning, finish=finish)
        return {**base, "role": Role.ASSISTANT.value, "content": "", "response": response}, ""
    if role == "tool":
        name = str(author.get("name") or "tool")
        error = text if kind == "system_error" else None
        caller = by_uuid.get(parent_uuid) if parent_uuid is not None else None
        answer = caller.get("response") if caller is not None else None
        if answer is not None and answer["tool_calls"] and not answer["tool_executions"]:
            call = answer["tool_calls"][0]
            execution = _execution(call, None if error is not None else text, error, answer["created_at"], ts)
            answer["tool_executions"].append(execution)
            answer["tool_status"][call["id"]] = execution["status"]
            return None, reasoning  # folded into the call: what follows hangs under the caller
        if not text.strip():
            return None, reasoning
        return {**base, "role": Role.TOOL.value, "content": f"Tool result ({name}):\n\n{text}"}, reasoning
    notes.append(f"node {key} skipped: unknown author role {role!r}")
    return None, reasoning


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


# ---- Claude -----------------------------------------------------------------------------------------


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
    text_field = _str(raw.get("text"))
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
                    _execution(call, None if failed else result, result if failed else None, ts, ts)
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


def _from_claude(entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    conversation_uuid = stable_uuid("claude", entry.get("uuid"), entry)
    raw_messages = entry.get("chat_messages")
    if not isinstance(raw_messages, list):
        raise _Bad('no messages ("chat_messages" is missing or not a list)')
    linear = not any(isinstance(m, dict) and "parent_message_uuid" in m for m in raw_messages)
    kept: dict[str, dict[str, Any]] = {}
    dropped: dict[str, str | None] = {}  # skipped message id -> its parent id
    messages: list[dict[str, Any]] = []
    previous: str | None = None
    model = _str(entry.get("model"))
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
            response = _response(text, ts, provider="Claude", model=model, reasoning=reasoning)
            response["tool_calls"] = calls
            response["tool_executions"] = executions
            response["tool_status"] = {e["call_id"]: e["status"] for e in executions}
            message.update(role=Role.ASSISTANT.value, content="", response=response)
        kept[ident] = message
        messages.append(message)
    if not messages:
        raise _Bad("no messages")
    for message in messages:  # hang messages under the nearest kept ancestor, then give them stable uuids
        parent, hops = message["parent_uuid"], 0
        while parent is not None and parent in dropped and hops < len(dropped):
            parent, hops = dropped[parent], hops + 1
        message["parent_uuid"] = parent
    ids = {ident: _message_uuid(conversation_uuid, ident) for ident in kept}
    for message in messages:
        message["uuid"] = ids[message["uuid"]]
        parent = message["parent_uuid"]
        message["parent_uuid"] = (
            None if parent is None else ids.get(parent, _message_uuid(conversation_uuid, parent))
        )
    times = _conversation_times(entry, "created_at", "updated_at", messages, notes)
    leaf = entry.get("current_leaf_message_uuid")
    ordered = _tree_order(messages, notes)
    name = entry.get("name")
    return _record(
        conversation_uuid,
        name if isinstance(name, str) else "",
        times,
        ordered,
        (ids.get(leaf) if isinstance(leaf, str) else None) or _newest(messages),
        model=model,
    )
