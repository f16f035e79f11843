"""Conversation list benchmark: 10,000 conversations in the real sidebar (model, filter proxy, view).

    python bench/conversations.py [--conversations 10000]

Runs offscreen (or on $DISPLAY when set). Garbage collection is off while timing, as in the app
(`ui/gc_guard.py` collects on a timer). Figures:
- load_ms_10k: `ConversationListModel(...)` over the store (the summaries query, sorting, indexing),
  median of 5
- summaries_ms: the store query alone (`Repo.conversation_summaries`), median of 5
- filter_ms_p50 / filter_ms_p95 / filter_ms_max: per keystroke, typing and erasing words one character
  at a time in the filter box: filter + relayout + repaint of the list
- scroll_paint_ms_p50 / scroll_paint_ms_p95: repainting the list's viewport at 40 scroll positions
- move_ms: a conversation deep in the list gets a new message and moves to the top (what each send does)
- rss_mib: resident memory with the sidebar shown (VmRSS)

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench lives in the source tree, not the package
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtWidgets import QApplication  # noqa: E402

from bench._common import pct, rss_mib  # noqa: E402

WORDS = ["python", "recipe", "travel", "budget", "garden", "rust", "poem", "physics", "café", "docker"]
TYPED = ["recipe", "garden poem", "café", "question 12", "zzz"]


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    args = parser.parse_args(argv)

    from desktop_chat.services.conversations import ConversationService
    from desktop_chat.services.store_writes import StoreWrites
    from desktop_chat.storage import open_store
    from desktop_chat.storage.writer import StoreWriter
    from desktop_chat.ui.sidebar.model import ConversationListModel
    from desktop_chat.ui.sidebar.pane import ConversationSidebar

    app = QApplication.instance() or QApplication(sys.argv)
    n = args.conversations
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.sqlite3")
        now = time.time()
        conn = store.db.connection()
        with store.db.atomic():
            conn.executemany(
                "INSERT INTO conversation (uuid, title, created_at, updated_at, pinned, archived) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        uuid.uuid4().hex,
                        f"{WORDS[i % 10]} question {i} about {WORDS[(i * 7) % 10]} and more",
                        now - 97 * i,
                        now - 97 * i,
                        int(i % 997 == 0),
                        int(i % 41 == 0),
                    )
                    for i in range(n)
                ],
            )
        store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"{n} conversations stored", file=sys.stderr)
        writer = StoreWriter(store.repo)
        service = ConversationService(store.repo, StoreWrites(writer))
        gc.collect()
        gc.disable()

        summaries, loads = [], []
        for _ in range(5):
            start = time.perf_counter()
            store.repo.conversation_summaries()
            summaries.append(_ms(start))
            start = time.perf_counter()
            model = ConversationListModel(service)
            loads.append(_ms(start))
            model.deleteLater()
            app.processEvents()

        sidebar = ConversationSidebar(service)
        sidebar.resize(300, 900)
        sidebar.show()
        for _ in range(20):
            app.processEvents()
        view = sidebar.view
        keystrokes: list[float] = []
        for word in TYPED:
            for i in [*range(1, len(word) + 1), *range(len(word) - 1, -1, -1)]:
                start = time.perf_counter()
                sidebar.set_filter_text(word[:i])
                view.viewport().repaint()
                keystrokes.append(_ms(start))
        print(f"{len(keystrokes)} keystrokes", file=sys.stderr)

        paints: list[float] = []
        bar = view.verticalScrollBar()
        for step in range(40):
            bar.setValue(step * bar.maximum() // 39)
            app.processEvents()
            start = time.perf_counter()
            view.viewport().repaint()
            paints.append(_ms(start))

        deep = sidebar.model.id_at(sidebar.model.rowCount() - 1)
        assert deep is not None
        bar.setValue(0)
        app.processEvents()
        store.repo.add_message(deep, "a new message")
        start = time.perf_counter()
        service.notify_changed(deep)
        view.viewport().repaint()
        move_ms = _ms(start)
        rss = rss_mib()
        gc.enable()
        sidebar.close()
        writer.close()
        store.close()

    result = {
        "conversations": n,
        "load_ms_10k": round(statistics.median(loads), 1),
        "summaries_ms": round(statistics.median(summaries), 1),
        "filter_ms_p50": round(pct(keystrokes, 0.5), 1),
        "filter_ms_p95": round(pct(keystrokes, 0.95), 1),
        "filter_ms_max": round(max(keystrokes), 1),
        "scroll_paint_ms_p50": round(pct(paints, 0.5), 2),
        "scroll_paint_ms_p95": round(pct(paints, 0.95), 2),
        "move_ms": round(move_ms, 1),
        "rss_mib": round(rss, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
