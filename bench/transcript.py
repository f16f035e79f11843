"""Transcript benchmark: a 10,000-message conversation in the real MainWindow, and streaming render cost.

    python bench/transcript.py [--messages 10000]

Runs offscreen (or on $DISPLAY when set, e.g. under xvfb-run). Figures:
- open_first_paint_ms: `MainWindow.open_conversation()` of the 10,000-message conversation until the
  transcript's viewport has painted its newest page
- append_ms: a message added to the open conversation (store + `messages_changed`, as the chat service
  does) until the viewport has painted it
- send_to_paint_ms: the same through `ChatService.send()` (the service's own work included)
- rss_mib: resident memory after opening (VmRSS); rss_before_open_mib: the same just before (the app
  with its window up, openai imported). The history is written by a child process first, so this is
  what the app holds with the conversation open (target: at most 150 MiB)
- render_p50/p99_ms_2k, render_p50/p99_ms_200k: per streamed update, the work of one frame (model
  refresh from the in-memory document + relayout + repaint of the transcript), while an answer grows in
  20-character deltas about one per frame: a 2 KiB answer, and the last 2 KiB of a 200 KiB answer (the
  first 198 KiB streamed at full speed, cut at the length limit, then continued). Each delta travels the
  real path: local server -> client -> ChatService -> TranscriptModel -> TranscriptView.
- render_ratio: render_p99_ms_200k / render_p99_ms_2k (target: at most 2)
- end_ms_2k / end_ms_200k: the GUI thread's work (model refresh, layout, paint) from an answer's end until
  the view is settled, for a 2 KiB answer and a 200 KiB one (the store's end of the answer runs on its
  writer thread; target: the long one costs no more than the short one)

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench and tests.helpers live in the source tree, not the package
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench._common import pct, rss_mib  # noqa: E402

DELTA = 20  # characters per streamed delta
DELTAS_PER_S = 55  # about one per frame


class PaintWatch(QObject):
    """Counts paint events of a widget and notes when the last one started."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.started = 0.0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
            self.started = time.perf_counter()
        return False


def _script(text: str, *, rate: float | None, finish: str = "stop") -> list[dict[str, object]]:
    from tests.helpers.llm_server import chunk, usage

    steps: list[dict[str, object]] = [{"chunk": chunk(role="assistant", content="")}]
    pause = 1 / rate if rate else 0
    for i in range(0, len(text), DELTA):
        steps.append({"chunk": chunk(content=text[i : i + DELTA])})
        if pause:
            steps.append({"sleep": pause})
    steps.append({"chunk": chunk(finish_reason=finish)})
    steps.append({"chunk": chunk(choices=[], usage=usage(100, len(text) // 4))})
    steps.append({"done": True})
    return steps


async def _until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.001)


async def _bench(args: argparse.Namespace, data: Path) -> dict[str, object]:
    from desktop_chat.app import prepare_for_streaming
    from desktop_chat.secrets import SecretStore
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.settings import AUTO_TITLE, Settings
    from desktop_chat.storage import open_store
    from desktop_chat.ui.main_window import MainWindow
    from tests.helpers.llm_server import LLMServer
    from tests.helpers.markdown_samples import long_answer

    # The history is written by another process first, as a person's would have been by earlier runs:
    # what this process holds is then the app with the conversation open, not what writing it left.
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--fill",
            str(data / "bench.sqlite3"),
            "--messages",
            str(args.messages),
        ],
        check=True,
    )
    fill_s = time.perf_counter() - started
    store = open_store(data / "bench.sqlite3")
    big, stream_conv = (store.repo.get_conversation(i) for i in (1, 2))
    settings = Settings(data / "settings.json")
    settings.set(AUTO_TITLE, False)
    services = AppServices(store, settings, SecretStore())
    server = LLMServer().start()
    profile = services.providers.ensure_for_url(server.url, "bench-model", needs_key=False)
    services.providers.use(profile, "bench-model")
    prepare_for_streaming()

    window = MainWindow(services)
    window.resize(1100, 800)
    window.show()
    await _until(window.isVisible)
    await asyncio.sleep(0.3)
    view = window.transcript
    # warm-up, not measured: the first request builds the HTTP client (and imports openai if needed)
    server.enqueue(_script("Warm-up.", rate=None))
    window.open_conversation(stream_conv.id)
    services.chat.send(stream_conv.id, "Warm up")
    await services.chat.wait(stream_conv.id)
    await asyncio.sleep(0.2)
    rss_before = rss_mib()
    watch = PaintWatch()
    view.viewport().installEventFilter(watch)

    # -- open the big conversation: from the call to the viewport's first paint after it
    painted = watch.count
    view.paint_ms = []
    t0 = time.perf_counter()
    window.open_conversation(big.id)
    while watch.count == painted:
        await asyncio.sleep(0)
    open_ms = (watch.started - t0) * 1000 + view.paint_ms[0]  # to the end of that paint
    view.paint_ms = None
    model = window.transcript_model
    rows_loaded = model.rowCount()
    laid_out = len(view.delegate.laid_out)
    at_bottom = view.verticalScrollBar().value() == view.verticalScrollBar().maximum()
    await asyncio.sleep(0.2)
    rss = rss_mib()

    async def appended(action) -> float:
        """From `action()` until the viewport painted with more rows."""
        rows_before = model.rowCount()
        painted = watch.count
        view.paint_ms = []
        t0 = time.perf_counter()
        action()
        while not (model.rowCount() > rows_before and watch.count > painted):
            await asyncio.sleep(0)
        ms = (watch.started - t0) * 1000 + view.paint_ms[0]
        view.paint_ms = None
        return ms

    # -- append: a message added to the store and announced, as the chat service does
    def add_message() -> None:
        leaf = services.conversations.get(big.id).active_leaf_id
        store.repo.add_message(big.id, "An appended message.", parent_id=leaf)
        services.chat.messages_changed.emit(big.id)

    append_ms = await appended(add_message)
    await asyncio.sleep(0.2)
    # -- send: the whole `ChatService.send()` (its own work included) until the new rows are painted
    server.enqueue(_script("Short answer.", rate=None))
    send_ms = await appended(lambda: services.chat.send(big.id, "One more question?"))
    await services.chat.wait(big.id)

    # -- streaming render cost per update
    window.open_conversation(stream_conv.id)
    await asyncio.sleep(0.1)
    tail = long_answer(2048, seed=3)  # streamed slowly, in both cases
    prefix = long_answer(200 * 1024 - len(tail), seed=5)
    prefix = prefix[: prefix.rfind("\n\n") + 2]  # the continued part starts a new block

    async def measure(text: str, *, continue_id: int | None = None) -> tuple[list[float], float]:
        model.refresh_ms, view.layout_ms, view.paint_ms = [], [], []
        server.enqueue(_script(text, rate=DELTAS_PER_S))
        if continue_id is None:
            services.chat.send(stream_conv.id, "Stream please.")
        else:
            services.chat.continue_answer(continue_id)
        frames: list[float] = []
        seen = (0, 0, 0)
        while services.chat.is_streaming(stream_conv.id):
            await asyncio.sleep(0.002)
            now = (len(model.refresh_ms), len(view.layout_ms), len(view.paint_ms))
            if now[0] > seen[0] and now[2] > seen[2]:  # a refresh and the paint that showed it
                frames.append(
                    sum(model.refresh_ms[seen[0] :])
                    + sum(view.layout_ms[seen[1] :])
                    + sum(view.paint_ms[seen[2] :])
                )
                seen = now
        # the end of the answer: what this thread does from its end until the view is settled
        ended = (len(model.refresh_ms), len(view.layout_ms), len(view.paint_ms))
        await asyncio.sleep(0.3)
        end_ms = (
            sum(model.refresh_ms[ended[0] :])
            + sum(view.layout_ms[ended[1] :])
            + sum(view.paint_ms[ended[2] :])
        )
        model.refresh_ms = view.layout_ms = view.paint_ms = None
        return frames[2:-2], end_ms  # leave out the first rows' insertion and the final reload

    small: list[float] = []
    small_end: list[float] = []
    for _ in range(3):
        frames, end_ms = await measure(tail)
        small += frames
        small_end.append(end_ms)
    large: list[float] = []
    large_end: list[float] = []
    for _ in range(2):
        server.enqueue(_script(prefix, rate=None, finish="length"))
        services.chat.send(stream_conv.id, "Long stream please.")
        answer = await services.chat.started(stream_conv.id)
        assert answer is not None
        await services.chat.wait(stream_conv.id)
        await asyncio.sleep(0.3)
        frames, end_ms = await measure(tail, continue_id=answer.id)
        large += frames
        large_end.append(end_ms)
    final = model.last_message()
    final_len = len(final.text) if final is not None else 0

    window.close()
    await services.aclose()
    services.shutdown()
    server.stop()
    return {
        "messages": args.messages,
        "fill_s": round(fill_s, 2),
        "open_first_paint_ms": round(open_ms, 1),
        "rows_loaded": rows_loaded,
        "rows_laid_out": laid_out,
        "opened_at_bottom": at_bottom,
        "append_ms": round(append_ms, 1),
        "send_to_paint_ms": round(send_ms, 1),
        "rss_mib": round(rss, 1),
        "rss_before_open_mib": round(rss_before, 1),
        "render_updates_2k": len(small),
        "render_p50_ms_2k": round(pct(small, 0.5), 2),
        "render_p99_ms_2k": round(pct(small, 0.99), 2),
        "render_updates_200k": len(large),
        "render_p50_ms_200k": round(pct(large, 0.5), 2),
        "render_p99_ms_200k": round(pct(large, 0.99), 2),
        "render_ratio": round(pct(large, 0.99) / max(1e-9, pct(small, 0.99)), 2),
        "end_ms_2k": round(max(small_end), 2),
        "end_ms_200k": round(max(large_end), 2),
        "answer_chars_200k": final_len,
        "platform": QApplication.platformName(),
    }


def fill(path: Path, messages: int) -> None:
    """Write the benchmark's history: the big conversation (id 1), one to stream into, an empty one."""
    from desktop_chat.storage import open_store
    from tests.helpers.markdown_samples import fill_conversation

    store = open_store(path)
    big = store.repo.create_conversation("10,000 messages")
    fill_conversation(store.repo, big.id, messages)
    store.repo.create_conversation("streaming")
    store.repo.create_conversation("empty (opened first)")
    store.close()


def run(args: argparse.Namespace) -> dict[str, object]:
    from desktop_chat.event_loop import QtEventLoop

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setQuitOnLastWindowClosed(False)  # the run ends when the benchmark is done, as in the app
    with tempfile.TemporaryDirectory(prefix="bench-transcript-") as tmp:
        loop = QtEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            result: dict[str, object] = loop.run_until_complete(_bench(args, Path(tmp)))
            return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages in the big conversation")
    parser.add_argument("--fill", metavar="DB", help=argparse.SUPPRESS)  # the child that writes the history
    args = parser.parse_args(argv)
    if args.fill:
        fill(Path(args.fill), args.messages)
        return 0
    result = run(args)
    for key, value in result.items():
        print(f"{key:24} {value}")
    ok = (
        float(result["open_first_paint_ms"]) < 100  # type: ignore[arg-type]
        and float(result["rss_mib"]) <= 150  # type: ignore[arg-type]
        and float(result["render_ratio"]) <= 2  # type: ignore[arg-type]
    )
    print(f"{'targets_met':24} {ok}")
    result["targets_met"] = ok
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
