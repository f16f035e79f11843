"""Screenshot of the conversation list: ~30 conversations across days, two pinned, one streaming.

    xvfb-run -a -s "-screen 0 1100x745x24" python -m docs.tools.list_screenshot OUT.png [--filter TEXT]

The window is the real MainWindow over a throw-away data dir; the streaming dots are switched on for one
conversation directly on the list model (as `ChatService.stream_started` does).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import Settings
from desktop_chat.storage import database_path, open_store
from desktop_chat.ui.main_window import MainWindow
from docs.tools.demo_window import offscreen_without_display

TITLES = [
    ("Sourdough starter schedule", 0.1),
    ("Why does my Rust struct need a lifetime parameter when it holds a &str?", 0.4),
    ("Trip to Lisbon: three days in March", 1.2),
    ("", 1.5),
    ("Explain WAL mode in SQLite", 2.3),
    ("Café menu translation (French → English)", 3.1),
    ("Regex for ISO dates", 4.0),
    ("Birthday poem for Grandma", 5.5),
    ("Kubernetes liveness vs readiness probes", 6.2),
    ("Budget spreadsheet formulas", 9.0),
    ("Tomato plants turning yellow", 12.0),
    ("Cover letter draft for the data engineer role at a very long company name GmbH", 15.0),
    ("Physics: why is the sky blue?", 19.0),
    ("Docker compose healthchecks", 24.0),
    ("Spanish subjunctive practice", 28.0),
    ("Git rebase vs merge", 35.0),
    ("Meal plan for a busy week", 41.0),
    ("Python asyncio cancellation", 52.0),
    ("Chess opening repertoire", 64.0),
    ("Garden shed permit questions", 80.0),
    ("SQL window functions", 95.0),
    ("Novel outline: chapter 3", 120.0),
    ("Marathon training plan", 150.0),
    ("Tax deductions for freelancers", 200.0),
    ("Electric bike comparison", 260.0),
    ("Wedding speech ideas", 320.0),
    ("Learning Japanese kana", 400.0),
    ("Bread flour vs all-purpose", 470.0),
    ("Moving checklist", 530.0),
    ("Intro to linear algebra", 610.0),
]
PINNED = ("Marathon training plan", "Explain WAL mode in SQLite")
STREAMING = "Regex for ISO dates"
ARCHIVED = ("Chess opening repertoire",)


def main(argv: list[str] | None = None) -> int:
    """Fill a temp store, show the window, save a grab of it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--filter", default="")
    parser.add_argument("--show-archived", action="store_true")
    parser.add_argument("--delete", default="", help="delete this title (shows the undo bar)")
    parser.add_argument("--rename", default="", help="open the title editor on this title")
    args = parser.parse_args(argv)
    offscreen_without_display()
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(database_path(Path(tmp)))
        now = datetime.now().replace(hour=15, minute=30, second=0, microsecond=0)
        ids: dict[str, int] = {}
        for title, days in reversed(TITLES):
            conv = store.repo.create_conversation(title)
            ts = (now - timedelta(days=days)).timestamp()
            store.db.execute_sql(  # type: ignore[no-untyped-call]
                "UPDATE conversation SET updated_at = ?, created_at = ?, pinned = ?, archived = ? "
                "WHERE id = ?",
                (ts, ts, int(title in PINNED), int(title in ARCHIVED), conv.id),
            )
            ids[title] = conv.id
        q = store.repo.add_message(ids[STREAMING], "A regex that matches ISO 8601 dates like 2024-03-10?")
        store.repo.start_response(ids[STREAMING], q.id, model="llama3.1:8b")
        settings = Settings(Path(tmp) / "settings.json")
        services = AppServices(store, settings, SecretStore())
        profile = services.providers.ensure_for_url(
            "http://127.0.0.1:11434/v1", "llama3.1:8b", needs_key=False
        )
        services.providers.use(profile, "llama3.1:8b")
        window = MainWindow(services)
        window.resize(1100, 720)
        window.sidebar.source_model.set_streaming(ids[STREAMING], True)
        window.show()
        window.open_conversation(ids[STREAMING])
        if args.filter:
            window.sidebar.set_filter_text(args.filter)
        if args.show_archived:
            window.sidebar.set_show_archived(True)
        if args.delete:
            window.sidebar.delete_conversation(ids[args.delete])
        if args.rename:
            window.sidebar.rename_conversation(ids[args.rename])
        window.conversation_list.setFocus()
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        window.grab().save(str(args.out))
        window.close()
        services.shutdown()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
