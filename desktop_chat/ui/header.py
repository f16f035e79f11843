"""The row above the transcript: the provider and model picker, "Set up a provider…" while there is
none, and "Conversation settings…" while a conversation is open."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from desktop_chat.services.providers import ProviderService
from desktop_chat.ui.model_picker import ModelPicker


class ChatHeader(QWidget):
    """The picker and the two buttons; the window connects them and says what to show."""

    def __init__(self, providers: ProviderService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model_picker = ModelPicker(providers, self)
        layout.addWidget(self.model_picker)
        self.setup_button = QPushButton("Set up a provider…")
        self.setup_button.setObjectName("setupProviderButton")
        self.setup_button.setAccessibleName("Set up a provider")
        layout.addWidget(self.setup_button)
        layout.addStretch(1)
        self.conversation_settings_button = QPushButton("Conversation settings…")
        self.conversation_settings_button.setObjectName("conversationSettingsButton")
        self.conversation_settings_button.setAccessibleName("Conversation settings")
        self.conversation_settings_button.setFlat(True)
        self.conversation_settings_button.setToolTip("System prompt, temperature and length (Ctrl+Shift+,)")
        layout.addWidget(self.conversation_settings_button)

    def show_target(
        self,
        profile_id: int | None,
        model: str,
        *,
        default_profile: int | None,
        review: bool,
        conversation_open: bool,
    ) -> None:
        """The picker shows what the open conversation uses (else the default profile); setup and
        conversation settings as fit (a review shows neither the picker nor setup)."""
        has_profiles = self.model_picker.profile_box.count() > 0
        if profile_id is None and has_profiles:
            profile_id = default_profile
        self.model_picker.set_target(profile_id, model)
        self.setup_button.setVisible(not has_profiles and not review)
        if review:
            self.model_picker.hide()
        self.conversation_settings_button.setVisible(conversation_open)
