"""The form of an MCP server on the Tools page: name, transport (a command or a URL), its fields, token,
timeout, live status (with stderr when it failed) and its tools, each of which can be switched off.

A token goes from its field straight to the keychain (`McpService.set_token`): it is never read back into
the field nor written to settings.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
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
from desktop_chat.ui.common.forms import beside, bold, fit_rows, hint, named, note, plain_edit, secret_edit
from desktop_chat.ui.common.widget_tasks import Jobs
from desktop_chat.ui.common.widgets import StatusLabel, status_colour
from desktop_chat.ui.settings.list_form import ListFormPage
from desktop_chat.ui.settings.mcp_text import (
    first_sentence,
    format_command,
    format_env,
    parse_command,
    parse_env,
)

STDIO, HTTP = "stdio", "http"
TRANSPORTS = ((STDIO, "Command (stdio)"), (HTTP, "URL (streamable HTTP)"))
DEFAULT_TIMEOUT_S = 60
DRAFT = "\0new"  # list item data of a server being added (no real name starts with NUL)
_STATE_KINDS = {ServerState.READY: "ok", ServerState.STARTING: "warning", ServerState.FAILED: "error"}


class McpServerForm(ListFormPage[str]):
    """The MCP server form of the Tools page (the server list and its actions are in `ToolsPage`)."""

    UNSAVED_BOX = "unsavedServerBox"
    UNNAMED = "this server"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, DRAFT, parent)
        self._services = services
        self._mcp = services.mcp
        self._jobs = Jobs(self)
        self._starting: str | None = None  # the server a Start job is starting
        self._last_ready: dict[str, ServerStatus] = {}  # tools stay listed while a server is stopped

    # ---- construction --------------------------------------------------------------------------

    def _build_form(self) -> QVBoxLayout:
        """The form (scrolling), a note shown while there is no server, and the Remove and Save row."""
        self.form_title = bold(QLabel(), 1.1)
        self.form_title.setObjectName("mcpFormTitle")
        self.name_edit = named(QLineEdit(), "mcpName", "Server name")
        self.name_edit.setPlaceholderText("For example: files")
        self.transport_box = named(QComboBox(), "mcpTransport", "Transport")
        for value, label in TRANSPORTS:
            self.transport_box.addItem(label, value)
        self.transport_box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.command_edit = named(QLineEdit(), "mcpCommand", "Command and arguments")
        self.command_edit.setPlaceholderText("npx -y @modelcontextprotocol/server-filesystem ~/Documents")
        self.cwd_edit = named(QLineEdit(), "mcpWorkingDir", "Working directory")
        self.cwd_edit.setPlaceholderText("Optional: the folder the command runs in")
        self.env_edit = plain_edit("mcpEnv", "Environment", "KEY=VALUE (one per line; optional)", 2)
        self.url_edit = named(QLineEdit(), "mcpUrl", "Server URL")
        self.url_edit.setPlaceholderText("https://example.com/mcp")
        self.headers_edit = plain_edit("mcpHeaders", "Headers", "Name: value (one per line; optional)", 2)
        self.token_edit = secret_edit("mcpToken", "Token")
        self.forget_token_button = named(
            QPushButton("Remove token"), "mcpForgetTokenButton", "Remove the saved token"
        )
        self.forget_token_button.clicked.connect(self.remove_token)
        token_row = beside(self.token_edit, self.forget_token_button)
        self.token_status = named(StatusLabel(), "mcpTokenStatus", "Token status")
        self.token_box = QWidget()
        token_box = QVBoxLayout(self.token_box)
        token_box.setContentsMargins(0, 0, 0, 0)
        token_box.setSpacing(3)
        token_box.addLayout(token_row)
        token_box.addWidget(self.token_status)
        self.timeout_spin = named(QSpinBox(), "mcpTimeout", "Timeout of a call")
        self.timeout_spin.setRange(1, 3600)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setValue(DEFAULT_TIMEOUT_S)
        self.timeout_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

        self.status_dot = QLabel()
        self.status_dot.setObjectName("mcpStatusDot")
        self.status_label = named(QLabel(), "mcpStatus", "Server status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = named(QPushButton("Start"), "mcpStartButton", "Start the server")
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_dot, 0, Qt.AlignmentFlag.AlignTop)
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignTop)
        self.start_result = named(StatusLabel(), "mcpStartResult", "Result of starting the server")
        status_box = QVBoxLayout()
        status_box.setSpacing(3)
        status_box.addLayout(status_row)
        status_box.addWidget(self.start_result)

        self.stderr_box = named(QPlainTextEdit(), "mcpStderr", "The server's last output (stderr)")
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
        failure_layout.addWidget(hint("Its last output (stderr):"))
        failure_layout.addWidget(self.stderr_box)

        self.tools_hint = hint("")
        self.server_tools = named(QListWidget(), "mcpServerTools", "The server's tools")
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

        self.form_error = named(StatusLabel(), "mcpFormError", "Problem with the form")
        self.remove_button = named(QPushButton("Remove"), "removeServerButton", "Remove the server")
        self.save_button = named(QPushButton("Save"), "saveServerButton", "Save the server")
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
        self.empty_label = note(
            "<p><b>No MCP servers yet.</b></p><p>An MCP server gives the model more tools: files, a "
            "database, a web service. Use <b>Add server</b> to run a command or reach a URL, or "
            "<b>Import from file…</b> to take the <code>mcpServers</code> block of another app's "
            "configuration.</p>",
            "noServers",
        )
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
        return right

    def _follow_edits(self) -> None:
        for edit in (self.name_edit, self.command_edit, self.cwd_edit, self.url_edit, self.token_edit):
            edit.textEdited.connect(self._changed)
        for plain in (self.env_edit, self.headers_edit):
            plain.textChanged.connect(self._changed)
        self.timeout_spin.valueChanged.connect(self._changed)
        self.transport_box.currentIndexChanged.connect(self._transport_changed)
        for button in self.findChildren(QPushButton):  # Return saves; it never removes or adds
            button.setAutoDefault(button is self.save_button)

    # ---- the form ------------------------------------------------------------------------------

    def current_server(self) -> str | None:
        """The saved server shown in the form (None for a new one, or none)."""
        return self.current_key()

    def busy(self) -> bool:
        """True while a server is being started from this page."""
        return self._starting is not None

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

    def _load(self, name: str | None, *, keep_messages: bool = False) -> None:
        """Fill the form from a server, a new one (DRAFT), or nothing (None)."""
        self._loading = True
        self._editing = name
        config = self._mcp.server(name) if name not in (None, DRAFT) else None
        if name not in (None, DRAFT) and config is None:
            self._editing = name = None
        self.empty_label.setVisible(name is None and self._list.count() == 0)
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

    def _state_colour(self, state: ServerState) -> QColor:
        colour = status_colour(_STATE_KINDS.get(state, ""))
        return colour if colour is not None else self.palette().color(QPalette.ColorRole.PlaceholderText)

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
        fit_rows(self.server_tools, rows)

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
