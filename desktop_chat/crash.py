"""Logging and crash handling: the log, crash.log, the error dialog, Qt's messages, signals, fatal errors.

Qt is imported inside the functions that need it: the log and crash.log are set up before any Qt.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import logging.handlers
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import IO, TYPE_CHECKING

from desktop_chat.paths import AppPaths
from desktop_chat.secrets import Redactor

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("desktop_chat")

_HEADLESS_PLATFORMS = {"offscreen", "minimal"}


def setup_logging(paths: AppPaths, *, debug: bool, redactor: Redactor) -> None:
    """A rotating log file and stderr, both passing through the secret redactor."""
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    file_handler.addFilter(redactor)
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setFormatter(fmt)
    stderr_handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    stderr_handler.addFilter(redactor)
    stderr_handler.addFilter(lambda record: not getattr(record, "printed", False))  # said on stderr already
    root = logging.getLogger()
    root.handlers[:] = [file_handler, stderr_handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.captureWarnings(True)
    # peewee logs every statement with its parameters (chat text) at DEBUG: keep that out of logs.
    for noisy in ("peewee", "markdown_it", "httpcore", "hpack", "PIL"):  # per-token or per-byte chatter
        logging.getLogger(noisy).setLevel(logging.INFO)


def enable_faulthandler(paths: AppPaths) -> IO[str] | None:
    """Hard crashes (segfaults, aborts) write their Python stacks to crash.log; report a previous one."""
    try:
        if paths.crash_file.exists() and paths.crash_file.stat().st_size:
            previous = paths.crash_file.read_text(encoding="utf-8", errors="replace")
            log.error("desktop_chat crashed last time:\n%s", previous[-8000:])
            paths.crash_file.replace(paths.crash_file.with_suffix(".log.1"))
        fh = paths.crash_file.open("w", encoding="utf-8")
    except OSError as exc:
        log.warning("Crash log unavailable (%s); hard crashes go to stderr only", exc)
        faulthandler.enable()
        return None
    faulthandler.enable(fh)
    return fh


class ErrorReporter:
    """Logs unexpected exceptions and shows one dialog at a time; the app keeps running."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._box: QMessageBox | None = None

    def install(self) -> None:
        """Route sys, thread and asyncio exceptions here."""
        sys.excepthook = self.excepthook
        threading.excepthook = lambda a: self.excepthook(
            a.exc_type, a.exc_value or Exception(), a.exc_traceback
        )

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        """Log the traceback, then tell the person."""
        if issubclass(exc_type, KeyboardInterrupt):
            return
        log.error("Unexpected error", exc_info=(exc_type, exc, tb))
        details = self._redactor.redact("".join(traceback.format_exception(exc_type, exc, tb)))
        self._dialog(f"{exc_type.__name__}: {self._redactor.redact(str(exc))}", details)

    def asyncio_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        """asyncio's exception handler."""
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.excepthook(type(exc), exc, exc.__traceback__)
        else:
            log.error("asyncio: %s", context.get("message"))

    def _dialog(self, summary: str, details: str) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        if self._box is not None or QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Desktop Chat: unexpected error", summary)
        box.setObjectName("errorDialog")
        box.setInformativeText("The app keeps running; details are in the log. Your conversations are saved.")
        box.setDetailedText(details)
        box.finished.connect(self._dialog_closed)
        self._box = box  # held here: a parentless dialog would be collected (and vanish) at once
        box.open()

    def _dialog_closed(self, _result: int) -> None:
        if self._box is not None:
            self._box.deleteLater()
        self._box = None


def qt_message_handler(mode: object, context: object, message: str) -> None:
    """Qt's own messages into the log at their level (the repeated propagateSizeHints warning dropped)."""
    from PySide6.QtCore import QtMsgType

    if "propagateSizeHints" in message:
        return
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
    }.get(mode, logging.ERROR)  # type: ignore[call-overload]
    logging.getLogger("qt").log(level, "%s", message)


class SignalBridge:
    """Turns SIGINT/SIGTERM into a callback on the Qt thread (Python handlers can't run inside Qt's loop).

    A signal that arrives before Qt's loop runs is kept in the wakeup socket and acted on as soon as the
    loop starts, with whatever `callback` is by then. Bridges nest: `close()` restores what was before.
    """

    def __init__(self, callback: Callable[[], object]) -> None:
        from PySide6.QtCore import QSocketNotifier

        self._rsock, self._wsock = socket.socketpair()
        self._rsock.setblocking(False)
        self._wsock.setblocking(False)
        self.callback = callback
        self.received: int | None = None
        self._previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        self._previous_fd = signal.set_wakeup_fd(self._wsock.fileno())
        for sig in self._previous:
            signal.signal(sig, self._handle)
        self._notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)

    def _handle(self, signum: int, _frame: object) -> None:
        self.received = signum

    def _drain(self) -> None:
        try:
            while self._rsock.recv(64):
                pass
        except BlockingIOError:
            pass
        if self.received is not None:
            log.info("Received signal %d; quitting", self.received)
            self.callback()

    def close(self) -> None:
        """Restore the previous handlers and wakeup fd."""
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._rsock.close()
        self._wsock.close()


def show_fatal(
    app: QApplication, title: str, text: str, *, auto_close: bool | None = None, timeout: float | None = None
) -> None:
    """A blocking error dialog, closed by the person, by SIGTERM/SIGINT, or after `timeout` seconds.

    `auto_close` (default: on headless platforms) closes it as soon as it shows, so it never blocks.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Critical, title, text)
    box.setObjectName("fatalErrorDialog")
    if auto_close is None:
        auto_close = app.platformName() in _HEADLESS_PLATFORMS
    if auto_close:
        QTimer.singleShot(0, box.accept)
    elif timeout is not None:
        QTimer.singleShot(max(0, int(timeout * 1000)), box.reject)
    bridge = SignalBridge(box.reject)
    try:
        box.exec()
    finally:
        bridge.close()
