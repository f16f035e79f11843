"""Actions on messages through the real window, by mouse and by keyboard: regenerate, the branch
switcher, edit and resend, copy, inline errors with Retry, and Continue."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop_chat.domain import ResponseStatus, Role
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.main_window import MainWindow
from desktop_chat.ui.transcript.model import ROW_ROLE
from desktop_chat.ui.transcript.row import TranscriptRow
from tests.helpers.history import new_conversation, stored
from tests.helpers.llm_server import LLMServer, chunk, text_script
from tests.helpers.loop import run, soon, until
from tests.helpers.transcript_ui import add_exchange, hit_point, settle

pytestmark = pytest.mark.usefixtures("on_test_server")


def _row(w: MainWindow, row: int) -> TranscriptRow:
    value: TranscriptRow = w.transcript_model.data(w.transcript_model.index(row), ROW_ROLE)
    return value


def _click(qtbot, w: MainWindow, message_id: int, action: str) -> None:
    point = hit_point(w.transcript, message_id, action)
    qtbot.mouseClick(w.transcript.viewport(), Qt.MouseButton.LeftButton, pos=point)


def _editing(w: MainWindow) -> int | None:
    return w.composer.editing


def _open(main_window, conversation_id: int) -> MainWindow:
    """The main window showing this conversation, laid out."""
    w: MainWindow = main_window()
    w.open_conversation(conversation_id)
    settle(w.transcript)
    return w


def _leaf(services: AppServices, conversation_id: int) -> int | None:
    return services.conversations.get(conversation_id).active_leaf_id


def test_regenerate_then_switch_between_the_two_answers(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    conv = new_conversation(services, "branches")
    _, first = add_exchange(services, conv.id, "Name a colour.", "Blue.")
    llm_server.enqueue(text_script("Green, this time.", pieces=3))
    w = _open(main_window, conv.id)
    _click(qtbot, w, first, "regenerate")
    run(aloop, services.chat.wait(conv.id))
    run(aloop, until(lambda: _row(w, 1).message.text == "Green, this time." and _row(w, 1).siblings))
    second = _row(w, 1).message.id
    assert _leaf(services, conv.id) == second
    siblings = _row(w, 1).siblings
    assert siblings is not None
    assert (siblings.index, siblings.count) == (2, 2)
    settle(w.transcript)
    _click(qtbot, w, second, "switch")  # "<": the only enabled arrow
    stored(services)
    assert _leaf(services, conv.id) == first
    assert _row(w, 1).message.text == "Blue."
    assert w.transcript_model.rowCount() == 2
    w.transcript.setFocus()
    w.transcript.setCurrentIndex(w.transcript_model.index(1))
    qtbot.keyClick(w.transcript, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    stored(services)
    assert _leaf(services, conv.id) == second
    assert _row(w, 1).message.text == "Green, this time."
    qtbot.keyClick(w.transcript, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    stored(services)
    assert _leaf(services, conv.id) == first
    assert len(llm_server.requests) == 1


def test_edit_and_resend_makes_a_branch_and_esc_cancels(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    conv = new_conversation(services, "edit")
    question, _ = add_exchange(services, conv.id, "Waht is 2+2?", "Four.")
    llm_server.enqueue(text_script("Four, still.", pieces=2))
    w = _open(main_window, conv.id)
    qtbot.keyClicks(w.composer, "a draft")
    _click(qtbot, w, question, "edit")
    assert _editing(w) == question
    assert w.composer.toPlainText() == "Waht is 2+2?"
    assert w.composer.editing_label.isVisible()
    qtbot.keyClick(w.composer, Qt.Key.Key_Escape)  # cancel: the draft comes back
    assert _editing(w) is None
    assert w.composer.toPlainText() == "a draft"
    assert not w.composer.editing_label.isVisible()
    w.transcript.setFocus()
    w.transcript.setCurrentIndex(w.transcript_model.index(0))
    qtbot.keyClick(w.transcript, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert _editing(w) == question
    w.composer.selectAll()
    qtbot.keyClicks(w.composer, "What is 2+2?")
    qtbot.keyClick(w.composer, Qt.Key.Key_Return)
    assert _editing(w) is None
    run(aloop, services.chat.wait(conv.id))
    run(aloop, until(lambda: _row(w, 1).message.text == "Four, still."))
    edited = _row(w, 0)
    assert edited.message.text == "What is 2+2?"
    assert edited.siblings is not None
    assert edited.siblings.count == 2
    users = [m for m in services.store.repo.list_messages(conv.id).items if m.role is Role.USER]
    assert len(users) == 2
    assert users[0].parent_id == users[1].parent_id
    assert llm_server.requests[0].body["messages"][-1]["content"] == "What is 2+2?"


def test_a_failed_answer_shows_the_error_inline_and_retry_continues_it(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.enqueue(
        [
            {"chunk": chunk(role="assistant", content="Partial")},
            {"chunk": chunk(content=" answer")},
            {"cut": True},
        ]
    )
    llm_server.enqueue(text_script(" and the rest.", pieces=2))
    w = main_window()
    qtbot.keyClicks(w.composer, "Tell me")
    qtbot.keyClick(w.composer, Qt.Key.Key_Return)
    conv_id = run(aloop, soon(w.current_conversation_id))
    run(aloop, services.chat.wait(conv_id))
    run(aloop, until(lambda: _row(w, 1).message.response.status is ResponseStatus.ERROR))  # type: ignore[union-attr]
    settle(w.transcript)
    answer = _row(w, 1).message
    assert answer.text == "Partial answer"  # the partial text is kept above the error
    shown = w.transcript_model.data(w.transcript_model.index(1))
    assert "failed" in shown
    assert "connection closed" in shown
    _click(qtbot, w, answer.id, "retry")
    run(aloop, services.chat.wait(conv_id))
    run(aloop, until(lambda: _row(w, 1).message.response.status is ResponseStatus.DONE))  # type: ignore[union-attr]
    assert _row(w, 1).message.text == "Partial answer and the rest."
    assert _row(w, 1).message.id == answer.id  # retried in place, not a new branch
    layout = w.transcript.delegate.layout_for(w.transcript_model.index(1))
    assert layout is not None
    assert "retry" not in [h.action for h in layout.hits]


def test_continue_an_interrupted_answer_by_mouse_and_copy_it(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    conv = new_conversation(services, "cut")
    _, answer = add_exchange(
        services,
        conv.id,
        "Count to five.",
        "One, two,",
        status=ResponseStatus.INTERRUPTED,
        error="Closed early.",
    )
    llm_server.enqueue(text_script(" three, four, five.", pieces=3))
    w = _open(main_window, conv.id)
    assert "Closed early." in w.transcript_model.data(w.transcript_model.index(1))
    _click(qtbot, w, answer, "continue")
    run(aloop, services.chat.wait(conv.id))
    run(aloop, until(lambda: _row(w, 1).message.text == "One, two, three, four, five."))
    settle(w.transcript)
    layout = w.transcript.delegate.layout_for(w.transcript_model.index(1))
    assert layout is not None
    assert "continue" not in [h.action for h in layout.hits]
    _click(qtbot, w, answer, "copy")
    assert QGuiApplication.clipboard().text() == "One, two, three, four, five."
    assert "Copied" in w.statusBar().currentMessage()
