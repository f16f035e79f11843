"""Streaming benchmark: N deltas at R per second, from a local server through the real client and chat service
into a real database, with a transcript model and view listening on the Qt loop.

    python bench/stream.py --rate 3000 --count 30000

The server runs in its own process (it must not share the GIL with the app). Figures:
- achieved_rate: deltas / (last delta on screen - first delta sent)
- commit_p50_ms / commit_p99_ms: duration of the store's flush transactions
- signal_p50_ms / signal_p99_ms: per delta, from the server writing it to `response_patched` announcing it
- max_stall_ms: the longest gap between ticks of a 5 ms heartbeat timer on the Qt loop while streaming
- cpu_percent: this process's CPU time over the stream's wall time
- bytes_written_per_text_byte: bytes this process wrote (/proc/self/io wchar: database, WAL, log) per
  byte of answer text; `within_write_budget` checks it against 3x the text plus 16 KiB per commit
- text_intact: the stored answer equals the deltas sent, byte for byte
- slow_disk: whether the run had the slow-disk shim

`--slow-disk` (Linux, needs a C compiler) runs the benchmark again under a small LD_PRELOAD shim
(bench/slow_disk.c, built at run time) that makes each write to the database files take 4 ms and each
fsync 120 ms, in whichever thread writes: what a spinning disk, a network home folder or an antivirus
would do to the app, shown as the stalls the GUI thread would have.

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench and tests.helpers live in the source tree, not the package
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QListView  # noqa: E402

from bench._common import pct  # noqa: E402
from tests.helpers.llm_server import LLMServerProcess  # noqa: E402

DELTA_WIDTH = 7  # the server's fast mode sends "%06d " per delta
SHIM_SOURCE = Path(__file__).with_name("slow_disk.c")
SHIM_MARK = "DESKTOP_CHAT_BENCH_SLOW_DISK"  # set in the re-run under the shim


def _wchar() -> int:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _stream(args: argparse.Namespace, base_url: str, data: Path) -> dict[str, object]:
    from desktop_chat.secrets import SecretStore
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.settings import AUTO_TITLE, Settings
    from desktop_chat.storage import open_store
    from desktop_chat.ui.transcript.model import TranscriptModel

    store = open_store(data / "bench.sqlite3")
    if args.wal_autocheckpoint is not None:
        store.db.execute_sql(f"PRAGMA wal_autocheckpoint = {int(args.wal_autocheckpoint)}")
    settings = Settings(data / "settings.json")
    settings.set(AUTO_TITLE, False)
    services = AppServices(store, settings, SecretStore())
    profile = services.providers.ensure_for_url(base_url, "bench-model", needs_key=False)
    services.providers.use(profile, "bench-model")
    conversation = await services.conversations.create("bench")

    from desktop_chat.app import prepare_for_streaming

    prepare_for_streaming()  # what the app does in the background after its first paint
    model = TranscriptModel(conversations=services.conversations, chat=services.chat)
    view = QListView()
    if args.view:  # the plain list view re-wraps the whole answer each frame (the chat view's issue)
        view.setModel(model)
        view.setWordWrap(True)
        view.resize(900, 700)
        view.show()
    model.show_conversation(conversation.id)

    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(lambda: beats.append(time.monotonic()))
    signals: list[tuple[float, int]] = []
    services.chat.response_patched.connect(lambda u: signals.append((time.monotonic(), u.text_length)))

    heartbeat.start()
    wchar0, cpu0, wall0 = _wchar(), time.process_time(), time.monotonic()
    services.chat.send(conversation.id, "go")
    await services.chat.wait(conversation.id)
    wall1, cpu1, wchar1 = time.monotonic(), time.process_time(), _wchar()
    heartbeat.stop()
    branch = services.conversations.transcript(conversation.id)
    answer = branch[-1].response
    commits = list(services.chat.commit_times_ms)
    view.close()
    await services.aclose()
    services.shutdown()
    assert answer is not None
    return {
        "signals": signals,
        "beats": beats,
        "text": answer.text,
        "status": answer.status.value,
        "error": answer.error,
        "cpu": cpu1 - cpu0,
        "wall": wall1 - wall0,
        "written": wchar1 - wchar0,
        "commits": commits,
    }


def _latencies(
    send_log: list[tuple[float, int]], signals: list[tuple[float, int]], count: int
) -> list[float]:
    """Per delta: first announcement covering it minus the server's write of it, in ms."""
    sent_counts = [n for _, n in send_log]
    announced = [n // DELTA_WIDTH for _, n in signals]
    out: list[float] = []
    for i in range(count):
        s = bisect.bisect_left(sent_counts, i + 1)
        a = bisect.bisect_left(announced, i + 1)
        if s < len(send_log) and a < len(signals):
            out.append((signals[a][0] - send_log[s][0]) * 1000)
    return out


def run(args: argparse.Namespace) -> dict[str, object]:
    from desktop_chat.event_loop import QtEventLoop

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setQuitOnLastWindowClosed(False)  # the run ends when the benchmark is done, as in the app
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        data = Path(tmp)
        server = LLMServerProcess(
            ["--fast-count", str(args.count), "--fast-rate", str(args.rate)], log=data / "server-log.json"
        ).start()
        try:
            loop = QtEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                result: dict[str, Any] = loop.run_until_complete(_stream(args, server.url, data))
        finally:
            server.stop()
        request = next(r for r in server.requests() if r.send_log)
    send_log = [(float(t), int(n)) for t, n in request.send_log]
    signals: list[tuple[float, int]] = result["signals"]
    beats: list[float] = result["beats"]
    expected = "".join(f"{i:06d} " for i in range(args.count))
    text = str(result["text"])
    latencies = _latencies(send_log, signals, args.count)
    first_sent = send_log[0][0]
    complete = next((t for t, n in signals if n >= len(expected)), signals[-1][0] if signals else first_sent)
    achieved = args.count / max(1e-9, complete - first_sent)
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(beats)]
    commits: list[float] = result["commits"]
    text_bytes = len(text.encode())
    written = int(result["written"])
    budget = 3 * text_bytes + 16 * 1024 * len(commits)
    return {
        "offered_rate": args.rate,
        "count": args.count,
        "achieved_rate": round(achieved, 1),
        "commit_p50_ms": round(pct(commits, 0.5), 2),
        "commit_p99_ms": round(pct(commits, 0.99), 2),
        "commit_max_ms": round(max(commits, default=0.0), 2),
        "commits": len(commits),
        "signal_p50_ms": round(pct(latencies, 0.5), 2),
        "signal_p99_ms": round(pct(latencies, 0.99), 2),
        "max_stall_ms": round(max(gaps, default=0.0), 2),
        "cpu_percent": round(100 * float(result["cpu"]) / max(1e-9, float(result["wall"])), 1),
        "bytes_written": written,
        "bytes_written_per_text_byte": round(written / max(1, text_bytes), 3),
        "within_write_budget": written <= budget,
        "text_intact": text == expected,
        "status": result["status"],
        "median_heartbeat_ms": round(statistics.median(gaps), 2) if gaps else None,
        "max_stall_at_s": round(beats[gaps.index(max(gaps))] - first_sent, 3) if gaps else None,
    }


def _rerun_on_a_slow_disk(argv: list[str]) -> int:
    """Build the shim, then run this benchmark again with it preloaded; its exit code."""
    if not sys.platform.startswith("linux"):
        sys.exit("--slow-disk needs Linux (LD_PRELOAD)")
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        sys.exit("--slow-disk needs a C compiler (cc or gcc)")
    with tempfile.TemporaryDirectory(prefix="bench-slow-disk-") as tmp:
        shim = Path(tmp) / "slow_disk.so"
        subprocess.run(
            [compiler, "-O2", "-shared", "-fPIC", "-o", str(shim), str(SHIM_SOURCE), "-ldl"], check=True
        )
        preload = " ".join(p for p in (str(shim), os.environ.get("LD_PRELOAD", "")) if p)
        env = dict(os.environ, LD_PRELOAD=preload, **{SHIM_MARK: "1"})
        return subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *argv], env=env, check=False
        ).returncode


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rate", type=float, default=3000, help="deltas per second the server sends")
    parser.add_argument("--count", type=int, default=30000, help="how many deltas")
    parser.add_argument("--wal-autocheckpoint", type=int, help="override PRAGMA wal_autocheckpoint (pages)")
    parser.add_argument("--view", action="store_true", help="also paint a plain list view of the transcript")
    parser.add_argument(
        "--slow-disk",
        action="store_true",
        help="run under a shim that delays each database write by 4 ms and each fsync by 120 ms (Linux)",
    )
    args = parser.parse_args(argv)
    under_shim = os.environ.get(SHIM_MARK) == "1"
    if args.slow_disk and not under_shim:
        return _rerun_on_a_slow_disk(argv)
    result = run(args)
    result["slow_disk"] = under_shim
    for key, value in result.items():
        print(f"{key:30} {value}")
    print(json.dumps(result), flush=True)
    return 0 if result["text_intact"] else 1


if __name__ == "__main__":
    sys.exit(main())
