"""Conversations (the list and one conversation's settings): reads, then writes."""

from __future__ import annotations

import json
from typing import Any

from desktop_chat.domain import Conversation, ConversationSummary, Page, SkippedRow
from desktop_chat.storage.repo import rows
from desktop_chat.storage.repo.base import NotFoundError, RepoBase, log, new_uuid, now

# The conversation list's columns (pinned/archived compared in SQL: 0/1 whatever was stored; the title
# as bytes, decoded in the list comprehension: cheaper than the connection's per-value text factory),
# and what a row needs for `rows.conversation` to read it (most params are '{}': no JSON parse then).
_SUMMARY_COLUMNS = "id, CAST(coalesce(title, '') AS BLOB), updated_at, created_at, pinned <> 0, archived <> 0"
_SUMMARY_READABLE = (
    "typeof(updated_at) IN ('real', 'integer') AND typeof(created_at) IN ('real', 'integer') "
    "AND (params = '{}' OR CASE WHEN json_valid(params) THEN json_type(params) = 'object' ELSE 0 END)"
)


class ConversationQueries(RepoBase):
    """The conversation table."""

    # ---- reads ----------------------------------------------------------------------------------

    def get_conversation(self, conversation_id: int) -> Conversation:
        """One conversation by id (raises NotFoundError, or ValueError when the row is unreadable)."""
        return self._one(self.m.Conversation, conversation_id, "conversation", rows.conversation)

    def list_conversations(
        self, *, offset: int = 0, limit: int = 200, include_archived: bool = False
    ) -> Page[Conversation]:
        """Conversations, pinned first, then most recently updated first."""
        C = self.m.Conversation
        query = C.select()
        if not include_archived:
            query = query.where(C.archived == False)  # noqa: E712 (peewee expression)
        query = query.order_by(C.pinned.desc(), C.updated_at.desc(), C.id.desc()).offset(offset).limit(limit)
        return self._convert(query.dicts(), "conversation", rows.conversation)

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
        found = self.db.execute_sql(f"SELECT {_SUMMARY_COLUMNS} FROM conversation").fetchall()
        if bad:
            found = [r for r in found if r[0] not in bad]
            for cid, column in bad.items():
                log.warning("Skipped unreadable conversation row %s: bad %s", cid, column)
        items = [
            ConversationSummary(i, t.decode("utf-8", "replace"), u, c, p == 1, a == 1)
            for i, t, u, c, p, a in found
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

    # ---- writes ---------------------------------------------------------------------------------

    def create_conversation(
        self,
        title: str = "",
        *,
        profile_id: int | None = None,
        model: str = "",
        system_prompt: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Conversation:
        """Writes: a new, empty conversation."""
        at = now()
        cid = self.m.Conversation.insert(
            uuid=new_uuid(),
            title=title,
            created_at=at,
            updated_at=at,
            profile=profile_id,
            model=model,
            system_prompt=system_prompt,
            params=json.dumps(params or {}),
        ).execute()
        return self.get_conversation(int(cid))

    def update_conversation(self, conversation_id: int, *, touch: bool = True, **fields: Any) -> Conversation:
        """Writes: change title, pinned, archived, profile_id, model, system_prompt, params or
        active_leaf_id.

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
            fields["updated_at"] = now()
        if not fields:
            return self.get_conversation(conversation_id)
        updated = (
            self.m.Conversation.update(**fields).where(self.m.Conversation.id == conversation_id).execute()
        )
        if not updated:
            raise NotFoundError(f"conversation {conversation_id}")
        return self.get_conversation(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        """Writes: delete a conversation with its messages, responses, tool executions and index
        entries."""
        self.m.Conversation.delete().where(self.m.Conversation.id == conversation_id).execute()
