"""The only module that queries the database. Takes and returns domain objects.

Reads never fail as a whole because of one bad row: each row is converted on its own, and rows that
cannot be read are returned in `Page.skipped` (and logged) while the rest are listed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import peewee

from desktop_chat.domain import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    Conversation,
    ConversationSummary,
    Message,
    Page,
    ProviderProfile,
    Response,
    ResponsePatch,
    ResponseStatus,
    Role,
    SearchHit,
    SkippedRow,
    ToolCall,
    ToolExecution,
    ToolStatus,
    Usage,
    from_timestamp,
)
from desktop_chat.storage.models import Models, make_models
from desktop_chat.storage.search import SearchOrder, compile_query

log = logging.getLogger(__name__)
T = TypeVar("T")

INTERRUPTED_ERROR = "desktop_chat stopped before this answer finished; the text received so far is kept."
_UNFINISHED = (ResponseStatus.PENDING.value, ResponseStatus.STREAMING.value)
_SNIPPET_TOKENS = 16
# The conversation list's columns (pinned/archived compared in SQL: 0/1 whatever was stored; the title
# as bytes, decoded in the list comprehension: cheaper than the connection's per-value text factory),
# and what a row needs for `Repo._conversation` to read it (most params are '{}': no JSON parse then).
_SUMMARY_COLUMNS = "id, CAST(coalesce(title, '') AS BLOB), updated_at, created_at, pinned <> 0, archived <> 0"
_SUMMARY_READABLE = (
    "typeof(updated_at) IN ('real', 'integer') AND typeof(created_at) IN ('real', 'integer') "
    "AND (params = '{}' OR CASE WHEN json_valid(params) THEN json_type(params) = 'object' ELSE 0 END)"
)


class NotFoundError(LookupError):
    """A row the caller named does not exist (any more)."""


def _now() -> float:
    return time.time()


def _new_uuid() -> str:
    return uuid.uuid4().hex


def _opt_ts(value: float | None) -> Any:
    return from_timestamp(value) if value is not None else None


def _json_obj(raw: str | None, what: str) -> dict[str, Any]:
    value = json.loads(raw) if raw else {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _tool_calls_json(calls: Iterable[ToolCall]) -> str:
    return json.dumps(
        [
            {
                "id": c.id,
                "name": c.name,
                "arguments": c.arguments,
                "round": c.round,
                "text_offset": c.text_offset,
            }
            for c in calls
        ]
    )


def _tool_status_json(status: dict[str, ToolStatus]) -> str:
    return json.dumps({k: v.value for k, v in status.items()})


class Repo:
    """Queries over one open database. All writes go through here, on one thread."""

    def __init__(self, db: peewee.SqliteDatabase, models: Models | None = None) -> None:
        self.db = db
        self.m = models or make_models(db)

    # ---- conversion -------------------------------------------------------------------------

    def _convert(
        self, rows: Iterable[dict[str, Any]], table: str, fn: Callable[[dict[str, Any]], T]
    ) -> Page[T]:
        items: list[T] = []
        skipped: list[SkippedRow] = []
        for row in rows:
            try:
                items.append(fn(row))
            except Exception as exc:  # a corrupt row must never blank the list
                reason = f"{type(exc).__name__}: {exc}"
                skipped.append(SkippedRow(table, int(row.get("id") or 0), reason))
                log.warning("Skipped unreadable %s row %s: %s", table, row.get("id"), reason)
        return Page(items, skipped)

    @staticmethod
    def _profile(row: dict[str, Any]) -> ProviderProfile:
        headers = _json_obj(row["headers"], "headers")
        return ProviderProfile(
            id=int(row["id"]),
            key_ref=str(row["key_ref"]),
            name=str(row["name"]),
            base_url=str(row["base_url"]),
            default_model=str(row["default_model"] or ""),
            headers={str(k): str(v) for k, v in headers.items()},
            needs_key=bool(row["needs_key"]),
        )

    @staticmethod
    def _conversation(row: dict[str, Any]) -> Conversation:
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
            params=_json_obj(row["params"], "params"),
            active_leaf_id=None if row["active_leaf_id"] is None else int(row["active_leaf_id"]),
        )

    @staticmethod
    def _response(row: dict[str, Any], text: str, reasoning: str) -> Response:
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
        status_raw = _json_obj(row["tool_status"], "tool_status")
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
            usage=Usage.from_dict(_json_obj(usage_raw, "usage")) if usage_raw else None,
            model=str(row["model"] or ""),
            provider=str(row["provider"] or ""),
            error=row["error"],
            created_at=_opt_ts(row["created_at"]),
            updated_at=_opt_ts(row["updated_at"]),
            finished_at=_opt_ts(row["finished_at"]),
        )

    @staticmethod
    def _tool_execution(row: dict[str, Any]) -> ToolExecution:
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

    # ---- provider profiles ------------------------------------------------------------------

    def add_profile(
        self,
        name: str,
        base_url: str,
        default_model: str = "",
        headers: dict[str, str] | None = None,
        *,
        needs_key: bool = True,
    ) -> ProviderProfile:
        """Create a provider profile (its key, if any, goes to the keychain under `key_ref`)."""
        now = _now()
        pid = self.m.ProviderProfile.insert(
            key_ref=_new_uuid(),
            name=name,
            base_url=base_url,
            default_model=default_model,
            headers=json.dumps(headers or {}),
            needs_key=needs_key,
            created_at=now,
            updated_at=now,
        ).execute()
        return self.get_profile(int(pid))

    def get_profile(self, profile_id: int) -> ProviderProfile:
        """One profile by id."""
        row = self.m.ProviderProfile.select().where(self.m.ProviderProfile.id == profile_id).dicts().first()
        if row is None:
            raise NotFoundError(f"provider profile {profile_id}")
        return self._profile(row)

    def list_profiles(self) -> Page[ProviderProfile]:
        """Every profile, by name."""
        rows = self.m.ProviderProfile.select().order_by(self.m.ProviderProfile.name).dicts()
        return self._convert(rows, "provider_profile", self._profile)

    def update_profile(self, profile_id: int, **fields: Any) -> ProviderProfile:
        """Change name, base_url, default_model, headers or needs_key."""
        allowed = {"name", "base_url", "default_model", "headers", "needs_key"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        if "headers" in fields:
            fields["headers"] = json.dumps(fields["headers"] or {})
        fields["updated_at"] = _now()
        self.m.ProviderProfile.update(**fields).where(self.m.ProviderProfile.id == profile_id).execute()
        return self.get_profile(profile_id)

    def delete_profile(self, profile_id: int) -> str:
        """Delete a profile; returns its key_ref so the caller can drop the key from the keychain."""
        profile = self.get_profile(profile_id)
        self.m.ProviderProfile.delete().where(self.m.ProviderProfile.id == profile_id).execute()
        return profile.key_ref

    # ---- conversations ----------------------------------------------------------------------

    def create_conversation(
        self,
        title: str = "",
        *,
        profile_id: int | None = None,
        model: str = "",
        system_prompt: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Conversation:
        """A new, empty conversation."""
        now = _now()
        cid = self.m.Conversation.insert(
            uuid=_new_uuid(),
            title=title,
            created_at=now,
            updated_at=now,
            profile=profile_id,
            model=model,
            system_prompt=system_prompt,
            params=json.dumps(params or {}),
        ).execute()
        return self.get_conversation(int(cid))

    def get_conversation(self, conversation_id: int) -> Conversation:
        """One conversation by id (raises NotFoundError, or ValueError when the row is unreadable)."""
        row = self.m.Conversation.select().where(self.m.Conversation.id == conversation_id).dicts().first()
        if row is None:
            raise NotFoundError(f"conversation {conversation_id}")
        return self._conversation(row)

    def list_conversations(
        self, *, offset: int = 0, limit: int = 200, include_archived: bool = False
    ) -> Page[Conversation]:
        """Conversations, pinned first, then most recently updated first."""
        C = self.m.Conversation
        query = C.select()
        if not include_archived:
            query = query.where(C.archived == False)  # noqa: E712 (peewee expression)
        query = query.order_by(C.pinned.desc(), C.updated_at.desc(), C.id.desc()).offset(offset).limit(limit)
        return self._convert(query.dicts(), "conversation", self._conversation)

    def count_conversations(self, *, include_archived: bool = False) -> int:
        """How many conversations `list_conversations` can page through."""
        C = self.m.Conversation
        query = C.select()
        if not include_archived:
            query = query.where(C.archived == False)  # noqa: E712
        return int(query.count())

    def conversation_summaries(self) -> Page[ConversationSummary]:
        """Every conversation (archived ones too) as a light summary for the list, in no set order.

        Two plain scans and no per-row work in Python beyond building the tuple: 10,000 rows take
        about 13 ms here (most of it the sqlite3 module materialising 60,000 values). Rows the full
        reader would refuse (timestamps that are not numbers, `params` that is not a JSON object) are
        skipped and reported, as `list_conversations` does, so a row the list shows can be opened.
        """
        bad = {
            int(r[0]): str(r[1])
            for r in self.db.execute_sql(
                "SELECT id, CASE WHEN typeof(updated_at) NOT IN ('real', 'integer') THEN 'updated_at' "
                "WHEN typeof(created_at) NOT IN ('real', 'integer') THEN 'created_at' "
                "ELSE 'params' END FROM conversation "
                f"WHERE NOT ({_SUMMARY_READABLE})"
            ).fetchall()
        }
        rows = self.db.execute_sql(f"SELECT {_SUMMARY_COLUMNS} FROM conversation").fetchall()
        if bad:
            rows = [r for r in rows if r[0] not in bad]
            for cid, column in bad.items():
                log.warning("Skipped unreadable conversation row %s: bad %s", cid, column)
        items = [
            ConversationSummary(i, t.decode("utf-8", "replace"), u, c, p == 1, a == 1)
            for i, t, u, c, p, a in rows
        ]
        skipped = [SkippedRow("conversation", cid, f"bad {column}") for cid, column in bad.items()]
        return Page(items, skipped)

    def conversation_summary(self, conversation_id: int) -> ConversationSummary | None:
        """One conversation's summary (None if it does not exist or cannot be read)."""
        row = self.db.execute_sql(
            f"SELECT {_SUMMARY_COLUMNS} FROM conversation WHERE id = ? AND {_SUMMARY_READABLE}",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return None
        i, t, u, c, p, a = row
        return ConversationSummary(i, t.decode("utf-8", "replace"), u, c, p == 1, a == 1)

    def update_conversation(self, conversation_id: int, *, touch: bool = True, **fields: Any) -> Conversation:
        """Change title, pinned, archived, profile_id, model, system_prompt, params or active_leaf_id.

        `touch` also sets `updated_at` (the list's "newest first"); renaming, pinning and archiving
        pass False, so they do not move a conversation to the top.
        """
        allowed = {
            "title",
            "pinned",
            "archived",
            "profile_id",
            "model",
            "system_prompt",
            "params",
            "active_leaf_id",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown conversation fields: {sorted(unknown)}")
        if "params" in fields:
            fields["params"] = json.dumps(fields["params"] or {})
        if "profile_id" in fields:
            fields["profile"] = fields.pop("profile_id")
        if touch:
            fields["updated_at"] = _now()
        if not fields:
            return self.get_conversation(conversation_id)
        updated = (
            self.m.Conversation.update(**fields).where(self.m.Conversation.id == conversation_id).execute()
        )
        if not updated:
            raise NotFoundError(f"conversation {conversation_id}")
        return self.get_conversation(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation with its messages, responses, tool executions and index entries."""
        self.m.Conversation.delete().where(self.m.Conversation.id == conversation_id).execute()

    # ---- messages ---------------------------------------------------------------------------

    def _insert_message(
        self, conversation_id: int, role: Role, content: str, parent_id: int | None, now: float
    ) -> int:
        mid = self.m.Message.insert(
            uuid=_new_uuid(),
            conversation=conversation_id,
            parent=parent_id,
            role=role.value,
            content=content,
            created_at=now,
        ).execute()
        self.m.Conversation.update(active_leaf_id=mid, updated_at=now).where(
            self.m.Conversation.id == conversation_id
        ).execute()
        return int(mid)

    def add_message(
        self, conversation_id: int, content: str, *, role: Role = Role.USER, parent_id: int | None = None
    ) -> Message:
        """A complete (non-assistant) message; indexed for search at once."""
        if role is Role.ASSISTANT:
            raise ValueError("assistant messages are created with start_response()")
        now = _now()
        with self.db.atomic():
            mid = self._insert_message(conversation_id, role, content, parent_id, now)
            self._index(mid, content)
        return self.get_message(mid)

    def start_response(
        self,
        conversation_id: int,
        parent_id: int | None,
        *,
        model: str = "",
        provider: str = "",
        status: ResponseStatus = ResponseStatus.PENDING,
    ) -> Message:
        """An assistant message with an empty response document, ready to be patched."""
        now = _now()
        with self.db.atomic():
            mid = self._insert_message(conversation_id, Role.ASSISTANT, "", parent_id, now)
            self.m.Response.insert(
                message=mid,
                status=status.value,
                model=model,
                provider=provider,
                created_at=now,
                updated_at=now,
            ).execute()
        return self.get_message(mid)

    def _message_rows(self, where: Any) -> list[dict[str, Any]]:
        M, R = self.m.Message, self.m.Response
        query = (
            M.select(
                M.id,
                M.uuid,
                M.conversation,
                M.parent,
                M.role,
                M.content,
                M.created_at,
                R.id.alias("r_id"),
                R.status.alias("r_status"),
                R.text.alias("r_text"),
                R.reasoning.alias("r_reasoning"),
                R.tool_calls.alias("r_tool_calls"),
                R.tool_status.alias("r_tool_status"),
                R.finish_reason.alias("r_finish_reason"),
                R.usage.alias("r_usage"),
                R.model.alias("r_model"),
                R.provider.alias("r_provider"),
                R.error.alias("r_error"),
                R.created_at.alias("r_created_at"),
                R.updated_at.alias("r_updated_at"),
                R.finished_at.alias("r_finished_at"),
            )
            .join(R, peewee.JOIN.LEFT_OUTER, on=(R.message == M.id))
            .where(where)
            .order_by(M.id)
        )
        return list(query.dicts())

    def _pending_chunks(self, response_ids: Sequence[int]) -> dict[tuple[int, str], str]:
        """Text appended since the last compaction, per (response id, field)."""
        if not response_ids:
            return {}
        out: dict[tuple[int, str], list[str]] = {}
        placeholders = ",".join("?" * len(response_ids))
        cursor = self.db.execute_sql(
            f"SELECT response_id, field, data FROM response_chunk WHERE response_id IN ({placeholders}) "
            "ORDER BY id",
            tuple(response_ids),
        )
        for rid, fld, data in cursor:
            out.setdefault((int(rid), str(fld)), []).append(data)
        return {k: "".join(v) for k, v in out.items()}

    def _messages_from_rows(self, rows: list[dict[str, Any]]) -> Page[Message]:
        streaming = [int(r["r_id"]) for r in rows if r["r_id"] is not None and r["r_status"] in _UNFINISHED]
        chunks = self._pending_chunks(streaming)

        def convert(row: dict[str, Any]) -> Message:
            response = None
            if row["r_id"] is not None:
                rid = int(row["r_id"])
                rrow = {k[2:]: v for k, v in row.items() if k.startswith("r_")}
                rrow["message"] = row["id"]
                response = self._response(
                    rrow,
                    str(rrow["text"] or "") + chunks.get((rid, "text"), ""),
                    str(rrow["reasoning"] or "") + chunks.get((rid, "reasoning"), ""),
                )
            return Message(
                id=int(row["id"]),
                uuid=str(row["uuid"]),
                conversation_id=int(row["conversation"]),
                parent_id=None if row["parent"] is None else int(row["parent"]),
                role=Role(row["role"]),
                content=str(row["content"] or ""),
                created_at=from_timestamp(float(row["created_at"])),
                response=response,
            )

        return self._convert(rows, "message", convert)

    def get_message(self, message_id: int) -> Message:
        """One message with its response document."""
        page = self._messages_from_rows(self._message_rows(self.m.Message.id == message_id))
        if page.skipped:
            raise ValueError(page.skipped[0].reason)
        if not page.items:
            raise NotFoundError(f"message {message_id}")
        return page.items[0]

    def branch_ids(self, leaf_id: int, *, limit: int) -> tuple[list[int], bool]:
        """Up to `limit` message ids on the path ending at `leaf_id`, root-most first, and whether older
        messages precede them. One recursive query: cost follows `limit`, not the conversation's size."""
        rows = self.db.execute_sql(
            "WITH RECURSIVE up(id, parent_id, n) AS ("
            " SELECT id, parent_id, 0 FROM message WHERE id = ?"
            " UNION ALL SELECT m.id, m.parent_id, up.n + 1 FROM message m JOIN up ON m.id = up.parent_id"
            " WHERE up.n < ?) SELECT id FROM up ORDER BY n",
            (leaf_id, limit),
        ).fetchall()
        ids = [int(r[0]) for r in rows]
        more = len(ids) > limit
        return list(reversed(ids[:limit])), more

    def messages_by_id(self, ids: Sequence[int]) -> Page[Message]:
        """These messages (with their response documents), in the order given; unreadable ones skipped."""
        if not ids:
            return Page([])
        page = self._messages_from_rows(self._message_rows(self.m.Message.id.in_(list(ids))))
        order = {mid: i for i, mid in enumerate(ids)}
        page.items.sort(key=lambda m: order.get(m.id, 0))
        return page

    def latest_message_id(self, conversation_id: int) -> int | None:
        """The newest message of a conversation, if any."""
        row = self.db.execute_sql(
            "SELECT max(id) FROM message WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def sibling_ids(
        self, conversation_id: int, parent_ids: Sequence[int | None]
    ) -> dict[int | None, list[int]]:
        """The children of each parent (None: the conversation's first messages), oldest first."""
        wanted = {p for p in parent_ids if p is not None}
        out: dict[int | None, list[int]] = {}
        if wanted:
            marks = ",".join("?" * len(wanted))
            rows = self.db.execute_sql(
                f"SELECT parent_id, id FROM message WHERE parent_id IN ({marks}) ORDER BY id", tuple(wanted)
            ).fetchall()
            for parent, mid in rows:
                out.setdefault(int(parent), []).append(int(mid))
        if None in parent_ids:
            rows = self.db.execute_sql(
                "SELECT id FROM message WHERE conversation_id = ? AND parent_id IS NULL ORDER BY id",
                (conversation_id,),
            ).fetchall()
            out[None] = [int(r[0]) for r in rows]
        return out

    def newest_leaf_under(self, message_id: int) -> int:
        """The newest message in the subtree of `message_id` (itself when it has no replies)."""
        row = self.db.execute_sql(
            "WITH RECURSIVE down(id) AS (SELECT ? UNION ALL"
            " SELECT m.id FROM message m JOIN down ON m.parent_id = down.id) SELECT max(id) FROM down",
            (message_id,),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else message_id

    def list_messages(self, conversation_id: int) -> Page[Message]:
        """Every message of a conversation (all branches), oldest first."""
        return self._messages_from_rows(self._message_rows(self.m.Message.conversation == conversation_id))

    def add_messages_bulk(
        self, conversation_id: int, items: Sequence[tuple[Role, str, float]], *, parent_id: int | None = None
    ) -> list[int]:
        """Append complete messages in one transaction, each the child of the one before (for imports).

        Assistant messages get a finished (`done`) response document. Everything is indexed.
        """
        ids: list[int] = []
        conn = self.db.connection()
        with self.db.atomic():
            cur = conn.cursor()
            parent = parent_id
            for role, text, ts in items:
                is_assistant = role is Role.ASSISTANT
                cur.execute(
                    "INSERT INTO message (uuid, conversation_id, parent_id, role, content, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (_new_uuid(), conversation_id, parent, role.value, "" if is_assistant else text, ts),
                )
                mid = int(cur.lastrowid or 0)
                if is_assistant:
                    cur.execute(
                        "INSERT INTO response (message_id, status, text, created_at, updated_at, "
                        "finished_at) VALUES (?, 'done', ?, ?, ?, ?)",
                        (mid, text, ts, ts, ts),
                    )
                if text:
                    cur.execute("INSERT INTO message_fts (rowid, text) VALUES (?, ?)", (mid, text))
                ids.append(mid)
                parent = mid
            if ids:
                cur.execute(
                    "UPDATE conversation SET active_leaf_id = ?, updated_at = max(updated_at, ?) "
                    "WHERE id = ?",
                    (ids[-1], items[-1][2], conversation_id),
                )
        return ids

    # ---- response documents -----------------------------------------------------------------

    def get_response(self, response_id: int) -> Response:
        """A response document, including text not yet compacted."""
        row = self.m.Response.select().where(self.m.Response.id == response_id).dicts().first()
        if row is None:
            raise NotFoundError(f"response {response_id}")
        chunks = self._pending_chunks([response_id]) if row["status"] in _UNFINISHED else {}
        return self._response(
            row,
            row["text"] + chunks.get((response_id, "text"), ""),
            row["reasoning"] + chunks.get((response_id, "reasoning"), ""),
        )

    def set_response_status(self, response_id: int, status: ResponseStatus) -> None:
        """Move an unfinished response between pending and streaming (finishing uses finish_response)."""
        if status.is_final:
            raise ValueError("use finish_response() to end a response")
        self.db.execute_sql(
            "UPDATE response SET status = ?, updated_at = ? WHERE id = ?", (status.value, _now(), response_id)
        )

    def apply_patches(self, patches: Sequence[ResponsePatch]) -> None:
        """Commit one flush of queued patches in a single transaction (append-only text chunks)."""
        if not patches:
            return
        now = _now()
        conn = self.db.connection()
        with self.db.atomic():
            cur = conn.cursor()
            for p in patches:
                if p.text_delta:
                    cur.execute(
                        "INSERT INTO response_chunk (response_id, field, data) VALUES (?, 'text', ?)",
                        (p.response_id, p.text_delta),
                    )
                if p.reasoning_delta:
                    cur.execute(
                        "INSERT INTO response_chunk (response_id, field, data) VALUES (?, 'reasoning', ?)",
                        (p.response_id, p.reasoning_delta),
                    )
                sets: list[str] = ["updated_at = ?"]
                args: list[Any] = [now]
                if p.status is not None:
                    if p.status.is_final:
                        raise ValueError("use finish_response() to end a response")
                    sets.append("status = ?")
                    args.append(p.status.value)
                if p.tool_calls is not None:
                    sets.append("tool_calls = ?")
                    args.append(_tool_calls_json(p.tool_calls))
                if p.tool_status is not None:
                    sets.append("tool_status = ?")
                    args.append(_tool_status_json(p.tool_status))
                if len(sets) > 1:
                    cur.execute(f"UPDATE response SET {', '.join(sets)} WHERE id = ?", (*args, p.response_id))

    def finish_response(
        self,
        response_id: int,
        status: ResponseStatus,
        *,
        finish_reason: str | None = None,
        usage: Usage | None = None,
        error: str | None = None,
        tool_calls: Sequence[ToolCall] | None = None,
        tool_status: dict[str, ToolStatus] | None = None,
        pending: Sequence[ResponsePatch] = (),
    ) -> Response:
        """End a response: commit what is queued, compact its chunks into one document, index it."""
        if not status.is_final:
            raise ValueError(f"{status} is not a final status")
        now = _now()
        with self.db.atomic():
            self.apply_patches(pending)
            row = self.m.Response.select().where(self.m.Response.id == response_id).dicts().first()
            if row is None:
                raise NotFoundError(f"response {response_id}")
            chunks = self._pending_chunks([response_id])
            text = row["text"] + chunks.get((response_id, "text"), "")
            reasoning = row["reasoning"] + chunks.get((response_id, "reasoning"), "")
            fields: dict[str, Any] = {
                "status": status.value,
                "text": text,
                "reasoning": reasoning,
                "updated_at": now,
                "finished_at": now,
            }
            if finish_reason is not None:
                fields["finish_reason"] = finish_reason
            if usage is not None:
                fields["usage"] = json.dumps(usage.to_dict())
            if error is not None:
                fields["error"] = error
            if tool_calls is not None:
                fields["tool_calls"] = _tool_calls_json(tool_calls)
            if tool_status is not None:
                fields["tool_status"] = _tool_status_json(tool_status)
            self.m.Response.update(**fields).where(self.m.Response.id == response_id).execute()
            self.db.execute_sql("DELETE FROM response_chunk WHERE response_id = ?", (response_id,))
            self._index(int(row["message"]), text)
        return self.get_response(response_id)

    def reopen_response(self, response_id: int) -> Response:
        """Make a finished answer `streaming` again, to continue it: text kept, error and finish cleared."""
        updated = self.db.execute_sql(
            "UPDATE response SET status = ?, error = NULL, finish_reason = NULL, finished_at = NULL, "
            "updated_at = ? WHERE id = ?",
            (ResponseStatus.STREAMING.value, _now(), response_id),
        ).rowcount
        if not updated:
            raise NotFoundError(f"response {response_id}")
        return self.get_response(response_id)

    def recover_unfinished(self) -> list[int]:
        """Mark every response left pending/streaming (by a crash or kill) as interrupted, text kept.

        Tool executions left queued or running are marked cancelled. Returns the response ids.
        """
        ids = [
            int(r[0])
            for r in self.db.execute_sql(
                "SELECT id FROM response WHERE status IN (?, ?) ORDER BY id", _UNFINISHED
            ).fetchall()
        ]
        for rid in ids:
            self.finish_response(
                rid,
                ResponseStatus.INTERRUPTED,
                error=INTERRUPTED_ERROR,
                tool_status=self._stopped_tool_status(rid),
            )
        if ids:
            log.warning("Marked %d unfinished response(s) as interrupted: %s", len(ids), ids)
        now = _now()
        self.db.execute_sql(
            "UPDATE tool_execution SET status = 'cancelled', finished_at = ?, "
            "error = coalesce(error, 'desktop_chat stopped before this tool finished') "
            "WHERE status IN ('queued', 'running')",
            (now,),
        )
        return ids

    def _stopped_tool_status(self, response_id: int) -> dict[str, ToolStatus] | None:
        """The response's tool states with queued/running ones cancelled (None: nothing to change)."""
        row = self.db.execute_sql("SELECT tool_status FROM response WHERE id = ?", (response_id,)).fetchone()
        try:
            status = {str(k): ToolStatus(v) for k, v in _json_obj(row[0] if row else None, "x").items()}
        except (ValueError, TypeError):  # an unreadable document is kept as it is
            return None
        unfinished = (ToolStatus.QUEUED, ToolStatus.RUNNING)
        if not any(v in unfinished for v in status.values()):
            return None
        return {k: ToolStatus.CANCELLED if v in unfinished else v for k, v in status.items()}

    def unfinished_response_ids(self) -> list[int]:
        """Responses still pending or streaming."""
        cursor = self.db.execute_sql(
            "SELECT id FROM response WHERE status IN (?, ?) ORDER BY id", _UNFINISHED
        )
        return [int(r[0]) for r in cursor.fetchall()]

    # ---- tool executions --------------------------------------------------------------------

    def add_tool_execution(
        self, response_id: int, call_id: str, name: str, arguments: str, *, round_no: int = 0
    ) -> ToolExecution:
        """Record a tool call the model asked for, as queued."""
        tid = self.m.ToolExecution.insert(
            response=response_id,
            call_id=call_id,
            name=name,
            arguments=arguments,
            status=ToolStatus.QUEUED.value,
            round=round_no,
            created_at=_now(),
        ).execute()
        return self.get_tool_execution(int(tid))

    def update_tool_execution(
        self, execution_id: int, status: ToolStatus, *, result: str | None = None, error: str | None = None
    ) -> ToolExecution:
        """Move a tool execution along; running sets started_at, a final status sets finished_at."""
        fields: dict[str, Any] = {"status": status.value}
        now = _now()
        if status is ToolStatus.RUNNING:
            fields["started_at"] = now
        elif status is not ToolStatus.QUEUED:
            fields["finished_at"] = now
        if result is not None:
            fields["result"] = result
        if error is not None:
            fields["error"] = error
        self.m.ToolExecution.update(**fields).where(self.m.ToolExecution.id == execution_id).execute()
        return self.get_tool_execution(execution_id)

    def get_tool_execution(self, execution_id: int) -> ToolExecution:
        """One tool execution by id."""
        row = self.m.ToolExecution.select().where(self.m.ToolExecution.id == execution_id).dicts().first()
        if row is None:
            raise NotFoundError(f"tool execution {execution_id}")
        return self._tool_execution(row)

    def tool_executions_for(self, response_ids: Sequence[int]) -> dict[int, list[ToolExecution]]:
        """The tool executions of several responses, by response id, in order."""
        if not response_ids:
            return {}
        T_ = self.m.ToolExecution
        rows = T_.select().where(T_.response.in_(list(response_ids))).order_by(T_.id).dicts()
        out: dict[int, list[ToolExecution]] = {}
        for execution in self._convert(rows, "tool_execution", self._tool_execution).items:
            out.setdefault(execution.response_id, []).append(execution)
        return out

    def list_tool_executions(self, response_id: int) -> Page[ToolExecution]:
        """The tool executions of one response, in order."""
        T_ = self.m.ToolExecution
        rows = T_.select().where(T_.response == response_id).order_by(T_.id).dicts()
        return self._convert(rows, "tool_execution", self._tool_execution)

    # ---- search -----------------------------------------------------------------------------

    def _index(self, message_id: int, text: str) -> None:
        self.db.execute_sql("DELETE FROM message_fts WHERE rowid = ?", (message_id,))
        if text:
            self.db.execute_sql("INSERT INTO message_fts (rowid, text) VALUES (?, ?)", (message_id, text))

    def search(
        self, query: str, *, order: SearchOrder = SearchOrder.RECENT, limit: int = 50, offset: int = 0
    ) -> Page[SearchHit]:
        """Full-text search over complete messages: newest first, or best match first."""
        compiled = compile_query(query)
        if compiled.match is None:
            return Page([])
        order_sql = "message_fts.rowid DESC" if order is SearchOrder.RECENT else "message_fts.rank"
        sql = (
            "SELECT m.id AS id, m.conversation_id, c.title, m.role, "
            f"snippet(message_fts, 0, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', {_SNIPPET_TOKENS}), "
            "m.created_at, message_fts.rank "
            "FROM message_fts JOIN message m ON m.id = message_fts.rowid "
            "JOIN conversation c ON c.id = m.conversation_id "
            f"WHERE message_fts MATCH ? ORDER BY {order_sql} LIMIT ? OFFSET ?"
        )
        cursor = self.db.execute_sql(sql, (compiled.match, limit, offset))
        cols = ["id", "conversation_id", "title", "role", "snippet", "created_at", "rank"]
        rows = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

        def convert(row: dict[str, Any]) -> SearchHit:
            return SearchHit(
                message_id=int(row["id"]),
                conversation_id=int(row["conversation_id"]),
                conversation_title=str(row["title"] or ""),
                role=Role(row["role"]),
                snippet=str(row["snippet"] or ""),
                created_at=from_timestamp(float(row["created_at"])),
                rank=float(row["rank"] or 0.0),
            )

        return self._convert(rows, "message", convert)

    def thread_connection(self) -> sqlite3.Connection:
        """This thread's connection (peewee opens one per thread): another thread may `interrupt()` it."""
        conn: sqlite3.Connection = self.db.connection()
        return conn

    def close_thread_connection(self) -> None:
        """Close this thread's connection (a worker thread's, when it stops)."""
        self.db.close()

    # ---- export and import ----------------------------------------------------------------------
    # Records are plain dicts of stored values (timestamps as the stored float epoch seconds, JSON
    # columns decoded); `desktop_chat.services.export` writes them as the documented JSON format.

    def conversation_ids_for_export(self, conversation_ids: Sequence[int] | None = None) -> list[int]:
        """These conversations (all, archived too, when None) oldest first, then by uuid; unknown ids
        are left out."""
        rows = self.db.execute_sql("SELECT id, created_at, uuid FROM conversation").fetchall()
        wanted = None if conversation_ids is None else set(conversation_ids)
        picked = [r for r in rows if wanted is None or int(r[0]) in wanted]
        picked.sort(key=lambda r: (self._sort_ts(r[1]), str(r[2])))
        return [int(r[0]) for r in picked]

    def export_conversation(self, conversation_id: int) -> dict[str, Any]:
        """One conversation with every message of every branch, its response documents (text not yet
        compacted included) and tool executions, as stored. Raises NotFoundError."""
        q = self.db.execute_sql
        row = q(
            "SELECT c.uuid, c.title, c.created_at, c.updated_at, c.pinned, c.archived, c.model, "
            "c.system_prompt, c.params, c.active_leaf_id, p.name, p.base_url, p.default_model, p.needs_key "
            "FROM conversation c LEFT JOIN provider_profile p ON p.id = c.profile_id WHERE c.id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"conversation {conversation_id}")
        where = f"conversation {conversation_id}"
        messages: list[dict[str, Any]] = []
        by_id: dict[int, dict[str, Any]] = {}
        for mid, muuid, puuid, role, content, created in q(
            "SELECT m.id, m.uuid, p.uuid, m.role, m.content, m.created_at FROM message m "
            "LEFT JOIN message p ON p.id = m.parent_id WHERE m.conversation_id = ? ORDER BY m.id",
            (conversation_id,),
        ).fetchall():
            message = {
                "uuid": str(muuid),
                "parent_uuid": None if puuid is None else str(puuid),
                "role": str(role),
                "content": str(content or ""),
                "created_at": float(created),
                "response": None,
            }
            by_id[int(mid)] = message
            messages.append(message)
        responses: dict[int, dict[str, Any]] = {}
        unfinished: list[int] = []
        for r in q(
            "SELECT r.id, r.message_id, r.status, r.text, r.reasoning, r.tool_calls, r.tool_status, "
            "r.finish_reason, r.usage, r.model, r.provider, r.error, r.created_at, r.updated_at, "
            "r.finished_at FROM response r JOIN message m ON m.id = r.message_id "
            "WHERE m.conversation_id = ? ORDER BY r.id",
            (conversation_id,),
        ).fetchall():
            rid = int(r[0])
            response = {
                "status": str(r[2]),
                "text": str(r[3] or ""),
                "reasoning": str(r[4] or ""),
                "tool_calls": self._loads_or(r[5], list, [], f"{where}: response {rid} tool_calls"),
                "tool_status": self._loads_or(r[6], dict, {}, f"{where}: response {rid} tool_status"),
                "finish_reason": r[7],
                "usage": self._loads_or(r[8], dict, None, f"{where}: response {rid} usage") if r[8] else None,
                "model": str(r[9] or ""),
                "provider": str(r[10] or ""),
                "error": r[11],
                "created_at": float(r[12]),
                "updated_at": float(r[13]),
                "finished_at": None if r[14] is None else float(r[14]),
                "tool_executions": [],
            }
            if r[2] in _UNFINISHED:
                unfinished.append(rid)
            responses[rid] = response
            if int(r[1]) in by_id:
                by_id[int(r[1])]["response"] = response
        chunks = self._pending_chunks(unfinished)
        for (rid, fld), data in chunks.items():
            responses[rid][fld] += data
        for t in q(
            "SELECT t.response_id, t.call_id, t.name, t.arguments, t.status, t.result, t.error, t.round, "
            "t.created_at, t.started_at, t.finished_at FROM tool_execution t "
            "JOIN response r ON r.id = t.response_id JOIN message m ON m.id = r.message_id "
            "WHERE m.conversation_id = ? ORDER BY t.id",
            (conversation_id,),
        ).fetchall():
            responses[int(t[0])]["tool_executions"].append(
                {
                    "call_id": str(t[1]),
                    "name": str(t[2]),
                    "arguments": str(t[3] or ""),
                    "status": str(t[4]),
                    "result": t[5],
                    "error": t[6],
                    "round": int(t[7] or 0),
                    "created_at": float(t[8]),
                    "started_at": None if t[9] is None else float(t[9]),
                    "finished_at": None if t[10] is None else float(t[10]),
                }
            )
        leaf = by_id.get(int(row[9])) if row[9] is not None else None
        return {
            "uuid": str(row[0]),
            "title": str(row[1] or ""),
            "created_at": float(row[2]),
            "updated_at": float(row[3]),
            "pinned": bool(row[4]),
            "archived": bool(row[5]),
            "model": str(row[6] or ""),
            "system_prompt": row[7],
            "params": self._loads_or(row[8], dict, {}, f"{where}: params"),
            "provider": None
            if row[10] is None
            else {
                "name": str(row[10]),
                "base_url": self._without_userinfo(str(row[11] or "")),
                "default_model": str(row[12] or ""),
                "needs_key": bool(row[13]),
            },
            "active_leaf_uuid": None if leaf is None else leaf["uuid"],
            "messages": messages,
        }

    @staticmethod
    def _sort_ts(value: Any) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0.0

    @staticmethod
    def _loads_or(raw: str | None, kind: type, default: Any, what: str) -> Any:
        """A stored JSON column, or `default` (logged) when it is unreadable or not of `kind`."""
        try:
            value = json.loads(raw) if raw else default
        except ValueError:
            value = None
        if value is default or isinstance(value, kind):
            return value
        log.warning("Exporting %s as %r: the stored value is unreadable", what, default)
        return default

    @staticmethod
    def _without_userinfo(url: str) -> str:
        """A base URL without any `user:password@` part (never export credentials)."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url)
        if "@" not in parts.netloc:
            return url
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))

    def conversation_uuid_exists(self, conversation_uuid: str) -> bool:
        """Whether a conversation with this uuid is stored."""
        row = self.db.execute_sql(
            "SELECT 1 FROM conversation WHERE uuid = ?", (conversation_uuid,)
        ).fetchone()
        return row is not None

    def import_batch(self) -> Any:
        """A transaction around several `import_conversation` calls (each then a savepoint): one commit
        (and one full-text index flush) per batch instead of per conversation, about twice as fast."""
        return self.db.atomic()

    def import_conversation(self, record: dict[str, Any]) -> int | None:
        """Store one conversation record (the `export_conversation` shape) in one transaction: all of it
        or, on any error, none of it. Returns the new id, or None when its uuid is already stored.

        Messages must come parents first. The provider profile is found by name, or created (without a
        key) when missing. Unfinished answers are stored as interrupted, queued or running tools as
        cancelled. Complete messages are indexed for search.
        """
        q = self.db.execute_sql
        try:
            with self.db.atomic():
                if self.conversation_uuid_exists(str(record["uuid"])):
                    return None
                profile_id = self._import_profile(record.get("provider"))
                cid = int(
                    q(
                        "INSERT INTO conversation (uuid, title, created_at, updated_at, pinned, archived, "
                        "profile_id, model, system_prompt, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            str(record["uuid"]),
                            str(record.get("title") or ""),
                            float(record["created_at"]),
                            float(record["updated_at"]),
                            bool(record.get("pinned")),
                            bool(record.get("archived")),
                            profile_id,
                            str(record.get("model") or ""),
                            record.get("system_prompt"),
                            json.dumps(record.get("params") or {}),
                        ),
                    ).lastrowid
                    or 0
                )
                ids: dict[str, int] = {}
                for message in record.get("messages") or ():
                    self._import_message(cid, message, ids)
                leaf = record.get("active_leaf_uuid")
                if leaf is not None and leaf in ids:
                    q("UPDATE conversation SET active_leaf_id = ? WHERE id = ?", (ids[leaf], cid))
        except peewee.IntegrityError as exc:
            raise ValueError(f"conflicts with stored data ({exc})") from exc
        return cid

    def _import_profile(self, provider: dict[str, Any] | None) -> int | None:
        if not provider or not provider.get("name"):
            return None
        name = str(provider["name"])
        row = self.db.execute_sql("SELECT id FROM provider_profile WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        now = _now()
        cursor = self.db.execute_sql(
            "INSERT INTO provider_profile (key_ref, name, base_url, default_model, headers, needs_key, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)",
            (
                _new_uuid(),
                name,
                str(provider.get("base_url") or ""),
                str(provider.get("default_model") or ""),
                bool(provider.get("needs_key", True)),
                now,
                now,
            ),
        )
        return int(cursor.lastrowid or 0)

    def _import_message(self, conversation_id: int, message: dict[str, Any], ids: dict[str, int]) -> None:
        q = self.db.execute_sql
        muuid = str(message["uuid"])
        parent_uuid = message.get("parent_uuid")
        if parent_uuid is not None and parent_uuid not in ids:
            raise ValueError(f"message {muuid}: its parent {parent_uuid} is not an earlier message")
        role = Role(message["role"]).value
        content = str(message.get("content") or "")
        mid = int(
            q(
                "INSERT INTO message (uuid, conversation_id, parent_id, role, content, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    muuid,
                    conversation_id,
                    None if parent_uuid is None else ids[parent_uuid],
                    role,
                    content,
                    float(message["created_at"]),
                ),
            ).lastrowid
            or 0
        )
        ids[muuid] = mid
        response = message.get("response")
        indexed = content if role != Role.ASSISTANT.value else ""
        if response is not None:
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
            usage = response.get("usage")
            text = str(response.get("text") or "")
            rid = int(
                q(
                    "INSERT INTO response (message_id, status, text, reasoning, tool_calls, tool_status, "
                    "finish_reason, usage, model, provider, error, created_at, updated_at, finished_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        mid,
                        status.value,
                        text,
                        str(response.get("reasoning") or ""),
                        json.dumps(list(response.get("tool_calls") or [])),
                        json.dumps(tool_status),
                        response.get("finish_reason"),
                        None if usage is None else json.dumps(usage),
                        str(response.get("model") or ""),
                        str(response.get("provider") or ""),
                        error,
                        float(response["created_at"]),
                        float(response["updated_at"]),
                        None if finished is None else float(finished),
                    ),
                ).lastrowid
                or 0
            )
            for t in response.get("tool_executions") or ():
                t_status = ToolStatus(t["status"])
                t_error, t_finished = t.get("error"), t.get("finished_at")
                if t_status in (ToolStatus.QUEUED, ToolStatus.RUNNING):
                    t_status = ToolStatus.CANCELLED
                    t_error = t_error or "desktop_chat stopped before this tool finished"
                    t_finished = t_finished if t_finished is not None else response["updated_at"]
                q(
                    "INSERT INTO tool_execution (response_id, call_id, name, arguments, status, result, "
                    "error, round, created_at, started_at, finished_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        rid,
                        str(t["call_id"]),
                        str(t["name"]),
                        str(t.get("arguments") or ""),
                        t_status.value,
                        t.get("result"),
                        t_error,
                        int(t.get("round") or 0),
                        float(t["created_at"]),
                        None if t.get("started_at") is None else float(t["started_at"]),
                        None if t_finished is None else float(t_finished),
                    ),
                )
            if role == Role.ASSISTANT.value:
                indexed = text
        if indexed:
            q("INSERT INTO message_fts (rowid, text) VALUES (?, ?)", (mid, indexed))
