"""Online backups, checked restores and daily automatic backups (storage/backup.py)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from desktop_chat.storage import SCHEMA_VERSION, CorruptDatabaseError, NewerSchemaError, Store, open_store
from desktop_chat.storage.backup import (
    BackupError,
    DatabaseInUseError,
    auto_backup,
    auto_backup_name,
    automatic_backups,
    backup_to,
    exclusive,
    restore_from,
)
from tests.helpers.db_files import titles


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _make_db(path: Path, *conversation_titles: str) -> None:
    store = open_store(path)
    for title in conversation_titles:
        conv = store.repo.create_conversation(title)
        store.repo.add_message(conv.id, f"text of {title}")
    store.close()


def _wal_pair(live: Path, target: Path, checkpointed: str, wal_only: str) -> None:
    """`target` (+ -wal) as a crash leaves it: `wal_only` committed to the WAL, not to the file."""
    _make_db(live, checkpointed)
    writer = open_store(live)
    writer.db.execute_sql("PRAGMA wal_autocheckpoint = 0")
    writer.repo.create_conversation(wal_only)
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{live}{suffix}", f"{target}{suffix}")
    writer.close()


def _integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def test_backup_while_another_connection_writes(store: Store, tmp_path: Path) -> None:
    conv = store.repo.create_conversation("busy")
    for i in range(200):
        store.repo.add_message(conv.id, f"seed message {i} " + "padding " * 50)
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        conn = sqlite3.connect(store.path, timeout=10, isolation_level=None)
        try:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO conversation (uuid, title, created_at, updated_at, pinned, archived, "
                    "model, params) VALUES (?, ?, 0, 0, 0, 0, '', '{}')",
                    (f"w-{len(written)}", f"written {len(written)}"),
                )
                written.append(1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        steps: list[tuple[int, int]] = []
        results = [
            backup_to(store.path, tmp_path / f"copy-{i}.sqlite3", progress=lambda d, t: steps.append((d, t)))
            for i in range(3)
        ]
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert len(written) > 0, "the writer kept writing during the backups"
    for result in results:
        assert result.schema_version == SCHEMA_VERSION
        assert _integrity(result.path) == ["ok"]
        assert not Path(f"{result.path}-wal").exists(), "a backup is one self-contained file"
        assert "busy" in titles(result.path)
        reopened = open_store(result.path)
        assert len(reopened.repo.list_messages(conv.id).items) == 200
        reopened.close()
    assert steps
    assert steps[-1][0] == steps[-1][1], "progress ends at done == total"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary files left"


def test_backup_from_an_open_connection(store: Store, tmp_path: Path) -> None:
    store.repo.create_conversation("from the connection")
    conn = store.db.connection()
    result = backup_to(conn, tmp_path / "b.sqlite3")
    assert titles(result.path) == ["from the connection"]


def test_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="There is no database"):
        backup_to(tmp_path / "none.sqlite3", tmp_path / "b.sqlite3")
    assert not (tmp_path / "b.sqlite3").exists()


def test_backup_refuses_a_newer_database(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _make_db(db, "a")
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerSchemaError):
        backup_to(db, tmp_path / "b.sqlite3")
    assert not (tmp_path / "b.sqlite3").exists()


def test_restore_swaps_and_keeps_the_old_one_aside(tmp_path: Path) -> None:
    db = tmp_path / "data" / "desktop_chat.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    _make_db(tmp_path / "other.sqlite3", "from the backup")
    backup_to(tmp_path / "other.sqlite3", backup)
    backup_sha = _sha(backup)
    # the current database has changes only in its WAL (as after a crash): they must be kept aside too
    _wal_pair(tmp_path / "live" / "desktop_chat.sqlite3", db, "old one", "only in the wal")
    assert Path(f"{db}-wal").stat().st_size > 0
    result = restore_from(backup, db, now=datetime(2025, 1, 2, 3, 4, 5))
    assert result.previous == db.with_name("desktop_chat.sqlite3.before-restore-20250102-030405")
    assert titles(result.previous) == ["old one", "only in the wal"]
    assert titles(db) == ["from the backup"]
    assert result.schema_version == SCHEMA_VERSION
    assert not Path(f"{db}-wal").exists()
    assert _sha(backup) == backup_sha, "the backup itself is never written"
    reopened = open_store(db)
    assert [c.title for c in reopened.repo.list_conversations().items] == ["from the backup"]
    reopened.close()
    again = restore_from(backup, db, now=datetime(2025, 1, 2, 3, 4, 5))
    assert again.previous is not None
    assert again.previous != result.previous, "a second restore in the same second keeps both"


def test_restore_into_an_empty_data_dir(tmp_path: Path) -> None:
    _make_db(tmp_path / "b.sqlite3", "restored")
    db = tmp_path / "new" / "desktop_chat.sqlite3"
    result = restore_from(tmp_path / "b.sqlite3", db)
    assert result.previous is None
    assert titles(db) == ["restored"]


def _unchanged(data: Path) -> dict[str, str]:
    return {p.name: _sha(p) for p in sorted(data.iterdir()) if p.is_file()}


def test_a_corrupt_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "desktop_chat.sqlite3"
    _make_db(db, "keep me")
    before = _unchanged(data)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"definitely not a database\n" * 100)
    with pytest.raises(CorruptDatabaseError, match="cannot be read"):
        restore_from(garbage, db)
    # a real SQLite header with damaged pages behind it
    damaged = tmp_path / "damaged.sqlite3"
    _make_db(damaged, *(f"c{i}" for i in range(50)))
    raw = bytearray(damaged.read_bytes())
    raw[4096 * 2 : 4096 * 4] = b"\xff" * (4096 * 2)
    damaged.write_bytes(bytes(raw))
    with pytest.raises(CorruptDatabaseError):
        restore_from(damaged, db)
    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (x)")
    conn.close()
    with pytest.raises(CorruptDatabaseError, match="not a desktop_chat database"):
        restore_from(foreign, db)
    assert _unchanged(data) == before
    assert titles(db) == ["keep me"]


def test_a_newer_schema_backup_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "desktop_chat.sqlite3"
    _make_db(db, "keep me")
    newer = tmp_path / "newer.sqlite3"
    _make_db(newer, "from the future")
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _unchanged(data)
    with pytest.raises(NewerSchemaError, match=f"schema version {SCHEMA_VERSION + 1}"):
        restore_from(newer, db)
    assert _unchanged(data) == before


def test_restore_refuses_while_the_database_is_open(store: Store, tmp_path: Path) -> None:
    store.repo.create_conversation("in use")
    _make_db(tmp_path / "b.sqlite3", "backup")
    with pytest.raises(DatabaseInUseError, match="in use by another program"):
        restore_from(tmp_path / "b.sqlite3", store.path)
    assert [c.title for c in store.repo.list_conversations().items] == ["in use"]
    assert not list(store.path.parent.glob("*.before-restore-*"))


def test_exclusive_keeps_others_out(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _make_db(db, "x")
    with exclusive(db) as held:
        assert held is not None
        other = sqlite3.connect(db, timeout=0.1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("SELECT count(*) FROM conversation").fetchone()
        other.close()
    assert titles(db) == ["x"]


def test_auto_backup_writes_once_a_day_and_keeps_n(tmp_path: Path) -> None:
    db = tmp_path / "desktop_chat.sqlite3"
    _make_db(db, "daily")
    folder = tmp_path / "backups"
    start = datetime(2025, 3, 1, 9, 0)
    first = auto_backup(db, folder, 3, now=start)
    assert first == folder / "desktop_chat-2025-03-01.sqlite3"
    assert auto_backup(db, folder, 3, now=start + timedelta(hours=5)) is None, "once per day"
    for day in range(1, 6):
        auto_backup(db, folder, 3, now=start + timedelta(days=day))
    names = [p.name for p in automatic_backups(folder)]
    assert names == [auto_backup_name((start + timedelta(days=d)).date()) for d in (3, 4, 5)]
    (folder / "my-own-copy.sqlite3").write_text("not touched")
    auto_backup(db, folder, 1, now=start + timedelta(days=6))
    assert [p.name for p in automatic_backups(folder)] == ["desktop_chat-2025-03-07.sqlite3"]
    assert (folder / "my-own-copy.sqlite3").exists(), "only automatic backups are pruned"
    assert titles(folder / "desktop_chat-2025-03-07.sqlite3") == ["daily"]


def test_auto_backup_without_a_database_does_nothing(tmp_path: Path) -> None:
    assert auto_backup(tmp_path / "none.sqlite3", tmp_path / "backups", 7) is None
    assert not (tmp_path / "backups").exists()
