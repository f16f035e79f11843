"""The Tools page of Settings: built-in tools on or off, tools that run without asking, and MCP servers
(add, edit, import, start; their live status, their stderr when they fail, and their tools).

A server's token goes from its field straight to the keychain (`McpService.set_token`): it is never read
back into the field nor written to settings. Statuses follow `McpService.status_changed` (never polled);
starting a server is a background job, so the dialog never waits for it.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.app_services import AppServices
from desktop_chat.services.mcp import McpServerConfig, ServerState, ServerStatus
from desktop_chat.services.providers import KeychainError, format_headers, parse_headers
from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, DISABLED_TOOLS
from desktop_chat.ui.common.widget_tasks import Jobs
from desktop_chat.ui.common.widgets import StatusLabel, open_question, status_colour, unsaved_changes_box

STDIO, HTTP = "stdio", "http"
TRANSPORTS = ((STDIO, "Command (stdio)"), (HTTP, "URL (streamable HTTP)"))
DEFAULT_TIMEOUT_S = 60
DRAFT = "\0new"  # list item data of a server being added (no real name starts with NUL)
_STATE_KINDS = {ServerState.READY: "ok", ServerState.STARTING: "warning", ServerState.FAILED: "error"}


# ---- text of the form ---------------------------------------------------------------------------------


def parse_command(text: str) -> tuple[str, tuple[str, ...]]:
    """A command line split as a shell would (quotes, backslashes): (command, args); ValueError."""
    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"The command line cannot be read ({exc}); check its quotes.") from None
    return (parts[0], tuple(parts[1:])) if parts else ("", ())


def format_command(command: str, args: tuple[str, ...] | list[str]) -> str:
    """The editable command line (quoted where needed)."""
    return shlex.join([command, *args]) if command else ""


def parse_env(text: str) -> dict[str, str]:
    """`KEY=VALUE` lines (blank lines ignored) as a dict; raises ValueError naming the bad line."""
    env: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise ValueError(f"Environment line {n} is not “KEY=VALUE”.")
        env[key] = value
    return env


def format_env(env: dict[str, str]) -> str:
    """The editable text of an environment (one `KEY=VALUE` per line)."""
    return "\n".join(f"{key}={value}" for key, value in env.items())


def first_sentence(text: str) -> str:
    """The first sentence of a description (for one line of a list)."""
    text = " ".join(text.split())
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


def transport_text(config: McpServerConfig, *, short: bool = False) -> str:
    """What a server runs or where it is: its command line or its URL."""
    if not config.command:
        return config.url
    command = Path(config.command).name if short else config.command
    return format_command(command, config.args)


def _dot(colour: QColor, ratio: float) -> QIcon:
    size = 14
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(QPointF(size / 2, size / 2), 4.5, 4.5)
    painter.end()
    return QIcon(pixmap)


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def _named(widget: QWidget, name: str, accessible: str) -> None:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)


def _fit_rows(widget: QListWidget, rows: int) -> None:
    """Make a list exactly `rows` rows high."""
    row = widget.sizeHintForRow(0)
    if row <= 0:
        row = widget.fontMetrics().height() + 4
    widget.setFixedHeight(row * rows + 2 * widget.frameWidth() + 2)


def _plain_edit(name: str, accessible: str, placeholder: str, lines: int) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    _named(edit, name, accessible)
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 14)
    return edit


class ToolsPage(QWidget):
    """Built-in tools and MCP servers."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolsPage")
        self._services = services
        self._settings = services.settings
        self._tools = services.tools
        self._mcp = services.mcp
        self._jobs = Jobs(self)
        self._editing: str | None = None  # server name, DRAFT for a new one, None for nothing
        self._dirty = False
        self._loading = False
        self._starting: str | None = None  # the server a Start job is starting
        self._last_ready: dict[str, ServerStatus] = {}  # tools stay listed while a server is stopped
        self.question: QMessageBox | None = None  # the open confirmation, if any
        self.file_dialog: QFileDialog | None = None
        # servers_changed can come from inside this page's own item signals: refresh a moment later
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._refresh)
        self._build()
        self._fill_builtin()
        self._fill_always_allowed()
        self._reload_servers()
        if self.server_list.count():
            self.server_list.setCurrentRow(0)
        else:
            self._load(None)
        self._settings.changed.connect(self._on_setting)
        self._mcp.status_changed.connect(self._on_status)
        self._mcp.servers_changed.connect(self._refresh_timer.start)

    # ---- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        self.builtin_list = QListWidget()
        _named(self.builtin_list, "builtinTools", "Built-in tools")
        self.builtin_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.builtin_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.builtin_list.itemChanged.connect(self._builtin_toggled)
        self.always_box = QWidget()
        _named(self.always_box, "alwaysAllowed", "Tools that run without asking")
        self._always_layout = QVBoxLayout(self.always_box)
        self._always_layout.setContentsMargins(0, 0, 0, 0)
        self._always_layout.setSpacing(2)
        builtin_group = QGroupBox("Built-in tools")
        builtin_layout = QVBoxLayout(builtin_group)
        builtin_layout.setSpacing(4)
        builtin_layout.addWidget(self.builtin_list)
        builtin_layout.addWidget(
            _hint(
                "Unchecked tools are never offered to the model. Those marked “asks first” ask you each time."
            )
        )
        builtin_layout.addWidget(self.always_box)

        self.server_list = QListWidget()
        _named(self.server_list, "mcpServerList", "MCP servers")
        self.server_list.setFixedWidth(250)
        self.server_list.setSpacing(2)
        self.server_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.server_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.server_list.currentRowChanged.connect(self._on_row_changed)
        self.server_list.itemChanged.connect(self._server_toggled)
        self.add_button = QPushButton("Add server")
        _named(self.add_button, "addServerButton", "Add an MCP server")
        self.add_button.clicked.connect(self.new_server)
        self.import_button = QPushButton("Import from file…")
        _named(self.import_button, "importServersButton", "Import MCP servers from a file")
        self.import_button.clicked.connect(self.choose_import_file)
        self.import_result = StatusLabel()
        _named(self.import_result, "importResult", "Import result")
        self.import_result.setMaximumWidth(250)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.import_button)
        list_buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.server_list, 1)
        left.addLayout(list_buttons)
        left.addWidget(self.import_result)

        self.form_title = _bold(QLabel(), 1.1)
        self.form_title.setObjectName("mcpFormTitle")
        self.name_edit = QLineEdit()
        _named(self.name_edit, "mcpName", "Server name")
        self.name_edit.setPlaceholderText("For example: files")
        self.transport_box = QComboBox()
        _named(self.transport_box, "mcpTransport", "Transport")
        for value, label in TRANSPORTS:
            self.transport_box.addItem(label, value)
        self.transport_box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.command_edit = QLineEdit()
        _named(self.command_edit, "mcpCommand", "Command and arguments")
        self.command_edit.setPlaceholderText("npx -y @modelcontextprotocol/server-filesystem ~/Documents")
        self.cwd_edit = QLineEdit()
        _named(self.cwd_edit, "mcpWorkingDir", "Working directory")
        self.cwd_edit.setPlaceholderText("Optional: the folder the command runs in")
        self.env_edit = _plain_edit("mcpEnv", "Environment", "KEY=VALUE (one per line; optional)", 2)
        self.url_edit = QLineEdit()
        _named(self.url_edit, "mcpUrl", "Server URL")
        self.url_edit.setPlaceholderText("https://example.com/mcp")
        self.headers_edit = _plain_edit("mcpHeaders", "Headers", "Name: value (one per line; optional)", 2)
        self.token_edit = QLineEdit()
        _named(self.token_edit, "mcpToken", "Token")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setClearButtonEnabled(True)
        self.forget_token_button = QPushButton("Remove token")
        _named(self.forget_token_button, "mcpForgetTokenButton", "Remove the saved token")
        self.forget_token_button.clicked.connect(self.remove_token)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.forget_token_button)
        self.token_status = StatusLabel()
        _named(self.token_status, "mcpTokenStatus", "Token status")
        self.token_box = QWidget()
        token_box = QVBoxLayout(self.token_box)
        token_box.setContentsMargins(0, 0, 0, 0)
        token_box.setSpacing(3)
        token_box.addLayout(token_row)
        token_box.addWidget(self.token_status)
        self.timeout_spin = QSpinBox()
        _named(self.timeout_spin, "mcpTimeout", "Timeout of a call")
        self.timeout_spin.setRange(1, 3600)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setValue(DEFAULT_TIMEOUT_S)
        self.timeout_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

        self.status_dot = QLabel()
        self.status_dot.setObjectName("mcpStatusDot")
        self.status_label = QLabel()
        _named(self.status_label, "mcpStatus", "Server status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton("Start")
        _named(self.start_button, "mcpStartButton", "Start the server")
        self.start_button.clicked.connect(self.start_server)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_dot, 0, Qt.AlignmentFlag.AlignTop)
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignTop)
        self.start_result = StatusLabel()
        _named(self.start_result, "mcpStartResult", "Result of starting the server")
        status_box = QVBoxLayout()
        status_box.setSpacing(3)
        status_box.addLayout(status_row)
        status_box.addWidget(self.start_result)

        self.stderr_box = QPlainTextEdit()
        _named(self.stderr_box, "mcpStderr", "The server's last output (stderr)")
        self.stderr_box.setReadOnly(True)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setFixedPitch(True)
        self.stderr_box.setFont(mono)
        self.stderr_box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.stderr_box.setFixedHeight(self.stderr_box.fontMetrics().lineSpacing() * 5 + 14)
        self.failure_box = QWidget()
        failure_layout = QVBoxLayout(self.failure_box)
        failure_layout.setContentsMargins(0, 0, 0, 0)
        failure_layout.setSpacing(3)
        failure_layout.addWidget(_hint("Its last output (stderr):"))
        failure_layout.addWidget(self.stderr_box)

        self.tools_hint = _hint("")
        self.server_tools = QListWidget()
        _named(self.server_tools, "mcpServerTools", "The server's tools")
        self.server_tools.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.server_tools.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.server_tools.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.server_tools.itemChanged.connect(self._server_tool_toggled)
        self.tools_box = QWidget()
        tools_layout = QVBoxLayout(self.tools_box)
        tools_layout.setContentsMargins(0, 0, 0, 0)
        tools_layout.setSpacing(3)
        tools_layout.addWidget(self.tools_hint)
        tools_layout.addWidget(self.server_tools)

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.addRow("Name", self.name_edit)
        self.form.addRow("Transport", self.transport_box)
        self.form.addRow("Command", self.command_edit)
        self.form.addRow("Working folder", self.cwd_edit)
        self.form.addRow("Environment", self.env_edit)
        self.form.addRow("URL", self.url_edit)
        self.form.addRow("Headers", self.headers_edit)
        self.form.addRow("Token", self.token_box)
        self.form.addRow("Timeout", self.timeout_spin)
        self.form.addRow("Status", status_box)
        self.form.addRow("", self.failure_box)
        self.form.addRow("Tools", self.tools_box)

        self.form_error = StatusLabel()
        _named(self.form_error, "mcpFormError", "Problem with the form")
        self.remove_button = QPushButton("Remove")
        _named(self.remove_button, "removeServerButton", "Remove the server")
        self.remove_button.clicked.connect(self.remove_current)
        self.save_button = QPushButton("Save")
        _named(self.save_button, "saveServerButton", "Save the server")
        self.save_button.clicked.connect(self.save)
        save_row = QHBoxLayout()
        save_row.addWidget(self.form_error, 1)
        save_row.addStretch(0)
        save_row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignBottom)
        save_row.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignBottom)

        self.form_widget = QWidget()
        self.form_widget.setBackgroundRole(QPalette.ColorRole.Window)
        form_layout = QVBoxLayout(self.form_widget)
        form_layout.setContentsMargins(0, 0, 6, 0)
        form_layout.addWidget(self.form_title)
        form_layout.addLayout(self.form)
        form_layout.addStretch(1)
        self.empty_label = QLabel(
            "<p><b>No MCP servers yet.</b></p><p>An MCP server gives the model more tools: files, a "
            "database, a web service. Use <b>Add server</b> to run a command or reach a URL, or "
            "<b>Import from file…</b> to take the <code>mcpServers</code> block of another app's "
            "configuration.</p>"
        )
        self.empty_label.setObjectName("noServers")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("mcpServerForm")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(self.form_widget)
        self.form_scroll.viewport().setAutoFillBackground(False)
        self.form_widget.setAutoFillBackground(False)
        right = QVBoxLayout()
        right.addWidget(self.empty_label)
        right.addWidget(self.form_scroll, 1)
        right.addLayout(save_row)

        columns = QHBoxLayout()
        columns.addLayout(left, 0)
        columns.addSpacing(8)
        columns.addLayout(right, 1)
        servers_group = QGroupBox("MCP servers")
        servers_layout = QVBoxLayout(servers_group)
        servers_layout.addLayout(columns, 1)

        outer = QVBoxLayout(self)
        outer.addWidget(builtin_group)
        outer.addWidget(servers_group, 1)

        for edit in (self.name_edit, self.command_edit, self.cwd_edit, self.url_edit, self.token_edit):
            edit.textEdited.connect(self._changed)
        for plain in (self.env_edit, self.headers_edit):
            plain.textChanged.connect(self._changed)
        self.timeout_spin.valueChanged.connect(self._changed)
        self.transport_box.currentIndexChanged.connect(self._transport_changed)
        for button in self.findChildren(QPushButton):  # Return saves; it never removes or adds
            button.setAutoDefault(button is self.save_button)

    # ---- built-in tools ------------------------------------------------------------------------

    def builtin_names(self) -> list[str]:
        """The tools that come with the app (an MCP server's tools, once listed, carry their server)."""
        return [info.name for info in self._tools.builtin()]

    def _fill_builtin(self) -> None:
        disabled = {str(n) for n in self._settings.get(DISABLED_TOOLS)}
        self.builtin_list.blockSignals(True)
        self.builtin_list.clear()
        for info in self._tools.builtin():
            name = info.name
            asks = " (asks first)" if info.needs_approval else ""
            item = QListWidgetItem(f"{name}{asks} — {first_sentence(info.description)}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(info.description)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if name in disabled else Qt.CheckState.Checked)
            self.builtin_list.addItem(item)
        self.builtin_list.blockSignals(False)
        rows = max(1, min(self.builtin_list.count(), 6))
        _fit_rows(self.builtin_list, rows)

    def _builtin_toggled(self, item: QListWidgetItem) -> None:
        name = str(item.data(Qt.ItemDataRole.UserRole))
        disabled = {str(n) for n in self._settings.get(DISABLED_TOOLS)}
        if item.checkState() == Qt.CheckState.Checked:
            disabled.discard(name)
        else:
            disabled.add(name)
        self._settings.set(DISABLED_TOOLS, sorted(disabled))

    def _sync_builtin_checks(self) -> None:
        disabled = {str(n) for n in self._settings.get(DISABLED_TOOLS)}
        self.builtin_list.blockSignals(True)
        for row in range(self.builtin_list.count()):
            item = self.builtin_list.item(row)
            off = item.data(Qt.ItemDataRole.UserRole) in disabled
            item.setCheckState(Qt.CheckState.Unchecked if off else Qt.CheckState.Checked)
        self.builtin_list.blockSignals(False)

    def _fill_always_allowed(self) -> None:
        while self._always_layout.count():
            taken = self._always_layout.takeAt(0)
            row = taken.widget() if taken is not None else None
            if row is not None:
                row.hide()
                row.deleteLater()
        names = [str(n) for n in self._settings.get(ALWAYS_ALLOWED_TOOLS)]
        for name in names:
            row = QWidget()
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            label = QLabel(f"Always allowed: <b>{html.escape(name)}</b> (runs without asking)")
            forget = QPushButton("Forget")
            forget.setObjectName("forgetAllowedButton")
            forget.setAccessibleName(f"Ask again before running {name}")
            forget.setAutoDefault(False)
            forget.clicked.connect(self._forgetter(name))
            layout.addWidget(label, 1)
            layout.addWidget(forget)
            self._always_layout.addWidget(row)
        self.always_box.setVisible(bool(names))

    def _forgetter(self, name: str) -> Callable[[], None]:
        return lambda: self.forget_allowed(name)

    def forget_allowed(self, name: str) -> None:
        """Ask again before running `name`."""
        allowed = [str(n) for n in self._settings.get(ALWAYS_ALLOWED_TOOLS) if n != name]
        self._settings.set(ALWAYS_ALLOWED_TOOLS, allowed)

    def _on_setting(self, key: str) -> None:
        if key == DISABLED_TOOLS.key:
            self._sync_builtin_checks()
        elif key == ALWAYS_ALLOWED_TOOLS.key:
            self._fill_always_allowed()

    # ---- the server list -----------------------------------------------------------------------

    def _item_text(self, config: McpServerConfig, status: ServerStatus) -> str:
        state = "failed" if status.state is ServerState.FAILED else status.summary()
        if not config.enabled:
            state = f"switched off · {state}" if status.state is not ServerState.STOPPED else "switched off"
        name = config.name if self._mcp.is_saved(config.name) else f"{config.name} (this run only)"
        return f"{name}\n{transport_text(config, short=True)}\n{state}"

    def _state_colour(self, state: ServerState) -> QColor:
        colour = status_colour(_STATE_KINDS.get(state, ""))
        return colour if colour is not None else self.palette().color(QPalette.ColorRole.PlaceholderText)

    def _decorate(self, item: QListWidgetItem, config: McpServerConfig) -> None:
        status = self._mcp.status(config.name)
        item.setText(self._item_text(config, status))
        item.setIcon(_dot(self._state_colour(status.state), self.devicePixelRatioF()))
        tip = f"{transport_text(config)}\n{status.summary()}"
        item.setToolTip(tip)
        item.setCheckState(Qt.CheckState.Checked if config.enabled else Qt.CheckState.Unchecked)

    def _reload_servers(self) -> None:
        """The list as configured (updated in place when the same servers are listed)."""
        configs = self._mcp.servers()
        wanted = [c.name for c in configs] + ([DRAFT] if self._editing == DRAFT else [])
        listed = [
            self.server_list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.server_list.count())
        ]
        self.server_list.blockSignals(True)
        if listed != wanted:
            self.server_list.clear()
            for name in wanted:
                item = QListWidgetItem()
                item.setData(Qt.ItemDataRole.UserRole, name)
                self.server_list.addItem(item)
        for row, config in enumerate(configs):
            item = self.server_list.item(row)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self._decorate(item, config)
        if self._editing == DRAFT:
            draft = self.server_list.item(self.server_list.count() - 1)
            draft.setText("New server\nnot saved yet")
            draft.setIcon(_dot(self._state_colour(ServerState.STOPPED), self.devicePixelRatioF()))
        self.server_list.setCurrentRow(self._row_of(self._editing))
        self.server_list.blockSignals(False)

    def _row_of(self, name: str | None) -> int:
        for row in range(self.server_list.count()):
            if self.server_list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                return row
        return -1

    def _server_toggled(self, item: QListWidgetItem) -> None:
        name = str(item.data(Qt.ItemDataRole.UserRole))
        config = self._mcp.server(name)
        on = item.checkState() == Qt.CheckState.Checked
        if config is not None and config.enabled != on:
            self._mcp.set_enabled(name, on)

    def _refresh(self) -> None:
        """After servers_changed: the list, and the form when it holds no unsaved changes."""
        if self._editing not in (None, DRAFT) and self._mcp.server(self._editing) is None:
            self._dirty = False
            self._editing = None
            self._reload_servers()
            self._load(None)
            if self.server_list.count():
                self.server_list.setCurrentRow(0)
            return
        self._reload_servers()
        if self._editing not in (None, DRAFT) and not self._dirty:
            self._load(self._editing, keep_messages=True)

    def _on_status(self, status: ServerStatus) -> None:
        name = status.name
        row = self._row_of(name)
        config = self._mcp.server(name)
        if row >= 0 and config is not None:
            self.server_list.blockSignals(True)
            self._decorate(self.server_list.item(row), config)
            self.server_list.blockSignals(False)
        if name == self._editing:
            self._show_status()

    def _on_row_changed(self, row: int) -> None:
        item = self.server_list.item(row) if row >= 0 else None
        wanted = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if wanted == self._editing:
            return
        if self._dirty:
            self.server_list.blockSignals(True)
            self.server_list.setCurrentRow(self._row_of(self._editing))
            self.server_list.blockSignals(False)
            self.ask_unsaved(lambda: self._select(wanted))
            return
        self._select(wanted)

    def _select(self, name: str | None) -> None:
        if self._editing == DRAFT and name != DRAFT:
            self._editing = None
            self._reload_servers()
        self._load(name)
        self.server_list.blockSignals(True)
        self.server_list.setCurrentRow(self._row_of(name))
        self.server_list.blockSignals(False)

    # ---- the form ------------------------------------------------------------------------------

    def current_server(self) -> str | None:
        """The saved server shown in the form (None for a new one, or none)."""
        return self._editing if self._editing not in (None, DRAFT) else None

    def is_dirty(self) -> bool:
        """True when the form holds changes that are not saved."""
        return self._dirty

    def busy(self) -> bool:
        """True while a server is being started from this page."""
        return self._starting is not None

    def _changed(self, *_: object) -> None:
        if not self._loading and self._editing is not None:
            self._dirty = True
            self.form_error.show_status("")
            self._update_buttons()

    def _transport(self) -> str:
        return str(self.transport_box.currentData())

    def _transport_changed(self, _index: int) -> None:
        self._show_transport_rows()
        self._changed()

    def _show_transport_rows(self) -> None:
        stdio = self._transport() == STDIO
        for widget in (self.command_edit, self.cwd_edit, self.env_edit):
            self.form.setRowVisible(widget, stdio)
        for widget in (self.url_edit, self.headers_edit):
            self.form.setRowVisible(widget, not stdio)
        self.form.setRowVisible(self.token_box, not stdio)

    def _update_buttons(self) -> None:
        saved = self.current_server() is not None
        self.save_button.setEnabled(self._dirty)
        self.remove_button.setEnabled(self._editing is not None)
        starting = self.busy()
        self.start_button.setEnabled(saved and not self._dirty and not starting)
        self.start_button.setToolTip("Save the changes first" if self._dirty else "")

    def new_server(self) -> None:
        """Start a new server in the form; it exists once saved."""
        if self._dirty:
            self.ask_unsaved(self.new_server)
            return
        self._editing = DRAFT
        self._reload_servers()
        self._load(DRAFT)
        self.name_edit.setFocus()

    def _load(self, name: str | None, *, keep_messages: bool = False) -> None:
        """Fill the form from a server, a new one (DRAFT), or nothing (None)."""
        self._loading = True
        self._editing = name
        config = self._mcp.server(name) if name not in (None, DRAFT) else None
        if name not in (None, DRAFT) and config is None:
            self._editing = name = None
        self.empty_label.setVisible(name is None and self.server_list.count() == 0)
        self.form_scroll.setVisible(name is not None)
        if config is None:
            config = McpServerConfig("")
        self.form_title.setText("New MCP server" if name == DRAFT else config.name)
        self.name_edit.setText(config.name)
        self.transport_box.setCurrentIndex(self.transport_box.findData(HTTP if config.url else STDIO))
        self.command_edit.setText(format_command(config.command, config.args))
        self.cwd_edit.setText(config.cwd or "")
        self.env_edit.setPlainText(format_env(dict(config.env)))
        self.url_edit.setText(config.url)
        for edit in (self.command_edit, self.cwd_edit, self.url_edit):
            edit.setCursorPosition(0)  # the start of a long line shows
        self.headers_edit.setPlainText(format_headers(dict(config.headers)))
        self.timeout_spin.setValue(max(1, round(config.timeout)))
        self.token_edit.clear()
        if not keep_messages:
            self.form_error.show_status("")
            self.start_result.show_status("")
        self._show_transport_rows()
        self._show_token_state()
        self._show_status()
        self._loading = False
        self._dirty = name == DRAFT  # a new server is unsaved until Save
        self._update_buttons()

    def _show_token_state(self) -> None:
        problem = self._services.providers.keychain_problem()
        name = self.current_server()
        asked = problem is None and name is not None and self._transport() == HTTP  # stdio: no token
        saved = asked and name is not None and self._mcp.token(name) is not None
        self.token_edit.setEnabled(problem is None)
        self.forget_token_button.setVisible(saved)
        if problem is not None:
            self.token_edit.setPlaceholderText("No keychain: tokens cannot be saved")
            self.token_status.show_status(problem, "error")
        elif saved:
            self.token_edit.setPlaceholderText("Paste a new token to replace the saved one")
            self.token_status.show_status("•••• saved in the keychain", "ok")
        else:
            self.token_edit.setPlaceholderText("Optional: sent as “Authorization: Bearer …”")
            self.token_status.show_status("A token is kept in the keychain, never in the settings file.")

    def _show_status(self) -> None:
        name = self.current_server()
        status = self._mcp.status(name) if name is not None else ServerStatus("", ServerState.STOPPED)
        if name is None:
            self.status_label.setText("Not saved yet" if self._editing == DRAFT else "")
        else:
            self.status_label.setText(status.summary())
        colour = self._state_colour(status.state)
        self.status_dot.setText("●")
        self.status_dot.setStyleSheet(f"color: {colour.name()};")
        self.start_button.setText("Restart" if status.state is ServerState.READY else "Start")
        failed = status.state is ServerState.FAILED
        self.stderr_box.setPlainText(status.stderr_tail or "(it wrote nothing)" if failed else "")
        self.form.setRowVisible(self.failure_box, failed)
        if status.state is ServerState.READY and name is not None:
            self._last_ready[name] = status
        shown = self._last_ready.get(name) if name is not None else None
        self._fill_server_tools(shown, current=status.state is ServerState.READY)
        self._update_buttons()

    def _fill_server_tools(self, status: ServerStatus | None, *, current: bool) -> None:
        config = self._mcp.server(status.name) if status is not None else None
        self.form.setRowVisible(self.tools_box, status is not None and config is not None)
        if status is None or config is None:
            return
        self.tools_hint.setText(
            "Unchecked tools are not offered to the model."
            if current
            else "As listed when it last ran; unchecked tools are not offered to the model."
        )
        self.server_tools.blockSignals(True)
        self.server_tools.clear()
        for tool in status.tools:
            item = QListWidgetItem(f"{tool.name} — {first_sentence(tool.description)}".rstrip(" —"))
            item.setData(Qt.ItemDataRole.UserRole, tool.name)
            item.setToolTip(tool.description)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            off = tool.name in config.disabled_tools
            item.setCheckState(Qt.CheckState.Unchecked if off else Qt.CheckState.Checked)
            self.server_tools.addItem(item)
        self.server_tools.blockSignals(False)
        rows = max(1, min(self.server_tools.count(), 6))
        _fit_rows(self.server_tools, rows)

    def _server_tool_toggled(self, item: QListWidgetItem) -> None:
        name = self.current_server()
        if name is not None:
            on = item.checkState() == Qt.CheckState.Checked
            self._mcp.set_tool_enabled(name, str(item.data(Qt.ItemDataRole.UserRole)), on)

    def _form_config(self) -> McpServerConfig:
        """The server the form describes; raises ValueError with a message for a person."""
        name = self.name_edit.text().strip()
        current = self.current_server()
        saved = self._mcp.server(current) if current is not None else None
        enabled = saved.enabled if saved is not None else True
        disabled_tools = saved.disabled_tools if saved is not None else frozenset()
        timeout = float(self.timeout_spin.value())
        if self._transport() == STDIO:
            command, args = parse_command(self.command_edit.text())
            return McpServerConfig(
                name,
                command=command,
                args=args,
                env=parse_env(self.env_edit.toPlainText()),
                cwd=self.cwd_edit.text().strip() or None,
                enabled=enabled,
                timeout=timeout,
                disabled_tools=disabled_tools,
            )
        url = self.url_edit.text().strip()
        if url and not url.lower().startswith(("http://", "https://")):
            raise ValueError("A server URL starts with http:// or https://, e.g. https://example.com/mcp.")
        return McpServerConfig(
            name,
            url=url,
            headers=parse_headers(self.headers_edit.toPlainText()),
            enabled=enabled,
            timeout=timeout,
            disabled_tools=disabled_tools,
        )

    # ---- actions -------------------------------------------------------------------------------

    def save(self) -> bool:
        """Save the form (a new server is added); a typed token goes to the keychain. False if invalid."""
        if self._editing is None:
            return False
        previous = self.current_server()
        try:
            config = self._form_config()
            if config.name != previous and self._mcp.server(config.name) is not None:
                raise ValueError(f"There is already a server called {config.name}.")
            self._mcp.save_server(config, previous_name=previous)
        except ValueError as exc:
            self.form_error.show_status(str(exc), "error")
            return False
        token_error = ""
        token = self.token_edit.text().strip()
        if token and config.url:
            try:
                self._mcp.set_token(config.name, token)
            except KeychainError as exc:
                token_error = f"The token was not saved: {exc}"
        self._dirty = False
        self._editing = config.name
        self._reload_servers()
        self._load(config.name)
        if token_error:
            self.token_status.show_status(token_error, "error")
        return True

    def remove_token(self) -> None:
        """Delete the server's token from the keychain."""
        name = self.current_server()
        if name is None:
            return
        try:
            self._mcp.set_token(name, None)
        except KeychainError as exc:
            self.token_status.show_status(f"The token could not be removed: {exc}", "error")
            return
        self._show_token_state()

    def remove_current(self) -> None:
        """Remove the selected server and its token (after asking); a new one is just dropped."""
        if self._editing == DRAFT:
            self._dirty = False
            self._editing = None
            self._reload_servers()
            self._load(None)
            if self.server_list.count():
                self.server_list.setCurrentRow(0)
            return
        name = self.current_server()
        if name is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Remove MCP server",
            f"Remove the MCP server {name}?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("removeServerBox")
        box.setInformativeText("It is stopped, its tools are no longer offered, and its token is removed.")
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        remove.setObjectName("confirmRemoveServerButton")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(_result: int) -> None:
            if box.clickedButton() is remove:
                self._dirty = False
                self._last_ready.pop(name, None)
                self._mcp.remove_server(name)
                self._refresh()

        open_question(self, box, answered)

    def ask_unsaved(self, then: Callable[[], None]) -> None:
        """Ask whether to save the changed server; then run `then` (unless cancelled)."""
        name = self.name_edit.text().strip() or "this server"
        box = unsaved_changes_box(self, name, "unsavedServerBox")

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Save:
                if not self.save():
                    return
            elif button == QMessageBox.StandardButton.Discard:
                self._dirty = False
                if self._editing == DRAFT:
                    self._editing = None
                    self._reload_servers()
            else:
                return
            then()

        open_question(self, box, answered)

    def start_server(self) -> None:
        """Start (or restart) the selected server in the background; the result shows below."""
        name = self.current_server()
        if name is None or self._dirty:
            return
        mcp = self._mcp
        self.start_result.show_status(f"Starting {name}…")
        self._starting = name
        self._jobs.start(
            lambda: mcp.restart(name),
            lambda ready: self._started(name, ready),
            lambda exc: self._start_failed(name, exc),
            key="start",
        )
        self._update_buttons()

    def _started(self, name: str, ready: bool) -> None:
        self._starting = None
        if name == self._editing:
            if ready:
                self.start_result.show_status("✔ Started just now.", "ok")
            else:
                self.start_result.show_status("✖ It did not start; see its output below.", "error")
            self._show_status()
        self._update_buttons()

    def _start_failed(self, name: str, exc: BaseException) -> None:
        self._starting = None
        if name == self._editing:
            self.start_result.show_status(f"✖ It could not be started: {exc}", "error")
        self._update_buttons()

    def choose_import_file(self) -> None:
        """Pick a JSON file with an `mcpServers` block (as other MCP apps write) and import it."""
        if self.file_dialog is not None:
            self.file_dialog.reject()
        dialog = QFileDialog(
            self, "Import MCP servers", str(Path.home()), "JSON files (*.json);;All files (*)"
        )
        dialog.setObjectName("importServersDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self.file_dialog = dialog

        def finished(_result: int) -> None:
            self.file_dialog = None
            dialog.deleteLater()

        dialog.fileSelected.connect(lambda path: self.import_file(Path(path)))
        dialog.finished.connect(finished)
        dialog.open()

    def import_file(self, path: Path) -> None:
        """Save the servers of `path`'s `mcpServers` block; says what was added and what was skipped."""
        before = {c.name for c in self._mcp.servers() if self._mcp.is_saved(c.name)}
        try:
            names, problems = self._mcp.import_file(path)
        except ValueError as exc:
            self.import_result.show_status(str(exc), "error")
            return
        lines = []
        if names:
            replaced = [n for n in names if n in before]
            lines.append(f"Added {len(names)} server{'s' if len(names) != 1 else ''}: {', '.join(names)}.")
            if replaced:
                lines.append(f"Replaced the saved {', '.join(replaced)}.")
        else:
            lines.append(f"No servers were added from {path.name}.")
        lines.extend(f"Skipped {problem}." for problem in problems)
        kind = "error" if not names else "warning" if problems else "ok"
        self.import_result.show_status("\n".join(lines), kind)
        self._reload_servers()
        if names and not self._dirty:
            self._select(names[0])

    # ---- events --------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        """Recolour the status dots when the theme changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
            self._refresh_timer.start()
