"""Conversation settings: this conversation's system prompt, temperature, answer length and tools.

Blank fields mean "the default": the default system prompt (Settings), and the provider's own
temperature and token limit (the parameter is then left out of the request). Tools: all of them, none,
or the ones chosen from the tool registry (an MCP server's tools are listed once the servers were asked,
with "Load tools from MCP servers" or by an earlier answer).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.services.conversations import ConversationService, tools_choice
from desktop_chat.settings import SYSTEM_PROMPT, Settings
from desktop_chat.ui.common.forms import named
from desktop_chat.ui.common.widget_tasks import Jobs
from desktop_chat.ui.common.widgets import StatusLabel

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


class ToolCatalog(Protocol):
    """The tools a conversation can choose from (the app's tool registry)."""

    def names(self, *, include_disabled: bool = False) -> list[str]:
        """Tool names, sorted."""
        ...

    async def refresh(self) -> None:
        """Ask the MCP servers for their tools now."""
        ...


ALL_TOOLS, NO_TOOLS, CHOSEN_TOOLS = "all", "none", "chosen"


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value) if value is not None else ""


class ConversationSettingsDialog(QDialog):
    """Edit one conversation's system prompt, request parameters and tools; saved with OK.

    Without `tools` (the registry) the tool list holds only the names chosen before.
    """

    def __init__(
        self,
        conversations: ConversationService,
        settings: Settings,
        conversation_id: int,
        parent: QWidget | None = None,
        *,
        tools: ToolCatalog | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("conversationSettings")
        self.setAccessibleName("Conversation settings")
        self._conversations = conversations
        self._id = conversation_id
        conversation = conversations.get(conversation_id)
        title = conversation.title or "New conversation"
        self.setWindowTitle(f"Conversation settings: {title}")
        self.resize(540, 600)
        self._catalog = tools
        self._jobs = Jobs(self)

        default_prompt = settings.get(SYSTEM_PROMPT)
        self.default_check = named(
            QCheckBox("Use the default system prompt"), "useDefaultPrompt", "Use the default system prompt"
        )
        self.prompt_edit = named(QPlainTextEdit(), "systemPrompt", "System prompt of this conversation")
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

        self.temperature_edit = named(
            QLineEdit(_number(conversation.params.get("temperature"))), "temperature", "Temperature"
        )
        self.temperature_edit.setPlaceholderText("Provider default")
        self.max_tokens_edit = named(
            QLineEdit(_number(conversation.params.get("max_tokens"))), "maxTokens", "Max tokens"
        )
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
        tools_box = self._build_tools(tools_choice(conversation.params))
        form = QFormLayout()
        form.addRow("", self.default_check)
        form.addRow("System prompt", self.prompt_edit)
        form.addRow("Temperature", self.temperature_edit)
        form.addRow("Max tokens", self.max_tokens_edit)
        form.addRow("", hint)
        form.addRow("Tools", tools_box)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _build_tools(self, chosen: list[str] | None) -> QVBoxLayout:
        self._saved_tools: list[str] | None = None if chosen is None else sorted(chosen)
        self.tools_all = QRadioButton("All tools")
        self.tools_none = QRadioButton("No tools")
        self.tools_chosen = QRadioButton("Chosen tools")
        self.tools_group = QButtonGroup(self)
        row = QHBoxLayout()
        for button, name, value in (
            (self.tools_all, "toolsAll", ALL_TOOLS),
            (self.tools_none, "toolsNone", NO_TOOLS),
            (self.tools_chosen, "toolsChosen", CHOSEN_TOOLS),
        ):
            button.setObjectName(name)
            button.setProperty("choice", value)
            self.tools_group.addButton(button)
            row.addWidget(button)
        row.addStretch(1)
        self.tools_list = named(QListWidget(), "conversationTools", "Tools this conversation offers")
        self.tools_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.tools_list.setFixedHeight(self.fontMetrics().lineSpacing() * 6 + 16)
        self.load_tools_button = QPushButton("Load tools from MCP servers")
        self.load_tools_button.setObjectName("loadMcpToolsButton")
        self.load_tools_button.setAutoDefault(False)
        self.load_tools_button.clicked.connect(self.load_tools)
        self.load_tools_button.setVisible(self._catalog is not None)
        self.tools_status = StatusLabel()
        self.tools_status.setObjectName("loadToolsStatus")
        load_row = QHBoxLayout()
        load_row.addWidget(self.load_tools_button, 0, Qt.AlignmentFlag.AlignTop)
        load_row.addWidget(self.tools_status, 1)
        load_row.addStretch(0)  # the button keeps its size while no status shows
        box = QVBoxLayout()
        box.setSpacing(4)
        box.addLayout(row)
        box.addWidget(self.tools_list)
        box.addLayout(load_row)
        self._fill_tools(set(chosen or ()))
        if chosen is None:
            self.tools_all.setChecked(True)
        elif chosen:
            self.tools_chosen.setChecked(True)
        else:
            self.tools_none.setChecked(True)
        self.tools_list.setEnabled(self.tools_chosen.isChecked())
        self.tools_chosen.toggled.connect(self.tools_list.setEnabled)
        return box

    def _fill_tools(self, checked: set[str]) -> None:
        names = set(self._catalog.names() if self._catalog is not None else ()) | checked
        self.tools_list.clear()
        for name in sorted(names):
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
            self.tools_list.addItem(item)

    def checked_tools(self) -> list[str]:
        """The names checked in the tool list."""
        items = (self.tools_list.item(row) for row in range(self.tools_list.count()))
        return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]

    def tools_value(self) -> str | list[str]:
        """What Save stores: "all", "none", or the chosen names."""
        if self.tools_all.isChecked():
            return ALL_TOOLS
        if self.tools_none.isChecked():
            return NO_TOOLS
        return self.checked_tools()

    def load_tools(self) -> None:
        """Ask the MCP servers for their tools (in the background) and list them."""
        catalog = self._catalog
        if catalog is None:
            return
        self.load_tools_button.setEnabled(False)
        self.tools_status.show_status("Asking the MCP servers for their tools…")
        self._jobs.start(catalog.refresh, self._tools_loaded, self._tools_failed, key="load")

    def _tools_loaded(self, _result: object) -> None:
        self.load_tools_button.setEnabled(True)
        self._fill_tools(set(self.checked_tools()))
        n = self.tools_list.count()
        self.tools_status.show_status(f"✔ {n} tool{'s' if n != 1 else ''} listed.", "ok")

    def _tools_failed(self, exc: BaseException) -> None:
        self.load_tools_button.setEnabled(True)
        self.tools_status.show_status(f"✖ The tools could not be listed: {exc}", "error")

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
        tools = self.tools_value()
        if isinstance(tools, list) and not tools:
            tools = NO_TOOLS
        saved = self._saved_tools
        before = ALL_TOOLS if saved is None else saved or NO_TOOLS
        if tools != before:
            self._conversations.set_tools(self._id, tools)
        super().accept()
