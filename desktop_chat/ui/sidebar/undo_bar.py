"""The sidebar's undo bar ("Deleted “X”. Undo") and the label that elides its title to fit."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

from desktop_chat.ui.sidebar.roles import UNTITLED


class ElidedLabel(QLabel):
    """A one-line label that elides the middle part of its text to fit, never widening the sidebar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parts = ("", "", "")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def set_parts(self, before: str, middle: str, after: str) -> None:
        """Show `before + middle + after`, eliding the end of `middle` when the label is too narrow."""
        self._parts = (before, middle, after)
        self._elide()

    def full_text(self) -> str:
        """The whole text (also the accessible name)."""
        return "".join(self._parts)

    def _elide(self) -> None:
        before, middle, after = self._parts
        metrics = self.fontMetrics()
        room = self.width() - metrics.horizontalAdvance(before + after)
        super().setText(
            before + metrics.elidedText(middle, Qt.TextElideMode.ElideRight, max(room, 0)) + after
        )
        self.setAccessibleName(self.full_text())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-elide to the new width."""
        super().resizeEvent(event)
        self._elide()


class UndoBar(QFrame):
    """The bar that says "Deleted “X”. Undo" while a deletion can still be undone."""

    undo_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        self.setAccessibleName("Deleted conversation")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.setSpacing(6)
        self.label = ElidedLabel()
        self.label.setObjectName("undoLabel")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("undoButton")
        self.undo_button.setAccessibleName("Undo delete")
        self.undo_button.setToolTip("Restore the conversation (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo_clicked)
        close = QToolButton()
        close.setObjectName("undoDismiss")
        close.setText("✕")
        close.setAccessibleName("Dismiss")
        close.setToolTip("Dismiss (the conversation stays deleted)")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        layout.addWidget(close)
        self.hide()

    def show_deleted(self, title: str) -> None:
        """Offer to undo the deletion of `title`."""
        self.label.set_parts("Deleted “", title or UNTITLED, "”.")
        self.label.setToolTip(title or UNTITLED)
        self.show()
