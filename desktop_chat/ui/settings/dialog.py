"""The Settings dialog: one tab a page, each a `SettingsPage` (`page.py`): provider profiles with their keys,
a connection test and model lists (`providers.py`), general settings (`general.py`), and tools, built-in
ones and MCP servers (`tools.py`).

Everything that talks to an endpoint runs as a background job, so the dialog never freezes. General
settings apply at once; a provider's or a server's fields are saved with Save (asked about when leaving
a changed one, or closing the dialog).
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QVBoxLayout, QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.settings.general import GeneralPage
from desktop_chat.ui.settings.page import SettingsPage
from desktop_chat.ui.settings.providers import ProvidersPage
from desktop_chat.ui.settings.tools import ToolsPage


class SettingsDialog(QDialog):
    """Providers, general settings and tools."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.resize(920, 680)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.providers_page = ProvidersPage(services)
        self.general_page = GeneralPage(services)
        self.tools_page = ToolsPage(services)
        self.pages: tuple[SettingsPage, ...] = (self.providers_page, self.general_page, self.tools_page)
        for page in self.pages:
            self.tabs.addTab(page, page.TITLE)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        QShortcut(QKeySequence.StandardKey.Close, self, self.reject)

    def show_page(self, name: str) -> None:
        """Bring "providers", "general" or "tools" to the front."""
        page = next((p for p in self.pages if name == p.NAME), self.providers_page)
        self.tabs.setCurrentWidget(page)

    def done(self, result: int) -> None:
        """Close (Escape, Close, the window's X): each page saves what waits; one with unsaved changes
        (a provider or a server) asks first."""
        waiting = [page for page in self.pages if not page.ready_to_close()]
        if waiting:
            self.tabs.setCurrentWidget(waiting[0])
            waiting[0].ask_unsaved(lambda: self.done(result))
            return
        super().done(result)
