"""The base of the main window's parts that act on the open conversation without being widgets of their
own (attaching files, history jobs, search)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget


class WindowPart(QObject):
    """A part of `window` (which owns it and parents its dialogs); `current` tells the open conversation.

    What the person should hear about comes out of `note`: the window shows it in the status bar.
    """

    note = Signal(str)

    def __init__(self, window: QWidget, *, current: Callable[[], int | None]) -> None:
        super().__init__(window)
        self._window = window
        self._current = current
