"""Ordered schema migrations. Each step is frozen once released: add a new step, never edit an old one.

`PRAGMA user_version` holds the number of the last step applied. Each step runs in its own
transaction together with the version bump, so a crash leaves the file at a whole version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import peewee

from desktop_chat.storage.db import (
    NewerSchemaError,
    StoreError,
    header_user_version,
    read_user_version,
    wal_user_version,
)

log = logging.getLogger(__name__)

_V1_CORE = """
CREATE TABLE provider_profile (
    id INTEGER PRIMARY KEY,
    key_ref TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    base_url TEXT NOT NULL,
    default_model TEXT NOT NULL DEFAULT '',
    headers TEXT NOT NULL DEFAULT '{}',
    needs_key INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE conversation (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    profile_id INTEGER REFERENCES provider_profile(id) ON DELETE SET NULL,
    model TEXT NOT NULL DEFAULT '',
    system_prompt TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    active_leaf_id INTEGER
);
CREATE INDEX conversation_listing ON conversation(archived, pinned, updated_at);
CREATE TABLE message (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    conversation_id INTEGER NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES message(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX message_conversation ON message(conversation_id, id);
CREATE INDEX message_parent ON message(parent_id);
CREATE TABLE response (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL UNIQUE REFERENCES message(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    tool_calls TEXT NOT NULL DEFAULT '[]',
    tool_status TEXT NOT NULL DEFAULT '{}',
    finish_reason TEXT,
    usage TEXT,
    model TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX response_unfinished ON response(status) WHERE status IN ('pending', 'streaming');
CREATE TABLE response_chunk (
    id INTEGER PRIMARY KEY,
    response_id INTEGER NOT NULL REFERENCES response(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX response_chunk_response ON response_chunk(response_id, id);
CREATE TABLE tool_execution (
    id INTEGER PRIMARY KEY,
    response_id INTEGER NOT NULL REFERENCES response(id) ON DELETE CASCADE,
    call_id TEXT NOT NULL,
    name TEXT NOT NULL,
    arguments TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    round INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE INDEX tool_execution_response ON tool_execution(response_id, id);
"""

_V2_SEARCH = """
CREATE VIRTUAL TABLE message_fts USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER message_fts_forget AFTER DELETE ON message BEGIN
    DELETE FROM message_fts WHERE rowid = old.id;
END;
INSERT INTO message_fts(rowid, text)
    SELECT id, content FROM message WHERE role != 'assistant' AND content != '';
INSERT INTO message_fts(rowid, text)
    SELECT message_id, text FROM response
    WHERE status NOT IN ('pending', 'streaming') AND text != '';
"""

# FTS5 cannot add prefix indexes to an existing table: rebuild it (same rule as step 2's backfill).
_V3_SEARCH_PREFIXES = """
DROP TABLE message_fts;
CREATE VIRTUAL TABLE message_fts USING fts5(text, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO message_fts(rowid, text)
    SELECT id, content FROM message WHERE role != 'assistant' AND content != '';
INSERT INTO message_fts(rowid, text)
    SELECT message_id, text FROM response
    WHERE status NOT IN ('pending', 'streaming') AND text != '';
"""


def _script(sql: str) -> Callable[[peewee.SqliteDatabase], None]:
    def apply(db: peewee.SqliteDatabase) -> None:
        for statement in _statements(sql):
            db.execute_sql(statement)

    return apply


def _statements(sql: str) -> list[str]:
    """Split a script on `;` at line ends, keeping trigger bodies (BEGIN ... END;) whole."""
    out: list[str] = []
    buf: list[str] = []
    depth = 0
    for line in sql.strip().splitlines():
        buf.append(line)
        stripped = line.strip().upper()
        if stripped.endswith("BEGIN"):
            depth += 1
        if stripped.endswith(";"):
            if stripped == "END;":
                depth -= 1
            if depth == 0:
                out.append("\n".join(buf))
                buf = []
    return out


@dataclass(frozen=True, slots=True)
class Migration:
    """One released step of the schema."""

    version: int
    description: str
    apply: Callable[[peewee.SqliteDatabase], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "conversations, messages, response documents, tool executions, providers", _script(_V1_CORE)
    ),
    Migration(2, "full-text search over completed messages", _script(_V2_SEARCH)),
    Migration(3, "prefix indexes (2 and 3 characters) for search", _script(_V3_SEARCH_PREFIXES)),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def check_versions(path: Path) -> int | None:
    """The schema version of `path` (its WAL's if newer there), read without writing anything.

    Raises NewerSchemaError for a file written by a newer desktop_chat, CorruptDatabaseError for one
    that is not SQLite. None for a missing or empty file.
    """
    version = header_user_version(path)
    # A version committed to the WAL but not yet checkpointed is the live one: refusing only after
    # opening read-write would checkpoint that WAL into the file on close.
    wal_version = wal_user_version(path)
    if wal_version is not None:
        version = wal_version
    if version is not None and version > SCHEMA_VERSION:
        raise NewerSchemaError(path, version, SCHEMA_VERSION)
    return version


class MigrationError(StoreError):
    """A backup or an upgrade step failed; the file is left at the last whole version."""

    def __init__(self, path: Path, reached: int, target: int, detail: str, backup: Path | None) -> None:
        self.path, self.reached, self.target, self.backup = path, reached, target, backup
        where = f"A copy of the file from before the upgrade is at {backup}." if backup else ""
        super().__init__(
            f"The database {path} could not be upgraded to schema version {target} ({detail}). "
            f"It is left at schema version {reached}. {where}".strip()
        )


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What opening the store did to the schema."""

    from_version: int
    to_version: int
    backup_path: Path | None


def backup_path_for(db_path: Path, from_version: int) -> Path:
    """A fresh, never-overwritten name next to the database for the pre-migration copy.

    `desktop_chat.sqlite3.backup-v2-20261125-120000`: it sorts beside the database it copies, and does not
    end in `.sqlite3`, so the data dir still holds exactly one database file.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = db_path.with_name(f"{db_path.name}.backup-v{from_version}-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = db_path.with_name(f"{db_path.name}.backup-v{from_version}-{stamp}-{n}")
    return candidate


def migrate(
    db: peewee.SqliteDatabase,
    db_path: Path,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> MigrationReport:
    """Apply every step above the file's version, after writing a backup copy if it holds data."""
    current = read_user_version(db)
    target = migrations[-1].version
    if current >= target:
        return MigrationReport(current, current, None)
    backup: Path | None = None
    if current > 0:
        backup = backup_path_for(db_path, current)
        try:
            db.execute_sql("VACUUM INTO ?", (str(backup),))
        except peewee.DatabaseError as exc:
            raise MigrationError(db_path, current, target, f"no backup copy: {exc}", None) from exc
        log.warning(
            "Upgrading the database from schema %d to %d; a copy of the old file is at %s",
            current,
            target,
            backup,
        )
    for step in migrations:
        if step.version <= current:
            continue
        try:
            with db.atomic():
                step.apply(db)
                db.execute_sql(f"PRAGMA user_version = {int(step.version)}")
        except Exception as exc:
            try:
                reached = read_user_version(db)
            except peewee.DatabaseError:
                reached = step.version - 1
            log.exception("Schema migration %d failed; the database stays at %d", step.version, reached)
            detail = f"step {step.version} failed: {type(exc).__name__}: {exc}"
            raise MigrationError(db_path, reached, target, detail, backup) from exc
        log.info("Applied schema migration %d: %s", step.version, step.description)
    return MigrationReport(current, target, backup)
