"""SIGKILL of the real app mid-stream loses at most the last 100 ms of text.

The app (`--smoke`, offscreen, its own data dir) streams a paced answer from the test server in this
process: 300 deltas a second, each "%06d " so any stored text can be checked delta by delta. The server
logs when it wrote each delta (`send_log`, `time.monotonic()`, which is system-wide on Linux, so it is
comparable with this process's clock). Well into the stream the test notes K = time.monotonic() and
kills the app with SIGKILL. Every delta the server had written by K - 100 ms must be in the database as
the kill left it (plain SQLite, read-only: no recovery), and the next start must keep exactly that text
as an `interrupted` answer. The measured loss (K minus the send time of the first delta missing) is
printed; run with `-s` to see it.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_chat.storage.db import DB_FILENAME
from desktop_chat.storage.repo import INTERRUPTED_ERROR
from tests.helpers.llm_server import LLMServer, RecordedRequest, fast, fast_text
from tests.helpers.proc import app_env, run_app

pytestmark = pytest.mark.e2e

RATE = 300  # deltas a second: a brisk model
COUNT = RATE * 20  # lasts about 20 s, far longer than any run here
UNIT = len(fast_text(1))  # "000000 ": 7 characters a delta
BOUND = 0.100  # the promise: at most the last 100 ms of text is lost
STREAMED_BEFORE_KILL = 1.5  # seconds of streaming before the kill window opens
KILL_WINDOW = 0.6  # the kill lands somewhere in the next this-many seconds (seeded: pytest-randomly)


def _sent_by(send_log: list[tuple[float, int]], when: float) -> int:
    """How many deltas the server had written at `when`."""
    return max((n for t, n in send_log if t <= when), default=0)


def _sent_at(send_log: list[tuple[float, int]], index: int) -> float:
    """When the server wrote delta `index` (0-based)."""
    return min(t for t, n in send_log if n > index)


def _stream_and_kill(server: LLMServer, data: Path, delay: float) -> tuple[float, list[tuple[float, int]]]:
    """Start the app on a paced stream, SIGKILL it `delay` s after STREAMED_BEFORE_KILL s of streaming.

    Returns K (the monotonic time just before the kill) and the server's send log.
    """
    env = app_env()
    env.pop("OPENAI_API_KEY", None)
    out, err = data.parent / "stdout.txt", data.parent / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "desktop_chat",
                "--smoke",
                "--base-url",
                server.url,
                "--model",
                "test-model",
                "--prompt",
                "Count for me, slowly",
                "--data-dir",
                str(data),
                "--quit-after",
                "60",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        request: RecordedRequest | None = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            chats = [r for r in server.requests if r.path == "/v1/chat/completions"]
            if chats and chats[0].send_log:
                request = chats[0]
                break
            time.sleep(0.005)
        assert request is not None, f"no stream started: {err.read_text(errors='replace')[-3000:]}"
        kill_at = request.send_log[0][0] + STREAMED_BEFORE_KILL + delay
        while (now := time.monotonic()) < kill_at:
            time.sleep(min(0.005, kill_at - now))
        assert proc.poll() is None, f"the app ended early: {err.read_text(errors='replace')[-3000:]}"
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_text(encoding="utf-8") == "", "killed before it could print a result"
    send_log = list(request.send_log)
    assert send_log[-1][1] < COUNT, "the stream was still going at the kill"
    return killed_at, send_log


@pytest.mark.parametrize("run", [1, 2, 3], ids=["kill-1", "kill-2", "kill-3"])
def test_sigkill_mid_stream_loses_at_most_100_ms(llm_server: LLMServer, tmp_path: Path, run: int) -> None:
    llm_server.default_script = [fast(COUNT, RATE)]
    data = tmp_path / "data"
    db = data / DB_FILENAME
    delay = random.uniform(0.0, KILL_WINDOW)  # seeded per test by pytest-randomly: reproducible

    killed_at, send_log = _stream_and_kill(llm_server, data, delay)

    # The file exactly as the kill left it, read by plain SQLite (read-only: no recovery, no checkpoint).
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ((response_id, status, row_text),) = conn.execute("SELECT id, status, text FROM response").fetchall()
        chunks = conn.execute(
            "SELECT data FROM response_chunk WHERE response_id = ? AND field = 'text' ORDER BY id",
            (response_id,),
        ).fetchall()
    assert status == "streaming", "nobody marked the answer: the app died mid-stream"
    stored = row_text + "".join(c for (c,) in chunks)

    assert len(stored) % UNIT == 0, "whole deltas only"
    kept = len(stored) // UNIT
    assert stored == fast_text(kept), "the stored text is the stream's beginning, delta by delta"
    sent_at_kill = _sent_by(send_log, killed_at)
    required = _sent_by(send_log, killed_at - BOUND)
    lost_ms = 0.0 if kept >= sent_at_kill else (killed_at - _sent_at(send_log, kept)) * 1000
    print(
        f"\nkill {run}: {STREAMED_BEFORE_KILL + delay:.3f} s into the stream; sent by K {sent_at_kill}, "
        f"by K-100ms {required}, stored {kept} deltas; lost the last {lost_ms:.1f} ms of text"
    )
    assert required > RATE, "the kill came well into the stream"
    assert kept <= send_log[-1][1], "nothing stored that the server did not send"
    assert kept >= required, (
        f"lost {lost_ms:.0f} ms of text (> {BOUND * 1000:.0f} ms): stored {kept} deltas, "
        f"the server had sent {required} by K-100ms and {sent_at_kill} by K"
    )

    # The next start keeps exactly that text as an interrupted answer.
    proc = run_app(["--data-dir", str(data), "--quit-after", "1"], timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        status, text, error = conn.execute(
            "SELECT status, text, error FROM response WHERE id = ?", (response_id,)
        ).fetchone()
        left = conn.execute(
            "SELECT count(*) FROM response_chunk WHERE response_id = ?", (response_id,)
        ).fetchone()[0]
    assert (status, error) == ("interrupted", INTERRUPTED_ERROR)
    assert text == stored, "the recovered answer is all the text that survived the kill"
    assert left == 0
