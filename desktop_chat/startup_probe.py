"""bench/startup.py's probe: with DESKTOP_CHAT_STARTUP_PROBE set, report the first paint, then quit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

STARTUP_PROBE = "DESKTOP_CHAT_STARTUP_PROBE"  # the environment variable that asks for the probe


def _rss_kib() -> int:
    """Resident memory of this process (Linux), 0 where /proc is not there."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    return next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:")), 0)


def probe_first_paint(window: QWidget) -> None:
    """On the window's first paint print `first-paint <monotonic> openai=<0|1> rss_kib=<n>` to stderr
    and close the window (for bench/startup.py)."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    class _Probe(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not getattr(self, "done", False):
                self.done = True
                painted = time.monotonic()
                openai = int("openai" in sys.modules)
                rss = _rss_kib()
                print(f"first-paint {painted:.6f} openai={openai} rss_kib={rss}", file=sys.stderr, flush=True)
                QTimer.singleShot(0, window.close)
            return False

    probe = _Probe(window)
    window.installEventFilter(probe)
