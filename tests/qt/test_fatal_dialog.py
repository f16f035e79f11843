"""The fatal start-up dialog really shows the store's message, and always closes: by the person, by
SIGTERM/SIGINT, after --quit-after, or at once on headless platforms."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_chat.crash import show_fatal
from desktop_chat.storage import NewerSchemaError

TITLE = "Desktop Chat cannot open your history"
GUARD_MS = 10_000  # closes any dialog left open, so a broken test fails instead of hanging


def _fatal_boxes() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "fatalErrorDialog" and w.isVisible()
    ]


class DialogProbe:
    """Looks for the visible fatal dialog while `show_fatal` blocks, records it, then acts on it."""

    def __init__(self, act: Callable[[QMessageBox], None] | None, delay_ms: int = 100) -> None:
        self.seen: dict[str, Any] = {}
        self.guard_fired = False
        self._act = act
        self.timers: list[QTimer] = []
        if act is not None:
            self._start(delay_ms, self._probe)
        self._start(GUARD_MS, self._guard)

    def _start(self, ms: int, slot: Callable[[], None]) -> None:
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(slot)
        timer.start(ms)
        self.timers.append(timer)

    def stop(self) -> None:
        """No timer of this probe outlives its test."""
        for timer in self.timers:
            timer.stop()

    def _probe(self) -> None:
        boxes = _fatal_boxes()
        modal = QApplication.activeModalWidget()
        self.seen = {
            "count": len(boxes),
            "modal_is_it": bool(boxes) and modal is boxes[0],
            "text": boxes[0].text() if boxes else None,
            "title": boxes[0].windowTitle() if boxes else None,
            "icon": boxes[0].icon() if boxes else None,
        }
        if boxes and self._act is not None:
            self._act(boxes[0])

    def _guard(self) -> None:
        for box in _fatal_boxes():
            self.guard_fired = True
            box.reject()


@pytest.fixture
def make_probe() -> Iterator[Callable[..., DialogProbe]]:
    probes: list[DialogProbe] = []

    def make(act: Callable[[QMessageBox], None] | None, delay_ms: int = 100) -> DialogProbe:
        probes.append(DialogProbe(act, delay_ms))
        return probes[-1]

    yield make
    for probe in probes:
        probe.stop()


def test_dialog_shows_the_refusal_with_both_versions(
    qapp: QApplication, make_probe: Callable[..., DialogProbe]
) -> None:
    exc = NewerSchemaError(Path("/home/me/.local/share/desktop_chat/desktop_chat.sqlite3"), 7, 2)
    probe = make_probe(lambda box: box.accept())
    show_fatal(qapp, TITLE, str(exc), auto_close=False)
    assert not probe.guard_fired
    assert probe.seen["count"] == 1, "the dialog was visible while show_fatal blocked"
    assert probe.seen["modal_is_it"]
    assert probe.seen["title"] == TITLE
    assert probe.seen["icon"] == QMessageBox.Icon.Critical
    text = probe.seen["text"]
    assert "schema version 7" in text
    assert "up to 2" in text
    assert "desktop_chat.sqlite3" in text
    assert _fatal_boxes() == []


def test_headless_platform_closes_it_by_itself(
    qapp: QApplication, make_probe: Callable[..., DialogProbe]
) -> None:
    assert qapp.platformName() == "offscreen"
    probe = make_probe(None)
    started = time.monotonic()
    show_fatal(qapp, TITLE, "text")
    assert time.monotonic() - started < 5
    assert not probe.guard_fired


def test_timeout_closes_it(qapp: QApplication, make_probe: Callable[..., DialogProbe]) -> None:
    probe = make_probe(lambda _box: None, delay_ms=50)  # only looks
    started = time.monotonic()
    show_fatal(qapp, TITLE, "text", auto_close=False, timeout=0.4)
    elapsed = time.monotonic() - started
    assert probe.seen["count"] == 1, "it was showing before the timeout"
    assert not probe.guard_fired
    assert 0.35 <= elapsed < 5


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_termination_signal_closes_it_and_handlers_are_restored(
    qapp: QApplication, make_probe: Callable[..., DialogProbe], signum: int
) -> None:
    previous = signal.getsignal(signum)
    probe = make_probe(lambda _box: os.kill(os.getpid(), signum))
    show_fatal(qapp, TITLE, "text", auto_close=False)
    assert probe.seen["count"] == 1
    assert not probe.guard_fired, "the signal closed it, not the guard"
    assert signal.getsignal(signum) is previous
