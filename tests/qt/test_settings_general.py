"""The General page of Settings: every control changes its setting at once (the prompt a moment later)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import AUTO_TITLE, FONT_SIZE, MAX_TOOL_ROUNDS, PROXY_URL, SYSTEM_PROMPT, THEME
from desktop_chat.ui.settings.dialog import SettingsDialog
from tests.helpers.loop import run

if TYPE_CHECKING:
    from tests.helpers.qt_fixtures import Show


def _dialog(shown: Show, services: AppServices) -> SettingsDialog:
    dialog = SettingsDialog(services)
    dialog.show_page("general")
    return shown(dialog)


def _choose(qtbot, combo, text: str) -> None:
    combo.setFocus()
    index = combo.findText(text)
    assert index >= 0, text
    while combo.currentIndex() != index:
        key = Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up
        qtbot.keyClick(combo, key)


def test_theme_text_size_titles_and_tool_rounds_apply_at_once(qtbot, shown, services: AppServices) -> None:
    dialog = _dialog(shown, services)
    page = dialog.general_page
    assert dialog.tabs.currentWidget() is page
    settings = services.settings
    assert page.theme_box.currentText() == "Follow the system"
    assert page.font_spin.text() == "System default"

    _choose(qtbot, page.theme_box, "Dark")
    assert settings.get(THEME) == "dark"
    page.font_spin.setFocus()
    page.font_spin.selectAll()
    qtbot.keyClicks(page.font_spin, "14")
    assert settings.get(FONT_SIZE) == 14
    page.font_spin.setValue(page.font_spin.minimum())
    assert settings.get(FONT_SIZE) == 0  # back to the system's size
    page.title_check.setFocus()
    qtbot.keyClick(page.title_check, Qt.Key.Key_Space)
    assert settings.get(AUTO_TITLE) is True  # the services fixture had turned it off
    page.rounds_spin.setValue(3)
    assert settings.get(MAX_TOOL_ROUNDS) == 3


def test_the_page_follows_changes_made_elsewhere(qtbot, shown, services: AppServices) -> None:
    dialog = _dialog(shown, services)
    page = dialog.general_page
    services.settings.set(THEME, "light")
    services.settings.set(FONT_SIZE, 18)
    assert page.theme_box.currentText() == "Light"
    assert page.font_spin.value() == 18


def test_the_default_system_prompt_is_saved_after_typing_and_on_close(
    qtbot, shown, services: AppServices
) -> None:
    dialog = _dialog(shown, services)
    page = dialog.general_page
    page.prompt_edit.setFocus()
    qtbot.keyClicks(page.prompt_edit, "Answer briefly.")
    assert services.settings.get(SYSTEM_PROMPT) == ""  # not one save per keystroke
    qtbot.waitUntil(lambda: services.settings.get(SYSTEM_PROMPT) == "Answer briefly.", timeout=2000)

    qtbot.keyClicks(page.prompt_edit, " In French.")
    dialog.reject()
    assert services.settings.get(SYSTEM_PROMPT) == "Answer briefly. In French."


def test_a_proxy_is_checked_before_it_is_saved(qtbot, shown, services: AppServices) -> None:
    dialog = _dialog(shown, services)
    page = dialog.general_page
    page.proxy_edit.setFocus()
    qtbot.keyClicks(page.proxy_edit, "ftp://nope")
    qtbot.keyClick(page.proxy_edit, Qt.Key.Key_Return)
    assert "http://host:port" in page.proxy_error.text()
    assert services.settings.get(PROXY_URL) == ""

    page.proxy_edit.clear()
    qtbot.keyClicks(page.proxy_edit, "proxy.example:3128")
    qtbot.keyClick(page.proxy_edit, Qt.Key.Key_Return)
    assert services.settings.get(PROXY_URL) == "http://proxy.example:3128"
    assert not page.proxy_error.isVisible()

    page.proxy_edit.clear()
    qtbot.keyClick(page.proxy_edit, Qt.Key.Key_Return)
    assert services.settings.get(PROXY_URL) == ""  # blank: the system's settings


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: open twice raises it
def test_ctrl_comma_opens_settings_and_the_header_opens_conversation_settings(
    aloop, qtbot, main_window
) -> None:
    w = main_window(active=True)
    assert not w.conversation_settings_button.isVisible()  # nothing open yet
    qtbot.keyClick(w, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = w.findChild(SettingsDialog, "settingsDialog")
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.tabs.currentWidget() is dialog.providers_page
    assert w.open_settings() is dialog  # one at a time
    dialog.reject()

    run(aloop, w.create_conversation())
    assert w.conversation_settings_button.isVisible()
    qtbot.mouseClick(w.conversation_settings_button, Qt.MouseButton.LeftButton)
    settings_of_chat = w.findChild(QDialog, "conversationSettings")
    assert settings_of_chat is not None
    assert settings_of_chat.isVisible()
    settings_of_chat.reject()
