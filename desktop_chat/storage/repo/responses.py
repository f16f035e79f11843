"""Response documents: reads, then writes (streaming patches, finishing, crash recovery)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from desktop_chat.domain import Response, ResponsePatch, ResponseStatus, ToolCall, ToolStatus, Usage
from desktop_chat.storage.repo import rows
from desktop_chat.storage.repo.base import (
    INTERRUPTED_ERROR,
    TOOL_STOPPED_ERROR,
    UNFINISHED,
    NotFoundError,
    RepoBase,
    json_obj,
    log,
    now,
    tool_calls_json,
    tool_status_json,
)

# Literal values, not parameters: SQLite uses the partial index `response_unfinished` only when it can
# see that the query's condition implies the index's. With parameters it scanned every response at each
# start (a full read of the file and 14 MiB of page cache at 10,000 messages).
UNFINISHED_QUERY = "SELECT id FROM response WHERE status IN ('pending', 'streaming') ORDER BY id"


class ResponseQueries(RepoBase):
    """The response and response_chunk tables."""

    # ---- reads ----------------------------------------------------------------------------------

    def get_response(self, response_id: int) -> Response:
        """A response document, including text not yet compacted."""
        row = self.m.Response.select().where(self.m.Response.id == response_id).dicts().first()
        if row is None:
            raise NotFoundError(f"response {response_id}")
        chunks = self._pending_chunks([response_id]) if row["status"] in UNFINISHED else {}
        return rows.response(
            row,
            row["text"] + chunks.get((response_id, "text"), ""),
            row["reasoning"] + chunks.get((response_id, "reasoning"), ""),
        )

    def unfinished_response_ids(self) -> list[int]:
        """Responses still pending or streaming."""
        cursor = self.db.execute_sql(UNFINISHED_QUERY)
        return [int(r[0]) for r in cursor.fetchall()]

    def _stopped_tool_status(self, response_id: int) -> dict[str, ToolStatus] | None:
        """The response's tool states with queued/running ones cancelled (None: nothing to change)."""
        row = self.db.execute_sql("SELECT tool_status FROM response WHERE id = ?", (response_id,)).fetchone()
        try:
            status = {str(k): ToolStatus(v) for k, v in json_obj(row[0] if row else None, "x").items()}
        except (ValueError, TypeError):  # an unreadable document is kept as it is
            return None
        unfinished = (ToolStatus.QUEUED, ToolStatus.RUNNING)
        if not any(v in unfinished for v in status.values()):
            return None
        return {k: ToolStatus.CANCELLED if v in unfinished else v for k, v in status.items()}

    # ---- writes ---------------------------------------------------------------------------------

    def set_response_status(self, response_id: int, status: ResponseStatus) -> None:
        """Writes: move an unfinished response between pending and streaming (finishing uses
        finish_response)."""
        if status.is_final:
            raise ValueError("use finish_response() to end a response")
        self.db.execute_sql(
            "UPDATE response SET status = ?, updated_at = ? WHERE id = ?", (status.value, now(), response_id)
        )

    def apply_patches(self, patches: Sequence[ResponsePatch]) -> None:
        """Writes: one flush of queued patches in a single transaction (append-only text chunks)."""
        if not patches:
            return
        at = now()
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
                args: list[Any] = [at]
                if p.status is not None:
                    if p.status.is_final:
                        raise ValueError("use finish_response() to end a response")
                    sets.append("status = ?")
                    args.append(p.status.value)
                if p.tool_calls is not None:
                    sets.append("tool_calls = ?")
                    args.append(tool_calls_json(p.tool_calls))
                if p.tool_status is not None:
                    sets.append("tool_status = ?")
                    args.append(tool_status_json(p.tool_status))
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
        """Writes: end a response: commit what is queued, compact its chunks into one document, index
        it."""
        if not status.is_final:
            raise ValueError(f"{status} is not a final status")
        at = now()
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
                "updated_at": at,
                "finished_at": at,
            }
            if finish_reason is not None:
                fields["finish_reason"] = finish_reason
            if usage is not None:
                fields["usage"] = json.dumps(usage.to_dict())
            if error is not None:
                fields["error"] = error
            if tool_calls is not None:
                fields["tool_calls"] = tool_calls_json(tool_calls)
            if tool_status is not None:
                fields["tool_status"] = tool_status_json(tool_status)
            self.m.Response.update(**fields).where(self.m.Response.id == response_id).execute()
            self.db.execute_sql("DELETE FROM response_chunk WHERE response_id = ?", (response_id,))
            self._index(int(row["message"]), text)
        return self.get_response(response_id)

    def reopen_response(self, response_id: int) -> Response:
        """Writes: make a finished answer `streaming` again, to continue it: text kept, error and finish
        cleared."""
        updated = self.db.execute_sql(
            "UPDATE response SET status = ?, error = NULL, finish_reason = NULL, finished_at = NULL, "
            "updated_at = ? WHERE id = ?",
            (ResponseStatus.STREAMING.value, now(), response_id),
        ).rowcount
        if not updated:
            raise NotFoundError(f"response {response_id}")
        return self.get_response(response_id)

    def recover_unfinished(self) -> list[int]:
        """Writes: mark every response left pending/streaming (by a crash or kill) as interrupted, text
        kept.

        Tool executions left queued or running are marked cancelled. Returns the response ids.
        """
        ids = self.unfinished_response_ids()
        for rid in ids:
            self.finish_response(
                rid,
                ResponseStatus.INTERRUPTED,
                error=INTERRUPTED_ERROR,
                tool_status=self._stopped_tool_status(rid),
            )
        if ids:
            log.warning("Marked %d unfinished response(s) as interrupted: %s", len(ids), ids)
        self.db.execute_sql(
            "UPDATE tool_execution SET status = 'cancelled', finished_at = ?, "
            f"error = coalesce(error, '{TOOL_STOPPED_ERROR}') "
            "WHERE status IN ('queued', 'running')",
            (now(),),
        )
        return ids
