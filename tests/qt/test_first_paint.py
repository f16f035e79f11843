"""Start-up work that waits for the window's first paint."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QLabel

from desktop_chat.ui.common.first_paint import AfterFirstPaint


def test_callbacks_run_in_order_after_the_first_paint_and_an_error_does_not_stop_the_rest(
    qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = QLabel("hello")
    qtbot.addWidget(window)
    calls: list[str] = []
    reported: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: reported.append(kind))

    def fails() -> None:
        calls.append("fails")
        raise ValueError("boom")

    AfterFirstPaint(window, [lambda: calls.append("first"), fails, lambda: calls.append("last")])
    qtbot.wait(50)
    assert calls == [], "nothing runs before the window is shown and painted"
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: calls == ["first", "fails", "last"], timeout=2000)
    assert reported == [ValueError], "the error goes to the error reporter"
    window.repaint()
    qtbot.wait(50)
    assert calls == ["first", "fails", "last"], "only once"
