"""bench/startup.py's probe: with DESKTOP_CHAT_STARTUP_PROBE set, report the first paint, then quit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

STARTUP_PROBE = "DESKTOP_CHAT_STARTUP_PROBE"  # the environment variable that asks for the probe


def rss_kib() -> int:
    """Resident memory of this process (Linux), 0 where /proc is not there."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    return next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:")), 0)


def _report(what: str) -> None:
    import time

    painted = time.monotonic()
    openai = int("openai" in sys.modules)
    print(f"{what} {painted:.6f} openai={openai} rss_kib={rss_kib()}", file=sys.stderr, flush=True)


def _on_next_paint(window: QWidget, then: Callable[[], object]) -> None:
    from PySide6.QtCore import QEvent, QObject

    class _Probe(QObject):
        done = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not self.done:
                self.done = True
                then()
            return False

    window.installEventFilter(_Probe(window))


def probe_first_paint(window: QWidget) -> None:
    """On the window's first paint (its frame) print `first-paint <monotonic> openai=<0|1> rss_kib=<n>`
    to stderr (for bench/startup.py)."""
    _on_next_paint(window, lambda: _report("first-paint"))


def probe_content_paint(window: QWidget) -> None:
    """On the window's next paint (with its content) print `content-paint <monotonic> ...` to stderr
    and close the window."""
    from PySide6.QtCore import QTimer

    def report() -> None:
        _report("content-paint")
        QTimer.singleShot(0, window.close)

    _on_next_paint(window, report)
