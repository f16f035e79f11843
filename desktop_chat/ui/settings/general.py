"""The General page of Settings: default system prompt, theme, text size, proxy, titles, tool rounds.

Every control stores its setting at once (the system prompt a moment after the last keystroke, the proxy
once it is checked), and the page follows changes made elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import AUTO_TITLE, FONT_SIZE, MAX_TOOL_ROUNDS, PROXY_URL, SYSTEM_PROMPT, THEME
from desktop_chat.ui.common.forms import hint, named, stacked
from desktop_chat.ui.common.theme import FONT_SIZE_RANGE
from desktop_chat.ui.common.widgets import StatusLabel
from desktop_chat.ui.settings.page import SettingsPage

THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
SAVE_DELAY_MS = 400  # the system prompt is saved this long after the last keystroke (and on close)


def proxy_value(text: str) -> str | None:
    """The proxy address to store for what was typed ("" for the system's settings); None if invalid."""
    text = text.strip()
    if not text:
        return ""
    parts = urlsplit(text if "://" in text else "http://" + text)
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        return None
    return parts.geturl()


class GeneralPage(SettingsPage):
    """Settings that apply at once: system prompt, theme, text size, proxy, titles, tool rounds."""

    TITLE = "General"
    NAME = "general"
    SETTINGS = (SYSTEM_PROMPT, THEME, FONT_SIZE, PROXY_URL, AUTO_TITLE, MAX_TOOL_ROUNDS)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        settings = self._settings
        self._prompt_timer = QTimer(self)
        self._prompt_timer.setSingleShot(True)
        self._prompt_timer.setInterval(SAVE_DELAY_MS)
        self._prompt_timer.timeout.connect(self.save_prompt)

        self.prompt_edit = named(QPlainTextEdit(), "defaultSystemPrompt", "Default system prompt")
        self.prompt_edit.setPlaceholderText(
            "For example: You are a concise assistant. Answer in British English."
        )
        self.prompt_edit.setTabChangesFocus(True)
        self.theme_box = named(QComboBox(), "themeBox", "Theme")
        for value, label in THEMES:
            self.theme_box.addItem(label, value)
        self.font_spin = named(QSpinBox(), "fontSize", "Text size")
        low, high = FONT_SIZE_RANGE
        self.font_spin.setRange(low - 1, high)  # the lowest value is "system default" (stored as 0)
        self.font_spin.setSpecialValueText("System default")
        self.font_spin.setSuffix(" pt")
        self.proxy_edit = named(QLineEdit(), "proxyUrl", "Proxy")
        self.proxy_edit.setPlaceholderText("Use the system's proxy settings")
        self.proxy_error = named(StatusLabel(), "proxyError", "Proxy problem")
        self.title_check = named(
            QCheckBox("Ask the model for a short title after the first answer"),
            "autoTitle",
            "Automatic titles",
        )
        self.rounds_spin = named(QSpinBox(), "maxToolRounds", "Tool rounds per answer")
        self.rounds_spin.setRange(0, 50)
        self.rounds_spin.setSpecialValueText("No tools")

        self.prompt_edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 7 + 14)
        prompt_box = stacked(
            self.prompt_edit,
            hint(
                "Sent at the start of new conversations; a conversation can set its own "
                "(Conversation settings)."
            ),
        )
        proxy_box = stacked(
            self.proxy_edit,
            self.proxy_error,
            hint(
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

        self.load()
        self.prompt_edit.textChanged.connect(self._prompt_timer.start)
        self.theme_box.activated.connect(self._theme_chosen)
        self.font_spin.valueChanged.connect(self._font_chosen)
        self.proxy_edit.editingFinished.connect(self.save_proxy)
        self.title_check.toggled.connect(lambda on: self._settings.set(AUTO_TITLE, on))
        self.rounds_spin.valueChanged.connect(lambda n: self._settings.set(MAX_TOOL_ROUNDS, n))
        settings.changed_for(*self.SETTINGS).connect(self._follow)

    # ---- the contract --------------------------------------------------------------------------

    def load(self) -> None:
        """Show the stored values, replacing what is typed and not saved yet."""
        self._prompt_timer.stop()
        self._fill(keep_typed=False)

    def save(self) -> bool:
        """Save the proxy and the system prompt now; False (nothing saved) when the proxy is not valid."""
        if not self.save_proxy():
            return False
        self.save_prompt()
        return True

    def has_unsaved_changes(self) -> bool:
        """True while the typed prompt waits to be saved, or a typed proxy is not saved."""
        typed_proxy = proxy_value(self.proxy_edit.text())
        return self._prompt_timer.isActive() or typed_proxy != self._settings.get(PROXY_URL)

    def restore_defaults(self) -> None:
        """Every setting of the page back to its default (what is typed too)."""
        self._prompt_timer.stop()
        super().restore_defaults()
        self.load()

    def ready_to_close(self) -> bool:
        """Save the prompt that waits; nothing here needs a question."""
        self.flush()
        return True

    # ---- following the settings ----------------------------------------------------------------

    def _follow(self) -> None:
        self._fill(keep_typed=True)

    def _fill(self, *, keep_typed: bool) -> None:
        """Show the stored values; with `keep_typed`, not over a prompt or proxy being typed."""
        s = self._settings
        for widget in (self.prompt_edit, self.theme_box, self.font_spin, self.title_check, self.rounds_spin):
            widget.blockSignals(True)
        typing_prompt = keep_typed and self._prompt_timer.isActive()
        if self.prompt_edit.toPlainText() != s.get(SYSTEM_PROMPT) and not typing_prompt:
            self.prompt_edit.setPlainText(s.get(SYSTEM_PROMPT))
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(s.get(THEME))))
        size = s.get(FONT_SIZE)
        self.font_spin.setValue(size if size > 0 else self.font_spin.minimum())
        if not (keep_typed and self.proxy_edit.hasFocus()):
            self.proxy_edit.setText(s.get(PROXY_URL))
        self.title_check.setChecked(s.get(AUTO_TITLE))
        self.rounds_spin.setValue(s.get(MAX_TOOL_ROUNDS))
        for widget in (self.prompt_edit, self.theme_box, self.font_spin, self.title_check, self.rounds_spin):
            widget.blockSignals(False)

    def _theme_chosen(self, index: int) -> None:
        self._settings.set(THEME, str(self.theme_box.itemData(index)))

    def _font_chosen(self, value: int) -> None:
        self._settings.set(FONT_SIZE, 0 if value < FONT_SIZE_RANGE[0] else value)

    # ---- saving ----------------------------------------------------------------------------------

    def save_prompt(self) -> None:
        """Save the default system prompt now."""
        self._prompt_timer.stop()
        self._settings.set(SYSTEM_PROMPT, self.prompt_edit.toPlainText().strip())

    def save_proxy(self) -> bool:
        """Check and save the proxy address (blank: the system's settings); False if it is not valid."""
        value = proxy_value(self.proxy_edit.text())
        if value is None:
            self.proxy_error.show_status(
                "A proxy looks like http://host:port (or https://, socks5://).", "error"
            )
            return False
        self.proxy_error.show_status("")
        self._settings.set(PROXY_URL, value)
        return True

    def flush(self) -> None:
        """Save what is still waiting (the system prompt)."""
        if self._prompt_timer.isActive():
            self.save_prompt()
