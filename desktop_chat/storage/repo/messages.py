"""Messages and branches: reads (one message, a branch, siblings, a conversation), then writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import peewee

from desktop_chat.domain import Message, Page, ResponseStatus, Role, from_timestamp
from desktop_chat.storage.repo import rows
from desktop_chat.storage.repo.base import UNFINISHED, NotFoundError, RepoBase, new_uuid, now


class MessageQueries(RepoBase):
    """The message table, each message read with its response document."""

    # ---- reads ----------------------------------------------------------------------------------

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

    def _messages_from_rows(self, found: list[dict[str, Any]]) -> Page[Message]:
        streaming = [int(r["r_id"]) for r in found if r["r_id"] is not None and r["r_status"] in UNFINISHED]
        chunks = self._pending_chunks(streaming)

        def convert(row: dict[str, Any]) -> Message:
            response = None
            if row["r_id"] is not None:
                rid = int(row["r_id"])
                rrow = {k[2:]: v for k, v in row.items() if k.startswith("r_")}
                rrow["message"] = row["id"]
                response = rows.response(
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

        return self._convert(found, "message", convert)

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
        found = self.db.execute_sql(
            "WITH RECURSIVE up(id, parent_id, n) AS ("
            " SELECT id, parent_id, 0 FROM message WHERE id = ?"
            " UNION ALL SELECT m.id, m.parent_id, up.n + 1 FROM message m JOIN up ON m.id = up.parent_id"
            " WHERE up.n < ?) SELECT id FROM up ORDER BY n",
            (leaf_id, limit),
        ).fetchall()
        ids = [int(r[0]) for r in found]
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
            found = self.db.execute_sql(
                f"SELECT parent_id, id FROM message WHERE parent_id IN ({marks}) ORDER BY id", tuple(wanted)
            ).fetchall()
            for parent, mid in found:
                out.setdefault(int(parent), []).append(int(mid))
        if None in parent_ids:
            found = self.db.execute_sql(
                "SELECT id FROM message WHERE conversation_id = ? AND parent_id IS NULL ORDER BY id",
                (conversation_id,),
            ).fetchall()
            out[None] = [int(r[0]) for r in found]
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

    # ---- writes ---------------------------------------------------------------------------------

    def _insert_message(
        self, conversation_id: int, role: Role, content: str, parent_id: int | None, at: float
    ) -> int:
        """Writes: one message row, made the conversation's active leaf."""
        mid = self.m.Message.insert(
            uuid=new_uuid(),
            conversation=conversation_id,
            parent=parent_id,
            role=role.value,
            content=content,
            created_at=at,
        ).execute()
        self.m.Conversation.update(active_leaf_id=mid, updated_at=at).where(
            self.m.Conversation.id == conversation_id
        ).execute()
        return int(mid)

    def add_message(
        self, conversation_id: int, content: str, *, role: Role = Role.USER, parent_id: int | None = None
    ) -> Message:
        """Writes: a complete (non-assistant) message; indexed for search at once."""
        if role is Role.ASSISTANT:
            raise ValueError("assistant messages are created with start_response()")
        at = now()
        with self.db.atomic():
            mid = self._insert_message(conversation_id, role, content, parent_id, at)
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
        """Writes: an assistant message with an empty response document, ready to be patched."""
        at = now()
        with self.db.atomic():
            mid = self._insert_message(conversation_id, Role.ASSISTANT, "", parent_id, at)
            self.m.Response.insert(
                message=mid,
                status=status.value,
                model=model,
                provider=provider,
                created_at=at,
                updated_at=at,
            ).execute()
        return self.get_message(mid)

    def add_messages_bulk(
        self, conversation_id: int, items: Sequence[tuple[Role, str, float]], *, parent_id: int | None = None
    ) -> list[int]:
        """Writes: complete messages in one transaction, each the child of the one before (for imports).

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
                    (new_uuid(), conversation_id, parent, role.value, "" if is_assistant else text, ts),
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
