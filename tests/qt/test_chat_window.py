"""Chatting through the window: keys a person presses, what the transcript and buttons show."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_chat.domain import ResponseStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.empty_state import NO_PROVIDER_HINT
from desktop_chat.ui.transcript.model import STATUS_ROLE, TEXT_ROLE
from tests.helpers.llm_server import LLMServer, fast, text_script
from tests.helpers.loop import run, soon, until


def test_without_a_provider_sending_is_disabled_with_a_hint(main_window) -> None:
    w = main_window()
    assert not w.send_button.isEnabled()
    assert not w.composer.isEnabled()
    assert w.composer.placeholderText() == NO_PROVIDER_HINT
    assert not w.model_picker.isVisible()


@pytest.mark.usefixtures("on_test_server")
def test_enter_sends_shift_enter_adds_a_line_and_the_answer_streams_in(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.enqueue(text_script("Two lines,\nas asked.", pieces=4))
    w = main_window()
    assert w.model_picker.isVisible()
    assert "test-model" in w.model_picker.currentText()
    assert w.composer.isEnabled()
    qtbot.keyClicks(w.composer, "first line")
    qtbot.keyClick(w.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(w.composer, "second line")
    assert w.composer.toPlainText() == "first line\nsecond line"
    qtbot.keyClick(w.composer, Qt.Key.Key_Return)
    assert w.composer.toPlainText() == ""
    conv_id = run(aloop, soon(w.current_conversation_id))
    assert w.stop_button.isVisible()
    assert not w.send_button.isEnabled()
    run(aloop, services.chat.wait(conv_id))
    run(aloop, until(lambda: w.transcript_model.data(w.transcript_model.index(1), STATUS_ROLE) == "done"))
    model = w.transcript_model
    assert model.rowCount() == 2
    assert model.data(model.index(0), TEXT_ROLE) == "first line\nsecond line"
    assert model.data(model.index(1), TEXT_ROLE) == "Two lines,\nas asked."
    assert not w.stop_button.isVisible()
    assert w.send_button.isEnabled()
    assert llm_server.requests[0].body["messages"][-1]["content"] == "first line\nsecond line"


@pytest.mark.usefixtures("on_test_server")
def test_escape_stops_the_answer_and_the_view_shows_it_stopped(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.enqueue([fast(3000, rate=300)])
    w = main_window()
    qtbot.keyClicks(w.composer, "count")
    qtbot.keyClick(w.composer, Qt.Key.Key_Return)
    conv_id = run(aloop, soon(w.current_conversation_id))
    model = w.transcript_model

    def shown() -> str:
        return str(model.data(model.index(1), TEXT_ROLE) or "")

    run(aloop, until(lambda: len(shown().split()) >= 10))  # the view updates while the answer streams
    assert model.data(model.index(1), STATUS_ROLE) == "streaming"
    qtbot.keyClick(w.composer, Qt.Key.Key_Escape)
    run(aloop, services.chat.wait(conv_id))
    run(aloop, until(lambda: model.data(model.index(1), STATUS_ROLE) == "cancelled"))
    stored = services.conversations.transcript(conv_id)[-1].response
    assert stored is not None
    assert stored.status is ResponseStatus.CANCELLED
    assert shown() == stored.text
    assert "stopped" in model.data(model.index(1))


@pytest.mark.usefixtures("on_test_server")
def test_ctrl_shift_c_copies_the_last_answer_and_ctrl_w_closes_the_conversation(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    from PySide6.QtGui import QGuiApplication

    llm_server.enqueue(text_script("The **answer**, in Markdown.", pieces=3))
    w = main_window()
    QGuiApplication.clipboard().setText("before")
    qtbot.keyClick(w, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert QGuiApplication.clipboard().text() == "before", "no conversation: nothing is copied"
    qtbot.keyClicks(w.composer, "question")
    qtbot.keyClick(w.composer, Qt.Key.Key_Return)
    conv_id = run(aloop, soon(w.current_conversation_id))
    run(aloop, services.chat.wait(conv_id))
    run(aloop, until(lambda: w.transcript_model.data(w.transcript_model.index(1), STATUS_ROLE) == "done"))

    qtbot.keyClick(
        w.composer, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert QGuiApplication.clipboard().text() == "The **answer**, in Markdown."

    qtbot.keyClick(w.composer, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert w.current_conversation_id() is None
    assert w.transcript_model.rowCount() == 0
    assert w.pages.currentWidget() is w.empty_label
    assert w.sidebar.conversation_count() == 1, "closing is not deleting"
    assert services.conversations.get(conv_id).title
    w.sidebar.view.setFocus()
    qtbot.keyClick(w.sidebar.view, Qt.Key.Key_Down)
    assert w.current_conversation_id() == conv_id, "the keyboard opens it again from the list"
