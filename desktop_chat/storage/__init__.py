"""The local store: one SQLite file, opened safely, migrated forward, queried only through `Repo`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import peewee

from desktop_chat.storage.db import (
    CorruptDatabaseError,
    NewerSchemaError,
    StoreError,
    connect,
    database_path,
    read_user_version,
)
from desktop_chat.storage.migrations import (
    SCHEMA_VERSION,
    MigrationError,
    MigrationReport,
    check_versions,
    migrate,
)
from desktop_chat.storage.repo import NotFoundError, Repo

__all__ = [
    "SCHEMA_VERSION",
    "CorruptDatabaseError",
    "MigrationError",
    "NewerSchemaError",
    "NotFoundError",
    "Repo",
    "Store",
    "StoreError",
    "database_path",
    "open_store",
]

log = logging.getLogger(__name__)


@dataclass
class Store:
    """An open database with its repo, and what opening it did."""

    path: Path
    db: peewee.SqliteDatabase
    repo: Repo
    migration: MigrationReport
    recovered: list[int] = field(default_factory=list)

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close the connection."""
        if self.db.is_closed():
            return
        try:
            self.db.execute_sql("PRAGMA optimize")
            self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except peewee.DatabaseError as exc:  # closing must still happen
            log.warning("Could not checkpoint %s on close: %s", self.path, exc)
        self.db.close()


def open_store(path: Path, *, recover: bool = True) -> Store:
    """Open (creating if needed) the database at `path`, refuse newer or unreadable files untouched,
    back up and migrate older ones, and mark answers left unfinished by a crash as interrupted."""
    check_versions(path)  # before opening: refusing afterwards would checkpoint a newer WAL
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    try:
        db.connect()
        live_version = read_user_version(db)  # includes changes still in the WAL
        if live_version > SCHEMA_VERSION:
            raise NewerSchemaError(path, live_version, SCHEMA_VERSION)
        report = migrate(db, path)
        repo = Repo(db)
        recovered = repo.recover_unfinished() if recover else []
    except StoreError:
        db.close()
        raise
    except peewee.DatabaseError as exc:
        db.close()
        raise CorruptDatabaseError(path, str(exc)) from exc
    return Store(path, db, repo, report, recovered)
