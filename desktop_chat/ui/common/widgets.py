"""Small widgets shared by the settings dialogs and the welcome: status lines and questions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from desktop_chat.ui.common.theme import is_dark

_COLOURS = {  # kind -> (on a light palette, on a dark one)
    "ok": ("#1a7f37", "#7ee2a8"),
    "error": ("#c62828", "#ff8a80"),
    "warning": ("#8a5a00", "#e3b341"),
}


def status_colour(kind: str) -> QColor | None:
    """The text colour of a status kind ("ok", "error", "warning") on the current palette; None: normal."""
    pair = _COLOURS.get(kind)
    return QColor(pair[1] if is_dark() else pair[0]) if pair else None


class StatusLabel(QLabel):
    """A one-line (wrapping) result such as "Connected: 3 models", coloured by kind, following the theme."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = "info"
        self._recolouring = False
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()  # until there is something to say

    def show_status(self, text: str, kind: str = "info") -> None:
        """Show `text` ("" hides the label) as `kind`: "info", "ok", "warning" or "error"."""
        self._kind = kind
        self.setText(text)
        self._recolour()
        self.setVisible(bool(text))

    def kind(self) -> str:
        """The kind of the status shown."""
        return self._kind

    def changeEvent(self, event: QEvent) -> None:
        """Recolour when the theme changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
            self._recolour()

    def _recolour(self) -> None:
        if self._recolouring:
            return
        colour = status_colour(self._kind)
        sheet = f"color: {colour.name()};" if colour is not None else ""
        if sheet != self.styleSheet():
            self._recolouring = True
            try:
                self.setStyleSheet(sheet)
            finally:
                self._recolouring = False


def unsaved_changes_box(parent: QWidget, name: str, object_name: str) -> QMessageBox:
    """ "Save the changes to NAME?" with Save, Discard and Cancel."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unsaved changes",
        f"Save the changes to {name}?",
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName(object_name)
    return box


def confirm(
    owner: QWidget,
    title: str,
    text: str,
    detail: str,
    action: str,
    *,
    names: tuple[str, str],
    then: Callable[[], None],
    cancel_is_default: bool = True,
) -> None:
    """Ask (not modal, as `owner.question`) a warning with Cancel and a destructive `action` button, and
    run `then` once `action` is chosen; `names` are the box's and the button's object names."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, owner)
    box.setObjectName(names[0])
    box.setInformativeText(detail)
    button = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    button.setObjectName(names[1])
    if cancel_is_default:
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

    def answered(_result: int) -> None:
        if box.clickedButton() is button:
            then()

    open_question(owner, box, answered)


def open_question(owner: Any, box: QMessageBox, answered: Callable[[int], None]) -> None:
    """Show `box` (not modal) as `owner.question`, rejecting one still open; `answered(result)` after."""
    if owner.question is not None:
        owner.question.reject()
    owner.question = box

    def finished(result: int) -> None:
        owner.question = None
        box.deleteLater()
        answered(result)

    box.finished.connect(finished)
    box.open()
