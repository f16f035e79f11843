"""The Tools page of Settings: built-in tools on or off, tools that run without asking (`builtin_tools.py`),
and MCP servers: a list (add, import, switch on or off; live status) beside the selected server's form
(`mcp_form.py`), where it is saved, started and removed.

Statuses follow `McpService.status_changed` (never polled); starting a server is a background job, so the
dialog never waits for it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.app_services import AppServices
from desktop_chat.services.mcp import McpServerConfig, ServerState, ServerStatus
from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, DISABLED_TOOLS
from desktop_chat.ui.common.forms import named
from desktop_chat.ui.common.widgets import StatusLabel, confirm
from desktop_chat.ui.settings.builtin_tools import BuiltinToolsBox
from desktop_chat.ui.settings.mcp_form import DRAFT, McpServerForm
from desktop_chat.ui.settings.mcp_text import transport_text


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


class ToolsPage(McpServerForm):
    """Built-in tools and MCP servers."""

    TITLE = "Tools"
    NAME = "tools"
    SETTINGS = (DISABLED_TOOLS, ALWAYS_ALLOWED_TOOLS)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.file_dialog: QFileDialog | None = None
        # servers_changed can come from inside this page's own item signals: refresh a moment later
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._refresh)
        self._build()
        self.load()
        self._mcp.status_changed.connect(self._on_status)
        self._mcp.servers_changed.connect(self._refresh_timer.start)

    # ---- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        self.builtin_box = BuiltinToolsBox(self._settings, self._services.tools)
        self.builtin_list = self.builtin_box.builtin_list
        self.always_box = self.builtin_box.always_box

        self.server_list = self._make_list("mcpServerList", "MCP servers", 250)
        self.server_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.server_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.server_list.itemChanged.connect(self._server_toggled)
        self.add_button = named(QPushButton("Add server"), "addServerButton", "Add an MCP server")
        self.add_button.clicked.connect(self.new_server)
        self.import_button = named(
            QPushButton("Import from file…"), "importServersButton", "Import MCP servers from a file"
        )
        self.import_button.clicked.connect(self.choose_import_file)
        self.import_result = named(StatusLabel(), "importResult", "Import result")
        self.import_result.setMaximumWidth(250)
        left = self._list_column(self.add_button, self.import_button)
        left.addWidget(self.import_result)

        right = self._build_form()
        self.start_button.clicked.connect(self.start_server)
        self.remove_button.clicked.connect(self.remove_current)
        columns = QHBoxLayout()
        columns.addLayout(left, 0)
        columns.addSpacing(8)
        columns.addLayout(right, 1)
        servers_group = QGroupBox("MCP servers")
        servers_layout = QVBoxLayout(servers_group)
        servers_layout.addLayout(columns, 1)

        outer = QVBoxLayout(self)
        outer.addWidget(self.builtin_box)
        outer.addWidget(servers_group, 1)
        self._follow_edits()

    def load(self) -> None:
        """The built-in tools and the servers as stored; the shown server's saved values."""
        self.builtin_box.load()
        super().load()

    # ---- the server list -----------------------------------------------------------------------

    def _item_text(self, config: McpServerConfig, status: ServerStatus) -> str:
        state = "failed" if status.state is ServerState.FAILED else status.summary()
        if not config.enabled:
            state = f"switched off · {state}" if status.state is not ServerState.STOPPED else "switched off"
        name = config.name if self._mcp.is_saved(config.name) else f"{config.name} (this run only)"
        return f"{name}\n{transport_text(config, short=True)}\n{state}"

    def _decorate(self, item: QListWidgetItem, config: McpServerConfig) -> None:
        status = self._mcp.status(config.name)
        item.setText(self._item_text(config, status))
        item.setIcon(_dot(self._state_colour(status.state), self.devicePixelRatioF()))
        tip = f"{transport_text(config)}\n{status.summary()}"
        item.setToolTip(tip)
        item.setCheckState(Qt.CheckState.Checked if config.enabled else Qt.CheckState.Unchecked)

    def _reload_list(self) -> None:
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

    def _exists(self, key: str) -> bool:
        return self._mcp.server(key) is not None

    def _server_toggled(self, item: QListWidgetItem) -> None:
        name = str(item.data(Qt.ItemDataRole.UserRole))
        config = self._mcp.server(name)
        on = item.checkState() == Qt.CheckState.Checked
        if config is not None and config.enabled != on:
            self._mcp.set_enabled(name, on)

    def _refresh(self) -> None:
        """After servers_changed: the list, and the form when it holds no unsaved changes."""
        if self._drop_vanished():
            return
        self._reload_list()
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

    def _update_buttons(self) -> None:
        saved = self.current_server() is not None
        self.save_button.setEnabled(self._dirty)
        self.remove_button.setEnabled(self._editing is not None)
        starting = self.busy()
        self.start_button.setEnabled(saved and not self._dirty and not starting)
        self.start_button.setToolTip("Save the changes first" if self._dirty else "")

    # ---- actions -------------------------------------------------------------------------------

    def new_server(self) -> None:
        """Start a new server in the form; it exists once saved."""
        if self._asked_first(self.new_server):
            return
        self._show_draft()
        self.name_edit.setFocus()

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
        token = self.token_edit.text().strip()
        store = (lambda: self._mcp.set_token(config.name, token)) if token and config.url else None
        self._show_saved_with_secret(config.name, store, "token", self.token_status)
        return True

    def _ask_to_remove(self, key: str) -> None:
        """Remove the server and its token, after asking."""

        def remove() -> None:
            self._last_ready.pop(key, None)
            self._mcp.remove_server(key)
            self._refresh()

        confirm(
            self,
            "Remove MCP server",
            f"Remove the MCP server {key}?",
            "It is stopped, its tools are no longer offered, and its token is removed.",
            "Remove",
            names=("removeServerBox", "confirmRemoveServerButton"),
            then=self._removal(remove),
        )

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
        self._reload_list()
        if names and not self._dirty:
            self._select(names[0])

    # ---- events --------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        """Recolour the status dots when the theme changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
            self._refresh_timer.start()
