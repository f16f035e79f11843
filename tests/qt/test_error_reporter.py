"""Unexpected exceptions are logged and shown in one dialog at a time, with known secrets blanked out."""

from __future__ import annotations

import asyncio
import logging

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_chat.crash import ErrorReporter
from desktop_chat.secrets import REDACTED, Redactor

SECRET = "sk-test-0123456789abcdef"


def _boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


@pytest.fixture
def reporter(qapp) -> ErrorReporter:
    redactor = Redactor()
    redactor.add(SECRET)
    return ErrorReporter(redactor)


def _raise(reporter: ErrorReporter) -> None:
    try:
        raise RuntimeError(f"request failed with key {SECRET}")
    except RuntimeError as exc:
        reporter.excepthook(type(exc), exc, exc.__traceback__)


def test_exception_is_logged_and_shown_without_the_secret(
    qtbot, reporter: ErrorReporter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="desktop_chat"):
        _raise(reporter)
    assert "Unexpected error" in caplog.text
    qtbot.waitUntil(lambda: len(_boxes()) == 1)
    (box,) = _boxes()
    assert "RuntimeError" in box.text()
    assert REDACTED in box.text()
    assert SECRET not in box.text()
    assert SECRET not in box.detailedText()
    assert "Traceback" in box.detailedText()

    _raise(reporter)  # a second error while the first dialog is open does not stack dialogs
    assert len(_boxes()) == 1
    box.accept()
    qtbot.waitUntil(lambda: not _boxes())
    _raise(reporter)  # once closed, the next error is shown again
    qtbot.waitUntil(lambda: len(_boxes()) == 1)
    _boxes()[0].accept()


def test_asyncio_errors_reach_the_reporter(qtbot, reporter: ErrorReporter) -> None:
    loop = asyncio.new_event_loop()
    try:
        reporter.asyncio_handler(loop, {"message": "task failed", "exception": ValueError("bad value")})
    finally:
        loop.close()
    qtbot.waitUntil(lambda: len(_boxes()) == 1)
    (box,) = _boxes()
    assert "ValueError: bad value" in box.text()
    box.accept()


def test_keyboard_interrupt_is_not_an_error(qtbot, reporter: ErrorReporter) -> None:
    reporter.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    qtbot.wait(50)
    assert _boxes() == []
