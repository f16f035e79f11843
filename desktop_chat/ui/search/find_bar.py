"""Find in the open conversation (Ctrl+F): the messages of its branch that contain the text, one by one.

The newest match comes first; Enter goes to the next one up the conversation, Shift+Enter back down, Esc
closes the bar. The match is scrolled
to, selected and tinted in the transcript.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from desktop_chat.domain import Message


def matching_ids(messages: list[Message], text: str) -> list[int]:
    """Ids of the messages whose text contains `text` (ignoring case), in order."""
    needle = text.casefold().strip()
    if not needle:
        return []
    return [m.id for m in messages if needle in m.text.casefold()]


class FindBar(QWidget):
    """The find field, the match count and previous/next."""

    go_to = Signal(int)  # message id of the current match
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.field = QLineEdit()
        self.field.setObjectName("findField")
        self.field.setAccessibleName("Find in this conversation")
        self.field.setPlaceholderText("Find in this conversation")
        self.field.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.count.setObjectName("findCount")
        self.previous_button = QPushButton("Previous")
        self.previous_button.setObjectName("findPrevious")
        self.next_button = QPushButton("Next")
        self.next_button.setObjectName("findNext")
        close = QPushButton("Close")
        close.setObjectName("findClose")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.previous_button)
        layout.addWidget(self.next_button)
        layout.addWidget(close)
        self._messages: list[Message] = []
        self._matches: list[int] = []
        self._current = -1
        self.field.textChanged.connect(self._changed)
        self.next_button.clicked.connect(lambda: self.step(1))
        self.previous_button.clicked.connect(lambda: self.step(-1))
        close.clicked.connect(self.close_bar)
        self.field.installEventFilter(self)
        self.hide()

    @property
    def matches(self) -> list[int]:
        """Message ids that match, oldest first."""
        return list(self._matches)

    def open_on(self, messages: list[Message]) -> None:
        """Show the bar over these messages (the branch) and focus the field."""
        self._messages = messages
        self.show()
        self.field.setFocus()
        self.field.selectAll()
        self._changed(self.field.text())

    def _changed(self, text: str) -> None:
        self._matches = matching_ids(self._messages, text)
        self._current = -1
        if self._matches:
            self.step(1)
        else:
            self.count.setText("No matches" if text.strip() else "")

    def step(self, direction: int) -> None:
        """Go to the next match up the conversation (1) or back down (-1), wrapping around; the first one
        shown is the newest."""
        n = len(self._matches)
        if not n:
            return
        self._current = n - 1 if self._current < 0 else (self._current - direction) % n
        self.count.setText(f"{n - self._current} of {n}")
        self.go_to.emit(self._matches[self._current])

    def close_bar(self) -> None:
        """Hide the bar."""
        self.hide()
        self.closed.emit()

    def eventFilter(self, watched: object, event: object) -> bool:
        """Enter: next; Shift+Enter: previous; Esc: close."""
        if watched is self.field and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.step(-1 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
                return True
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
        return False
