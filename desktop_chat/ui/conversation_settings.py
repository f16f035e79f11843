"""Conversation settings: this conversation's system prompt, temperature and answer length.

Blank fields mean "the default": the default system prompt (Settings), and the provider's own
temperature and token limit (the parameter is then left out of the request).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.conversations import ConversationService
from desktop_chat.settings import SYSTEM_PROMPT, Settings
from desktop_chat.ui.widgets import StatusLabel

TEMPERATURE_RANGE = (0.0, 2.0)
MAX_TOKENS_LIMIT = 10_000_000


def parse_temperature(text: str) -> float | None:
    """The temperature typed ("" is None: the provider's default); raises ValueError with a message."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError("Temperature is a number such as 0.7.") from None
    low, high = TEMPERATURE_RANGE
    if not low <= value <= high:
        raise ValueError(f"Temperature goes from {low:g} to {high:g}.")
    return round(value, 3)


def parse_max_tokens(text: str) -> int | None:
    """The token limit typed ("" is None: the provider's default); raises ValueError with a message."""
    text = text.strip().replace("_", "").replace(" ", "")
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_TOKENS_LIMIT:
        raise ValueError("Max tokens is a whole number above 0, such as 1024.")
    return int(text)


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value) if value is not None else ""


class ConversationSettingsDialog(QDialog):
    """Edit one conversation's system prompt and request parameters; saved with OK."""

    def __init__(
        self,
        conversations: ConversationService,
        settings: Settings,
        conversation_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("conversationSettings")
        self.setAccessibleName("Conversation settings")
        self._conversations = conversations
        self._id = conversation_id
        conversation = conversations.get(conversation_id)
        title = conversation.title or "New conversation"
        self.setWindowTitle(f"Conversation settings: {title}")
        self.resize(520, 420)

        default_prompt = settings.get(SYSTEM_PROMPT)
        self.default_check = QCheckBox("Use the default system prompt")
        self.default_check.setObjectName("useDefaultPrompt")
        self.default_check.setAccessibleName("Use the default system prompt")
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("systemPrompt")
        self.prompt_edit.setAccessibleName("System prompt of this conversation")
        self.prompt_edit.setTabChangesFocus(True)
        self._default_prompt = default_prompt
        own = conversation.system_prompt
        self.default_check.setChecked(own is None)
        self.prompt_edit.setPlainText(default_prompt if own is None else own)
        self.prompt_edit.setReadOnly(own is None)
        self.prompt_edit.setPlaceholderText(
            "No system prompt" if own is None else "None for this conversation (leave empty)"
        )
        self.default_check.toggled.connect(self._default_toggled)

        self.temperature_edit = QLineEdit(_number(conversation.params.get("temperature")))
        self.temperature_edit.setObjectName("temperature")
        self.temperature_edit.setAccessibleName("Temperature")
        self.temperature_edit.setPlaceholderText("Provider default")
        self.max_tokens_edit = QLineEdit(_number(conversation.params.get("max_tokens")))
        self.max_tokens_edit.setObjectName("maxTokens")
        self.max_tokens_edit.setAccessibleName("Max tokens")
        self.max_tokens_edit.setPlaceholderText("Provider default")
        self.error_label = StatusLabel()
        self.error_label.setObjectName("conversationSettingsError")
        self.error_label.show_status("")
        for edit in (self.temperature_edit, self.max_tokens_edit):
            edit.textChanged.connect(self._validate)

        hint = QLabel(
            "Temperature: 0 is focused, higher is more varied (0 to 2). Max tokens caps the length of each "
            "answer. Leave a field blank to use the provider's default."
        )
        hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow("", self.default_check)
        form.addRow("System prompt", self.prompt_edit)
        form.addRow("Temperature", self.temperature_edit)
        form.addRow("Max tokens", self.max_tokens_edit)
        form.addRow("", hint)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _default_toggled(self, use_default: bool) -> None:
        self.prompt_edit.setReadOnly(use_default)
        if use_default:
            self.prompt_edit.setPlainText(self._default_prompt)
        else:
            self.prompt_edit.setFocus()
            self.prompt_edit.selectAll()

    def _values(self) -> tuple[float | None, int | None]:
        return parse_temperature(self.temperature_edit.text()), parse_max_tokens(self.max_tokens_edit.text())

    def _validate(self) -> bool:
        try:
            self._values()
        except ValueError as exc:
            self.error_label.show_status(str(exc), "error")
            ok = False
        else:
            self.error_label.show_status("")
            ok = True
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(ok)
        return ok

    def accept(self) -> None:
        """Save and close (not while a field is invalid)."""
        if not self._validate():
            return
        temperature, max_tokens = self._values()
        prompt = None if self.default_check.isChecked() else self.prompt_edit.toPlainText().strip()
        self._conversations.set_options(
            self._id, system_prompt=prompt, temperature=temperature, max_tokens=max_tokens
        )
        super().accept()
