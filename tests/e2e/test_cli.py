"""`desktop-chat COMMAND`: headless subcommands, run as subprocesses with no display at all."""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from desktop_chat.cli import build_parser
from desktop_chat.cli_commands import COMMAND_NAMES, COMMANDS, is_cli_command
from desktop_chat.domain import ResponsePatch, ResponseStatus
from desktop_chat.storage import SCHEMA_VERSION, open_store
from desktop_chat.storage.db import DB_FILENAME
from tests.helpers.db_files import titles
from tests.helpers.proc import app_env, run_app

pytestmark = pytest.mark.e2e

NEWER = SCHEMA_VERSION + 1


def headless_env() -> dict[str, str]:
    """No display of any kind: the GUI would refuse to start here (exit 2)."""
    env = app_env()
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(var, None)
    return env


def cli(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_app([str(a) for a in args], env=headless_env(), timeout=timeout)


def _fill(data: Path) -> dict[str, int]:
    """A data dir with three conversations; returns their ids by title."""
    store = open_store(data / DB_FILENAME)
    repo = store.repo
    ids = {}
    bread = repo.create_conversation("Bread recipes")
    ids[bread.title] = bread.id
    q = repo.add_message(bread.id, "How do I bake sourdough bread at home?")
    answer = repo.start_response(bread.id, q.id, model="m")
    text = "Feed the starter, then bake the sourdough hot."
    repo.finish_response(
        answer.response_id, ResponseStatus.DONE, pending=[ResponsePatch(answer.response_id, text)]
    )
    rust = repo.create_conversation("Rust lifetimes")
    ids[rust.title] = rust.id
    repo.add_message(rust.id, "Explain lifetimes in Rust with an example")
    garden = repo.create_conversation("Garden")
    ids[garden.title] = garden.id
    repo.add_message(garden.id, "When should I plant tomatoes?")
    store.close()
    return ids


def test_the_gui_needs_a_display_but_commands_do_not(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    gui = run_app(["--data-dir", str(data), "--quit-after", "1"], env=headless_env())
    assert gui.returncode == 2
    assert "no display found" in gui.stderr
    proc = cli("search", "bread", "--data-dir", data)
    assert proc.returncode == 0, proc.stderr


def test_commands_never_import_qt_widgets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    code = (
        "import sys; from desktop_chat.app import main\n"
        f"rc = main(['search', 'bread', '--data-dir', {str(data)!r}])\n"
        f"rc = rc or main(['backup', {str(tmp_path / 'b.sqlite3')!r}, '--data-dir', {str(data)!r}])\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6.QtWidgets', 'PySide6.QtGui'))]\n"
        "print(bad); sys.exit(rc or bool(bad))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=headless_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"


def test_one_list_names_the_commands() -> None:
    """The CLI parser offers exactly the listed commands with their listed help; main() hands them over."""
    assert COMMAND_NAMES == ("export", "import", "search", "backup", "restore")
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(subparsers.choices) == COMMAND_NAMES
    assert [(c.dest, c.help) for c in subparsers._choices_actions] == [(c.name, c.help) for c in COMMANDS]
    for command in COMMANDS:
        assert subparsers.choices[command.name].description == command.description
        assert is_cli_command([command.name, "--help"])
    assert not is_cli_command([])
    assert not is_cli_command(["--data-dir", "export"])


def test_main_help_mentions_the_commands() -> None:
    proc = cli("--help")
    assert proc.returncode == 0
    assert f"desktop-chat {{{','.join(COMMAND_NAMES)}}} ..." in " ".join(proc.stdout.split())
    assert "--review" in proc.stdout


@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_each_command_has_help(command: str) -> None:
    proc = cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert f"usage: desktop-chat {command}" in proc.stdout
    assert "--data-dir" in proc.stdout
    assert "Exit codes" in proc.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in (("export", "--format", "pdf", "--output", "x"), ("search",), ("backup",), ("import",)):
        proc = cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "usage: desktop-chat" in proc.stderr
    proc = cli("search", "x", "--limit", "0", "--data-dir", tmp_path)
    assert proc.returncode == 2
    assert "--limit must be at least 1" in proc.stderr


def test_search_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = _fill(data)
    proc = cli("search", "sourdough", "--json", "--data-dir", data)
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 2
    assert {h["conversation_id"] for h in hits} == {ids["Bread recipes"]}
    assert {h["role"] for h in hits} == {"user", "assistant"}
    for hit in hits:
        assert set(hit) == {
            "conversation_id",
            "conversation_title",
            "message_id",
            "role",
            "created_at",
            "snippet",
        }
        assert hit["conversation_title"] == "Bread recipes"
        assert "**sourdough**" in hit["snippet"]
        assert datetime.fromisoformat(hit["created_at"]).tzinfo is not None
    assert "2 hit(s)" in proc.stderr
    limited = json.loads(cli("search", "sourdough", "--json", "--limit", "1", "--data-dir", data).stdout)
    assert len(limited) == 1
    none = cli("search", "nothing-like-this", "--json", "--data-dir", data)
    assert none.returncode == 0
    assert json.loads(none.stdout) == []


def test_search_human_output(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    proc = cli("search", "lifetimes", "--data-dir", data)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Rust lifetimes  (")
    assert "**lifetimes**" in lines[1]
    assert "1 hit(s) for 'lifetimes'" in proc.stderr


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    db = data / DB_FILENAME
    backup = tmp_path / "backups" / "copy.sqlite3"
    proc = cli("backup", backup, "--data-dir", data, "--progress")
    assert proc.returncode == 0, proc.stderr
    assert "Copying pages" in proc.stderr, "--progress shows progress even when stderr is a pipe"
    assert f"Backed up {db} to {backup}" in proc.stderr
    assert titles(backup) == ["Bread recipes", "Rust lifetimes", "Garden"]
    quiet = cli("backup", tmp_path / "quiet.sqlite3", "--data-dir", data)
    assert "Copying pages" not in quiet.stderr, "no progress on a pipe unless asked"
    assert "Backed up" in quiet.stderr, "the summary line is always there"
    # change the history after the backup, then restore it
    store = open_store(db)
    store.repo.delete_conversation(store.repo.list_conversations().items[0].id)
    store.close()
    assert len(titles(db)) == 2
    backup_sha = hashlib.sha256(backup.read_bytes()).hexdigest()
    proc = cli("restore", backup, "--data-dir", data)
    assert proc.returncode == 0, proc.stderr
    kept = [p for p in data.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1
    assert f"The previous database is kept at {kept[0]}" in proc.stdout
    assert len(titles(kept[0])) == 2
    assert titles(db) == ["Bread recipes", "Rust lifetimes", "Garden"]
    assert hashlib.sha256(backup.read_bytes()).hexdigest() == backup_sha
    assert cli("search", "tomatoes", "--data-dir", data).returncode == 0


def test_restore_refuses_while_the_app_has_the_database_open(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    cli("backup", tmp_path / "b.sqlite3", "--data-dir", data)
    store = open_store(data / DB_FILENAME)  # as the running app holds it
    try:
        proc = cli("restore", tmp_path / "b.sqlite3", "--data-dir", data)
    finally:
        store.close()
    assert proc.returncode == 1
    assert "is in use by another program" in proc.stderr
    assert not [p for p in data.iterdir() if ".before-restore-" in p.name]


def test_bad_paths_exit_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    empty = tmp_path / "empty"
    proc = cli("search", "x", "--data-dir", empty)
    assert proc.returncode == 1
    assert "There is no database at" in proc.stderr
    assert not (empty / DB_FILENAME).exists(), "a search creates no database"
    proc = cli("backup", tmp_path / "b.sqlite3", "--data-dir", empty)
    assert proc.returncode == 1
    assert "There is no database at" in proc.stderr
    _fill(data)
    proc = cli("restore", tmp_path / "missing.sqlite3", "--data-dir", data)
    assert proc.returncode == 1
    assert "There is no backup at" in proc.stderr
    proc = cli("backup", tmp_path, "--data-dir", data)
    assert proc.returncode == 1
    assert "is a folder" in proc.stderr
    proc = cli("import", tmp_path / "missing.json", "--data-dir", data)
    assert proc.returncode == 1
    assert "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def _newer(data: Path) -> Path:
    _fill(data)
    db = data / DB_FILENAME
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {NEWER}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.mark.parametrize("command", ["search", "backup", "export"])
def test_a_newer_database_is_refused_with_exit_3(tmp_path: Path, command: str) -> None:
    data = tmp_path / "data"
    db = _newer(data)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    commands: dict[str, tuple[str | Path, ...]] = {
        "search": ("search", "bread"),
        "backup": ("backup", tmp_path / "b.sqlite3"),
        "export": ("export", "--format", "json", "--output", tmp_path / "out.json"),
    }
    proc = cli(*commands[command], "--data-dir", data)
    assert proc.returncode == 3, proc.stderr
    assert f"uses schema version {NEWER}" in proc.stderr
    assert f"up to {SCHEMA_VERSION}" in proc.stderr
    assert proc.stderr.startswith(f"desktop_chat: The database {db}"), "the app's own message"
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not Path(f"{db}-wal").exists()


def test_restoring_a_newer_backup_is_refused_with_exit_3(tmp_path: Path) -> None:
    newer_db = _newer(tmp_path / "future")
    data = tmp_path / "data"
    _fill(data)
    proc = cli("restore", newer_db, "--data-dir", data)
    assert proc.returncode == 3
    assert f"The database {newer_db} uses schema version {NEWER}" in proc.stderr
    assert not [p for p in data.iterdir() if ".before-restore-" in p.name]


def test_an_unreadable_database_is_refused_with_exit_3(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / DB_FILENAME).write_bytes(b"not a database\n" * 100)
    proc = cli("search", "x", "--data-dir", data)
    assert proc.returncode == 3
    assert "cannot be read" in proc.stderr


# ---- export and import (desktop_chat/interchange) ------------------------------------------------


def test_export_json_md_html_and_import_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("desktop_chat.interchange.export")
    pytest.importorskip("desktop_chat.interchange.importers")
    data = tmp_path / "data"
    ids = _fill(data)
    out = tmp_path / "out"
    proc = cli("export", "--format", "json", "--output", out / "all.json", "--data-dir", data, "--progress")
    assert proc.returncode == 0, proc.stderr
    assert "Exported 3 conversation(s) as json" in proc.stderr
    document = json.loads((out / "all.json").read_text(encoding="utf-8"))
    assert "sourdough" in json.dumps(document)
    one = cli(
        "export",
        "--format",
        "json",
        "--conversation",
        str(ids["Garden"]),
        "--output",
        out / "one.json",
        "--data-dir",
        data,
    )
    assert one.returncode == 0, one.stderr
    assert "Exported 1 conversation(s)" in one.stderr
    for fmt in ("md", "html"):
        proc = cli("export", "--format", fmt, "--output", out / fmt, "--data-dir", data)
        assert proc.returncode == 0, proc.stderr
        files = sorted((out / fmt).iterdir())
        assert len(files) == 3, files
        assert any("sourdough" in f.read_text(encoding="utf-8") for f in files)
    missing = cli(
        "export", "--format", "md", "--conversation", "999", "--output", out / "x", "--data-dir", data
    )
    assert missing.returncode == 1
    assert "There is no conversation 999" in missing.stderr
    # import into an empty data dir, then again: nothing new the second time
    fresh = tmp_path / "fresh"
    proc = cli("import", out / "all.json", "--data-dir", fresh)
    assert proc.returncode == 0, proc.stderr
    assert "Imported 3 conversation(s)" in proc.stderr
    assert sorted(titles(fresh / DB_FILENAME)) == ["Bread recipes", "Garden", "Rust lifetimes"]
    again = cli("import", out / "all.json", "--data-dir", fresh)
    assert again.returncode == 0, again.stderr
    assert "Imported 0 conversation(s)" in again.stderr
    assert "3 unchanged" in again.stderr
    hits = json.loads(cli("search", "sourdough", "--json", "--data-dir", fresh).stdout)
    assert len(hits) == 2
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\x01 not json at all")
    proc = cli("import", garbage, "--data-dir", fresh)
    assert proc.returncode == 1
    assert "Cannot import" in proc.stderr
    assert "Traceback" not in proc.stderr


# ---- the app's daily automatic backup, restored with the CLI --------------------------------------


def test_the_app_makes_a_daily_backup_that_restore_takes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    proc = run_app(["--data-dir", str(data), "--quit-after", "3", "--debug"], timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    backups = sorted((data / "backups").glob("desktop_chat-*.sqlite3"))
    assert [b.name for b in backups] == [f"desktop_chat-{datetime.now():%Y-%m-%d}.sqlite3"]
    assert f"Automatic backup written to {backups[0]}" in proc.stderr
    again = run_app(["--data-dir", str(data), "--quit-after", "2", "--debug"], timeout=60)
    assert again.returncode == 0
    assert "today's copy is already in" in again.stderr
    assert len(list((data / "backups").iterdir())) == 1
    restored = cli("restore", backups[0], "--data-dir", data)
    assert restored.returncode == 0, restored.stderr
    assert titles(data / DB_FILENAME) == ["Bread recipes", "Rust lifetimes", "Garden"]
