"""What the importers share: stable ids, times, tree order, and the error that skips one entry."""

from __future__ import annotations

import heapq
import json
import math
import time
import uuid
from datetime import datetime
from typing import Any

# uuid5 namespace for ids that are not UUIDs (never change it: re-imports would duplicate).
NAMESPACE = uuid.UUID("5b0f6a52-8f1e-4d0a-9a63-2d3c1f6e7b48")
MIN_TS, MAX_TS = 0.0, 32_503_680_000.0  # the times an import accepts: 1970 .. 3000


class ImportEntryError(ValueError):
    """Part of an entry cannot be imported (the message says why)."""


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


def obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    """`value` when it is a string, else ""."""
    return value if isinstance(value, str) else ""


def message_uuid(conversation_uuid: str, ident: str) -> str:
    """The stable uuid of a foreign message id within its conversation."""
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
    if not math.isfinite(ts) or not MIN_TS <= ts <= MAX_TS:
        return None
    return ts


def tree_order(messages: list[dict[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
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


def newest(messages: list[dict[str, Any]]) -> str | None:
    """The uuid of the newest message record (None when there are none)."""
    return max(messages, key=lambda m: (m["created_at"], m["uuid"]))["uuid"] if messages else None


def conversation_times(
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
