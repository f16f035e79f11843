"""The Providers page of Settings: the list of provider profiles (add one from a preset or any
OpenAI-compatible URL, delete one) beside the form of the selected one (`provider_form.py`).

A profile's fields are saved with Save; leaving a changed profile asks first. Keys go to the keychain.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QListWidgetItem, QMenu, QPushButton, QVBoxLayout, QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.services.providers import Preset, check_base_url, secret_looking_headers
from desktop_chat.ui.common.forms import named
from desktop_chat.ui.common.widgets import StatusLabel, confirm
from desktop_chat.ui.settings.provider_form import DRAFT_ID, ProviderForm


class ProvidersPage(ProviderForm):
    """The list of provider profiles and a form for the selected one."""

    TITLE = "Providers"
    NAME = "providers"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._build()
        self._providers.profiles_changed.connect(self._on_profiles_changed)
        self.load()

    # ---- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.keychain_message = named(StatusLabel(), "keychainMessage", "Keychain")
        self.keychain_message.show_status("")

        self.profile_list = self._make_list("profileList", "Provider profiles", 210)
        self.add_button = named(QPushButton("Add"), "addProfileButton", "Add a provider")
        self.add_menu = QMenu(self.add_button)
        self.add_menu.setObjectName("addProfileMenu")
        presets = self._providers.presets()
        for preset in (p for p in presets if not p.local):
            self.add_menu.addAction(preset.name, self._adder(preset))
        self.add_menu.addSeparator()
        for preset in (p for p in presets if p.local):
            self.add_menu.addAction(f"{preset.name} (on this computer)", self._adder(preset))
        self.add_menu.addSeparator()
        self.add_menu.addAction("Other OpenAI-compatible endpoint…", self._adder(None))
        self.add_button.setMenu(self.add_menu)
        self.delete_button = named(QPushButton("Delete"), "deleteProfileButton", "Delete the provider")
        self.delete_button.clicked.connect(self.remove_current)
        left = self._list_column(self.add_button, self.delete_button)

        form = self._build_form()
        columns = QHBoxLayout()
        columns.addLayout(left, 0)
        columns.addSpacing(8)
        columns.addWidget(form, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(self.keychain_message)
        outer.addLayout(columns, 1)
        self._follow_edits()

    def _adder(self, preset: Preset | None) -> Callable[[], None]:
        return lambda: self.new_profile(preset)

    # ---- list ---------------------------------------------------------------------------------

    def _reload_list(self) -> None:
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        for profile in self._providers.profiles():
            item = QListWidgetItem(profile.name)
            item.setData(Qt.ItemDataRole.UserRole, profile.id)
            item.setToolTip(profile.base_url)
            self.profile_list.addItem(item)
        if self._editing == DRAFT_ID:
            item = QListWidgetItem(f"New: {self._draft.name if self._draft else 'endpoint'}")
            item.setData(Qt.ItemDataRole.UserRole, DRAFT_ID)
            self.profile_list.addItem(item)
        row = self._row_of(self._editing)
        self.profile_list.setCurrentRow(row)
        self.profile_list.blockSignals(False)

    def _exists(self, key: int) -> bool:
        return self._providers.get(key) is not None

    def _on_profiles_changed(self) -> None:
        if self._drop_vanished():
            return
        self._reload_list()
        if self._editing is None and self.profile_list.count():
            self.profile_list.setCurrentRow(0)

    def _forget_draft(self) -> None:
        self._draft = None
        super()._forget_draft()

    def _update_buttons(self) -> None:
        saved = self.current_profile_id() is not None
        self.save_button.setEnabled(self._dirty)
        self.revert_button.setEnabled(self._dirty and saved)
        self.delete_button.setEnabled(self._editing is not None)
        self.remove_key_button.setVisible(self._key_saved)

    # ---- actions ------------------------------------------------------------------------------

    def new_profile(self, preset: Preset | None) -> None:
        """Start a new profile from `preset` (None: a custom endpoint); it exists once saved."""
        if self._asked_first(lambda: self.new_profile(preset)):
            return
        self._draft = preset
        self._show_draft()
        (self.name_edit if preset is None else self.key_edit).setFocus()

    def save(self) -> bool:
        """Save the form (a new profile is created); the typed key goes to the keychain. False if invalid."""
        if self._editing is None:
            return False
        url = self.url_edit.text().strip()
        problem = check_base_url(url)
        if problem:
            self.form_error.show_status(problem, "error")
            self.url_edit.setFocus()
            return False
        headers = self._form_headers()
        if headers is None:
            self.headers_edit.setFocus()
            return False
        name = self.name_edit.text().strip() or (self._draft.name if self._draft else urlsplit(url).netloc)
        model = self.model_box.currentText().strip()
        key = self.key_edit.text().strip()
        if self._editing == DRAFT_ID:
            needs_key = bool(key) or (self._draft.needs_key if self._draft else False)
            profile = self._providers.add(
                name, url, default_model=model, headers=headers, needs_key=needs_key
            )
            self._draft = None
        else:
            profile = self._providers.update(
                self._editing, name=name, base_url=url, default_model=model, headers=headers
            )
        self._providers.use_if_unset(profile)
        store = (lambda: self._providers.set_key(profile.id, key)) if key else None
        self._show_saved_with_secret(profile.id, store, "key", self.key_status)
        secret = secret_looking_headers(headers)
        if secret:
            self.form_error.show_status(
                f"Saved. Note: the header {secret[0]} is stored with your settings, not in the keychain; "
                "put API keys in the API key field.",
                "warning",
            )
        return True

    def _ask_to_remove(self, key: int) -> None:
        """Delete the profile and its key, after asking."""
        profile = self._providers.get(key)
        if profile is None:
            return
        confirm(
            self,
            "Delete provider",
            f"Delete {profile.name}?",
            "Its API key is removed from the keychain. Conversations that used it switch to your default "
            "provider; their messages are kept.",
            "Delete",
            names=("deleteProfileBox", "confirmDeleteButton"),
            then=self._removal(lambda: self._providers.delete(profile.id)),
        )
