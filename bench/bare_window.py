"""The reference for bench/startup.py: a bare PySide6 window shaped like the app's, and nothing else.

A splitter with a list on the left and, on the right, a text view above a text box. On its first paint
it prints `first-paint <monotonic> openai=0 rss_kib=<n>` to stderr, like the app's start-up probe, and
quits. What the app does before its first paint beyond this is what start-up work costs.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_chat.startup_probe import rss_kib  # a leaf module: sys and pathlib only


class _Probe(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._done:
            self._done = True
            painted = time.monotonic()
            print(f"first-paint {painted:.6f} openai=0 rss_kib={rss_kib()}", file=sys.stderr, flush=True)
            QTimer.singleShot(0, self._window.close)
        return False


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    splitter = QSplitter()
    splitter.addWidget(QListWidget())
    right = QWidget()
    column = QVBoxLayout(right)
    column.addWidget(QTextBrowser(), 1)
    column.addWidget(QPlainTextEdit())
    splitter.addWidget(right)
    window.setCentralWidget(splitter)
    window.resize(1100, 720)
    window.installEventFilter(_Probe(window))
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
