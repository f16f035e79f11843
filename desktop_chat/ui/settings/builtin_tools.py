"""The built-in tools group of the Tools page: each tool on or off, and the tools that run without asking
(each with Forget). Both store their setting at once and follow changes made elsewhere."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.tools import ToolService
from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, DISABLED_TOOLS, Settings
from desktop_chat.ui.common.forms import fit_rows, hint, named
from desktop_chat.ui.settings.mcp_text import first_sentence


class BuiltinToolsBox(QGroupBox):
    """Built-in tools (checked: offered to the model) and the always-allowed ones."""

    def __init__(self, settings: Settings, tools: ToolService, parent: QWidget | None = None) -> None:
        super().__init__("Built-in tools", parent)
        self._settings = settings
        self._tools = tools
        self.builtin_list = named(QListWidget(), "builtinTools", "Built-in tools")
        self.builtin_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.builtin_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.builtin_list.itemChanged.connect(self._builtin_toggled)
        self.always_box = named(QWidget(), "alwaysAllowed", "Tools that run without asking")
        self._always_layout = QVBoxLayout(self.always_box)
        self._always_layout.setContentsMargins(0, 0, 0, 0)
        self._always_layout.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.builtin_list)
        layout.addWidget(
            hint(
                "Unchecked tools are never offered to the model. Those marked “asks first” ask you each time."
            )
        )
        layout.addWidget(self.always_box)
        settings.changed_for(DISABLED_TOOLS).connect(self._sync_builtin_checks)
        settings.changed_for(ALWAYS_ALLOWED_TOOLS).connect(self._fill_always_allowed)

    def load(self) -> None:
        """List the tools and the always-allowed ones as stored."""
        self._fill_builtin()
        self._fill_always_allowed()

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
        fit_rows(self.builtin_list, rows)

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
