"""Garbage collection happens on the GUI thread only, at the usual thresholds."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from desktop_chat.ui.common.gc_guard import GuiThreadCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_collection_runs_on_the_gui_thread_not_in_workers(qtbot) -> None:
    collected_in: list[str] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    was_enabled = gc.isenabled()
    collector = GuiThreadCollector(interval_ms=10)
    gc.callbacks.append(record)
    try:
        assert not gc.isenabled()

        def churn() -> None:  # a worker allocating plenty of cyclic garbage never collects it
            for _ in range(200_000):
                _Cycle()

        worker = threading.Thread(target=churn, name="worker")
        worker.start()
        worker.join()
        assert "worker" not in collected_in
        assert gc.get_count()[0] > gc.get_threshold()[0]
        qtbot.waitUntil(lambda: gc.get_count()[0] <= gc.get_threshold()[0], timeout=2000)
        assert collected_in
        assert set(collected_in) == {threading.main_thread().name}
    finally:
        gc.callbacks.remove(record)
        collector.stop()
    assert gc.isenabled() == was_enabled


def test_a_qt_object_in_a_cycle_is_deleted_on_the_gui_thread(qtbot) -> None:
    deleted_in: list[str] = []
    collector = GuiThreadCollector(interval_ms=10)
    try:
        obj = QObject()
        obj.me = obj  # type: ignore[attr-defined]
        obj.destroyed.connect(lambda: deleted_in.append(threading.current_thread().name))
        del obj
        threading.Thread(target=lambda: [_Cycle() for _ in range(100_000)]).start()
        qtbot.waitUntil(lambda: bool(deleted_in), timeout=3000)
        assert deleted_in == [threading.main_thread().name]
    finally:
        collector.stop()
