"""Conversation settings: system prompt, temperature and max tokens of one conversation, as the request
body shows them (blank fields are left out of the request)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import SYSTEM_PROMPT
from desktop_chat.ui.settings.conversation import (
    ConversationSettingsDialog,
    parse_max_tokens,
    parse_temperature,
)
from tests.helpers.history import new_conversation, stored
from tests.helpers.llm_server import LLMServer
from tests.helpers.loop import run
from tests.helpers.services import use_server
from tests.helpers.settings_ui import retype

if TYPE_CHECKING:
    from tests.helpers.qt_fixtures import Show


def _dialog(shown: Show, services: AppServices, conversation_id: int) -> ConversationSettingsDialog:
    return shown(ConversationSettingsDialog(services.conversations, services.settings, conversation_id))


def _save(qtbot, dialog: ConversationSettingsDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _send(aloop, services: AppServices, conversation_id: int, text: str) -> None:
    services.chat.send(conversation_id, text)
    run(aloop, services.chat.wait(conversation_id))


@pytest.mark.parametrize(
    ("text", "value"), [("", None), (" 0.7 ", 0.7), ("1,2", 1.2), ("0", 0.0), ("2", 2.0)]
)
def test_temperature_parsing(text: str, value: float | None) -> None:
    assert parse_temperature(text) == value


@pytest.mark.parametrize("text", ["hot", "2.5", "-1", "nan"])
def test_bad_temperatures_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="Temperature"):
        parse_temperature(text)


def test_max_tokens_parsing() -> None:
    assert parse_max_tokens("") is None
    assert parse_max_tokens("4_096") == 4096
    for bad in ("0", "-5", "1.5", "many"):
        with pytest.raises(ValueError, match="Max tokens"):
            parse_max_tokens(bad)


def test_temperature_and_max_tokens_reach_the_request_and_blank_ones_are_left_out(
    aloop, qtbot, shown, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    conversation = new_conversation(services, "Tuned")
    dialog = _dialog(shown, services, conversation.id)
    assert dialog.objectName() == "conversationSettings"
    assert dialog.temperature_edit.placeholderText() == "Provider default"
    retype(qtbot, dialog.temperature_edit, "0.3")
    retype(qtbot, dialog.max_tokens_edit, "256")
    _save(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).params == {"temperature": 0.3, "max_tokens": 256}

    _send(aloop, services, conversation.id, "first")
    body = llm_server.requests[-1].body
    assert (body["temperature"], body["max_tokens"]) == (0.3, 256)

    dialog = _dialog(shown, services, conversation.id)
    assert (dialog.temperature_edit.text(), dialog.max_tokens_edit.text()) == ("0.3", "256")
    retype(qtbot, dialog.temperature_edit, "")
    _save(qtbot, dialog)
    stored(services)
    _send(aloop, services, conversation.id, "second")
    body = llm_server.requests[-1].body
    assert "temperature" not in body
    assert body["max_tokens"] == 256

    dialog = _dialog(shown, services, conversation.id)
    retype(qtbot, dialog.max_tokens_edit, "")
    _save(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).params == {}
    _send(aloop, services, conversation.id, "third")
    body = llm_server.requests[-1].body
    assert "temperature" not in body
    assert "max_tokens" not in body


def test_an_invalid_value_keeps_the_dialog_open_and_says_why(qtbot, shown, services: AppServices) -> None:
    conversation = new_conversation(services, "Bad")
    dialog = _dialog(shown, services, conversation.id)
    retype(qtbot, dialog.temperature_edit, "9")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save is not None
    assert not save.isEnabled()
    assert dialog.error_label.text() == "Temperature goes from 0 to 2."
    qtbot.keyClick(dialog.temperature_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert services.conversations.get(conversation.id).params == {}


def test_the_system_prompt_of_a_conversation_overrides_the_default(
    aloop, qtbot, shown, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    services.settings.set(SYSTEM_PROMPT, "Be brief.")
    conversation = new_conversation(services, "Pirate")
    dialog = _dialog(shown, services, conversation.id)
    assert dialog.default_check.isChecked()
    assert dialog.prompt_edit.isReadOnly()
    assert dialog.prompt_edit.toPlainText() == "Be brief."
    _send(aloop, services, conversation.id, "hello")
    assert llm_server.requests[-1].body["messages"][0] == {"role": "system", "content": "Be brief."}

    dialog.default_check.setFocus()
    qtbot.keyClick(dialog.default_check, Qt.Key.Key_Space)
    assert not dialog.prompt_edit.isReadOnly()
    retype(qtbot, dialog.prompt_edit, "Talk like a pirate.")
    _save(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).system_prompt == "Talk like a pirate."
    _send(aloop, services, conversation.id, "again")
    assert llm_server.requests[-1].body["messages"][0] == {"role": "system", "content": "Talk like a pirate."}

    dialog = _dialog(shown, services, conversation.id)
    assert not dialog.default_check.isChecked()
    dialog.default_check.setChecked(True)
    _save(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).system_prompt is None
