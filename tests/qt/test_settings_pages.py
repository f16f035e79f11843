"""Every page of Settings keeps the page contract (`ui/settings/page.py`): it names itself, shows what is
stored (`load`), knows when it holds edits not stored yet, stores them with `save`, and restores the
defaults of the settings it edits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop_chat.services.app_services import AppServices
from desktop_chat.services.mcp import McpServerConfig
from desktop_chat.settings import (
    ALWAYS_ALLOWED_TOOLS,
    DISABLED_TOOLS,
    FONT_SIZE,
    MAX_TOOL_ROUNDS,
    PROXY_URL,
    SYSTEM_PROMPT,
    THEME,
)
from desktop_chat.ui.settings.dialog import SettingsDialog
from desktop_chat.ui.settings.general import GeneralPage
from desktop_chat.ui.settings.page import SettingsPage
from desktop_chat.ui.settings.providers import ProvidersPage
from desktop_chat.ui.settings.tools import ToolsPage
from tests.helpers.settings_ui import retype


@pytest.fixture
def page_services(no_keychain_services: AppServices) -> Iterator[AppServices]:
    """Services without a keychain (no page here saves a key)."""
    yield no_keychain_services
    no_keychain_services.mcp.close()


def _dialog(qtbot, services: AppServices, name: str) -> SettingsDialog:
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show_page(name)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


@dataclass(frozen=True)
class Case:
    """How to give a page something stored, edit it as a person would, and read what is stored."""

    setup: Callable[[AppServices], None]
    edit: Callable[[Any, Any], None]  # (qtbot, page)
    stored: Callable[[AppServices], object]
    before: object
    after: object


def _add_provider(services: AppServices) -> None:
    services.providers.add("Local", "http://127.0.0.1:9/v1", default_model="m", needs_key=False)


def _edit_provider(qtbot, page: ProvidersPage) -> None:
    retype(qtbot, page.name_edit, "Renamed")


def _provider_name(services: AppServices) -> object:
    return [p.name for p in services.providers.profiles()]


def _add_server(services: AppServices) -> None:
    services.mcp.save_server(McpServerConfig("files", command="echo", args=("one",)))


def _edit_server(qtbot, page: ToolsPage) -> None:
    retype(qtbot, page.command_edit, "echo two")


def _server_args(services: AppServices) -> object:
    config = services.mcp.server("files")
    return config.args if config is not None else None


def _edit_general(qtbot, page: GeneralPage) -> None:
    page.prompt_edit.setFocus()
    qtbot.keyClicks(page.prompt_edit, "Answer briefly.")  # saved a moment later: not yet
    page.proxy_edit.setFocus()
    qtbot.keyClicks(page.proxy_edit, "proxy.example:3128")  # saved on Return: not yet


def _general_values(services: AppServices) -> object:
    return (services.settings.get(SYSTEM_PROMPT), services.settings.get(PROXY_URL))


CASES = {
    "providers": Case(_add_provider, _edit_provider, _provider_name, ["Local"], ["Renamed"]),
    "general": Case(
        lambda _s: None,
        _edit_general,
        _general_values,
        ("", ""),
        ("Answer briefly.", "http://proxy.example:3128"),
    ),
    "tools": Case(_add_server, _edit_server, _server_args, ("one",), ("two",)),
}


def test_every_page_names_itself(qtbot, page_services: AppServices) -> None:
    dialog = _dialog(qtbot, page_services, "providers")
    assert [p.NAME for p in dialog.pages] == ["providers", "general", "tools"]
    for index, page in enumerate(dialog.pages):
        assert isinstance(page, SettingsPage)
        assert dialog.tabs.tabText(index) == page.TITLE
        assert page.objectName() == f"{page.NAME}Page"
        dialog.show_page(page.NAME)
        assert dialog.tabs.currentWidget() is page


@pytest.mark.parametrize("name", list(CASES))
def test_every_page_loads_edits_knows_it_is_unsaved_and_saves(
    qtbot, page_services: AppServices, name: str
) -> None:
    case = CASES[name]
    case.setup(page_services)
    dialog = _dialog(qtbot, page_services, name)
    page = next(p for p in dialog.pages if name == p.NAME)
    page.load()
    assert not page.has_unsaved_changes()

    case.edit(qtbot, page)
    assert page.has_unsaved_changes()
    assert case.stored(page_services) == case.before
    page.load()  # what is stored comes back; the edit is dropped
    assert not page.has_unsaved_changes()
    assert case.stored(page_services) == case.before

    case.edit(qtbot, page)
    assert page.has_unsaved_changes()
    assert page.save()
    assert not page.has_unsaved_changes()
    assert case.stored(page_services) == case.after
    page.load()
    assert not page.has_unsaved_changes()
    assert case.stored(page_services) == case.after


def test_a_page_that_cannot_save_says_so_and_stays_unsaved(qtbot, page_services: AppServices) -> None:
    _add_provider(page_services)
    dialog = _dialog(qtbot, page_services, "providers")
    providers = dialog.providers_page
    retype(qtbot, providers.url_edit, "ftp://example.com")
    assert not providers.save()
    assert providers.has_unsaved_changes()
    assert not providers.ready_to_close()  # closing the dialog asks first

    general = dialog.general_page
    retype(qtbot, general.proxy_edit, "ftp://nope")
    assert not general.save()
    assert general.has_unsaved_changes()
    assert general.ready_to_close()  # its settings apply at once: nothing to ask
    assert page_services.settings.get(PROXY_URL) == ""


def test_restore_defaults_puts_back_the_settings_a_page_edits(qtbot, page_services: AppServices) -> None:
    settings = page_services.settings
    settings.set(SYSTEM_PROMPT, "Be brief.")
    settings.set(THEME, "dark")
    settings.set(FONT_SIZE, 15)
    settings.set(MAX_TOOL_ROUNDS, 2)
    settings.set(DISABLED_TOOLS, ["calculator"])
    settings.set(ALWAYS_ALLOWED_TOOLS, ["fetch_web_page"])
    dialog = _dialog(qtbot, page_services, "general")
    general, tools = dialog.general_page, dialog.tools_page
    assert general.theme_box.currentText() == "Dark"
    assert tools.always_box.isVisibleTo(tools)

    general.prompt_edit.setFocus()
    qtbot.keyClicks(general.prompt_edit, " Typed.")
    general.restore_defaults()
    assert all(settings.get(s) == s.default for s in GeneralPage.SETTINGS)  # type: ignore[misc]
    assert general.prompt_edit.toPlainText() == ""
    assert general.theme_box.currentText() == "Follow the system"
    assert general.font_spin.text() == "System default"
    assert general.rounds_spin.value() == MAX_TOOL_ROUNDS.default
    assert not general.has_unsaved_changes()

    dialog.show_page("tools")
    tools.restore_defaults()
    assert settings.get(DISABLED_TOOLS) == []
    assert settings.get(ALWAYS_ALLOWED_TOOLS) == []
    checks = [tools.builtin_list.item(r).checkState() for r in range(tools.builtin_list.count())]
    assert set(checks) == {Qt.CheckState.Checked}
    assert not tools.always_box.isVisible()

    dialog.providers_page.restore_defaults()  # profiles have no defaults: nothing changes
    assert settings.get(THEME) == "system"
