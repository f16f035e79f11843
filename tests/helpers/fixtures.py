"""Pytest plugin: the fixtures every kind of test shares (a real store, the local LLM server, an X display).

Registered in tests/conftest.py (`pytest_plugins`); tests never import it. Widget and service fixtures
are in tests/helpers/qt_fixtures.py.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_chat.storage import Store, open_store
from tests.helpers.llm_server import LLMServer


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
