"""Work that waits until the window has painted once, so that start-up shows the window first."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class AfterFirstPaint(QObject):
    """Calls each of `callbacks`, in order, on the event-loop turn after `window`'s first paint."""

    def __init__(self, window: QWidget, callbacks: Sequence[Callable[[], object]]) -> None:
        super().__init__(window)
        self._callbacks = list(callbacks)
        self._painted = False
        self._timer = QTimer(self)  # a child timer: nothing outlives the window
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._painted and event.type() == QEvent.Type.Paint:
            self._painted = True
            self._timer.start()
        return False

    def _run(self) -> None:
        parent = self.parent()
        if isinstance(parent, QObject):
            parent.removeEventFilter(self)
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # reported like any other error, and the next steps still run
                sys.excepthook(*sys.exc_info())
