"""Test-wide set-up: never touch the real user dirs, run Qt offscreen, and share store fixtures."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Qt or platformdirs: an isolated home for every XDG dir, and offscreen Qt.
_SANDBOX = Path(tempfile.mkdtemp(prefix="desktop_chat-tests-"))
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)
for _var, _sub in (
    ("XDG_DATA_HOME", "data"),
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_CACHE_HOME", "cache"),
    ("XDG_STATE_HOME", "state"),
):
    os.environ[_var] = str(_SANDBOX / _sub)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"

from desktop_chat.pyside_imports import skip_source_scan  # noqa: E402

skip_source_scan()  # as the app does: imports after PySide6 are not scanned

from desktop_chat.storage import Store, open_store  # noqa: E402
from tests.helpers.llm_server import LLMServer  # noqa: E402

pytest_plugins = ["tests.secret_service"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's database file goes (a fresh tmp dir each test)."""
    return tmp_path / "data" / "desktop_chat.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """A freshly created, migrated store on a real SQLite file."""
    s = open_store(db_path)
    yield s
    s.close()


def app_env(**extra: str) -> dict[str, str]:
    """Environment for running the app as a subprocess: offscreen, isolated dirs, no user keychain."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


PYTHON = sys.executable


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """A local OpenAI-compatible server on 127.0.0.1 (scripted streams, request recording)."""
    with LLMServer() as server:
        yield server
        assert server.errors == [], server.errors


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A private Xvfb server for tests that need a real X display (skipped where Xvfb is missing)."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed")
    server = subprocess.Popen(
        [binary, "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    number = server.stdout.readline().strip()
    if not number.isdigit():
        server.kill()
        server.wait()
        pytest.fail(f"Xvfb did not report a display: {number!r}")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
