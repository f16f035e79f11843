"""The message box: Enter sends, Shift+Enter adds a line, Esc stops, Up (when empty) edits the last one.

While a message is being edited (`start_editing`), a line above the text says so; Enter sends the edit
(the window calls edit-and-resend) and Esc cancels it, bringing back the draft that was there before.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QWidget

EDITING_TEXT = "Editing your message: Enter sends it as a new branch, Esc cancels."


class Composer(QPlainTextEdit):
    """A plain-text editor that turns keys into chat actions."""

    submitted = Signal()
    stop_requested = Signal()
    edit_last_requested = Signal()
    editing_changed = Signal(bool)
    files_dropped = Signal(list)  # local file paths dropped on the box: attach them

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self._editing: int | None = None
        self._draft = ""
        self.editing_label = QLabel(EDITING_TEXT, self)
        self.editing_label.setObjectName("composerEditingLabel")
        self.editing_label.setIndent(4)
        self.editing_label.hide()

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        """Local files are attached (not pasted as text)."""
        return _local_files(source) is not None or super().canInsertFromMimeData(source)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_files(event.mimeData()):
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        files = _local_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.files_dropped.emit(files)
            return
        super().dropEvent(event)

    def insertFromMimeData(self, source: QMimeData) -> None:
        files = _local_files(source)
        if files:
            self.files_dropped.emit(files)
            return
        super().insertFromMimeData(source)

    @property
    def editing(self) -> int | None:
        """The id of the message being edited, if any."""
        return self._editing

    def start_editing(self, message_id: int, text: str) -> None:
        """Put a sent message's text here to edit it (the current draft comes back on cancel)."""
        if self._editing is None:
            self._draft = self.toPlainText()
        self._editing = message_id
        self.setPlainText(text)
        self.moveCursor(self.textCursor().MoveOperation.End)
        self._show_label(True)
        self.setFocus()
        self.editing_changed.emit(True)

    def cancel_editing(self) -> None:
        """Stop editing and bring the earlier draft back."""
        if self._editing is None:
            return
        self._editing = None
        self.setPlainText(self._draft)
        self._draft = ""
        self._show_label(False)
        self.editing_changed.emit(False)

    def finish_editing(self) -> None:
        """The edit was sent: empty the box (the earlier draft comes back)."""
        if self._editing is not None:
            self.cancel_editing()

    def mention_files(self, paths: list[str]) -> None:
        """Name attached files on lines of their own at the end of the message, the cursor after them."""
        lines = "\n".join(f"[Attached file: {p}]" for p in paths)
        text = self.toPlainText().rstrip()
        self.setPlainText(f"{text}\n{lines}\n" if text else f"{lines}\n")
        self.moveCursor(self.textCursor().MoveOperation.End)
        self.setFocus()

    def _show_label(self, shown: bool) -> None:
        self.editing_label.setVisible(shown)
        self.setViewportMargins(0, self.editing_label.sizeHint().height() if shown else 0, 0, 0)
        self._place_label()

    def _place_label(self) -> None:
        frame = self.frameWidth()
        self.editing_label.setGeometry(
            frame, frame, self.width() - 2 * frame, self.editing_label.sizeHint().height()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the editing line across the top."""
        super().resizeEvent(event)
        self._place_label()

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
            if self._editing is not None:
                self.cancel_editing()
            else:
                self.stop_requested.emit()
            return
        if key == Qt.Key.Key_Up and not mods and not self.toPlainText():
            event.accept()
            self.edit_last_requested.emit()
            return
        super().keyPressEvent(event)


def _local_files(data: QMimeData) -> list[str] | None:
    """The local files in a drop or paste, if it holds only those."""
    if not data.hasUrls():
        return None
    urls = data.urls()
    if not urls or not all(u.isLocalFile() for u in urls):
        return None
    return [u.toLocalFile() for u in urls]
