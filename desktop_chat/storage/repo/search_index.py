"""Full-text search over complete messages (the index itself is written with each message)."""

from __future__ import annotations

from typing import Any

from desktop_chat.domain import HIGHLIGHT_END, HIGHLIGHT_START, Page, Role, SearchHit, from_timestamp
from desktop_chat.storage.repo.base import RepoBase
from desktop_chat.storage.search import SearchOrder, compile_query

_SNIPPET_TOKENS = 16


class SearchQueries(RepoBase):
    """The message_fts index: reads only."""

    # ---- reads ----------------------------------------------------------------------------------

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
        found = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

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

        return self._convert(found, "message", convert)
