"""SIGKILL while an answer streams: the file stays sound, and the next start keeps the answer as interrupted.

A helper process streams like the chat service (one transaction per flush) and reports which flushes
have committed; the test kills it at a random moment, checks the file with plain SQLite, starts the
real app over it, and reads the result back.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_chat.storage import open_store
from desktop_chat.storage.db import DB_FILENAME
from desktop_chat.storage.repo import INTERRUPTED_ERROR
from tests.helpers.proc import run_app, start
from tests.helpers.stream_forever import DELTAS_PER_FLUSH, committed_reasoning, committed_text

pytestmark = pytest.mark.e2e

HELPER = Path(__file__).parents[1] / "helpers" / "stream_forever.py"


def _whole_flushes(text: str, reasoning: str) -> int:
    """How many whole flushes `text`/`reasoning` hold; fails if either holds part of one."""
    flushes = reasoning.count(" ")
    assert reasoning == committed_reasoning(flushes), "reasoning is whole flushes"
    assert text == committed_text(flushes), "text is exactly the same whole flushes as the reasoning"
    return flushes


def _stream_and_kill(db: Path, *, interval: float, ready_flushes: int, delay: float) -> tuple[int, int, int]:
    """Start the helper, wait for `ready_flushes` committed flushes, wait `delay`, SIGKILL it.

    Returns (response_id, message_id, flushes known committed before the kill).
    """
    proc = start(
        [sys.executable, str(HELPER), str(db), "--interval", str(interval), "--print-every", "0.02"],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    reports: list[dict[str, int]] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            reports.append(json.loads(line))
            if reports[-1]["flushes"] >= ready_flushes:
                break
        if reports and reports[-1]["flushes"] >= ready_flushes:
            time.sleep(delay)
    finally:
        proc.kill()  # SIGKILL: no handler, no atexit, no checkpoint
        out, err = proc.communicate(timeout=10)
    assert reports, f"the helper reported nothing: {err}"
    assert reports[-1]["flushes"] >= ready_flushes, err
    assert proc.returncode == -9, f"it was still streaming when killed: {err}"
    reports.extend(json.loads(line) for line in out.splitlines() if line.strip())
    return reports[-1]["response_id"], reports[-1]["message_id"], reports[-1]["flushes"]


# (pause between flushes, flushes before the random kill window): a realistic 100 ms flush rhythm,
# and back-to-back transactions, where a kill lands inside a transaction or a commit almost surely.
RUNS = [(0.1, 6, 0.35), (0.0, 40, 0.3), (0.0, 40, 0.6)]


@pytest.mark.parametrize(("interval", "ready", "window"), RUNS, ids=["100ms-flushes", "busy-1", "busy-2"])
def test_sigkill_mid_stream_keeps_the_answer_as_interrupted(
    tmp_path: Path, interval: float, ready: int, window: float
) -> None:
    data = tmp_path / "data"
    db = data / DB_FILENAME
    delay = random.uniform(0.0, window)  # reproducible: pytest-randomly seeds `random` per test
    rid, mid, known = _stream_and_kill(db, interval=interval, ready_flushes=ready, delay=delay)
    assert known >= ready

    # The file as the kill left it, checked by plain SQLite (read-only: no checkpoint, no recovery).
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        status, row_text, row_reasoning = conn.execute(
            "SELECT status, text, reasoning FROM response WHERE id = ?", (rid,)
        ).fetchone()
        chunks = conn.execute(
            "SELECT field, data FROM response_chunk WHERE response_id = ? ORDER BY id", (rid,)
        ).fetchall()
    finally:
        conn.close()
    assert status == "streaming"
    assert (row_text, row_reasoning) == ("", ""), "nothing compacted yet: all text is in chunk rows"
    assert len(chunks) == (DELTAS_PER_FLUSH + 1) * len([c for c in chunks if c[0] == "reasoning"])
    live_text = "".join(d for f, d in chunks if f == "text")
    live_reasoning = "".join(d for f, d in chunks if f == "reasoning")
    survived = _whole_flushes(live_text, live_reasoning)
    assert survived >= known, "every flush reported as committed survived the kill"

    # The real app starts over it, recovers, and quits.
    proc = run_app(["--data-dir", str(data), "--quit-after", "1"], timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        status, text, reasoning, error, finished_at = conn.execute(
            "SELECT status, text, reasoning, error, finished_at FROM response WHERE id = ?", (rid,)
        ).fetchone()
        left = conn.execute("SELECT count(*) FROM response_chunk WHERE response_id = ?", (rid,)).fetchone()[0]
    finally:
        conn.close()
    assert status == "interrupted"
    assert text.startswith(committed_text(known)), "the text committed before the kill is kept"
    assert (text, reasoning) == (live_text, live_reasoning), "all of it, compacted into the document"
    assert error == INTERRUPTED_ERROR
    assert finished_at is not None
    assert left == 0, "chunk rows compacted away"

    store = open_store(db, recover=False)
    try:
        assert [h.message_id for h in store.repo.search("w0x0").items] == [mid]
        last_word = f"w{survived - 1}x{DELTAS_PER_FLUSH - 1}"
        assert [h.message_id for h in store.repo.search(last_word).items] == [mid]
        assert store.repo.unfinished_response_ids() == []
    finally:
        store.close()

    log_text = (data / "logs" / "desktop_chat.log").read_text(encoding="utf-8")
    assert f"Marked 1 unfinished response(s) as interrupted: [{rid}]" in log_text
