"""The contract of a page (tab) of the Settings dialog.

Each page is one `SettingsPage`: it names itself (`TITLE` on its tab, `NAME` for `show_page` and its object
name `<NAME>Page`), lists the settings it edits (`SETTINGS`, which `restore_defaults` resets), shows what
is stored (`load`), stores what it shows (`save`), knows when it holds edits not stored yet
(`has_unsaved_changes`), and takes part in closing the dialog (`ready_to_close`, `ask_unsaved`). Pages
built of a list and a form share `ListFormPage` (`list_form.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtWidgets import QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import Setting


class SettingsPage(QWidget):
    """One page of the Settings dialog, built over the app's services."""

    TITLE: ClassVar[str] = ""  # the tab's label
    NAME: ClassVar[str] = ""  # "providers", "general", "tools": for show_page and the object name
    SETTINGS: ClassVar[tuple[Setting[Any], ...]] = ()  # the settings this page edits

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{self.NAME}Page")
        self._settings = services.settings

    def load(self) -> None:
        """Show what is stored (edits not stored yet are dropped)."""
        raise NotImplementedError

    def save(self) -> bool:
        """Store what the page shows; False (and a message on the page) when something is not valid."""
        raise NotImplementedError

    def has_unsaved_changes(self) -> bool:
        """True while the page shows edits that are not stored yet."""
        raise NotImplementedError

    def restore_defaults(self) -> None:
        """Put the page's settings back to their defaults (the page follows the change)."""
        for setting in self.SETTINGS:
            self._settings.reset(setting)

    def ready_to_close(self) -> bool:
        """Before the dialog closes: store what is stored without asking; False when a question is due."""
        return not self.has_unsaved_changes()

    def ask_unsaved(self, then: Callable[[], None]) -> None:
        """Ask what to do with the unsaved changes; then run `then` (unless the person cancels)."""
        then()
