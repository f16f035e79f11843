"""The person in control, through the window: approve, deny and cancel tool calls by mouse and keys."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_chat.domain import ToolStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat import CANCELLED_BY_USER, DECLINED
from desktop_chat.settings import MCP_SERVERS
from desktop_chat.ui.main_window import MainWindow
from desktop_chat.ui.transcript.delegate import TranscriptDelegate
from tests.helpers.llm_server import LLMServer, text_script, tool_round
from tests.helpers.loop import run, soon, until
from tests.helpers.services import MCP_TEST_SERVER, use_server

if TYPE_CHECKING:
    from tests.helpers.qt_fixtures import MakeMainWindow

ECHO = "testtools__echo"
HANG = "testtools__hang"


def _tool_round(call_id: str, name: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    return tool_round((call_id, name, args), content="Let me check. ")


@pytest.fixture
def window(main_window: MakeMainWindow, mcp_services: AppServices, llm_server: LLMServer) -> MainWindow:
    """The main window over services that use the test server and the MCP test server."""
    use_server(mcp_services, llm_server)
    mcp_services.settings.set(MCP_SERVERS, {"testtools": MCP_TEST_SERVER})
    return main_window(size=(1000, 800))


def _send(aloop, qtbot, w: MainWindow, text: str) -> int:
    qtbot.keyClicks(w.composer, text)
    qtbot.keyClick(w.composer, Qt.Key.Key_Return)
    return run(aloop, soon(w.current_conversation_id))


def _answer_row(w: MainWindow) -> int:
    return w.transcript_model.rowCount() - 1


def _click(qtbot, w: MainWindow, action: str, label: str | None = None) -> None:
    """Click the button `action` (with `label`) of the newest message, as a person would."""
    view = w.transcript
    index = w.transcript_model.index(_answer_row(w))
    view.scrollTo(index)
    view.executeDelayedItemsLayout()
    delegate = view.itemDelegate()
    assert isinstance(delegate, TranscriptDelegate)
    delegate.measure(index)
    layout = delegate.layout_for(index)
    assert layout is not None
    hits = [h for h in layout.hits if h.action == action and (label is None or h.label == label)]
    assert hits, f"no {action} {label or ''} button: {[(h.action, h.label) for h in layout.hits]}"
    point = hits[0].rect.center() + view.visualRect(index).topLeft()
    assert view.viewport().rect().contains(point), "the button is on screen"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point))


async def _in_loop(action: Callable[[], object]) -> None:
    """Do a UI action while the loop runs: a task it wakes must never resume outside the loop."""
    action()
    await asyncio.sleep(0)


def _waiting(w: MainWindow) -> bool:
    message = w.transcript_model.message_at(_answer_row(w))
    return message is not None and w.transcript_model.pending_approval(message.id) is not None


def _executions(services: AppServices, conv_id: int) -> list[Any]:
    branch = services.conversations.transcript(conv_id)
    answer = next(m for m in reversed(branch) if m.response is not None)
    assert answer.response is not None
    return services.store.repo.list_tool_executions(answer.response.id).items


def test_allow_once_from_the_transcript_runs_the_call_with_the_arguments_shown(
    aloop, qtbot, window: MainWindow, services: AppServices, llm_server: LLMServer
) -> None:
    w = window
    llm_server.enqueue(
        _tool_round("c1", ECHO, {"text": "hello from the model"}), text_script("It said hello.")
    )
    conv_id = _send(aloop, qtbot, w, "Echo something")
    run(aloop, until(lambda: _waiting(w), timeout=30), timeout=60)
    row = w.transcript_model.row_at(_answer_row(w))
    assert row is not None
    assert row.tool_status("c1") is ToolStatus.QUEUED, "nothing runs before the person says yes"
    layout = w.transcript.itemDelegate().layout_for(w.transcript_model.index(_answer_row(w)))  # type: ignore[attr-defined]
    assert layout is not None
    shown = [p.tool.approval.toPlainText() for p in layout.parts if p.tool is not None and p.tool.approval]
    assert len(shown) == 1
    assert '"hello from the model"' in shown[0], "the full arguments are shown"
    assert "Allow testtools__echo to run?" in shown[0]
    run(aloop, _in_loop(lambda: _click(qtbot, w, "approve", "Allow once")))
    run(aloop, services.chat.wait(conv_id), timeout=60)
    (execution,) = _executions(services, conv_id)
    assert execution.status is ToolStatus.SUCCEEDED
    assert execution.result == "hello from the model"
    run(
        aloop,
        until(
            lambda: (
                not _waiting(w)
                and w.transcript_model.row_at(_answer_row(w)).tool_status("c1")  # type: ignore[union-attr]
                is ToolStatus.SUCCEEDED
            ),
            timeout=30,
        ),
    )


def test_deny_tells_the_model_the_user_declined(
    aloop, qtbot, window: MainWindow, services: AppServices, llm_server: LLMServer
) -> None:
    w = window
    llm_server.enqueue(_tool_round("c1", ECHO, {"text": "secret"}), text_script("Understood, I will not."))
    conv_id = _send(aloop, qtbot, w, "Echo a secret")
    run(aloop, until(lambda: _waiting(w), timeout=30), timeout=60)
    run(aloop, _in_loop(lambda: _click(qtbot, w, "approve", "Deny")))
    run(aloop, services.chat.wait(conv_id), timeout=60)
    (execution,) = _executions(services, conv_id)
    assert execution.status is ToolStatus.CANCELLED
    assert execution.error == DECLINED
    told = [m["content"] for m in llm_server.requests[-1].body["messages"] if m["role"] == "tool"]
    assert told == [DECLINED]

    def shows_cancelled() -> bool:
        row = w.transcript_model.row_at(_answer_row(w))
        return row is not None and row.tool_status("c1") is ToolStatus.CANCELLED

    # The transcript applies tool changes at most once a tick after the first: wait for the last one.
    run(aloop, until(shows_cancelled))
    row = w.transcript_model.row_at(_answer_row(w))
    assert row is not None
    assert row.tool_status("c1") is ToolStatus.CANCELLED
    assert not row.approvals


def test_cancel_from_the_status_widget_stops_a_running_call_and_it_never_stays_running(
    aloop, qtbot, window: MainWindow, services: AppServices, llm_server: LLMServer
) -> None:
    w = window
    llm_server.enqueue(_tool_round("c1", HANG, {"seconds": 600}), text_script("You cancelled it."))
    conv_id = _send(aloop, qtbot, w, "Hang")
    run(aloop, until(lambda: _waiting(w), timeout=30), timeout=60)
    w.transcript.setFocus()
    run(aloop, _in_loop(lambda: qtbot.keyClick(w.transcript, Qt.Key.Key_Y)))  # Y: allow once, by keyboard
    row_of = lambda: w.transcript_model.row_at(_answer_row(w))  # noqa: E731
    run(aloop, until(lambda: row_of().tool_status("c1") is ToolStatus.RUNNING, timeout=30), timeout=60)  # type: ignore[union-attr]
    run(aloop, asyncio.sleep(0.3))
    run(aloop, _in_loop(lambda: _click(qtbot, w, "cancel_tool", "Cancel")))
    run(aloop, services.chat.wait(conv_id), timeout=60)
    (execution,) = _executions(services, conv_id)
    assert execution.status is ToolStatus.CANCELLED
    assert execution.error == CANCELLED_BY_USER
    run(aloop, until(lambda: row_of().tool_status("c1") is ToolStatus.CANCELLED, timeout=30), timeout=5)  # type: ignore[union-attr]
    layout = w.transcript.itemDelegate().layout_for(w.transcript_model.index(_answer_row(w)))  # type: ignore[attr-defined]
    assert layout is not None
    assert not [h for h in layout.hits if h.action == "cancel_tool"], "no Cancel once it ended"


def test_a_dropped_text_file_can_be_read_by_the_model_after_approval(
    aloop, qtbot, window: MainWindow, services: AppServices, llm_server: LLMServer, tmp_path: Path
) -> None:
    from PySide6.QtCore import QMimeData, QUrl

    w = window
    notes = tmp_path / "notes.txt"
    notes.write_text("Buy oat milk.\nCall the plumber on Tuesday.\n")
    secret = tmp_path / "other.txt"
    secret.write_text("not attached")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(notes))])
    w.composer.insertFromMimeData(data)  # what a drop or a paste of the file does
    # into a new conversation, once it is stored
    run(aloop, until(lambda: f"[Attached file: {notes.resolve()}]" in w.composer.toPlainText()))
    llm_server.enqueue(
        _tool_round("c1", "read_text_file", {"path": str(notes)}),
        _tool_round("c2", "read_text_file", {"path": str(secret)}),
        text_script("You need oat milk and a plumber."),
    )
    qtbot.keyClicks(w.composer, "What is on my list?")
    qtbot.keyClick(w.composer, Qt.Key.Key_Return)
    conv_id = run(aloop, soon(w.current_conversation_id))
    handled: set[int] = set()

    def next_question() -> Any:
        waiting = [p for p in services.chat.pending_approvals(conv_id) if p.execution_id not in handled]
        row = w.transcript_model.row_at(_answer_row(w))
        shown = row is not None and waiting and waiting[0].call_id in row.approvals
        return waiting[0] if shown else None

    for _ in range(2):
        run(aloop, until(next_question, timeout=30), timeout=60)
        handled.add(next_question().execution_id)
        run(aloop, _in_loop(lambda: _click(qtbot, w, "approve", "Allow once")))
    run(aloop, services.chat.wait(conv_id), timeout=60)
    first, second = _executions(services, conv_id)
    assert first.status is ToolStatus.SUCCEEDED
    assert "Call the plumber on Tuesday." in (first.result or "")
    assert second.status is ToolStatus.FAILED, "a file that was not attached cannot be read"
    assert "notes.txt" in (second.error or "")
