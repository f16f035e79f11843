"""The real app refuses a database it cannot use: says why (stderr, log, dialog), exits 3, writes nothing."""

from __future__ import annotations

import hashlib
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from desktop_chat.storage import SCHEMA_VERSION
from desktop_chat.storage.db import DB_FILENAME, header_user_version
from tests.helpers.db_files import current_database, set_user_version
from tests.helpers.proc import app_env, run_app, start_app

pytestmark = pytest.mark.e2e

EXIT_STORE_REFUSED = 3
NEWER = SCHEMA_VERSION + 1


def _snapshot(directory: Path) -> dict[str, str]:
    """The data dir's own files (not the logs/config subdirs the app creates) with their hashes."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()
    }


def _newer_in_header(data: Path) -> None:
    path = data / DB_FILENAME
    current_database(path)
    set_user_version(path, NEWER)
    assert header_user_version(path) == NEWER


def _newer_in_wal_only(data: Path) -> None:
    """What a newer desktop_chat leaves when it crashes before a checkpoint: its version only in -wal."""
    live = data.parent / "live" / DB_FILENAME
    current_database(live)
    writer = sqlite3.connect(live, isolation_level=None)
    data.mkdir(parents=True)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute(f"PRAGMA user_version = {NEWER}")
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{live}{suffix}", data / f"{DB_FILENAME}{suffix}")
    finally:
        writer.close()
    assert header_user_version(data / DB_FILENAME) == SCHEMA_VERSION


def _run_refused(data: Path) -> tuple[str, str]:
    before = _snapshot(data)
    proc = run_app(["--data-dir", str(data), "--quit-after", "10"], timeout=60)
    assert proc.returncode == EXIT_STORE_REFUSED, proc.stderr[-3000:]
    assert _snapshot(data) == before, "the database (and its -wal) are byte for byte as they were"
    assert not (data / f"{DB_FILENAME}-shm").exists()
    if f"{DB_FILENAME}-wal" not in before:
        assert not (data / f"{DB_FILENAME}-wal").exists()
    assert "Traceback" not in proc.stderr
    log_text = (data / "logs" / "desktop_chat.log").read_text(encoding="utf-8")
    assert "Refused to open the database" in log_text
    assert proc.stderr.count(str(data / DB_FILENAME)) == 1, "said once on stderr, not once more by the log"
    return proc.stderr, log_text


@pytest.mark.parametrize("make", [_newer_in_header, _newer_in_wal_only], ids=["header", "wal-only"])
def test_newer_schema_is_refused_untouched(tmp_path: Path, make: object) -> None:
    data = tmp_path / "data"
    make(data)  # type: ignore[operator]
    stderr, log_text = _run_refused(data)
    for text in (stderr, log_text):
        assert f"schema version {NEWER}" in text
        assert f"up to {SCHEMA_VERSION}" in text
        assert str(data / DB_FILENAME) in text
    assert "started; database" not in log_text, "no window, no services"


def test_unreadable_file_is_refused_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / DB_FILENAME).write_bytes(b"Not a database: notes I saved here by mistake.\n" * 50)
    stderr, log_text = _run_refused(data)
    for text in (stderr, log_text):
        assert "cannot be read" in text
        assert str(data / DB_FILENAME) in text


# ---- on a real display the dialog waits for the person, but scripted runs never hang ----------------


def _xcb_env(display: str) -> dict[str, str]:
    env = app_env(QT_QPA_PLATFORM="xcb", DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_dialog_stays_until_quit_after_on_a_real_display(tmp_path: Path, xvfb_display: str) -> None:
    data = tmp_path / "data"
    _newer_in_header(data)
    before = _snapshot(data)
    started = time.monotonic()
    proc = run_app(["--data-dir", str(data), "--quit-after", "1.5"], env=_xcb_env(xvfb_display), timeout=20)
    elapsed = time.monotonic() - started
    assert proc.returncode == EXIT_STORE_REFUSED, proc.stderr[-3000:]
    assert elapsed >= 1.5, "the dialog was shown and waited (it is not auto-closed on a real display)"
    assert elapsed < 30
    assert f"schema version {NEWER}" in proc.stderr
    assert _snapshot(data) == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_the_dialog_on_a_real_display(tmp_path: Path, xvfb_display: str, signum: int) -> None:
    data = tmp_path / "data"
    _newer_in_header(data)
    before = _snapshot(data)
    proc = start_app(["--data-dir", str(data)], env=_xcb_env(xvfb_display))
    try:
        assert proc.stderr is not None
        seen: list[str] = []
        while line := proc.stderr.readline():
            seen.append(line)
            if line.startswith("desktop_chat: The database"):
                break
        assert any(line.startswith("desktop_chat: The database") for line in seen), "".join(seen)
        time.sleep(0.5)  # the dialog is up (or about to be): it must block until the signal
        assert proc.poll() is None, "the dialog waits for the person on a real display"
        proc.send_signal(signum)
        _, rest = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == EXIT_STORE_REFUSED, "".join(seen) + rest
    assert "Traceback" not in rest
    assert _snapshot(data) == before
