"""Whole conversations by uuid, for export and import: reads, then writes (one transaction each).

The records (`desktop_chat.storage.tree`) carry stored values only; what an export file looks like, and
how an import repairs what it reads, is `desktop_chat.interchange`'s business.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import peewee

from desktop_chat.storage.repo.base import UNFINISHED, NotFoundError, RepoBase, log, new_uuid, now
from desktop_chat.storage.tree import (
    ConversationTree,
    TreeMessage,
    TreeProvider,
    TreeResponse,
    TreeToolExecution,
)


def _sort_ts(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


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


class TreeQueries(RepoBase):
    """A conversation with its messages, responses and tool executions, all at once."""

    # ---- reads ----------------------------------------------------------------------------------

    def conversation_ids_for_export(self, conversation_ids: Sequence[int] | None = None) -> list[int]:
        """These conversations (all, archived too, when None) oldest first, then by uuid; unknown ids
        are left out."""
        found = self.db.execute_sql("SELECT id, created_at, uuid FROM conversation").fetchall()
        wanted = None if conversation_ids is None else set(conversation_ids)
        picked = [r for r in found if wanted is None or int(r[0]) in wanted]
        picked.sort(key=lambda r: (_sort_ts(r[1]), str(r[2])))
        return [int(r[0]) for r in picked]

    def conversation_uuid_exists(self, conversation_uuid: str) -> bool:
        """Whether a conversation with this uuid is stored."""
        row = self.db.execute_sql(
            "SELECT 1 FROM conversation WHERE uuid = ?", (conversation_uuid,)
        ).fetchone()
        return row is not None

    def conversation_tree(self, conversation_id: int) -> ConversationTree:
        """One conversation with every message of every branch (oldest row first), its response
        documents (text not yet compacted included) and tool executions, as stored. A JSON column that
        cannot be read is given as empty (and logged). Raises NotFoundError."""
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
        messages = [
            (
                int(mid),
                str(muuid),
                None if puuid is None else str(puuid),
                str(role),
                str(content or ""),
                float(at),
            )
            for mid, muuid, puuid, role, content, at in q(
                "SELECT m.id, m.uuid, p.uuid, m.role, m.content, m.created_at FROM message m "
                "LEFT JOIN message p ON p.id = m.parent_id WHERE m.conversation_id = ? ORDER BY m.id",
                (conversation_id,),
            ).fetchall()
        ]
        responses: dict[int, dict[str, Any]] = {}
        message_of: dict[int, int] = {}
        unfinished: list[int] = []
        for r in q(
            "SELECT r.id, r.message_id, r.status, r.text, r.reasoning, r.tool_calls, r.tool_status, "
            "r.finish_reason, r.usage, r.model, r.provider, r.error, r.created_at, r.updated_at, "
            "r.finished_at FROM response r JOIN message m ON m.id = r.message_id "
            "WHERE m.conversation_id = ? ORDER BY r.id",
            (conversation_id,),
        ).fetchall():
            rid = int(r[0])
            responses[rid] = {
                "status": str(r[2]),
                "text": str(r[3] or ""),
                "reasoning": str(r[4] or ""),
                "tool_calls": _loads_or(r[5], list, [], f"{where}: response {rid} tool_calls"),
                "tool_status": _loads_or(r[6], dict, {}, f"{where}: response {rid} tool_status"),
                "finish_reason": r[7],
                "usage": _loads_or(r[8], dict, None, f"{where}: response {rid} usage") if r[8] else None,
                "model": str(r[9] or ""),
                "provider": str(r[10] or ""),
                "error": r[11],
                "created_at": float(r[12]),
                "updated_at": float(r[13]),
                "finished_at": None if r[14] is None else float(r[14]),
            }
            message_of[rid] = int(r[1])
            if r[2] in UNFINISHED:
                unfinished.append(rid)
        for (rid, fld), data in self._pending_chunks(unfinished).items():
            responses[rid][fld] += data
        runs: dict[int, list[TreeToolExecution]] = {}
        for t in q(
            "SELECT t.response_id, t.call_id, t.name, t.arguments, t.status, t.result, t.error, t.round, "
            "t.created_at, t.started_at, t.finished_at FROM tool_execution t "
            "JOIN response r ON r.id = t.response_id JOIN message m ON m.id = r.message_id "
            "WHERE m.conversation_id = ? ORDER BY t.id",
            (conversation_id,),
        ).fetchall():
            runs.setdefault(int(t[0]), []).append(
                TreeToolExecution(
                    call_id=str(t[1]),
                    name=str(t[2]),
                    arguments=str(t[3] or ""),
                    status=str(t[4]),
                    result=t[5],
                    error=t[6],
                    round=int(t[7] or 0),
                    created_at=float(t[8]),
                    started_at=None if t[9] is None else float(t[9]),
                    finished_at=None if t[10] is None else float(t[10]),
                )
            )
        answer_of = {
            message_of[rid]: TreeResponse(**fields, tool_executions=tuple(runs.get(rid, ())))
            for rid, fields in responses.items()
        }
        uuid_of = {m[0]: m[1] for m in messages}
        provider = None
        if row[10] is not None:
            provider = TreeProvider(str(row[10]), str(row[11] or ""), str(row[12] or ""), bool(row[13]))
        return ConversationTree(
            uuid=str(row[0]),
            title=str(row[1] or ""),
            created_at=float(row[2]),
            updated_at=float(row[3]),
            pinned=bool(row[4]),
            archived=bool(row[5]),
            model=str(row[6] or ""),
            system_prompt=row[7],
            params=_loads_or(row[8], dict, {}, f"{where}: params"),
            provider=provider,
            active_leaf_uuid=uuid_of.get(int(row[9])) if row[9] is not None else None,
            messages=tuple(
                TreeMessage(muuid, parent, role, content, at, answer_of.get(mid))
                for mid, muuid, parent, role, content, at in messages
            ),
        )

    # ---- writes ---------------------------------------------------------------------------------

    def import_batch(self) -> Any:
        """Writes: a transaction around several `insert_conversation_tree` calls (each then a
        savepoint): one commit (and one full-text index flush) per batch instead of per conversation,
        about twice as fast."""
        return self.db.atomic()

    def insert_conversation_tree(self, tree: ConversationTree) -> int | None:
        """Writes: one conversation with its messages, responses and tool executions, in one
        transaction: all of it or, on any error, none of it. Returns the new id, or None when its uuid is
        already stored. ValueError when it conflicts with stored rows (a message uuid used elsewhere).

        Messages must come parents first. The provider profile is found by name, or created (without a
        key) when missing. Messages are indexed for search (an assistant's by its response text).
        """
        q = self.db.execute_sql
        try:
            with self.db.atomic():
                if self.conversation_uuid_exists(tree.uuid):
                    return None
                profile_id = self._profile_named(tree.provider)
                cid = int(
                    q(
                        "INSERT INTO conversation (uuid, title, created_at, updated_at, pinned, archived, "
                        "profile_id, model, system_prompt, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            tree.uuid,
                            tree.title,
                            tree.created_at,
                            tree.updated_at,
                            tree.pinned,
                            tree.archived,
                            profile_id,
                            tree.model,
                            tree.system_prompt,
                            json.dumps(tree.params),
                        ),
                    ).lastrowid
                    or 0
                )
                ids: dict[str, int] = {}
                for message in tree.messages:
                    self._insert_tree_message(cid, message, ids)
                leaf = tree.active_leaf_uuid
                if leaf is not None and leaf in ids:
                    q("UPDATE conversation SET active_leaf_id = ? WHERE id = ?", (ids[leaf], cid))
        except peewee.IntegrityError as exc:
            raise ValueError(f"conflicts with stored data ({exc})") from exc
        return cid

    def _profile_named(self, provider: TreeProvider | None) -> int | None:
        """Writes: the id of the profile with this name, created without a key when there is none."""
        if provider is None:
            return None
        row = self.db.execute_sql(
            "SELECT id FROM provider_profile WHERE name = ?", (provider.name,)
        ).fetchone()
        if row is not None:
            return int(row[0])
        at = now()
        cursor = self.db.execute_sql(
            "INSERT INTO provider_profile (key_ref, name, base_url, default_model, headers, needs_key, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)",
            (
                new_uuid(),
                provider.name,
                provider.base_url,
                provider.default_model,
                provider.needs_key,
                at,
                at,
            ),
        )
        return int(cursor.lastrowid or 0)

    def _insert_tree_message(self, conversation_id: int, message: TreeMessage, ids: dict[str, int]) -> None:
        """Writes: one message with its response and tool executions; `ids` maps uuids stored so far."""
        q = self.db.execute_sql
        parent_uuid = message.parent_uuid
        if parent_uuid is not None and parent_uuid not in ids:
            raise ValueError(f"message {message.uuid}: its parent {parent_uuid} is not an earlier message")
        mid = int(
            q(
                "INSERT INTO message (uuid, conversation_id, parent_id, role, content, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    message.uuid,
                    conversation_id,
                    None if parent_uuid is None else ids[parent_uuid],
                    message.role,
                    message.content,
                    message.created_at,
                ),
            ).lastrowid
            or 0
        )
        ids[message.uuid] = mid
        response = message.response
        indexed = message.content if message.role != "assistant" else ""
        if response is not None:
            rid = int(
                q(
                    "INSERT INTO response (message_id, status, text, reasoning, tool_calls, tool_status, "
                    "finish_reason, usage, model, provider, error, created_at, updated_at, finished_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        mid,
                        response.status,
                        response.text,
                        response.reasoning,
                        json.dumps(response.tool_calls),
                        json.dumps(response.tool_status),
                        response.finish_reason,
                        None if response.usage is None else json.dumps(response.usage),
                        response.model,
                        response.provider,
                        response.error,
                        response.created_at,
                        response.updated_at,
                        response.finished_at,
                    ),
                ).lastrowid
                or 0
            )
            for t in response.tool_executions:
                q(
                    "INSERT INTO tool_execution (response_id, call_id, name, arguments, status, result, "
                    "error, round, created_at, started_at, finished_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        rid,
                        t.call_id,
                        t.name,
                        t.arguments,
                        t.status,
                        t.result,
                        t.error,
                        t.round,
                        t.created_at,
                        t.started_at,
                        t.finished_at,
                    ),
                )
            if message.role == "assistant":
                indexed = response.text
        if indexed:
            q("INSERT INTO message_fts (rowid, text) VALUES (?, ?)", (mid, indexed))
