"""The Tools page of Settings (built-in tools, MCP servers with their live status, stderr and tools) and the
tool choice of Conversation settings, driven through the real widgets and real MCP server processes."""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QListWidget, QListWidgetItem, QMessageBox

from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.mcp import McpServerConfig
from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, DISABLED_TOOLS, MCP_SERVERS
from desktop_chat.ui.settings.conversation import ConversationSettingsDialog
from desktop_chat.ui.settings.dialog import SettingsDialog
from desktop_chat.ui.settings.mcp_text import parse_command, parse_env
from desktop_chat.ui.settings.tools import ToolsPage
from tests.helpers.history import new_conversation, stored
from tests.helpers.loop import run, until
from tests.helpers.settings_ui import click_box_button, files_containing, message_box, retype

if TYPE_CHECKING:
    from tests.helpers.qt_fixtures import Show

ROOT = Path(__file__).resolve().parents[2]
FAILING = McpServerConfig(
    "broken",
    command=sys.executable,
    args=("-c", "import sys; print('bad config', file=sys.stderr); sys.exit(3)"),
)
WORKING = McpServerConfig(
    "testtools", command=sys.executable, args=("-m", "tests.helpers.mcp_test_server"), cwd=str(ROOT)
)
TEST_TOOLS = ["add", "big", "crash", "echo", "hang", "pid"]


def _dialog(shown: Show, services: AppServices) -> SettingsDialog:
    dialog = SettingsDialog(services)
    dialog.show_page("tools")
    shown(dialog)
    assert dialog.tabs.currentWidget() is dialog.tools_page
    return dialog


def _item(widget: QListWidget, starts: str) -> QListWidgetItem:
    found = [widget.item(r) for r in range(widget.count()) if widget.item(r).text().startswith(starts)]
    assert len(found) == 1, [widget.item(r).text() for r in range(widget.count())]
    return found[0]


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _choose_transport(page: ToolsPage, value: str) -> None:
    page.transport_box.setCurrentIndex(page.transport_box.findData(value))


def _start(aloop, page: ToolsPage, name: str, state: str) -> None:
    page.server_list.setCurrentRow(page._row_of(name))
    assert page.current_server() == name
    assert page.start_button.isEnabled()
    page.start_button.click()
    run(aloop, until(lambda: page.status_label.text().startswith(state) and not page.busy(), 30), 40)


def test_the_command_line_and_environment_are_read_as_a_shell_would() -> None:
    assert parse_command("npx -y '@scope/server files' ~/Docs") == (
        "npx",
        ("-y", "@scope/server files", "~/Docs"),
    )
    assert parse_command("  ") == ("", ())
    with pytest.raises(ValueError, match="quotes"):
        parse_command("python -c 'print(1)")
    assert parse_env("A=1\n\nB = two words=2\n") == {"A": "1", "B": " two words=2"}
    assert parse_env("A=1\nPATH_X=/a:/b\n") == {"A": "1", "PATH_X": "/a:/b"}
    with pytest.raises(ValueError, match="Environment line 2"):
        parse_env("A=1\nnot a pair")


def test_unchecking_a_built_in_tool_switches_it_off_and_always_allowed_tools_can_be_forgotten(
    qtbot, shown, services: AppServices
) -> None:
    services.settings.set(ALWAYS_ALLOWED_TOOLS, ["fetch_web_page", "files__read"])
    dialog = _dialog(shown, services)
    page = dialog.tools_page
    assert page.objectName() == "toolsPage"
    assert page.builtin_list.objectName() == "builtinTools"
    names = [
        page.builtin_list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(page.builtin_list.count())
    ]
    assert names == services.tools.names(include_disabled=True)
    assert "calculator" in names
    assert "(asks first)" in _item(page.builtin_list, "fetch_web_page").text()
    assert "(asks first)" not in _item(page.builtin_list, "calculator").text()
    calculator = _item(page.builtin_list, "calculator")
    assert calculator.toolTip() == services.tools.describe("calculator").description  # type: ignore[union-attr]
    assert calculator.checkState() == Qt.CheckState.Checked

    calculator.setCheckState(Qt.CheckState.Unchecked)
    assert services.settings.get(DISABLED_TOOLS) == ["calculator"]
    assert services.tools.disabled == {"calculator"}
    assert "calculator" not in services.tools.names()
    calculator.setCheckState(Qt.CheckState.Checked)
    assert services.settings.get(DISABLED_TOOLS) == []
    assert "calculator" in services.tools.names()
    services.settings.set(DISABLED_TOOLS, ["current_datetime"])  # changed elsewhere: the list follows
    assert _item(page.builtin_list, "current_datetime").checkState() == Qt.CheckState.Unchecked

    assert page.always_box.isVisible()
    forget = page.always_box.findChildren(type(page.add_button), "forgetAllowedButton")
    assert [b.accessibleName() for b in forget] == [
        "Ask again before running fetch_web_page",
        "Ask again before running files__read",
    ]
    _click(qtbot, forget[0])
    assert services.settings.get(ALWAYS_ALLOWED_TOOLS) == ["files__read"]
    QApplication.processEvents()
    forget = page.always_box.findChildren(type(page.add_button), "forgetAllowedButton")
    _click(qtbot, next(b for b in forget if b.isVisible()))
    assert services.settings.get(ALWAYS_ALLOWED_TOOLS) == []
    assert not page.always_box.isVisible()


def test_a_stdio_server_added_in_the_form_is_saved_in_the_mcp_servers_format(
    qtbot, shown, services: AppServices, tmp_path: Path
) -> None:
    dialog = _dialog(shown, services)
    page = dialog.tools_page
    assert page.server_list.objectName() == "mcpServerList"
    assert page.empty_label.isVisible()
    _click(qtbot, page.add_button)
    assert page.has_unsaved_changes()
    assert page.transport_box.currentText() == "Command (stdio)"
    assert page.timeout_spin.value() == 60
    assert not page.url_edit.isVisible()
    assert not page.start_button.isEnabled()

    _click(qtbot, page.save_button)  # nothing typed: save_server's message, no crash
    assert page.form_error.text() == "A server needs a name."
    qtbot.keyClicks(page.name_edit, "my tools")
    _click(qtbot, page.save_button)
    assert page.form_error.text() == "A server needs a command (stdio) or a URL (streamable HTTP)."
    qtbot.keyClicks(
        page.command_edit, f"{shlex.quote(sys.executable)} -m tests.helpers.mcp_test_server --name 'a b"
    )
    _click(qtbot, page.save_button)
    assert "check its quotes" in page.form_error.text()
    qtbot.keyClicks(page.command_edit, "'")
    qtbot.keyClicks(page.cwd_edit, str(ROOT))
    page.env_edit.setPlainText("LOG_LEVEL=debug\nbroken")
    _click(qtbot, page.save_button)
    assert page.form_error.text() == "Environment line 2 is not “KEY=VALUE”."
    page.env_edit.setPlainText("LOG_LEVEL=debug\nGREETING=hello world")
    page.timeout_spin.setValue(30)
    assert services.settings.get(MCP_SERVERS) == {}
    _click(qtbot, page.save_button)

    assert page.form_error.text() == ""
    assert services.settings.get(MCP_SERVERS) == {
        "my tools": {
            "command": sys.executable,
            "args": ["-m", "tests.helpers.mcp_test_server", "--name", "a b"],
            "env": {"LOG_LEVEL": "debug", "GREETING": "hello world"},
            "cwd": str(ROOT),
            "timeout": 30.0,
        }
    }
    saved = json.loads(services.settings.path.read_text(encoding="utf-8"))
    assert saved["values"]["tools/mcp_servers"]["my tools"]["args"][-1] == "a b"
    assert not page.has_unsaved_changes()
    assert page.current_server() == "my tools"
    item = page.server_list.currentItem()
    command = shlex.join([Path(sys.executable).name, "-m", "tests.helpers.mcp_test_server", "--name", "a b"])
    assert item.text().splitlines() == ["my tools", command, "stopped"]
    assert item.checkState() == Qt.CheckState.Checked
    assert page.status_label.text() == "stopped"
    assert page.start_button.isEnabled()

    # a second server may not take the first one's name
    _click(qtbot, page.add_button)
    qtbot.keyClicks(page.name_edit, "my tools")
    _choose_transport(page, "http")
    assert page.url_edit.isVisible()
    assert not page.command_edit.isVisible()
    qtbot.keyClicks(page.url_edit, "ftp://example.com")
    _click(qtbot, page.save_button)
    assert page.form_error.text().startswith("A server URL starts with http://")
    retype(qtbot, page.url_edit, "https://example.com/mcp")
    _click(qtbot, page.save_button)
    assert page.form_error.text() == "There is already a server called my tools."
    retype(qtbot, page.name_edit, "remote")
    page.headers_edit.setPlainText("X-Team: blue")
    _click(qtbot, page.save_button)
    assert services.settings.get(MCP_SERVERS)["remote"] == {
        "url": "https://example.com/mcp",
        "headers": {"X-Team": "blue"},
    }

    # switching a server off, renaming it, and removing it (after asking)
    _item(page.server_list, "remote").setCheckState(Qt.CheckState.Unchecked)
    assert services.settings.get(MCP_SERVERS)["remote"]["disabled"] is True
    qtbot.waitUntil(lambda: "switched off" in _item(page.server_list, "remote").text())
    retype(qtbot, page.name_edit, "remote2")
    _click(qtbot, page.save_button)
    assert sorted(services.settings.get(MCP_SERVERS).keys()) == ["my tools", "remote2"]
    assert services.settings.get(MCP_SERVERS)["remote2"]["disabled"] is True  # kept across the edit
    _click(qtbot, page.remove_button)
    click_box_button(message_box(page, "removeServerBox"), QMessageBox.StandardButton.Cancel)
    assert "remote2" in services.settings.get(MCP_SERVERS)
    _click(qtbot, page.remove_button)
    box = message_box(page, "removeServerBox")
    assert "remote2" in box.text()
    click_box_button(box, "confirmRemoveServerButton")
    assert list(services.settings.get(MCP_SERVERS).keys()) == ["my tools"]
    assert page.server_list.count() == 1
    assert page.current_server() == "my tools"


def test_import_from_a_file_says_what_was_added_and_what_was_skipped(
    qtbot, shown, services: AppServices, tmp_path: Path
) -> None:
    services.mcp.save_server(McpServerConfig("time", command="old-time-server"))
    dialog = _dialog(shown, services)
    page = dialog.tools_page
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "time": {"command": "uvx", "args": ["mcp-server-time"]},
                    "web": {"url": "https://mcp.example.com/mcp"},
                    "broken": {"args": ["x"]},
                    "odd": 3,
                }
            }
        ),
        encoding="utf-8",
    )
    page.import_file(config)
    assert page.import_result.text().splitlines() == [
        "Added 2 servers: time, web.",
        "Replaced the saved time.",
        "Skipped broken: needs a command (stdio) or a url (streamable HTTP).",
        "Skipped odd: not an object.",
    ]
    assert page.import_result.kind() == "warning"
    assert services.settings.get(MCP_SERVERS) == {
        "time": {"command": "uvx", "args": ["mcp-server-time"]},
        "web": {"url": "https://mcp.example.com/mcp"},
    }
    assert page.current_server() == "time"
    assert page.command_edit.text() == "uvx mcp-server-time"
    assert [page.server_list.item(r).text().splitlines()[0] for r in range(page.server_list.count())] == [
        "time",
        "web",
    ]

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    page.import_file(bad)
    assert page.import_result.kind() == "error"
    assert "is not valid JSON (line 1" in page.import_result.text()
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    page.import_file(empty)
    assert page.import_result.text().splitlines() == [
        "No servers were added from empty.json.",
        'Skipped there is no "mcpServers" object.',
    ]

    page.choose_import_file()  # the button opens a file dialog (not driven here)
    assert page.file_dialog is not None
    assert page.file_dialog.objectName() == "importServersDialog"
    page.file_dialog.reject()


def test_a_failing_server_shows_its_error_and_stderr_after_start(
    aloop, qtbot, shown, mcp_services: AppServices
) -> None:
    services = mcp_services
    services.mcp.save_server(FAILING)
    dialog = _dialog(shown, services)
    page = dialog.tools_page
    assert not page.stderr_box.isVisible()
    _start(aloop, page, "broken", "failed")
    run(aloop, until(lambda: "bad config" in page.stderr_box.toPlainText()))
    assert page.status_label.text() == services.mcp.status("broken").summary()
    assert page.stderr_box.isVisible()
    assert page.stderr_box.objectName() == "mcpStderr"
    assert page.stderr_box.isReadOnly()
    mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    assert page.stderr_box.font().family() == mono.family()
    assert page.stderr_box.font().fixedPitch()
    assert page.status_label.text().startswith("failed: ")
    assert page.start_result.text() == "✖ It did not start; see its output below."
    assert page.start_result.kind() == "error"
    assert _item(page.server_list, "broken").text().splitlines()[-1] == "failed"
    assert not page.server_tools.isVisible()


def test_a_working_server_lists_its_tools_and_one_can_be_switched_off(
    aloop, qtbot, shown, mcp_services: AppServices
) -> None:
    services = mcp_services
    services.mcp.save_server(WORKING)
    services.mcp.save_server(FAILING)
    dialog = _dialog(shown, services)
    page = dialog.tools_page
    _start(aloop, page, "testtools", "ready")
    assert page.status_label.text() == "ready with 6 tools"
    assert page.start_result.text() == "✔ Started just now."
    assert page.start_button.text() == "Restart"
    assert _item(page.server_list, "testtools").text().splitlines()[-1] == "ready with 6 tools"
    assert not page.stderr_box.isVisible()
    assert page.server_tools.isVisible()
    tools = [page.server_tools.item(r) for r in range(page.server_tools.count())]
    assert sorted(t.data(Qt.ItemDataRole.UserRole) for t in tools) == TEST_TOOLS
    assert all(t.checkState() == Qt.CheckState.Checked for t in tools)
    echo = _item(page.server_tools, "echo")
    assert echo.text() == "echo — Return the text unchanged."

    _item(page.server_tools, "hang").setCheckState(Qt.CheckState.Unchecked)
    config = services.mcp.server("testtools")
    assert config is not None
    assert config.disabled_tools == frozenset({"hang"})
    assert services.settings.get(MCP_SERVERS)["testtools"]["disabledTools"] == ["hang"]
    # the changed server is stopped (it starts again when needed); its tools stay listed to switch
    run(aloop, until(lambda: page.status_label.text() == "stopped"))
    assert page.server_tools.isVisible()
    assert _item(page.server_tools, "hang").checkState() == Qt.CheckState.Unchecked
    assert "last ran" in page.tools_hint.text()
    _item(page.server_tools, "hang").setCheckState(Qt.CheckState.Checked)
    config = services.mcp.server("testtools")
    assert config is not None
    assert not config.disabled_tools

    # the other server's failure shows without disturbing this one's tools
    _start(aloop, page, "broken", "failed")
    assert not page.server_tools.isVisible()
    page.server_list.setCurrentRow(page._row_of("testtools"))
    assert page.server_tools.isVisible()


@pytest.mark.keyring
def test_a_token_goes_to_the_keychain_and_never_to_the_settings_file(
    qtbot, shown, keyring_services: AppServices, tmp_path: Path
) -> None:
    services = keyring_services
    token = f"mcp-canary-{uuid.uuid4().hex}"
    dialog = _dialog(shown, services)
    page = dialog.tools_page
    _click(qtbot, page.add_button)
    qtbot.keyClicks(page.name_edit, "remote")
    _choose_transport(page, "http")
    qtbot.keyClicks(page.url_edit, "https://mcp.example.com/mcp")
    assert page.token_edit.isEnabled()
    assert page.token_edit.echoMode() == page.token_edit.EchoMode.Password
    qtbot.keyClicks(page.token_edit, token)
    _click(qtbot, page.save_button)
    try:
        assert services.mcp.token("remote") == token
        assert SecretStore(backend=services.secrets._backend).get("mcp:remote") == token
        assert page.token_edit.text() == ""  # never read back into the field
        assert page.token_status.text() == "•••• saved in the keychain"
        assert page.forget_token_button.isVisible()
        assert token not in services.settings.path.read_text(encoding="utf-8")
        assert services.settings.get(MCP_SERVERS) == {"remote": {"url": "https://mcp.example.com/mcp"}}
        services.store.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
        assert files_containing(tmp_path, token) == []

        page.server_list.setCurrentRow(-1)  # away and back: still only the line about it
        page.server_list.setCurrentRow(page._row_of("remote"))
        assert page.token_edit.text() == ""
        _click(qtbot, page.forget_token_button)
        assert services.mcp.token("remote") is None
        assert page.token_status.text().startswith("A token is kept in the keychain")
    finally:
        services.mcp.set_token("remote", None)


def test_without_a_keychain_the_token_field_is_off_and_says_why(
    qtbot, shown, no_keychain_services: AppServices
) -> None:
    services = no_keychain_services
    services.mcp.save_server(McpServerConfig("remote", url="https://mcp.example.com/mcp"))
    dialog = _dialog(shown, services)
    page = dialog.tools_page
    assert page.current_server() == "remote"
    assert not page.token_edit.isEnabled()
    assert page.token_status.kind() == "error"
    assert page.token_status.text() == services.providers.keychain_problem()
    assert page.token_edit.placeholderText() == "No keychain: tokens cannot be saved"


def _conversation_dialog(
    shown: Show, services: AppServices, conversation_id: int
) -> ConversationSettingsDialog:
    return shown(
        ConversationSettingsDialog(
            services.conversations, services.settings, conversation_id, tools=services.tools
        )
    )


def _save_conversation(qtbot, dialog: ConversationSettingsDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert button is not None
    _click(qtbot, button)


def test_a_conversation_offers_all_tools_none_or_the_chosen_ones(
    aloop, qtbot, shown, mcp_services: AppServices
) -> None:
    services = mcp_services
    conversation = new_conversation(services, "Tools")
    dialog = _conversation_dialog(shown, services, conversation.id)
    assert dialog.tools_all.isChecked()
    assert not dialog.tools_list.isEnabled()
    listed = [dialog.tools_list.item(r).text() for r in range(dialog.tools_list.count())]
    assert listed == services.tools.names()
    _click(qtbot, dialog.tools_none)
    _save_conversation(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).params == {"tools": "none"}

    dialog = _conversation_dialog(shown, services, conversation.id)
    assert dialog.tools_none.isChecked()
    _click(qtbot, dialog.tools_chosen)
    assert dialog.tools_list.isEnabled()
    for name in ("calculator", "current_datetime"):
        _item(dialog.tools_list, name).setCheckState(Qt.CheckState.Checked)
    _save_conversation(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).params == {"tools": ["calculator", "current_datetime"]}

    # an MCP server's tools are listed once the servers were asked for them
    services.mcp.save_server(WORKING)
    dialog = _conversation_dialog(shown, services, conversation.id)
    assert dialog.tools_chosen.isChecked()
    assert dialog.checked_tools() == ["calculator", "current_datetime"]
    assert dialog.load_tools_button.isVisible()
    _click(qtbot, dialog.load_tools_button)
    run(aloop, until(dialog.load_tools_button.isEnabled, 30), 40)
    assert dialog.tools_status.text().startswith("✔")
    assert "testtools__echo" in [dialog.tools_list.item(r).text() for r in range(dialog.tools_list.count())]
    assert dialog.checked_tools() == ["calculator", "current_datetime"]  # kept through the reload
    _item(dialog.tools_list, "testtools__echo").setCheckState(Qt.CheckState.Checked)
    _save_conversation(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).params == {
        "tools": ["calculator", "current_datetime", "testtools__echo"]
    }

    dialog = _conversation_dialog(shown, services, conversation.id)
    _click(qtbot, dialog.tools_all)
    _save_conversation(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).params == {}


def test_without_the_registry_the_dialog_keeps_the_chosen_tools(qtbot, services: AppServices) -> None:
    conversation = new_conversation(services, "Chosen")
    services.conversations.set_tools(conversation.id, ["files__read"])
    stored(services)
    dialog = ConversationSettingsDialog(services.conversations, services.settings, conversation.id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.tools_chosen.isChecked()
    assert dialog.checked_tools() == ["files__read"]
    assert not dialog.load_tools_button.isVisible()
    _save_conversation(qtbot, dialog)
    stored(services)
    assert services.conversations.get(conversation.id).params == {"tools": ["files__read"]}
