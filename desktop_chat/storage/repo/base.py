"""What every part of `Repo` shares: the database and models, row conversion, ids and times.

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

from desktop_chat.domain import Page, SkippedRow, ToolCall, ToolStatus
from desktop_chat.storage.models import Models, make_models

log = logging.getLogger("desktop_chat.storage.repo")
T = TypeVar("T")

INTERRUPTED_ERROR = "desktop_chat stopped before this answer finished; the text received so far is kept."
TOOL_STOPPED_ERROR = "desktop_chat stopped before this tool finished"
UNFINISHED = ("pending", "streaming")  # ResponseStatus values of an answer still being written


class NotFoundError(LookupError):
    """A row the caller named does not exist (any more)."""


def now() -> float:
    """The time stored for a change: epoch seconds."""
    return time.time()


def new_uuid() -> str:
    """A new row uuid (32 hex digits)."""
    return uuid.uuid4().hex


def json_obj(raw: str | None, what: str) -> dict[str, Any]:
    """A stored JSON object column (empty when NULL); ValueError when it is not an object."""
    value = json.loads(raw) if raw else {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def tool_calls_json(calls: Iterable[ToolCall]) -> str:
    """The stored form of an answer's tool calls."""
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


def tool_status_json(status: dict[str, ToolStatus]) -> str:
    """The stored form of an answer's tool states."""
    return json.dumps({k: v.value for k, v in status.items()})


class RepoBase:
    """The open database every query part of `Repo` works on. All writes go through `Repo`, on one
    thread."""

    def __init__(self, db: peewee.SqliteDatabase, models: Models | None = None) -> None:
        self.db = db
        self.m = models or make_models(db)

    # ---- reads ----------------------------------------------------------------------------------

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

    def _one(self, model: Any, row_id: int, what: str, fn: Callable[[dict[str, Any]], T]) -> T:
        """One row of `model` by id, converted (NotFoundError naming `what` when there is none)."""
        row = model.select().where(model.id == row_id).dicts().first()
        if row is None:
            raise NotFoundError(f"{what} {row_id}")
        return fn(row)

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

    def thread_connection(self) -> sqlite3.Connection:
        """This thread's connection (peewee opens one per thread): another thread may `interrupt()` it."""
        conn: sqlite3.Connection = self.db.connection()
        return conn

    def close_thread_connection(self) -> None:
        """Close this thread's connection (a worker thread's, when it stops)."""
        self.db.close()

    # ---- writes ---------------------------------------------------------------------------------

    def _index(self, message_id: int, text: str) -> None:
        """Writes: the message's full-text entry (none for empty text)."""
        self.db.execute_sql("DELETE FROM message_fts WHERE rowid = ?", (message_id,))
        if text:
            self.db.execute_sql("INSERT INTO message_fts (rowid, text) VALUES (?, ?)", (message_id, text))
