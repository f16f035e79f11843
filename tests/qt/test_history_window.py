"""Export, import and back up from the window: in the background, with progress, cancellable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from PySide6.QtGui import QGuiApplication

from desktop_chat.domain import Role
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.main_window import MainWindow
from tests.helpers.history import new_conversation


def _fill(services: AppServices, n: int) -> list[int]:
    repo = services.store.repo
    ids = []
    for i in range(n):
        conv = new_conversation(services, f"Chat {i}")
        repo.add_messages_bulk(
            conv.id,
            [
                (Role.USER, f"question {i}", 1.7e9 + i),
                (Role.ASSISTANT, f"answer {i} with **bold**", 1.7e9 + i),
            ],
        )
        ids.append(conv.id)
    return ids


def _wait_result(qtbot, w: MainWindow) -> str:
    qtbot.waitUntil(lambda: bool(w.history_actions.last_result), timeout=20_000)
    text, w.history_actions.last_result = w.history_actions.last_result, ""
    return text


def test_export_then_import_into_another_profile_through_the_window(
    qtbot, main_window, services: AppServices, tmp_path: Path
) -> None:
    ids = _fill(services, 30)
    w = main_window()
    out = tmp_path / "all.json"
    w.history_actions.export("json", out)
    assert _wait_result(qtbot, w) == f"Exported 30 conversations to {out}."
    data = json.loads(out.read_text())
    assert len(data["conversations"]) == 30
    folder = tmp_path / "md"
    w.history_actions.export("md", folder, [ids[0]])
    assert "Exported 1 conversation" in _wait_result(qtbot, w)
    (page,) = folder.glob("*.md")
    assert "answer 0 with **bold**" in page.read_text()

    w.history_actions.import_file(out)
    assert _wait_result(qtbot, w).startswith("Imported 0 conversations, 30 already here")


def test_import_shows_in_the_list_and_backup_is_a_working_database(
    qtbot, main_window, services: AppServices, tmp_path: Path
) -> None:
    w = main_window()
    export = tmp_path / "chatgpt.json"
    export.write_text(
        json.dumps(
            [
                {
                    "id": "c-1",
                    "title": "From ChatGPT",
                    "create_time": 1.7e9,
                    "update_time": 1.7e9,
                    "current_node": "b",
                    "mapping": {
                        "a": {
                            "id": "a",
                            "parent": None,
                            "children": ["b"],
                            "message": {
                                "id": "a",
                                "author": {"role": "user"},
                                "create_time": 1.7e9,
                                "content": {"content_type": "text", "parts": ["hello there"]},
                            },
                        },
                        "b": {
                            "id": "b",
                            "parent": "a",
                            "children": [],
                            "message": {
                                "id": "b",
                                "author": {"role": "assistant"},
                                "create_time": 1.7e9 + 1,
                                "content": {"content_type": "text", "parts": ["general kenobi"]},
                            },
                        },
                    },
                }
            ]
        )
    )
    w.history_actions.import_file(export)
    assert _wait_result(qtbot, w).startswith("Imported 1 conversation")
    qtbot.waitUntil(lambda: w.sidebar.conversation_count() == 1, timeout=5000)
    backup = tmp_path / "backup.sqlite3"
    w.history_actions.backup(backup)
    assert _wait_result(qtbot, w) == f"Backed up to {backup}."
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT title FROM conversation").fetchall() == [("From ChatGPT",)]


def test_a_long_import_can_be_cancelled_and_keeps_whole_conversations(
    qtbot, main_window, services: AppServices, tmp_path: Path
) -> None:
    from tests.helpers.export_samples import chatgpt_bulk

    source = tmp_path / "many.json"
    source.write_text(json.dumps(chatgpt_bulk(4000, turns=2)))  # about 4 s to import: time to cancel
    w = main_window()
    seen: list[tuple[int, int]] = []
    services.history.progress.connect(lambda progress: seen.append((progress.done, progress.total)))
    job = w.history_actions.import_file(source)
    qtbot.waitUntil(lambda: len(seen) >= 1, timeout=20_000)
    services.history.cancel(job)
    text = _wait_result(qtbot, w)
    assert "stopped before the end" in text
    n = len(services.conversations.summaries())
    assert 0 < n < 4000
    sizes = {len(services.conversations.transcript(s.id)) for s in services.conversations.summaries()}
    assert sizes == {4}, "every imported conversation is whole"
    assert seen[-1][1] == 4000


def test_copy_conversation_as_markdown(qtbot, main_window, services: AppServices) -> None:
    ids = _fill(services, 1)
    w = main_window()
    w.open_conversation(ids[0])
    text = w.history_actions.copy_markdown()
    assert text is not None
    assert text.startswith("# Chat 0")
    assert QGuiApplication.clipboard().text() == text
    assert "answer 0 with **bold**" in text
