"""A person at the keyboard: the real app on a real X display (Xvfb), driven by xdotool key presses.

Send (Enter), stop (Esc), edit the last message (Up in the empty composer), move to the transcript
(Shift+Tab), switch branches (Up, Alt+Left), close the conversation (Ctrl+W) and quit (Ctrl+Q); the
database is checked after each step with plain SQLite.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.llm_server import LLMServer, fast, text_script
from tests.helpers.proc import app_env, start_app

pytestmark = pytest.mark.e2e

STARTED = re.compile(r"started; database (?P<path>.+) \(schema \d+\)")


class App:
    """The app as a subprocess on `display`; stderr is read in a thread (the debug log is long)."""

    def __init__(self, display: str, args: list[str]) -> None:
        self.display = display
        self.proc = start_app(args, env=app_env(DISPLAY=display, QT_QPA_PLATFORM="xcb"))
        self.lines: list[str] = []
        self.database: Path | None = None
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            found = STARTED.search(line)
            if found:
                self.database = Path(found["path"])
                self._started.set()
        self._started.set()

    def log(self) -> str:
        return "".join(self.lines[-60:])

    def wait_started(self, timeout: float = 30) -> Path:
        assert self._started.wait(timeout), f"no start line: {self.log()}"
        assert self.database is not None, f"the app did not start: {self.log()}"
        return self.database

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(
            ["xdotool", *args],
            env={**app_env(), "DISPLAY": self.display},
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert out.returncode == 0, f"xdotool {args}: {out.stderr}"
        return out.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.xdotool("key", "--clearmodifiers", key)
            time.sleep(0.15)  # one event-loop turn at least between presses

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", "20", text)
        time.sleep(0.2)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=20)
        self._reader.join(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def app_on_display(xvfb_display: str, llm_server: LLMServer) -> Iterator[App]:
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    app = App(
        xvfb_display, ["--temp-basedir", "--base-url", llm_server.url, "--model", "test-model", "--debug"]
    )
    try:
        yield app
    finally:
        app.close()


def _query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def _until(what: str, check: Callable[[], Any], app: App, timeout: float = 20, db: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except sqlite3.OperationalError:  # the schema is still being made, or a checkpoint runs
            value = None
        if value:
            return value
        time.sleep(0.05)
    rows = _messages(db) if db is not None else []
    raise AssertionError(f"{what}: not reached in {timeout} s\n{rows}\n{app.log()}")


def _messages(db: Path) -> list[tuple[int, int | None, str, str, str | None]]:
    """(id, parent_id, role, text, response status) of every message, oldest first."""
    return [
        (r[0], r[1], r[2], r[3], r[4])
        for r in _query(
            db,
            "SELECT m.id, m.parent_id, m.role, CASE WHEN r.id IS NULL THEN m.content ELSE r.text END,"
            " r.status FROM message m"
            " LEFT JOIN response r ON r.message_id = m.id ORDER BY m.id",
        )
    ]


def _streamed(db: Path, message_id: int) -> str:
    """What a streaming answer has committed so far (chunk rows until the document is compacted)."""
    rows = _query(
        db,
        "SELECT c.data FROM response_chunk c JOIN response r ON c.response_id = r.id"
        " WHERE r.message_id = ? AND c.field = 'text' ORDER BY c.id",
        message_id,
    )
    return "".join(r[0] for r in rows)


def _leaf(db: Path) -> int | None:
    rows = _query(db, "SELECT active_leaf_id FROM conversation")
    return rows[0][0] if rows else None


def test_send_stop_edit_switch_close_and_quit_from_the_keyboard(
    app_on_display: App, llm_server: LLMServer
) -> None:
    app = app_on_display
    llm_server.enqueue(
        text_script("First answer.", pieces=3),
        text_script("Ordinal questions"),  # the title the app asks for after the first exchange
        [fast(20_000, rate=40)],  # slow: still streaming when Esc comes
        text_script("Answer to the edit.", pieces=3),
    )
    db = app.wait_started()
    window = app.xdotool("search", "--sync", "--onlyvisible", "--name", "Desktop Chat").split()[0]
    app.xdotool("windowfocus", "--sync", window)
    # --base-url sets the provider up in the background; the composer takes the keys once it is ready
    _until("the endpoint is set up", lambda: _query(db, "SELECT id FROM provider_profile"), app)
    time.sleep(0.5)

    # 1. Type and press Enter: a conversation, the question, the streamed answer.
    app.type("What is first?")
    app.keys("Return")
    _until("the first answer is done", lambda: [m for m in _messages(db) if m[4] == "done"], app)
    rows = _messages(db)
    assert [(r[2], r[3]) for r in rows] == [("user", "What is first?"), ("assistant", "First answer.")]
    assert rows[1][1] == rows[0][0], "the answer hangs under the question"
    _until(
        "the model titles it",
        lambda: _query(db, "SELECT title FROM conversation")[0][0] == "Ordinal questions",
        app,
    )

    # 2. A second question; Esc while it streams stops it and keeps the partial text.
    app.type("Count slowly")
    app.keys("Return")
    streaming = _until(
        "the second answer starts", lambda: [m for m in _messages(db) if m[4] == "streaming"], app
    )
    _until("its text arrives", lambda: _streamed(db, streaming[0][0]), app, db=db)
    app.keys("Escape")
    _until("the second answer is cancelled", lambda: any(m[4] == "cancelled" for m in _messages(db)), app)
    stopped = next(m for m in _messages(db) if m[4] == "cancelled")
    assert stopped[3], "the partial text is kept"
    asked = next(m for m in _messages(db) if m[3] == "Count slowly")

    # 3. Up in the empty composer edits the last question; Enter sends it as a new branch.
    app.keys("Up", "ctrl+a")
    app.type("Count quickly")
    app.keys("Return")
    _until("the edit is answered", lambda: any(m[3] == "Answer to the edit." for m in _messages(db)), app)
    edited = next(m for m in _messages(db) if m[3] == "Count quickly")
    assert edited[1] == asked[1], "the edit is a sibling of the question it replaces"
    answer = next(m for m in _messages(db) if m[3] == "Answer to the edit.")
    _until("the edited branch is active", lambda: _leaf(db) == answer[0], app)
    assert llm_server.requests[-1].body["messages"][-1]["content"] == "Count quickly"

    # 4. Shift+Tab to the transcript, Up to the edited question, Alt+Left: back to the first version.
    app.keys("shift+Tab", "Up", "alt+Left")
    _until("the first version's branch is active", lambda: _leaf(db) == stopped[0], app)

    # 5. Ctrl+W puts the conversation away without deleting anything; Ctrl+Q quits cleanly.
    before = len(_messages(db))
    app.keys("ctrl+w")
    time.sleep(0.3)
    assert len(_messages(db)) == before
    assert _query(db, "SELECT count(*) FROM conversation") == [(1,)]
    app.keys("ctrl+q")
    assert app.proc.wait(timeout=20) == 0, app.log()
    assert any("quit cleanly" in ln for ln in app.lines), app.log()
    assert not db.exists(), "--temp-basedir leaves nothing behind"
    assert llm_server.errors == []
