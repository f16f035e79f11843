"""The message box: Enter sends, Shift+Enter adds a line, Esc stops, Up (when empty) edits the last one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class Composer(QPlainTextEdit):
    """A plain-text editor that turns keys into chat actions."""

    submitted = Signal()
    stop_requested = Signal()
    edit_last_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter sends; Shift+Enter (or Ctrl+Enter on some keyboards' IME) inserts a newline."""
        key = event.key()
        mods = event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods & Qt.KeyboardModifier.ShiftModifier:
            event.accept()
            self.submitted.emit()
            return
        if key == Qt.Key.Key_Escape:
            event.accept()
            self.stop_requested.emit()
            return
        if key == Qt.Key.Key_Up and not mods and not self.toPlainText():
            event.accept()
            self.edit_last_requested.emit()
            return
        super().keyPressEvent(event)
