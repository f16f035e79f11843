"""Coroutines started by widgets: they run on the asyncio loop that qasync drives on Qt's event loop, so
the UI never waits for them.

A job starts on the next turn of the event loop in which asyncio runs (in the app that is every turn; in
tests, inside `run(aloop, ...)`), so a slot can start one whether or not it is itself called from the
loop. Its result is handed to a callback only while the owner widget still exists; jobs are cancelled
when the owner goes away. A job started under a `key` replaces the one still running under that key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)
T = TypeVar("T")
_RETRY_MS = 20  # while no asyncio loop runs (only in tests), look again this often


class Jobs(QObject):
    """The async jobs of one widget."""

    def __init__(self, owner: QObject) -> None:
        super().__init__(owner)
        tasks: dict[int, asyncio.Task[None]] = {}
        self._tasks = tasks
        self._keyed: dict[str, int] = {}
        self._waiting: list[tuple[str | None, Callable[[], asyncio.Task[None] | None]]] = []
        self._ids = 0
        self._timer = QTimer(self)
        self._timer.setInterval(_RETRY_MS)
        self._timer.timeout.connect(self._launch_waiting)
        # A child timer, not QTimer.singleShot(0, self, ...): PySide's functor-based single shots were
        # the suspects of crashes when their context object went away.
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self._launch_waiting)
        # `tasks`, not `self`: the wrapper is gone by the time `destroyed` is delivered
        self.destroyed.connect(lambda *_: _cancel_all(tasks))

    def start(
        self,
        factory: Callable[[], Awaitable[T]],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None] | None = None,
        *,
        key: str | None = None,
    ) -> None:
        """Run `factory()` soon; then `done(result)`, or `failed(exc)` (else the error is logged)."""
        if key is not None:
            self.cancel(key)
            self._waiting = [w for w in self._waiting if w[0] != key]

        def launch() -> asyncio.Task[None] | None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return None
            self._ids += 1
            job_id = self._ids
            task = loop.create_task(self._run(factory, done, failed))
            self._tasks[job_id] = task
            if key is not None:
                self._keyed[key] = job_id
            task.add_done_callback(lambda _t: self._forget(job_id, key))
            return task

        self._waiting.append((key, launch))
        self._soon.start()

    def _launch_waiting(self) -> None:
        if not shiboken6.isValid(self):
            return
        waiting, self._waiting = self._waiting, []
        for item in waiting:
            if item[1]() is None:
                self._waiting.append(item)
        if self._waiting and not self._timer.isActive():
            self._timer.start()
        elif not self._waiting:
            self._timer.stop()

    def _forget(self, job_id: int, key: str | None) -> None:
        self._tasks.pop(job_id, None)
        if key is not None and self._keyed.get(key) == job_id:
            del self._keyed[key]

    async def _run(
        self,
        factory: Callable[[], Awaitable[T]],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None] | None,
    ) -> None:
        try:
            result = await factory()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if failed is not None and shiboken6.isValid(self):
                failed(exc)
            else:
                log.exception("A background job failed")
            return
        if shiboken6.isValid(self):
            done(result)

    def running(self, key: str) -> bool:
        """True while a job started under `key` waits or runs."""
        return key in self._keyed or any(w[0] == key for w in self._waiting)

    def cancel(self, key: str | None = None) -> None:
        """Cancel the job under `key` (every job when None)."""
        if key is None:
            self._waiting.clear()
            for task in list(self._tasks.values()):
                task.cancel()
            return
        job_id = self._keyed.get(key)
        if job_id is not None and job_id in self._tasks:
            self._tasks[job_id].cancel()

    def pending(self) -> int:
        """Jobs waiting or running."""
        return len(self._tasks) + len(self._waiting)


def noop(_result: Any) -> None:
    """A `done` callback for jobs whose result is announced by a signal."""


def _cancel_all(tasks: dict[int, asyncio.Task[None]]) -> None:
    """Cancel what still runs, on loops that can still run a cancellation (not after the app's loop has
    closed at quit: it cancelled its own tasks before closing)."""
    for task in list(tasks.values()):
        if not task.done() and not task.get_loop().is_closed():
            task.cancel()
