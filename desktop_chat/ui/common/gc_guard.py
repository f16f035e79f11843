"""Cyclic garbage collection on the GUI thread only.

Python's collector runs in whichever thread happens to allocate when a threshold is crossed: a worker
thread (asyncio's executor resolving a host name, the warm-up import) may then delete a Qt object caught
in a reference cycle, off the GUI thread, in the middle of Qt's timer processing: a crash (seen in tests
as a segfault in QTimerInfoList::activateTimers). So automatic collection is turned off and this timer
collects on the GUI thread with the usual generation thresholds. About once a minute, after a collection
that freed something, the memory freed is handed back to the system (`memory_trim`).
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

from desktop_chat.memory_trim import trim

log = logging.getLogger(__name__)

INTERVAL_MS = 100
TRIM_EVERY = 600  # checks (a minute) at least between two trims


class GuiThreadCollector(QObject):
    """Turns automatic GC off and collects from a GUI-thread timer instead."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()
        self._checks = 0
        self._freed = 0  # objects collected since the last trim

    def check(self) -> int:
        """Collect the oldest generation whose threshold is crossed; returns objects collected."""
        self._checks += 1
        if self._checks >= TRIM_EVERY and self._freed:
            self._checks = self._freed = 0
            trim()
        t0, t1, t2 = self._threshold
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return 0
        generation = 2 if c1 > t1 and c2 > t2 else 1 if c1 > t1 else 0
        collected = gc.collect(generation)
        self._freed += collected
        return collected

    def stop(self) -> None:
        """Back to automatic collection (after a last collection here)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
