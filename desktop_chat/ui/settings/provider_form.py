"""The form of the Providers page: a profile's name, base URL, API key, default model and extra headers,
where its key is saved, and the connection test and model list (background jobs).

A key goes from the key field to the keychain through the provider service; a saved key is never read
back into a widget (the field stays empty and a line says where the key is saved).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
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
    format_headers,
    parse_headers,
)
from desktop_chat.ui.common.forms import beside, bold, named, note, plain_edit, secret_edit
from desktop_chat.ui.common.widget_tasks import Jobs
from desktop_chat.ui.common.widgets import StatusLabel, confirm
from desktop_chat.ui.settings.list_form import ListFormPage

DRAFT_ID = -1  # list item data of a profile being added


class ProviderForm(ListFormPage[int]):
    """The form half of the Providers page (the list and its actions are in `ProvidersPage`)."""

    UNNAMED = "this provider"

    keychain_message: StatusLabel  # over the page: why keys cannot be saved (built by the page)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, DRAFT_ID, parent)
        self._providers = services.providers
        self._jobs = Jobs(self)
        self._draft: Preset | None = None  # the preset a new profile starts from (None: custom)
        self._key_saved = False

    # ---- construction ------------------------------------------------------------------------

    def _build_form(self) -> QStackedWidget:
        """The form's fields and buttons, over a note shown while there is no profile."""
        self.name_edit = named(QLineEdit(), "profileName", "Name")
        self.url_edit = named(QLineEdit(), "baseUrl", "Base URL")
        self.url_edit.setPlaceholderText("http://localhost:11434/v1")
        self.key_edit = secret_edit("apiKey", "API key")
        self.remove_key_button = named(QPushButton("Remove key"), "removeKeyButton", "Remove the saved key")
        self.remove_key_button.clicked.connect(self.remove_key)
        key_row = beside(self.key_edit, self.remove_key_button)
        self.key_status = named(StatusLabel(), "keyStatus", "API key status")
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

        self.model_box = named(QComboBox(), "defaultModel", "Default model")
        self.model_box.setEditable(True)
        self.model_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_line = QLineEdit()
        self.model_line.setPlaceholderText("Type a model id, or list the models")
        self.model_box.setLineEdit(self.model_line)
        self.list_button = named(QPushButton("List models"), "listModelsButton", "List the models")
        self.list_button.clicked.connect(self.list_models)
        model_row = beside(self.model_box, self.list_button)

        self.headers_edit = plain_edit(
            "extraHeaders", "Extra headers", "Name: value (one per line; optional)", 3
        )

        self.test_button = named(
            QPushButton("Test connection"), "testConnectionButton", "Test the connection"
        )
        self.test_button.clicked.connect(self.test_connection)
        self.result_label = named(StatusLabel(), "connectionResult", "Connection test result")
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.result_label, 1)
        test_row.addStretch(0)  # the button keeps its size while no result shows

        self.form_error = named(StatusLabel(), "formError", "Problem with the form")
        self.save_button = named(QPushButton("Save"), "saveProfileButton", "Save the provider")
        self.save_button.clicked.connect(self.save)
        self.save_button.setDefault(True)
        self.revert_button = named(QPushButton("Revert"), "revertProfileButton", "Undo the changes")
        self.revert_button.clicked.connect(self.revert)
        save_row = QHBoxLayout()
        save_row.addWidget(self.form_error, 1)
        save_row.addStretch(0)
        save_row.addWidget(self.revert_button)
        save_row.addWidget(self.save_button)

        self.form_title = bold(QLabel(), 1.15)
        self.form_title.setObjectName("profileFormTitle")
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

        self.empty_label = note(
            "<p><b>No providers yet.</b></p><p>Use <b>Add</b> to pick a cloud provider (you will need its "
            "API key) or a server on this computer such as Ollama or LM Studio.</p>",
            "noProfiles",
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(form_box)
        return self.stack

    def _follow_edits(self) -> None:
        for edit in (self.name_edit, self.url_edit, self.key_edit):
            edit.textEdited.connect(self._changed)
        for button in self.findChildren(QPushButton):  # Return saves; it never opens Add or deletes
            button.setAutoDefault(button is self.save_button)
        self.model_box.editTextChanged.connect(self._changed)
        self.headers_edit.textChanged.connect(self._changed)

    # ---- filling the form ----------------------------------------------------------------------

    def current_profile_id(self) -> int | None:
        """The saved profile shown in the form (None for a new one, or none)."""
        return self.current_key()

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

    # ---- actions on the form -------------------------------------------------------------------

    def revert(self) -> None:
        """Drop the unsaved changes."""
        self._dirty = False
        self._load(self._editing)

    def _shown_profile(self) -> ProviderProfile | None:
        """The saved profile shown in the form, as stored."""
        profile_id = self.current_profile_id()
        return self._providers.get(profile_id) if profile_id is not None else None

    def remove_key(self) -> None:
        """Remove the saved key from the keychain (after asking)."""
        profile = self._shown_profile()
        if profile is None:
            return

        def remove() -> None:
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

        confirm(
            self,
            "Remove key",
            f"Remove the API key of {profile.name} from the keychain?",
            "You will need to paste it again to use this provider.",
            "Remove key",
            names=("removeKeyBox", "confirmRemoveKeyButton"),
            then=remove,
            cancel_is_default=False,
        )

    # ---- the endpoint ----------------------------------------------------------------------------

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
