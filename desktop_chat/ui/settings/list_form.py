"""A settings page made of a list on the left and a form on the right (provider profiles, MCP servers).

The form shows one item of the list, a new one being added (the draft, until Save), or nothing. Edits
mark the form unsaved; leaving it for another row, a new item or the dialog's Close asks first (Save,
Discard, Cancel). Subclasses build the widgets and say how an item is listed, shown, saved and removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QListWidget, QMessageBox, QVBoxLayout, QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.services.providers import KeychainError
from desktop_chat.ui.common.forms import named
from desktop_chat.ui.common.widgets import StatusLabel, open_question, unsaved_changes_box
from desktop_chat.ui.settings.page import SettingsPage

K = TypeVar("K")  # what identifies an item: a profile id, a server name


class ListFormPage(SettingsPage, Generic[K]):
    """A list of items and a form for the selected one, with the unsaved-changes question."""

    UNSAVED_BOX: ClassVar[str] = "unsavedChangesBox"  # object name of the question
    UNNAMED: ClassVar[str] = "this item"  # what the question calls an item without a name

    name_edit: QLineEdit  # the item's name in the form (built by the subclass)
    form_error: StatusLabel  # what is wrong with the form

    def __init__(self, services: AppServices, draft: K, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._draft_key = draft  # the list item data of a new item
        self._editing: K | None = None  # the item shown, the draft key for a new one, None for nothing
        self._dirty = False
        self._loading = False
        self.question: QMessageBox | None = None  # the open confirmation, if any
        self._list = QListWidget()

    # ---- what subclasses provide ---------------------------------------------------------------

    def _reload_list(self) -> None:
        """List the items as stored (and the draft), selecting the shown one, without row signals."""
        raise NotImplementedError

    def _load(self, key: K | None) -> None:
        """Fill the form from a stored item, a new one (the draft key), or nothing (None)."""
        raise NotImplementedError

    def _exists(self, key: K) -> bool:
        """True while the item is stored."""
        raise NotImplementedError

    def _update_buttons(self) -> None:
        """Enable the buttons that fit the form's state."""
        raise NotImplementedError

    def _ask_to_remove(self, key: K) -> None:
        """Ask before removing the stored item `key` and what belongs to it (`then=self._removal(...)`)."""
        raise NotImplementedError

    # ---- the list ------------------------------------------------------------------------------

    def _make_list(self, name: str, accessible: str, width: int) -> QListWidget:
        """The list of items, `width` pixels wide; rows are followed (asking about unsaved changes)."""
        named(self._list, name, accessible)
        self._list.setFixedWidth(width)
        self._list.setSpacing(2)
        self._list.currentRowChanged.connect(self._on_row_changed)
        return self._list

    def _list_column(self, *buttons: QWidget) -> QVBoxLayout:
        """The list with a row of `buttons` under it."""
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        column = QVBoxLayout()
        column.addWidget(self._list, 1)
        column.addLayout(row)
        return column

    def _row_of(self, key: K | None) -> int:
        for row in range(self._list.count()):
            if self._list.item(row).data(Qt.ItemDataRole.UserRole) == key:
                return row
        return -1

    def _on_row_changed(self, row: int) -> None:
        item = self._list.item(row) if row >= 0 else None
        wanted = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if wanted == self._editing:
            return
        if self._dirty:
            self._list.blockSignals(True)
            self._list.setCurrentRow(self._row_of(self._editing))
            self._list.blockSignals(False)
            self.ask_unsaved(lambda: self._select(wanted))
            return
        self._select(wanted)

    def _select(self, key: K | None) -> None:
        if self._editing == self._draft_key and key != self._draft_key:
            self._forget_draft()
        self._load(key)
        self._list.blockSignals(True)
        self._list.setCurrentRow(self._row_of(key))
        self._list.blockSignals(False)

    def _show_first(self) -> None:
        """Select the first item (or show nothing when there is none)."""
        if self._list.count():
            self._list.setCurrentRow(0)
        else:
            self._load(None)

    def _drop_vanished(self) -> bool:
        """When the shown item was removed elsewhere: show the first one instead; True then."""
        key = self._editing
        if key is None or key == self._draft_key or self._exists(key):
            return False
        self._dirty = False
        self._editing = None
        self._reload_list()
        self._show_first_instead()
        return True

    def _show_first_instead(self) -> None:
        """Empty the form, then show the first item if there is one."""
        self._load(None)
        if self._list.count():
            self._list.setCurrentRow(0)

    # ---- the form ------------------------------------------------------------------------------

    def current_key(self) -> K | None:
        """The stored item shown in the form (None for a new one, or none)."""
        return self._editing if self._editing not in (None, self._draft_key) else None

    def has_unsaved_changes(self) -> bool:
        """True when the form holds changes that are not saved (a new item is, until Save)."""
        return self._dirty

    def load(self) -> None:
        """List the items as stored and show the shown one's saved values (edits are dropped)."""
        self._dirty = False
        self._reload_list()
        if self._editing is None:
            self._show_first()
        else:
            self._load(self._editing)

    def _changed(self, *_: object) -> None:
        if not self._loading and self._editing is not None:
            self._dirty = True
            self.form_error.show_status("")
            self._update_buttons()

    def _asked_first(self, then: Callable[[], None]) -> bool:
        """True when the form holds unsaved changes: the question is open, and `then` runs after it."""
        if self._dirty:
            self.ask_unsaved(then)
        return self._dirty

    def _show_draft(self) -> None:
        """Show a new item in the list and the form; it exists once saved."""
        self._editing = self._draft_key
        self._reload_list()
        self._load(self._draft_key)

    def _forget_draft(self) -> None:
        """Take the new item out of the list."""
        self._editing = None
        self._reload_list()

    def _drop_draft(self) -> bool:
        """When a new item is shown: drop it and show the first item; True then."""
        if self._editing != self._draft_key:
            return False
        self._dirty = False
        self._forget_draft()
        self._show_first_instead()
        return True

    def remove_current(self) -> None:
        """Remove the shown item (after asking); a new one is just dropped."""
        if self._drop_draft():
            return
        key = self.current_key()
        if key is not None:
            self._ask_to_remove(key)

    def _removal(self, remove: Callable[[], None]) -> Callable[[], None]:
        """What runs once a removal is confirmed: the form's edits are dropped, then `remove` runs."""

        def confirmed() -> None:
            self._dirty = False
            remove()

        return confirmed

    def _show_saved(self, key: K) -> None:
        """After Save: list the items again and show the saved one."""
        self._dirty = False
        self._editing = key
        self._reload_list()
        self._load(key)

    def _show_saved_with_secret(
        self, key: K, store: Callable[[], None] | None, what: str, status: StatusLabel
    ) -> None:
        """After Save: `store` the item's secret (`what`: the key, the token) in the keychain, show the saved
        item, and say on `status` when the secret could not be saved."""
        error = ""
        if store is not None:
            try:
                store()
            except KeychainError as exc:
                error = f"The {what} was not saved: {exc}"
        self._show_saved(key)
        if error:
            status.show_status(error, "error")

    def ask_unsaved(self, then: Callable[[], None]) -> None:
        """Ask whether to save the changed item; then run `then` (unless cancelled)."""
        name = self.name_edit.text().strip() or self.UNNAMED
        box = unsaved_changes_box(self, name, self.UNSAVED_BOX)

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Save:
                if not self.save():
                    return
            elif button == QMessageBox.StandardButton.Discard:
                self._dirty = False
                if self._editing == self._draft_key:
                    self._forget_draft()
            else:
                return
            then()

        open_question(self, box, answered)
