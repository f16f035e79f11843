"""The real app as a subprocess: starts, shows its window, quits cleanly, and keeps its files where told."""

from __future__ import annotations

import re
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from desktop_chat.storage import SCHEMA_VERSION
from tests.helpers.proc import app_env, run_app, start_app

pytestmark = pytest.mark.e2e


def _database_from_log(stderr: str) -> Path:
    found = re.search(r"started; database (\S+) \(schema (\d+)\)", stderr)
    assert found, stderr[-3000:]
    return Path(found.group(1))


def test_temp_basedir_starts_and_quits_cleanly() -> None:
    proc = run_app(["--temp-basedir", "--debug", "--quit-after", "0.5"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    db = _database_from_log(proc.stderr)
    assert "quit cleanly" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not db.parent.exists(), "the temporary base dir is removed on quit"


def test_data_dir_holds_the_one_database(tmp_path: Path) -> None:
    data = tmp_path / "profile"
    proc = run_app(["--data-dir", str(data), "--debug", "--quit-after", "0.5"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _database_from_log(proc.stderr) == data / "desktop_chat.sqlite3"
    databases = [p for p in data.rglob("*") if p.suffix in (".sqlite3", ".db")]
    assert databases == [data / "desktop_chat.sqlite3"]
    assert not (data / "desktop_chat.sqlite3-wal").exists(), "the WAL is checkpointed into the file on quit"
    with sqlite3.connect(data / "desktop_chat.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"conversation", "message", "response", "tool_execution", "provider_profile"} <= tables
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (data / "logs" / "desktop_chat.log").is_file()
    assert (data / "config" / "settings.json").is_file()  # window state saved on quit
    # a second start over the same dir opens the same history without upgrading it
    again = run_app(["--data-dir", str(data), "--debug", "--quit-after", "0.5"])
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Upgrading" not in again.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_termination_signal_quits_cleanly(tmp_path: Path, signum: int) -> None:
    proc = start_app(["--data-dir", str(tmp_path), "--debug"])
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if "started; database" in line or not line:
            break
    assert any("started; database" in line for line in seen), "".join(seen)
    proc.send_signal(signum)
    try:
        _, rest = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, "".join(seen) + rest
    assert "quit cleanly" in rest
    assert "Store closed" in rest


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    env = app_env()
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(var, None)
    proc = run_app(["--data-dir", str(tmp_path / "d")], env=env)
    assert proc.returncode == 2
    assert "no display" in proc.stderr
    assert not (tmp_path / "d").exists()


def test_help_and_version() -> None:
    help_ = run_app(["--help"])
    assert help_.returncode == 0
    for flag in ("--data-dir", "--temp-basedir", "--debug"):
        assert flag in help_.stdout
    version = run_app(["--version"])
    assert version.returncode == 0
    assert version.stdout.startswith("desktop_chat ")


def test_an_old_database_is_backed_up_and_upgraded(tmp_path: Path) -> None:
    fixture = Path(__file__).parents[1] / "fixtures" / "schema_v1.sqlite3"
    data = tmp_path / "profile"
    data.mkdir()
    db = data / "desktop_chat.sqlite3"
    shutil.copyfile(fixture, db)
    proc = run_app(["--data-dir", str(data), "--quit-after", "0.5"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = re.search(r"a copy of the old file is at (\S+)", proc.stderr)
    assert found, proc.stderr[-3000:]
    backup = Path(found.group(1))
    assert backup.parent == data

    def titles_and_version(path: Path) -> tuple[list[str], int]:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            titles = [r[0] for r in conn.execute("SELECT title FROM conversation ORDER BY id")]
            return titles, conn.execute("PRAGMA user_version").fetchone()[0]

    original_titles, _ = titles_and_version(fixture)
    assert original_titles
    assert titles_and_version(backup) == (original_titles, 1)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        statuses = {r[0] for r in conn.execute("SELECT status FROM response")}
        assert "streaming" not in statuses
        assert "interrupted" in statuses
    assert [p.name for p in data.iterdir() if p.suffix in (".sqlite3", ".db")] == [db.name]
