"""The first-run welcome: shown while no provider is set up.

It looks for model servers on this computer (in the background, with a short timeout) and offers each
one it finds with one click; or it takes a cloud provider's key (into the keychain); or it steps aside,
and saved chats open without a provider.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.providers import (
    ConnectionCheck,
    KeychainError,
    LocalServer,
    Preset,
    ProviderService,
)
from desktop_chat.ui.common.forms import bold
from desktop_chat.ui.common.widget_tasks import Jobs
from desktop_chat.ui.common.widgets import StatusLabel

log = logging.getLogger(__name__)

DETECT_TIMEOUT_S = 0.8
MODELS_SHOWN = 3


def _server_name(preset: Preset) -> str:
    return preset.name.removesuffix(" server")


class WelcomeDialog(QDialog):
    """Set up a first provider: a local server found here, or a cloud provider and its key."""

    provider_added = Signal(int)  # the profile made (and selected) here
    settings_requested = Signal()

    def __init__(
        self,
        providers: ProviderService,
        parent: QWidget | None = None,
        *,
        local_presets: tuple[Preset, ...] | None = None,
        cloud_presets: tuple[Preset, ...] | None = None,
        timeout: float = DETECT_TIMEOUT_S,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeDialog")
        self.setWindowTitle("Welcome to Desktop Chat")
        self._providers = providers
        self._jobs = Jobs(self)
        presets = providers.presets()
        self._local_presets = (
            local_presets if local_presets is not None else tuple(p for p in presets if p.local)
        )
        self._cloud_presets = (
            cloud_presets if cloud_presets is not None else tuple(p for p in presets if not p.local)
        )
        self._timeout = timeout
        self.found: list[LocalServer] = []
        self.use_buttons: list[QPushButton] = []
        self._build()
        self.look_for_servers()

    # ---- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        title = bold(QLabel("Welcome to Desktop Chat"), 1.5)
        title.setObjectName("welcomeTitle")
        intro = QLabel(
            "Chat with language models running on this computer or in the cloud. Your conversations are "
            "kept in one file on this computer."
        )
        intro.setWordWrap(True)

        self.local_status = StatusLabel()
        self.local_status.setObjectName("localStatus")
        self.servers_box = QVBoxLayout()
        self.servers_box.setSpacing(6)
        self.look_again = QPushButton("Look again")
        self.look_again.setObjectName("lookAgainButton")
        self.look_again.clicked.connect(self._look_again)
        look_row = QHBoxLayout()
        look_row.addWidget(self.local_status, 1)
        look_row.addWidget(self.look_again, 0, Qt.AlignmentFlag.AlignTop)

        self.cloud_box = QComboBox()
        self.cloud_box.setObjectName("cloudPreset")
        self.cloud_box.setAccessibleName("Cloud provider")
        for preset in self._cloud_presets:
            self.cloud_box.addItem(preset.name, preset.name)
        self.cloud_box.currentIndexChanged.connect(self._cloud_changed)
        self.key_link = QLabel()
        self.key_link.setObjectName("welcomeKeyLink")
        self.key_link.setOpenExternalLinks(True)
        self.key_link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("welcomeKey")
        self.key_edit.setAccessibleName("API key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste your API key")
        self.cloud_button = QPushButton("Save key and start")
        self.cloud_button.setObjectName("useCloudButton")
        self.cloud_button.clicked.connect(self.use_cloud)
        self.cloud_status = StatusLabel()
        self.cloud_status.setObjectName("cloudStatus")
        cloud_row = QHBoxLayout()
        cloud_row.addWidget(self.cloud_box)
        cloud_row.addWidget(self.key_edit, 1)
        cloud_row.addWidget(self.cloud_button)

        self.settings_button = QPushButton("Other endpoint…")
        self.settings_button.setObjectName("openSettingsButton")
        self.settings_button.setToolTip("Add any OpenAI-compatible endpoint in Settings")
        self.settings_button.clicked.connect(self._open_settings)
        self.skip_button = QPushButton("Skip for now")
        self.skip_button.setObjectName("skipButton")
        self.skip_button.clicked.connect(self.reject)
        skip_note = QLabel("Your saved chats open without a provider.")
        skip_note.setEnabled(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.settings_button)
        bottom.addStretch(1)
        bottom.addWidget(skip_note)
        bottom.addWidget(self.skip_button)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(4)
        layout.addWidget(bold(QLabel("On this computer")))
        layout.addLayout(look_row)
        layout.addLayout(self.servers_box)
        layout.addSpacing(4)
        layout.addWidget(bold(QLabel("In the cloud")))
        layout.addLayout(cloud_row)
        layout.addWidget(self.key_link)
        layout.addWidget(self.cloud_status)
        layout.addStretch(1)
        layout.addWidget(line)
        layout.addLayout(bottom)
        self.setMinimumWidth(620)
        for button in (self.look_again, self.settings_button, self.skip_button):
            button.setAutoDefault(False)
        self.cloud_button.setDefault(True)  # Return in the key field
        self._cloud_changed()
        problem = self._providers.keychain_problem()
        if problem:
            self.key_edit.setEnabled(False)
            self.cloud_button.setEnabled(False)
            self.cloud_status.show_status(problem, "warning")

    # ---- local servers ---------------------------------------------------------------------------

    def searching(self) -> bool:
        """True while local servers are being looked for."""
        return self._jobs.running("detect")

    def look_for_servers(self, presets: tuple[Preset, ...] | None = None) -> None:
        """Ask the usual local ports (or those of `presets`, from now on) in the background; found servers
        appear with a Use button."""
        if presets is not None:
            self._local_presets = presets
        self.look_again.setEnabled(False)
        names = ", ".join(_server_name(p) for p in self._local_presets)
        self.local_status.show_status(f"Looking for {names} on this computer…")
        providers, presets, timeout = self._providers, self._local_presets, self._timeout
        self._jobs.start(
            lambda: providers.local_servers(presets, timeout=timeout),
            self._found,
            self._detect_failed,
            key="detect",
        )

    def _look_again(self) -> None:
        self.look_for_servers()

    def _detect_failed(self, exc: BaseException) -> None:
        log.warning("Looking for local servers failed: %s", exc)
        self._found([])

    def _found(self, servers: list[LocalServer]) -> None:
        self.found = list(servers)
        self.look_again.setEnabled(True)
        while self.servers_box.count():
            item = self.servers_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.use_buttons = []
        for i, server in enumerate(servers):
            self.servers_box.addWidget(self._server_row(i, server))
        if servers:
            self.local_status.show_status("Found on this computer:", "ok")
        else:
            self.local_status.show_status(
                "No model server answered on this computer. Start Ollama or LM Studio and look again, "
                "or use a cloud provider below."
            )

    def _server_row(self, i: int, server: LocalServer) -> QWidget:
        row = QFrame()
        row.setObjectName(f"localServer_{i}")
        row.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(10, 6, 6, 6)
        name = html.escape(_server_name(server.preset))
        where = html.escape(server.base_url.split("://", 1)[-1].removesuffix("/v1"))
        if server.models:
            shown = ", ".join(html.escape(m) for m in server.models[:MODELS_SHOWN])
            more = len(server.models) - MODELS_SHOWN
            n = len(server.models)
            models = f"{n} model{'s' if n != 1 else ''}: {shown}" + (f" and {more} more" if more > 0 else "")
        else:
            models = "no models listed yet"
        label = QLabel(f"<b>{name}</b> at {where}<br>{models}")
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        button = QPushButton("Use")
        button.setAutoDefault(False)
        button.setObjectName(f"useLocal_{i}")
        button.setAccessibleName(f"Use {_server_name(server.preset)}")
        button.clicked.connect(self._user(server))
        layout.addWidget(label, 1)
        layout.addWidget(button)
        self.use_buttons.append(button)
        return row

    def _user(self, server: LocalServer) -> Callable[[], None]:
        return lambda: self.use_local(server)

    def use_local(self, server: LocalServer) -> None:
        """Make a profile for a found server, select its first model, and close."""
        model = server.models[0] if server.models else ""
        profile = self._providers.find_by_url(server.base_url)
        if profile is None:
            profile = self._providers.add(
                _server_name(server.preset), server.base_url, default_model=model, needs_key=False
            )
        self._providers.use(profile, model or profile.default_model)
        self.provider_added.emit(profile.id)
        self.accept()

    # ---- cloud -------------------------------------------------------------------------------------

    def _cloud_preset(self) -> Preset | None:
        name = self.cloud_box.currentData()
        return next((p for p in self._cloud_presets if p.name == name), None)

    def _cloud_changed(self, *_: object) -> None:
        preset = self._cloud_preset()
        url = preset.key_url if preset is not None else ""
        name = html.escape(preset.name) if preset is not None else ""
        self.key_link.setText(
            f'Get a key: <a href="{html.escape(url)}">{html.escape(url)}</a>' if url else ""
        )
        self.key_link.setVisible(bool(url))
        self.key_edit.setPlaceholderText(f"Paste your {name} API key" if name else "Paste your API key")

    def checking(self) -> bool:
        """True while a pasted key is being tried."""
        return self._jobs.running("cloud")

    def use_cloud(self) -> None:
        """Try the pasted key (listing the models); when it works, save it to the keychain and close."""
        preset = self._cloud_preset()
        key = self.key_edit.text().strip()
        if preset is None or not self.key_edit.isEnabled():
            return
        if not key:
            self.cloud_status.show_status("Paste the key first.", "error")
            self.key_edit.setFocus()
            return
        self.cloud_button.setEnabled(False)
        self.cloud_status.show_status(f"Checking the key with {preset.name}…")
        providers = self._providers
        self._jobs.start(
            lambda: providers.test_connection(
                preset.base_url, headers=dict(preset.headers), api_key=key, model=preset.default_model
            ),
            lambda check: self._cloud_checked(preset, key, check),
            key="cloud",
        )

    def _cloud_checked(self, preset: Preset, key: str, check: ConnectionCheck) -> None:
        self.cloud_button.setEnabled(True)
        if not check.ok:
            self.cloud_status.show_status(check.message, "error")
            return
        model = preset.default_model
        if check.models and model not in check.models:
            model = check.models[0]
        profile = self._providers.add(
            preset.name, preset.base_url, default_model=model, headers=dict(preset.headers), needs_key=True
        )
        try:
            self._providers.set_key(profile.id, key)
        except KeychainError as exc:
            self._providers.delete(profile.id)
            self.cloud_status.show_status(f"The key could not be saved: {exc}", "error")
            return
        self.key_edit.clear()
        self._providers.use(profile, model)
        self.provider_added.emit(profile.id)
        self.accept()

    def _open_settings(self) -> None:
        self.settings_requested.emit()
        self.reject()
