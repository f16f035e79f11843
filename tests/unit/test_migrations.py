"""Opening databases written by every released schema, and refusing the ones this version cannot use.

The fixtures in tests/fixtures are what each released schema version wrote (see make_schema_fixtures.py);
they are copied to a tmp dir before opening, never opened in place.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee
import pytest

import desktop_chat.storage as storage_pkg
from desktop_chat.domain import ResponseStatus, Role, ToolCall, ToolStatus, Usage, from_timestamp
from desktop_chat.storage import (
    SCHEMA_VERSION,
    CorruptDatabaseError,
    MigrationError,
    NewerSchemaError,
    Repo,
    Store,
    open_store,
)
from desktop_chat.storage import migrations as migrations_mod
from desktop_chat.storage.db import (
    connect,
    header_user_version,
    integrity_errors,
    read_user_version,
    wal_user_version,
)
from desktop_chat.storage.migrations import MIGRATIONS, Migration, migrate
from desktop_chat.storage.repo import INTERRUPTED_ERROR
from tests.helpers.db_files import current_database, set_user_version

FIXTURES = Path(__file__).parents[1] / "fixtures"
_FIXTURE_NAME = re.compile(r"schema_v(\d+)\.sqlite3")
FIXTURE_FILES = sorted(FIXTURES.glob("schema_v*.sqlite3"))
SIDECARS = ("-wal", "-shm", "-journal")
T0 = 1_700_000_000.0  # the fixtures' clock

# The text of the answer left streaming in every fixture: compacted part + uncompacted chunk rows.
STREAMED_ROW_TEXT = "Giraffes nap with their ossicones resting "
STREAMED_CHUNK_TEXT = "on their rump, under an acacia — kaum 30 Minuten am Tag ⏱"
STREAMED_REASONING = "Giraffen schlafen wenig; kurz antworten."


def _version_of(fixture: Path) -> int:
    m = _FIXTURE_NAME.fullmatch(fixture.name)
    assert m, fixture
    return int(m.group(1))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(directory: Path) -> dict[str, str]:
    """Every file in a dir with its hash: a refused database must leave this exactly as it was."""
    return {p.name: _sha256(p) for p in sorted(directory.iterdir()) if p.is_file()}


def _schema(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall())


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file (no -shm, no journal: for rollback-mode files)."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def _fresh_schema(tmp_path: Path, version: int) -> list[tuple[Any, ...]]:
    """The schema that migrations 1..version create today on an empty file."""
    path = tmp_path / f"fresh-v{version}" / "x.sqlite3"
    path.parent.mkdir()
    db = connect(path)
    db.connect()
    try:
        migrate(db, path, MIGRATIONS[:version])
        return _schema(db.connection())
    finally:
        db.close()


def _copy_fixture(fixture: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data" / "desktop_chat.sqlite3"
    target.parent.mkdir(parents=True)
    shutil.copyfile(fixture, target)
    return target


def _backups(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.backup-*"))


def _ids(hits: Any) -> list[int]:
    return sorted(h.message_id for h in hits.items)


def _assert_history(store: Store) -> None:
    """Everything the fixtures hold, read back through the repo after opening (and recovery)."""
    repo = store.repo
    profiles = repo.list_profiles()
    assert profiles.skipped == []
    assert [(p.id, p.name, p.base_url, p.headers, p.needs_key) for p in profiles.items] == [
        (1, "Local llama", "http://127.0.0.1:8080/v1", {"X-Title": "desktop_chat"}, False)
    ]

    listed = repo.list_conversations(include_archived=True)
    assert listed.skipped == []
    assert [(c.id, c.title, c.pinned, c.archived) for c in listed.items] == [
        (1, "Sleep of animals: Zebra, Giraffe 🦒 — café", True, False),
        (2, "Archiviertes Gespräch über Quokkas", False, True),
    ]
    assert [c.id for c in repo.list_conversations().items] == [1]
    conv = repo.get_conversation(1)
    assert (conv.profile_id, conv.model, conv.system_prompt, conv.params, conv.active_leaf_id) == (
        1,
        "llama-3.1-8b",
        "Answer briefly.",
        {"temperature": 0.2},
        6,
    )
    assert conv.created_at == from_timestamp(T0 + 1)

    page = repo.list_messages(1)
    assert page.skipped == []
    messages = {m.id: m for m in page.items}
    assert [(m.id, m.parent_id, m.role, m.text) for m in page.items] == [
        (1, None, Role.USER, "How do zebras sleep? 🦓"),
        (
            2,
            1,
            Role.ASSISTANT,
            "Zebras doze standing up and sleep lying down in unihemispheric bursts — très court. ✅",
        ),
        (3, 2, Role.USER, "Und Giraffen? Schlafen sie auch im Stehen?"),
        (4, 2, Role.USER, "What about okapis instead?"),
        (5, 4, Role.ASSISTANT, "Okapis sleep lying down, about five minutes at a time."),
        (6, 3, Role.ASSISTANT, STREAMED_ROW_TEXT + STREAMED_CHUNK_TEXT),
    ]
    assert sorted(m.id for m in page.items if m.parent_id == 2) == [3, 4], "the branch survives"
    assert messages[1].created_at == from_timestamp(T0 + 10)

    done = messages[2].response
    assert done is not None
    assert done.status is ResponseStatus.DONE
    assert done.usage == Usage(12, 34, 46, 7)
    assert done.reasoning == "The user asks about zebra sleep; a search helps."
    assert done.tool_calls == (ToolCall("call_1", "web_search", '{"q": "zebra sleep"}'),)
    assert done.tool_status == {"call_1": ToolStatus.SUCCEEDED}
    assert (done.finish_reason, done.model, done.provider, done.error) == (
        "stop",
        "llama-3.1-8b",
        "Local llama",
        None,
    )
    assert done.finished_at == from_timestamp(T0 + 15)
    executions = repo.list_tool_executions(done.id)
    assert executions.skipped == []
    [execution] = executions.items
    assert (execution.call_id, execution.name, execution.status, execution.result) == (
        "call_1",
        "web_search",
        ToolStatus.SUCCEEDED,
        '{"hits": 3}',
    )
    assert execution.started_at == from_timestamp(T0 + 12.5)
    assert execution.finished_at == from_timestamp(T0 + 13)

    other = messages[5].response
    assert other is not None
    assert other.usage == Usage(5, 6, 11, 0)

    # The answer the crash left streaming: interrupted, its text (row + chunk rows) and reasoning kept.
    cut = messages[6].response
    assert cut is not None
    assert cut.status is ResponseStatus.INTERRUPTED
    assert cut.text == STREAMED_ROW_TEXT + STREAMED_CHUNK_TEXT
    assert cut.reasoning == STREAMED_REASONING
    assert cut.error == INTERRUPTED_ERROR
    assert cut.finished_at is not None
    assert cut.tool_calls == (ToolCall("call_2", "clock", "{}"),)
    assert cut.tool_status == {"call_2": ToolStatus.CANCELLED}, "no tool is shown running forever"
    [stopped_tool] = repo.list_tool_executions(cut.id).items
    assert stopped_tool.status is ToolStatus.CANCELLED
    assert stopped_tool.error
    count = store.db.execute_sql("SELECT count(*) FROM response_chunk").fetchone()[0]
    assert count == 0, "compacted"

    archived = repo.list_messages(2).items
    assert [(m.id, m.role, m.text) for m in archived] == [
        (7, Role.USER, "Warum lächeln Quokkas? 日本語でも説明して"),
        (8, Role.ASSISTANT, "Quokkas sehen wegen ihrer Maulform so aus, als lächelten sie. 笑顔に見えます。"),
        (9, Role.USER, "Und Wombats?"),
        (10, Role.ASSISTANT, ""),
    ]
    assert archived[1].response is not None
    assert archived[1].response.usage is None
    pending = archived[3].response
    assert pending is not None
    assert (pending.status, pending.text, pending.error) == (
        ResponseStatus.INTERRUPTED,
        "",
        INTERRUPTED_ERROR,
    )

    # Search: every complete message of the old data, and the recovered answers, once each.
    indexed = [r[0] for r in store.db.execute_sql("SELECT rowid FROM message_fts ORDER BY rowid")]
    assert indexed == [1, 2, 3, 4, 5, 6, 7, 8, 9], "message 10 has no text to index"
    assert _ids(repo.search("unihemispheric")) == [2]
    assert _ids(repo.search("tres")) == [2], "diacritics folded"
    assert _ids(repo.search("zebra*")) == [1, 2]
    assert _ids(repo.search("okapis")) == [4, 5]
    assert _ids(repo.search("quokkas")) == [7, 8], "archived conversations are searchable"
    assert _ids(repo.search("ossicones")) == [6], "interrupted text is indexed at recovery"
    assert _ids(repo.search("acacia")) == [6], "including the part that was still in chunk rows"
    assert _ids(repo.search("wenig")) == [], "reasoning is not indexed"


def _assert_sound(store: Store) -> None:
    assert integrity_errors(store.db) == []
    assert store.db.execute_sql("PRAGMA foreign_key_check").fetchall() == []


# ---- the fixtures themselves ----------------------------------------------------------------------


def test_every_schema_version_has_a_fixture() -> None:
    """Adding migration N without committing tests/fixtures/schema_vN.sqlite3 fails here."""
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1)), "steps are 1..N"
    found = sorted(_version_of(f) for f in FIXTURE_FILES)
    assert found == list(range(1, SCHEMA_VERSION + 1)), (
        f"fixtures for {found}, schema versions 1..{SCHEMA_VERSION}: "
        "run tests/fixtures/make_schema_fixtures.py and commit the new file"
    )


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_is_exactly_what_its_version_wrote(fixture: Path, tmp_path: Path) -> None:
    """One self-contained file, at its version, with the schema migrations 1..N still create today
    (so editing a released migration fails here instead of silently diverging from users' files)."""
    version = _version_of(fixture)
    for suffix in SIDECARS:
        assert not Path(f"{fixture}{suffix}").exists(), suffix
    header = fixture.read_bytes()[:100]
    assert header_user_version(fixture) == version
    assert (header[18], header[19]) == (1, 1), "rollback journal mode, not WAL: no sidecar files needed"
    conn = _read_only(fixture)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert _schema(conn) == _fresh_schema(tmp_path, version)
        statuses = dict(conn.execute("SELECT status, count(*) FROM response GROUP BY status").fetchall())
        assert statuses == {"done": 3, "streaming": 1, "pending": 1}
        assert conn.execute("SELECT count(*) FROM response_chunk").fetchone()[0] == 5
    finally:
        conn.close()


# ---- migrating forward ----------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: p.stem)
def test_old_database_migrates_forward_with_its_data(
    fixture: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    version = _version_of(fixture)
    path = _copy_fixture(fixture, tmp_path)
    caplog.set_level(logging.INFO)

    store = open_store(path)
    try:
        report = store.migration
        assert (report.from_version, report.to_version) == (version, SCHEMA_VERSION)
        assert read_user_version(store.db) == SCHEMA_VERSION
        assert store.recovered == [3, 5]
        _assert_history(store)
        _assert_sound(store)
        assert _schema(store.db.connection()) == _fresh_schema(tmp_path, SCHEMA_VERSION)
    finally:
        store.close()

    if version < SCHEMA_VERSION:
        backup = report.backup_path
        assert backup is not None
        assert backup.parent == path.parent
        assert backup.name.startswith(f"desktop_chat.sqlite3.backup-v{version}-")
        assert _backups(path.parent) == [backup]
        assert any(str(backup) in r.getMessage() for r in caplog.records), "the log says where"
        # the backup is the old file, whole: old version, old schema, old rows (still streaming)
        old, copy = _read_only(fixture), _read_only(backup)
        try:
            assert copy.execute("PRAGMA user_version").fetchone()[0] == version
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert _schema(copy) == _schema(old)
            for (table,) in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                if table.startswith("message_fts"):
                    continue  # FTS shadow tables: compared through the index's rowids below
                sql = f"SELECT * FROM {table} ORDER BY rowid"
                assert copy.execute(sql).fetchall() == old.execute(sql).fetchall(), table
            if version >= 2:
                sql = "SELECT rowid, text FROM message_fts ORDER BY rowid"
                assert copy.execute(sql).fetchall() == old.execute(sql).fetchall()
        finally:
            old.close()
            copy.close()
    else:
        assert report.backup_path is None
        assert _backups(path.parent) == []

    # Opening again changes nothing: no second backup, nothing left to recover.
    again = open_store(path)
    try:
        assert (again.migration.from_version, again.migration.to_version) == (SCHEMA_VERSION, SCHEMA_VERSION)
        assert again.migration.backup_path is None
        assert again.recovered == []
        _assert_history(again)
    finally:
        again.close()
    assert len(_backups(path.parent)) == (1 if version < SCHEMA_VERSION else 0)
    for suffix in SIDECARS:
        assert not Path(f"{path}{suffix}").exists(), f"{suffix} checkpointed away on close"


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: p.stem)
def test_text_left_streaming_is_searchable_only_once_recovered(fixture: Path, tmp_path: Path) -> None:
    path = _copy_fixture(fixture, tmp_path)
    store = open_store(path, recover=False)
    try:
        assert store.recovered == []
        assert _ids(store.repo.search("unihemispheric")) == [2]
        assert _ids(store.repo.search("ossicones")) == [], "a streaming answer is not indexed yet"
        assert store.repo.get_message(6).response is not None
        live = store.repo.get_response(3)
        assert (live.status, live.text) == (ResponseStatus.STREAMING, STREAMED_ROW_TEXT + STREAMED_CHUNK_TEXT)
        assert store.repo.recover_unfinished() == [3, 5]
        assert _ids(store.repo.search("ossicones")) == [6]
    finally:
        store.close()


def test_empty_file_is_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "desktop_chat.sqlite3"
    path.touch()
    store = open_store(path)
    try:
        assert (store.migration.from_version, store.migration.to_version) == (0, SCHEMA_VERSION)
        assert store.migration.backup_path is None
        assert read_user_version(store.db) == SCHEMA_VERSION
        assert store.repo.list_conversations().items == []
        _assert_sound(store)
    finally:
        store.close()
    assert _backups(tmp_path) == []


# ---- a step that fails --------------------------------------------------------------------------


def _breaks_halfway(db: peewee.SqliteDatabase) -> None:
    db.execute_sql("CREATE TABLE half_done (x INTEGER)")
    db.execute_sql("INSERT INTO half_done VALUES (1)")
    db.execute_sql("UPDATE conversation SET title = 'clobbered'")
    raise RuntimeError("boom in step")


BROKEN = (*MIGRATIONS, Migration(SCHEMA_VERSION + 1, "breaks halfway", _breaks_halfway))


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_failing_step_leaves_the_last_whole_version_and_the_backup(tmp_path: Path) -> None:
    path = _copy_fixture(FIXTURES / "schema_v1.sqlite3", tmp_path)
    db = connect(path)
    db.connect()
    try:
        with pytest.raises(MigrationError) as info:
            migrate(db, path, BROKEN)
        assert read_user_version(db) == SCHEMA_VERSION, "the steps before the broken one are kept"
    finally:
        db.close()
    err = info.value
    assert (err.reached, err.target) == (SCHEMA_VERSION, SCHEMA_VERSION + 1)
    assert isinstance(err.__cause__, RuntimeError)
    assert err.backup is not None
    assert err.backup.exists()
    assert _backups(path.parent) == [err.backup]
    message = str(err)
    for part in ("boom in step", str(err.backup), f"schema version {SCHEMA_VERSION}", str(path)):
        assert part in message
    conn = sqlite3.connect(path)
    try:
        assert "half_done" not in _tables(conn), "the broken step was rolled back whole"
        assert conn.execute("SELECT title FROM conversation WHERE id = 1").fetchone()[0] != "clobbered"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    backup = _read_only(err.backup)
    try:
        assert backup.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        backup.close()


def test_open_store_reports_a_failing_step_and_lets_go_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy_fixture(FIXTURES / f"schema_v{SCHEMA_VERSION}.sqlite3", tmp_path)
    monkeypatch.setattr(storage_pkg, "migrate", functools.partial(migrate, migrations=BROKEN))
    monkeypatch.setattr(storage_pkg, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(MigrationError, match="boom in step") as info:
        open_store(path)
    assert info.value.backup is not None
    assert f"backup-v{SCHEMA_VERSION}-" in info.value.backup.name
    assert "has not been changed" not in str(info.value)
    for suffix in SIDECARS:
        assert not Path(f"{path}{suffix}").exists(), "the connection was closed (WAL checkpointed away)"
    assert header_user_version(path) == SCHEMA_VERSION


def test_no_step_runs_without_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _copy_fixture(FIXTURES / "schema_v1.sqlite3", tmp_path)
    monkeypatch.setattr(
        migrations_mod, "backup_path_for", lambda *_a: tmp_path / "no such dir" / "backup.sqlite3"
    )
    with pytest.raises(MigrationError, match="no backup copy") as info:
        open_store(path)
    assert info.value.reached == 1
    assert header_user_version(path) == 1, "not migrated"
    conn = _read_only(path)
    try:
        assert "message_fts" not in _tables(conn)
    finally:
        conn.close()


# ---- refusing newer and unreadable files ----------------------------------------------------------


def _assert_refused_untouched(path: Path, found: int) -> None:
    before = _snapshot(path.parent)
    with pytest.raises(NewerSchemaError) as info:
        open_store(path)
    assert (info.value.found, info.value.supported) == (found, SCHEMA_VERSION)
    message = str(info.value)
    assert f"schema version {found}" in message
    assert f"up to {SCHEMA_VERSION}" in message
    assert _snapshot(path.parent) == before, "not one byte written, no file created or removed"


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "data" / "desktop_chat.sqlite3"
    current_database(path)
    set_user_version(path, SCHEMA_VERSION + 1)
    assert sorted(p.name for p in path.parent.iterdir()) == ["desktop_chat.sqlite3"]
    _assert_refused_untouched(path, SCHEMA_VERSION + 1)


@pytest.mark.parametrize("with_shm", [True, False], ids=["wal+shm", "wal-only"])
def test_newer_schema_still_in_the_wal_is_refused_and_left_untouched(tmp_path: Path, with_shm: bool) -> None:
    """A newer app that crashed (or still runs) may have its version only in the -wal file."""
    source = tmp_path / "live" / "desktop_chat.sqlite3"
    current_database(source)
    writer = sqlite3.connect(source, isolation_level=None)
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("CREATE TABLE from_the_future (x)")
        writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        for suffix in ("", "-wal", "-shm") if with_shm else ("", "-wal"):
            shutil.copyfile(f"{source}{suffix}", crashed / f"desktop_chat.sqlite3{suffix}")
    finally:
        writer.close()
    path = crashed / "desktop_chat.sqlite3"
    assert header_user_version(path) == SCHEMA_VERSION, "the header does not know yet"
    probe = tmp_path / "probe"
    shutil.copytree(crashed, probe)
    conn = sqlite3.connect(probe / path.name)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1, "SQLite sees it"
    finally:
        conn.close()
    _assert_refused_untouched(path, SCHEMA_VERSION + 1)


def test_wal_version_follows_sqlites_rules_for_torn_and_damaged_frames(tmp_path: Path) -> None:
    """`wal_user_version` agrees with SQLite itself on which WAL frames count."""
    source = tmp_path / "live" / "desktop_chat.sqlite3"
    current_database(source)
    writer = sqlite3.connect(source, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("PRAGMA user_version = 41")
        writer.execute("PRAGMA user_version = 42")
        main, wal = source.read_bytes(), Path(f"{source}-wal").read_bytes()
    finally:
        writer.close()
    page = int.from_bytes(wal[8:12], "big")
    damaged = bytearray(wal)
    damaged[-page // 2] ^= 0xFF
    resalted = bytearray(wal)
    resalted[16] ^= 0xFF
    variants = {
        "intact": (wal, 42),
        "last frame torn": (wal[:-100], 41),
        "last frame damaged": (bytes(damaged), 41),
        "header salt changed": (bytes(resalted), None),
        "empty": (b"", None),
    }
    for name, (wal_bytes, expected) in variants.items():
        for role in ("ours", "sqlite"):
            d = tmp_path / f"{name}-{role}".replace(" ", "_")
            d.mkdir()
            (d / "x.sqlite3").write_bytes(main)
            Path(f"{d / 'x.sqlite3'}-wal").write_bytes(wal_bytes)
        assert wal_user_version(tmp_path / f"{name}-ours".replace(" ", "_") / "x.sqlite3") == expected, name
        conn = sqlite3.connect(tmp_path / f"{name}-sqlite".replace(" ", "_") / "x.sqlite3")
        try:
            seen = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
        assert seen == (SCHEMA_VERSION if expected is None else expected), name


def _half_of_a_database() -> bytes:
    return (FIXTURES / "schema_v1.sqlite3").read_bytes()[:10_000]


CORRUPT: dict[str, Callable[[], bytes]] = {
    "random bytes": lambda: random.Random(1).randbytes(8192),
    "a text file": lambda: b"These are my notes, not a database.\n" * 200,
    "sqlite magic then garbage": lambda: (
        b"SQLite format 3\x00" + bytes(48) + random.Random(2).randbytes(8128)
    ),
    "half of a database": _half_of_a_database,
}


@pytest.mark.parametrize("make", CORRUPT.values(), ids=CORRUPT.keys())
def test_unreadable_file_is_refused_and_left_untouched(tmp_path: Path, make: Callable[[], bytes]) -> None:
    path = tmp_path / "desktop_chat.sqlite3"
    path.write_bytes(make())
    before = _snapshot(tmp_path)
    with pytest.raises(CorruptDatabaseError) as info:
        open_store(path)
    assert str(path) in str(info.value)
    assert _snapshot(tmp_path) == before


def test_repo_reads_a_migrated_file_through_a_second_connection(tmp_path: Path) -> None:
    """The migrated file is usable by a plain Repo over a fresh connection (nothing lives only in memory)."""
    path = _copy_fixture(FIXTURES / "schema_v1.sqlite3", tmp_path)
    open_store(path).close()
    db = connect(path)
    try:
        repo = Repo(db)
        assert [c.title for c in repo.list_conversations(include_archived=True).items][1] == (
            "Archiviertes Gespräch über Quokkas"
        )
        assert _ids(repo.search("acacia")) == [6]
    finally:
        db.close()
