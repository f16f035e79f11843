"""The Settings dialog: provider profiles (with their keys, a connection test and model lists), general
settings (default system prompt, theme, text size, proxy, titles, tool rounds) and tools (built-in ones
and MCP servers, in `mcp_settings`).

Keys go straight from the key field to the keychain through the provider service; a saved key is never
read back into a widget (the field stays empty and a line says where the key is saved). Everything that
talks to an endpoint runs as a background job, so the dialog never freezes. General settings apply at
once; a provider's fields are saved with Save (asked about when leaving a changed profile).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.domain import ProviderProfile
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.providers import (
    ConnectionCheck,
    KeychainError,
    Preset,
    ProviderService,
    check_base_url,
    format_headers,
    parse_headers,
    secret_looking_headers,
)
from desktop_chat.settings import (
    AUTO_TITLE,
    FONT_SIZE,
    MAX_TOOL_ROUNDS,
    PROXY_URL,
    SYSTEM_PROMPT,
    THEME,
    Settings,
)
from desktop_chat.ui.common.theme import FONT_SIZE_RANGE
from desktop_chat.ui.common.widget_tasks import Jobs
from desktop_chat.ui.common.widgets import StatusLabel, open_question, unsaved_changes_box
from desktop_chat.ui.settings.tools_page import ToolsPage

log = logging.getLogger(__name__)

THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
SAVE_DELAY_MS = 400  # the system prompt is saved this long after the last keystroke (and on close)
DRAFT_ID = -1  # list item data of a profile being added


def _named(widget: QWidget, name: str, accessible: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def _stacked(*widgets: QWidget) -> QVBoxLayout:
    """Widgets one above the other, close together (a field and the lines about it)."""
    box = QVBoxLayout()
    box.setSpacing(3)
    for widget in widgets:
        box.addWidget(widget)
    return box


# ---- providers ------------------------------------------------------------------------------------


class ProvidersPage(QWidget):
    """The list of provider profiles and a form for the selected one."""

    def __init__(self, providers: ProviderService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("providersPage")
        self._providers = providers
        self._jobs = Jobs(self)
        self._editing: int | None = None  # profile id, DRAFT_ID for a new one, None for nothing
        self._draft: Preset | None = None  # the preset a new profile starts from (None: custom)
        self._dirty = False
        self._loading = False
        self._key_saved = False
        self.question: QMessageBox | None = None  # the open confirmation, if any
        self._build()
        providers.profiles_changed.connect(self._on_profiles_changed)
        self._reload_list()
        if self.profile_list.count():
            self.profile_list.setCurrentRow(0)
        else:
            self._load(None)

    # ---- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.keychain_message = StatusLabel()
        _named(self.keychain_message, "keychainMessage", "Keychain")
        self.keychain_message.show_status("")

        self.profile_list = QListWidget()
        _named(self.profile_list, "profileList", "Provider profiles")
        self.profile_list.setFixedWidth(210)
        self.profile_list.setSpacing(2)
        self.profile_list.currentRowChanged.connect(self._on_row_changed)
        self.add_button = QPushButton("Add")
        _named(self.add_button, "addProfileButton", "Add a provider")
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
        self.delete_button = QPushButton("Delete")
        _named(self.delete_button, "deleteProfileButton", "Delete the provider")
        self.delete_button.clicked.connect(self.delete_current)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.delete_button)
        list_buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.profile_list, 1)
        left.addLayout(list_buttons)

        self.name_edit = QLineEdit()
        _named(self.name_edit, "profileName", "Name")
        self.url_edit = QLineEdit()
        _named(self.url_edit, "baseUrl", "Base URL")
        self.url_edit.setPlaceholderText("http://localhost:11434/v1")
        self.key_edit = QLineEdit()
        _named(self.key_edit, "apiKey", "API key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setClearButtonEnabled(True)
        self.remove_key_button = QPushButton("Remove key")
        _named(self.remove_key_button, "removeKeyButton", "Remove the saved key")
        self.remove_key_button.clicked.connect(self.remove_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.remove_key_button)
        self.key_status = StatusLabel()
        _named(self.key_status, "keyStatus", "API key status")
        self.key_link = QLabel()
        self.key_link.setObjectName("keyLink")
        self.key_link.setOpenExternalLinks(True)
        self.key_link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        key_status_row = QHBoxLayout()
        key_status_row.addWidget(self.key_status, 1)
        key_status_row.addWidget(self.key_link, 0, Qt.AlignmentFlag.AlignTop)
        key_box = QVBoxLayout()
        key_box.setSpacing(2)
        key_box.addLayout(key_row)
        key_box.addLayout(key_status_row)

        self.model_box = QComboBox()
        _named(self.model_box, "defaultModel", "Default model")
        self.model_box.setEditable(True)
        self.model_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_line = QLineEdit()
        self.model_line.setPlaceholderText("Type a model id, or list the models")
        self.model_box.setLineEdit(self.model_line)
        self.list_button = QPushButton("List models")
        _named(self.list_button, "listModelsButton", "List the models")
        self.list_button.clicked.connect(self.list_models)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_box, 1)
        model_row.addWidget(self.list_button)

        self.headers_edit = QPlainTextEdit()
        _named(self.headers_edit, "extraHeaders", "Extra headers")
        self.headers_edit.setPlaceholderText("Name: value (one per line; optional)")
        self.headers_edit.setTabChangesFocus(True)
        self.headers_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 14)

        self.test_button = QPushButton("Test connection")
        _named(self.test_button, "testConnectionButton", "Test the connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result_label = StatusLabel()
        _named(self.result_label, "connectionResult", "Connection test result")
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.result_label, 1)
        test_row.addStretch(0)  # the button keeps its size while no result shows

        self.form_error = StatusLabel()
        _named(self.form_error, "formError", "Problem with the form")
        self.save_button = QPushButton("Save")
        _named(self.save_button, "saveProfileButton", "Save the provider")
        self.save_button.clicked.connect(self.save)
        self.save_button.setDefault(True)
        self.revert_button = QPushButton("Revert")
        _named(self.revert_button, "revertProfileButton", "Undo the changes")
        self.revert_button.clicked.connect(self.revert)
        save_row = QHBoxLayout()
        save_row.addWidget(self.form_error, 1)
        save_row.addStretch(0)
        save_row.addWidget(self.revert_button)
        save_row.addWidget(self.save_button)

        self.form_title = QLabel()
        self.form_title.setObjectName("profileFormTitle")
        title_font = self.form_title.font()
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        self.form_title.setFont(title_font)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Name", self.name_edit)
        form.addRow("Base URL", self.url_edit)
        form.addRow("API key", key_box)
        form.addRow("Default model", model_row)
        form.addRow("Extra headers", self.headers_edit)
        form.addRow("", test_row)
        form_box = QWidget()
        form_layout = QVBoxLayout(form_box)
        form_layout.setContentsMargins(0, 0, 0, 0)
        form_layout.addWidget(self.form_title)
        form_layout.addLayout(form)
        form_layout.addStretch(1)
        form_layout.addLayout(save_row)

        self.empty_label = QLabel(
            "<p><b>No providers yet.</b></p><p>Use <b>Add</b> to pick a cloud provider (you will need its "
            "API key) or a server on this computer such as Ollama or LM Studio.</p>"
        )
        self.empty_label.setObjectName("noProfiles")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(form_box)

        columns = QHBoxLayout()
        columns.addLayout(left, 0)
        columns.addSpacing(8)
        columns.addWidget(self.stack, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(self.keychain_message)
        outer.addLayout(columns, 1)

        for edit in (self.name_edit, self.url_edit, self.key_edit):
            edit.textEdited.connect(self._changed)
        for button in self.findChildren(QPushButton):  # Return saves; it never opens Add or deletes
            button.setAutoDefault(button is self.save_button)
        self.model_box.editTextChanged.connect(self._changed)
        self.headers_edit.textChanged.connect(self._changed)

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

    def _row_of(self, profile_id: int | None) -> int:
        for row in range(self.profile_list.count()):
            if self.profile_list.item(row).data(Qt.ItemDataRole.UserRole) == profile_id:
                return row
        return -1

    def _on_profiles_changed(self) -> None:
        if self._editing not in (None, DRAFT_ID) and self._providers.get(self._editing) is None:
            self._dirty = False
            self._load(None)
        self._reload_list()
        if self._editing is None and self.profile_list.count():
            self.profile_list.setCurrentRow(0)

    def _on_row_changed(self, row: int) -> None:
        item = self.profile_list.item(row) if row >= 0 else None
        wanted = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if wanted == self._editing:
            return
        if self._dirty:
            self.profile_list.blockSignals(True)
            self.profile_list.setCurrentRow(self._row_of(self._editing))
            self.profile_list.blockSignals(False)
            self.ask_unsaved(lambda: self._select(wanted))
            return
        self._select(wanted)

    def _select(self, profile_id: int | None) -> None:
        if self._editing == DRAFT_ID and profile_id != DRAFT_ID:
            self._draft = None
            self._editing = None
            self._reload_list()
        self._load(profile_id)
        self.profile_list.blockSignals(True)
        self.profile_list.setCurrentRow(self._row_of(profile_id))
        self.profile_list.blockSignals(False)

    # ---- the form -----------------------------------------------------------------------------

    def current_profile_id(self) -> int | None:
        """The saved profile shown in the form (None for a new one, or none)."""
        return self._editing if self._editing not in (None, DRAFT_ID) else None

    def is_dirty(self) -> bool:
        """True when the form holds changes that are not saved."""
        return self._dirty

    def _changed(self, *_: object) -> None:
        if not self._loading and self._editing is not None:
            self._dirty = True
            self.form_error.show_status("")
            self._update_buttons()

    def _update_buttons(self) -> None:
        saved = self.current_profile_id() is not None
        self.save_button.setEnabled(self._dirty)
        self.revert_button.setEnabled(self._dirty and saved)
        self.delete_button.setEnabled(self._editing is not None)
        self.remove_key_button.setVisible(self._key_saved)

    def new_profile(self, preset: Preset | None) -> None:
        """Start a new profile from `preset` (None: a custom endpoint); it exists once saved."""
        if self._dirty:
            self.ask_unsaved(lambda: self.new_profile(preset))
            return
        self._draft = preset
        self._editing = DRAFT_ID
        self._reload_list()
        self._load(DRAFT_ID)
        (self.name_edit if preset is None else self.key_edit).setFocus()

    def _load(self, profile_id: int | None) -> None:
        """Fill the form from a saved profile, a new one (DRAFT_ID), or nothing (None)."""
        self._jobs.cancel()
        self._loading = True
        self._editing = profile_id
        profile = self._providers.get(profile_id) if profile_id not in (None, DRAFT_ID) else None
        if profile_id not in (None, DRAFT_ID) and profile is None:
            self._editing = profile_id = None
        self.stack.setCurrentIndex(0 if profile_id is None else 1)
        preset = self._draft if profile_id == DRAFT_ID else None
        if profile is not None:
            preset = self._providers.preset_for_url(profile.base_url)
            self.form_title.setText(profile.name)
            self.name_edit.setText(profile.name)
            self.url_edit.setText(profile.base_url)
            self.headers_edit.setPlainText(format_headers(profile.headers))
            cached = self._providers.cached_models(profile.id)
            self._fill_models(cached.models if cached else (), profile.default_model)
        elif profile_id == DRAFT_ID:
            self.form_title.setText(
                f"New provider: {preset.name}" if preset else "New OpenAI-compatible endpoint"
            )
            self.name_edit.setText(preset.name if preset else "")
            self.url_edit.setText(preset.base_url if preset else "")
            self.headers_edit.setPlainText(format_headers(preset.headers) if preset else "")
            self._fill_models((), preset.default_model if preset else "")
        self.key_edit.clear()
        self.result_label.show_status("")
        self.form_error.show_status("")
        self._show_key_state(profile, preset)
        self._loading = False
        self._dirty = profile_id == DRAFT_ID  # a new profile is unsaved until Save
        self._update_buttons()
        self.test_button.setEnabled(True)
        self.list_button.setEnabled(True)
        self.test_button.setText("Test connection")

    def _fill_models(self, models: tuple[str, ...] | list[str], current: str) -> None:
        was_loading, self._loading = self._loading, True
        self.model_box.clear()
        self.model_box.addItems(list(models))
        self.model_box.setEditText(current)
        self._loading = was_loading

    def _show_key_state(self, profile: ProviderProfile | None, preset: Preset | None) -> None:
        problem = self._providers.keychain_problem()
        self.keychain_message.show_status(problem or "", "warning")
        self._key_saved = False
        self.key_edit.setEnabled(problem is None)
        url = preset.key_url if preset is not None else ""
        self.key_link.setText(f'<a href="{url}">Get a key</a>' if url else "")
        local = preset.local if preset is not None else ProviderService.is_local(self.url_edit.text())
        if problem is not None:
            self.key_edit.setPlaceholderText("No keychain: keys cannot be saved")
            self.key_status.show_status("Local servers need no key." if local else "", "info")
            return
        if profile is not None:
            try:
                self._key_saved = self._providers.has_key(profile.id)
            except KeychainError as exc:
                self.key_status.show_status(f"The keychain cannot be read: {exc}", "error")
                return
        where = self._providers.keychain_name()
        if self._key_saved:
            self.key_edit.setPlaceholderText("Paste a new key to replace the saved one")
            self.key_status.show_status(f"•••• saved in {where}", "ok")
        elif local:
            self.key_edit.setPlaceholderText("Not needed for a server on this computer")
            self.key_status.show_status("Local servers need no key.", "info")
        else:
            self.key_edit.setPlaceholderText("Paste the API key")
            needs = (profile is not None and profile.needs_key) or (preset is not None and preset.needs_key)
            self.key_status.show_status(
                f"No key saved. {'This provider needs one; it' if needs else 'A key'} is kept in {where}.",
                "warning" if needs else "info",
            )

    def _form_headers(self) -> dict[str, str] | None:
        try:
            return parse_headers(self.headers_edit.toPlainText())
        except ValueError as exc:
            self.form_error.show_status(str(exc), "error")
            return None

    # ---- actions ------------------------------------------------------------------------------

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
        key_error = ""
        if key:
            try:
                self._providers.set_key(profile.id, key)
            except KeychainError as exc:
                key_error = f"The key was not saved: {exc}"
        self._dirty = False
        self._editing = profile.id
        self._reload_list()
        self._load(profile.id)
        if key_error:
            self.key_status.show_status(key_error, "error")
        secret = secret_looking_headers(headers)
        if secret:
            self.form_error.show_status(
                f"Saved. Note: the header {secret[0]} is stored with your settings, not in the keychain; "
                "put API keys in the API key field.",
                "warning",
            )
        return True

    def revert(self) -> None:
        """Drop the unsaved changes."""
        self._dirty = False
        self._load(self._editing)

    def ask_unsaved(self, then: Callable[[], None]) -> None:
        """Ask whether to save the changed profile; then run `then` (unless cancelled)."""
        name = self.name_edit.text().strip() or "this provider"
        box = unsaved_changes_box(self, name, "unsavedChangesBox")

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Save:
                if not self.save():
                    return
            elif button == QMessageBox.StandardButton.Discard:
                self._dirty = False
                if self._editing == DRAFT_ID:
                    self._draft = None
                    self._editing = None
                    self._reload_list()
            else:
                return
            then()

        open_question(self, box, answered)

    def delete_current(self) -> None:
        """Delete the selected profile and its key (after asking); a new one is just dropped."""
        if self._editing == DRAFT_ID:
            self._dirty = False
            self._draft = None
            self._editing = None
            self._reload_list()
            self._load(None)
            if self.profile_list.count():
                self.profile_list.setCurrentRow(0)
            return
        profile_id = self.current_profile_id()
        profile = self._providers.get(profile_id) if profile_id is not None else None
        if profile is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete provider",
            f"Delete {profile.name}?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("deleteProfileBox")
        box.setInformativeText(
            "Its API key is removed from the keychain. Conversations that used it switch to your default "
            "provider; their messages are kept."
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        delete.setObjectName("confirmDeleteButton")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(_result: int) -> None:
            if box.clickedButton() is delete:
                self._dirty = False
                self._providers.delete(profile.id)

        open_question(self, box, answered)

    def remove_key(self) -> None:
        """Remove the saved key from the keychain (after asking)."""
        profile_id = self.current_profile_id()
        profile = self._providers.get(profile_id) if profile_id is not None else None
        if profile is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Remove key",
            f"Remove the API key of {profile.name} from the keychain?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("removeKeyBox")
        box.setInformativeText("You will need to paste it again to use this provider.")
        remove = box.addButton("Remove key", QMessageBox.ButtonRole.DestructiveRole)
        remove.setObjectName("confirmRemoveKeyButton")

        def answered(_result: int) -> None:
            if box.clickedButton() is not remove:
                return
            try:
                self._providers.remove_key(profile.id)
            except KeychainError as exc:
                self.key_status.show_status(f"The key could not be removed: {exc}", "error")
                return
            dirty, self._dirty = self._dirty, False
            if not dirty:
                self._load(profile.id)
            else:  # keep what was typed; only the key line changes
                self._dirty = True
                self._show_key_state(self._providers.get(profile.id), None)
                self._update_buttons()

        open_question(self, box, answered)

    def test_connection(self) -> None:
        """Try the endpoint as the form describes it, in the background; the result shows below."""
        self._check(list_only=False)

    def list_models(self) -> None:
        """Fill the default model list from the endpoint, in the background."""
        self._check(list_only=True)

    def _check(self, *, list_only: bool) -> None:
        headers = self._form_headers()
        if headers is None:
            return
        url = self.url_edit.text().strip()
        key = self.key_edit.text().strip() or None
        model = "" if list_only else self.model_box.currentText().strip()
        profile_id = self.current_profile_id()
        providers = self._providers
        self.result_label.show_status("Listing the models…" if list_only else "Testing the connection…")
        self.test_button.setEnabled(False)
        self.list_button.setEnabled(False)
        if not list_only:
            self.test_button.setText("Testing…")
        self._jobs.start(
            lambda: providers.test_connection(
                url, headers=headers, api_key=key, profile_id=profile_id, model=model
            ),
            lambda check: self._checked(check, list_only=list_only),
            key="check",
        )

    def _checked(self, check: ConnectionCheck, *, list_only: bool) -> None:
        self.test_button.setEnabled(True)
        self.list_button.setEnabled(True)
        self.test_button.setText("Test connection")
        message = check.message
        if check.models:
            current = self.model_box.currentText().strip()
            chosen = current or check.models[0]
            self._fill_models(check.models, chosen)
            if chosen != current:
                self._changed()
            if list_only:
                message = f"{len(check.models)} models listed: open the Default model list to pick one."
        if check.ok:
            self.result_label.show_status(f"✔ {message}", "ok")
        else:
            self.result_label.show_status(f"✖ {message}", "error")

    def busy(self) -> bool:
        """True while a test or listing runs."""
        return self._jobs.running("check")


# ---- general ---------------------------------------------------------------------------------------


class GeneralPage(QWidget):
    """Settings that apply at once: system prompt, theme, text size, proxy, titles, tool rounds."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generalPage")
        self._settings = settings
        self._prompt_timer = QTimer(self)
        self._prompt_timer.setSingleShot(True)
        self._prompt_timer.setInterval(SAVE_DELAY_MS)
        self._prompt_timer.timeout.connect(self.save_prompt)

        self.prompt_edit = QPlainTextEdit()
        _named(self.prompt_edit, "defaultSystemPrompt", "Default system prompt")
        self.prompt_edit.setPlaceholderText(
            "For example: You are a concise assistant. Answer in British English."
        )
        self.prompt_edit.setTabChangesFocus(True)
        self.theme_box = QComboBox()
        _named(self.theme_box, "themeBox", "Theme")
        for value, label in THEMES:
            self.theme_box.addItem(label, value)
        self.font_spin = QSpinBox()
        _named(self.font_spin, "fontSize", "Text size")
        low, high = FONT_SIZE_RANGE
        self.font_spin.setRange(low - 1, high)  # the lowest value is "system default" (stored as 0)
        self.font_spin.setSpecialValueText("System default")
        self.font_spin.setSuffix(" pt")
        self.proxy_edit = QLineEdit()
        _named(self.proxy_edit, "proxyUrl", "Proxy")
        self.proxy_edit.setPlaceholderText("Use the system's proxy settings")
        self.proxy_error = StatusLabel()
        _named(self.proxy_error, "proxyError", "Proxy problem")
        self.title_check = QCheckBox("Ask the model for a short title after the first answer")
        _named(self.title_check, "autoTitle", "Automatic titles")
        self.rounds_spin = QSpinBox()
        _named(self.rounds_spin, "maxToolRounds", "Tool rounds per answer")
        self.rounds_spin.setRange(0, 50)
        self.rounds_spin.setSpecialValueText("No tools")

        self.prompt_edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 7 + 14)
        prompt_box = _stacked(
            self.prompt_edit,
            _hint(
                "Sent at the start of new conversations; a conversation can set its own "
                "(Conversation settings)."
            ),
        )
        proxy_box = _stacked(
            self.proxy_edit,
            self.proxy_error,
            _hint(
                "For cloud providers, e.g. http://proxy.example:3128. Servers on this computer never use it."
            ),
        )
        outer = QVBoxLayout(self)
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)  # extra height below the settings, not between them
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)  # lists keep their size
        form.setVerticalSpacing(10)
        form.addRow("Default system prompt", prompt_box)
        form.addRow("Theme", self.theme_box)
        form.addRow("Text size", self.font_spin)
        form.addRow("Proxy", proxy_box)
        form.addRow("Titles", self.title_check)
        form.addRow("Tool rounds per answer", self.rounds_spin)

        self._load()
        self.prompt_edit.textChanged.connect(self._prompt_timer.start)
        self.theme_box.activated.connect(self._theme_chosen)
        self.font_spin.valueChanged.connect(self._font_chosen)
        self.proxy_edit.editingFinished.connect(self.save_proxy)
        self.title_check.toggled.connect(lambda on: self._settings.set(AUTO_TITLE, on))
        self.rounds_spin.valueChanged.connect(lambda n: self._settings.set(MAX_TOOL_ROUNDS, n))
        settings.changed.connect(self._on_setting_changed)

    def _load(self) -> None:
        s = self._settings
        for widget in (self.prompt_edit, self.theme_box, self.font_spin, self.title_check, self.rounds_spin):
            widget.blockSignals(True)
        if self.prompt_edit.toPlainText() != s.get(SYSTEM_PROMPT) and not self._prompt_timer.isActive():
            self.prompt_edit.setPlainText(s.get(SYSTEM_PROMPT))
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(s.get(THEME))))
        size = s.get(FONT_SIZE)
        self.font_spin.setValue(size if size > 0 else self.font_spin.minimum())
        if not self.proxy_edit.hasFocus():
            self.proxy_edit.setText(s.get(PROXY_URL))
        self.title_check.setChecked(s.get(AUTO_TITLE))
        self.rounds_spin.setValue(s.get(MAX_TOOL_ROUNDS))
        for widget in (self.prompt_edit, self.theme_box, self.font_spin, self.title_check, self.rounds_spin):
            widget.blockSignals(False)

    def _on_setting_changed(self, key: str) -> None:
        if key in (
            SYSTEM_PROMPT.key,
            THEME.key,
            FONT_SIZE.key,
            PROXY_URL.key,
            AUTO_TITLE.key,
            MAX_TOOL_ROUNDS.key,
        ):
            self._load()

    def _theme_chosen(self, index: int) -> None:
        self._settings.set(THEME, str(self.theme_box.itemData(index)))

    def _font_chosen(self, value: int) -> None:
        self._settings.set(FONT_SIZE, 0 if value < FONT_SIZE_RANGE[0] else value)

    def save_prompt(self) -> None:
        """Save the default system prompt now."""
        self._prompt_timer.stop()
        self._settings.set(SYSTEM_PROMPT, self.prompt_edit.toPlainText().strip())

    def save_proxy(self) -> None:
        """Check and save the proxy address (blank: the system's settings)."""
        text = self.proxy_edit.text().strip()
        if text:
            parts = urlsplit(text if "://" in text else "http://" + text)
            if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
                self.proxy_error.show_status(
                    "A proxy looks like http://host:port (or https://, socks5://).", "error"
                )
                return
            text = parts.geturl()
        self.proxy_error.show_status("")
        self._settings.set(PROXY_URL, text)

    def flush(self) -> None:
        """Save what is still waiting (the system prompt)."""
        if self._prompt_timer.isActive():
            self.save_prompt()


# ---- the dialog -------------------------------------------------------------------------------------


class SettingsDialog(QDialog):
    """Providers, general settings and tools."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.resize(920, 680)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.providers_page = ProvidersPage(services.providers)
        self.general_page = GeneralPage(services.settings)
        self.tools_page = ToolsPage(services)
        self.tabs.addTab(self.providers_page, "Providers")
        self.tabs.addTab(self.general_page, "General")
        self.tabs.addTab(self.tools_page, "Tools")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        QShortcut(QKeySequence.StandardKey.Close, self, self.reject)

    def show_page(self, name: str) -> None:
        """Bring "providers", "general" or "tools" to the front."""
        pages = {"general": self.general_page, "tools": self.tools_page}
        self.tabs.setCurrentWidget(pages.get(name, self.providers_page))

    def done(self, result: int) -> None:
        """Close (Escape, Close, the window's X): save what waits; ask about a changed provider or server."""
        self.general_page.flush()
        for page in (self.providers_page, self.tools_page):
            if page.is_dirty():
                self.tabs.setCurrentWidget(page)
                page.ask_unsaved(lambda: self.done(result))
                return
        super().done(result)
