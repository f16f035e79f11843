"""Small helpers that build the fields of forms: names for tests and screen readers, hints, stacks of a
field and the lines about it, a field with buttons beside it, key fields, bold titles, notes, multi-line
edits and lists of a given height."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str, accessible: str) -> W:
    """`widget` with an object name (for tests and style) and an accessible name (for screen readers)."""
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


def hint(text: str) -> QLabel:
    """A wrapping line in the placeholder colour that explains the field above it."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def stacked(*widgets: QWidget) -> QVBoxLayout:
    """Widgets one above the other, close together (a field and the lines about it)."""
    box = QVBoxLayout()
    box.setSpacing(3)
    for widget in widgets:
        box.addWidget(widget)
    return box


def beside(field: QWidget, *others: QWidget) -> QHBoxLayout:
    """A row: `field` takes the room, `others` follow it at their own size."""
    row = QHBoxLayout()
    row.addWidget(field, 1)
    for widget in others:
        row.addWidget(widget)
    return row


def secret_edit(name: str, accessible: str) -> QLineEdit:
    """A field for a key or a token: what is typed is hidden, and a button clears it."""
    edit = named(QLineEdit(), name, accessible)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setClearButtonEnabled(True)
    return edit


def bold(label: QLabel, scale: float = 1.0) -> QLabel:
    """`label` in bold, its text `scale` times the size (left to follow the app's size at 1.0)."""
    font = label.font()
    font.setBold(True)
    if scale != 1.0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def plain_edit(name: str, accessible: str, placeholder: str, lines: int) -> QPlainTextEdit:
    """A named multi-line field `lines` lines high, where Tab moves on to the next field."""
    edit = named(QPlainTextEdit(), name, accessible)
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 14)
    return edit


def note(text: str, name: str) -> QLabel:
    """A wrapping rich-text note at the top left, such as what an empty list means."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def fit_rows(widget: QListWidget, rows: int) -> None:
    """Make a list exactly `rows` rows high."""
    row = widget.sizeHintForRow(0)
    if row <= 0:
        row = widget.fontMetrics().height() + 4
    widget.setFixedHeight(row * rows + 2 * widget.frameWidth() + 2)
