"""Helpers for the settings and welcome tests: typing over a field, answering message boxes, and looking
for a key in every file a test's app could have written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QPlainTextEdit, QWidget


def files_containing(root: Path, secret: str) -> list[Path]:
    """Every file under `root` whose bytes hold `secret` (UTF-8 or UTF-16)."""
    needles = (secret.encode(), secret.encode("utf-16-le"))
    return [
        path for path in root.rglob("*") if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]


def retype(qtbot: Any, field: QLineEdit | QPlainTextEdit, text: str) -> None:
    """Replace what `field` holds by typing `text`, as a person does: select all, delete, type."""
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def message_box(parent: QWidget, name: str) -> QMessageBox:
    """The visible message box called `name` under `parent`."""
    shown = [box for box in parent.findChildren(QMessageBox, name) if box.isVisible()]
    assert len(shown) == 1, f"{len(shown)} {name} shown"
    return shown[0]


def click_box_button(box: QMessageBox, button: QMessageBox.StandardButton | str) -> None:
    """Press a standard button, or the custom button with that object name."""
    if isinstance(button, str):
        found = box.findChild(QWidget, button)
        assert found is not None, button
        found.click()  # type: ignore[attr-defined]
    else:
        std = box.button(button)
        assert std is not None
        std.click()
    QApplication.processEvents()
