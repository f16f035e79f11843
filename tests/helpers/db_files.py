"""Database files on disk for tests: one written by this version, its header's version changed, titles read
back without the app."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_chat.storage import open_store


def current_database(path: Path) -> None:
    """A database at `path` written by this version: one conversation with one message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(path)
    conv = store.repo.create_conversation("written by this version")
    store.repo.add_message(conv.id, "my precious history")
    store.close()


def set_user_version(path: Path, version: int) -> None:
    """Write `version` as the file's user_version, checkpointed into the main file (its header)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def titles(path: Path) -> list[str]:
    """The conversations' titles in the file at `path`, in id order, read-only."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT title FROM conversation ORDER BY id")]
    finally:
        conn.close()
