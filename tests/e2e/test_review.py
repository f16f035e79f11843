"""`--review FILE`: the real app over a temporary copy; FILE (and its -wal) never change."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from desktop_chat.storage import SCHEMA_VERSION, open_store
from tests.helpers.proc import app_env, run_app

pytestmark = pytest.mark.e2e


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _review(file: Path, *extra: str) -> tuple[int, str]:
    proc = run_app(["--review", str(file), "--quit-after", "1", "--debug", *extra], env=app_env(), timeout=60)
    return proc.returncode, proc.stderr


def _copy_dir(stderr: str) -> Path:
    match = re.search(r"read-only \(a copy at (\S+)\)", stderr)
    assert match, stderr[-3000:]
    return Path(match.group(1)).parent


def test_review_of_a_database_with_a_live_wal_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "history" / "desktop_chat.sqlite3"
    store = open_store(db)
    conv = store.repo.create_conversation("checkpointed")
    store.repo.add_message(conv.id, "in the main file")
    profile = store.repo.add_profile("Cloud", "https://example.invalid/v1", "gpt-x")
    store.repo.update_conversation(conv.id, profile_id=profile.id, model="gpt-x")
    store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    # From here on, this connection stays open and never checkpoints: new rows live only in the -wal.
    store.db.execute_sql("PRAGMA wal_autocheckpoint = 0")
    for i in range(3):
        c = store.repo.create_conversation(f"only in the wal {i}")
        store.repo.add_message(c.id, f"recent message {i}")
    wal = Path(f"{db}-wal")
    try:
        assert wal.stat().st_size > 0
        assert b"only in the wal" not in db.read_bytes()
        assert b"only in the wal" in wal.read_bytes()
        before = {p.name: _sha(p) for p in (db, wal)}
        code, stderr = _review(db)
        after = {p.name: _sha(p) for p in (db, wal)}
        beside = sorted(p.name for p in db.parent.iterdir())
    finally:
        store.db.close()
    assert code == 0, stderr[-3000:]
    assert after == before, "the file and its -wal are byte for byte as they were"
    assert f"Reviewing {db} read-only" in stderr
    assert ": 4 conversation(s)" in stderr, "the rows only in the WAL are seen"
    assert "Automatic backup" not in stderr, "a review writes no backups"
    assert "Traceback" not in stderr
    assert not _copy_dir(stderr).exists(), "the temporary copy is removed at quit"
    assert not list(db.parent.glob("*.before-*")), "nothing written beside the file"
    assert beside == ["desktop_chat.sqlite3", "desktop_chat.sqlite3-shm", "desktop_chat.sqlite3-wal"]
    # the original still has its provider: only the copy lost it
    reopened = open_store(db)
    assert [p.name for p in reopened.repo.list_profiles().items] == ["Cloud"]
    reopened.close()


def test_review_of_a_backup_leaves_it_alone(tmp_path: Path) -> None:
    from desktop_chat.storage.backup import backup_to

    db = tmp_path / "desktop_chat.sqlite3"
    store = open_store(db)
    store.repo.create_conversation("backed up")
    store.close()
    backup = backup_to(db, tmp_path / "b.sqlite3").path
    before = _sha(backup)
    code, stderr = _review(backup)
    assert code == 0, stderr[-3000:]
    assert ": 1 conversation(s)" in stderr
    assert _sha(backup) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.sqlite3", "desktop_chat.sqlite3"]


def test_review_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite3"
    proc = run_app(["--review", str(missing), "--quit-after", "1"], timeout=60)
    assert proc.returncode == 2
    assert f"--review: there is no file {missing}" in proc.stderr
    assert not missing.exists()


def test_review_refuses_a_newer_database_untouched(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "future.sqlite3"
    open_store(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _sha(db)
    code, stderr = _review(db)
    assert code == 3
    assert f"The database {db} uses schema version {SCHEMA_VERSION + 1}" in stderr
    assert _sha(db) == before


def test_review_refuses_a_file_that_is_neither(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("just some notes\n")
    code, stderr = _review(notes)
    assert code == 3
    assert "neither a desktop_chat database nor a JSON export" in stderr
    assert notes.read_text() == "just some notes\n"


def test_review_of_a_json_export(tmp_path: Path) -> None:
    export = pytest.importorskip("desktop_chat.interchange.json_writer")
    pytest.importorskip("desktop_chat.interchange.importers")
    db = tmp_path / "desktop_chat.sqlite3"
    store = open_store(db)
    for title in ("first", "second"):
        c = store.repo.create_conversation(title)
        store.repo.add_message(c.id, f"text of {title}")
    exported = tmp_path / "export.json"
    export.export_json(store.repo, None, exported)
    store.close()
    before = _sha(exported)
    code, stderr = _review(exported)
    assert code == 0, stderr[-3000:]
    assert ": 2 conversation(s)" in stderr
    assert _sha(exported) == before
    assert not _copy_dir(stderr).exists()
