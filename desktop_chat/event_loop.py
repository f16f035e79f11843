"""The asyncio loop on Qt's event loop: qasync's, with its unsafe step removed and its hot paths cheaper.

- **Never outside the running loop.** qasync 0.28's `run_until_complete` ends with one more
  `processEvents()` after it has cleared the running loop, and its timers fire in any Qt event
  processing: a callback due then (a task woken by a thread) ran with no running loop, so
  `asyncio.get_running_loop()`, `asyncio.to_thread` or sniffio failed inside it. Here callbacks run only
  while the loop runs; one that falls due outside waits for the next run.
- **One Qt timer for all ready callbacks.** qasync starts and kills a Qt timer per `call_soon` (about
  80 µs each, several per streamed chunk), and each runs in a turn of Qt's loop of its own. Here ready
  callbacks wait in a queue that one zero-interval timer drains, those they queue included, for at most
  `PASS_BUDGET_S` before Qt gets its turn again.
- **One Qt timer for every asyncio timer.** qasync starts a Qt timer per `call_later` and never stops
  a cancelled one: every network read's timeout (httpx sets one per read) left a 300-second Qt timer
  behind. Here timers wait in a heap, as in asyncio's own loop, under one Qt timer set for the earliest.
- **Socket notifiers kept per descriptor.** qasync makes a new `QSocketNotifier` (and a signal
  connection) each time a socket starts or stops being watched (about 0.3 ms, once per network read
  of a stream); here each descriptor keeps its notifier and it is switched on and off.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import heapq
import math
import os
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from PySide6.QtCore import QSocketNotifier, Qt, QTimer

# isort: split
os.environ.setdefault("QT_API", "pyside6")  # qasync picks the first Qt binding it finds: PySide6, imported
import qasync

T = TypeVar("T")
_READ, _WRITE = QSocketNotifier.Type.Read, QSocketNotifier.Type.Write
_Key = tuple[int, QSocketNotifier.Type]
_MIN_CANCELLED = 100  # cancelled timers kept in the heap before it is cleaned (asyncio's own rule)
PASS_BUDGET_S = 0.004  # callbacks in a row before Qt gets its turn (input, painting)
_CLOCK_RESOLUTION = 0.001  # a timer this close to due runs now (a Qt timer has millisecond precision)


def _fd(fileobj: Any) -> int:
    return fileobj if isinstance(fileobj, int) else int(fileobj.fileno())


class QtEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop on the QApplication; callbacks never run outside the running loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._ready_timer = QTimer()
        self._ready_timer.setSingleShot(True)
        self._ready_timer.setInterval(0)
        self._ready_timer.timeout.connect(self._run_ready)
        self._scheduled: list[asyncio.TimerHandle] = []  # a heap, earliest first
        self._cancelled_timers = 0
        self._timers = QTimer()
        self._timers.setSingleShot(True)
        self._timers.setTimerType(Qt.TimerType.PreciseTimer)
        self._timers.timeout.connect(self._timers_due)
        self._notifiers: dict[_Key, QSocketNotifier] = {}
        self._watchers: dict[_Key, asyncio.Handle] = {}
        super().__init__(*args, **kwargs)

    # ---- running ---------------------------------------------------------------------------------

    def run_until_complete(self, future: Awaitable[T]) -> T:
        """Run the loop until `future` is done; its result (or exception)."""
        task: asyncio.Future[Any] = asyncio.ensure_future(future, loop=self)

        def stop(_done: asyncio.Future[Any]) -> None:
            self.stop()

        task.add_done_callback(stop)
        try:
            self.run_forever()
        finally:
            task.remove_done_callback(stop)
        if not task.done():
            raise RuntimeError("Event loop stopped before Future completed.")
        result: T = task.result()
        return result

    def run_forever(self) -> Any:
        """Run until `stop()`; callbacks that fell due while it was not running run first."""
        if self._ready:
            self._ready_timer.start()
        return super().run_forever()

    def close(self) -> None:
        """Release the timers and notifiers (the loop cannot run again)."""
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        self._ready_timer.stop()
        self._ready.clear()
        self._timers.stop()
        self._scheduled.clear()
        for notifier in self._notifiers.values():
            notifier.setEnabled(False)
        self._notifiers.clear()
        self._watchers.clear()
        super().close()

    # ---- callbacks ---------------------------------------------------------------------------------

    def call_soon(
        self, callback: Callable[..., object], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        """Run `callback(*args)` on the loop's next pass."""
        self._check_closed()
        handle = asyncio.Handle(callback, args, self, context=context)
        self._ready.append(handle)
        if not self._ready_timer.isActive():
            self._ready_timer.start()
        return handle

    def call_later(
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        """Run `callback(*args)` after `delay` seconds (never outside the running loop)."""
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        """Run `callback(*args)` at loop time `when`: one heap of timers under one Qt timer."""
        self._check_closed()
        handle = asyncio.TimerHandle(when, callback, args, self, context=context)
        heapq.heappush(self._scheduled, handle)
        handle._scheduled = True  # type: ignore[attr-defined]
        if self._scheduled[0] is handle:
            self._arm_timers()
        return handle

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        """(asyncio's hook) A timer was cancelled: dropped from the heap when it comes up, or in bulk."""
        if handle._scheduled:  # type: ignore[attr-defined]
            self._cancelled_timers += 1
            if self._cancelled_timers > _MIN_CANCELLED and self._cancelled_timers * 2 > len(self._scheduled):
                self._scheduled = [h for h in self._scheduled if not h.cancelled()]
                heapq.heapify(self._scheduled)
                for h in self._scheduled:
                    h._scheduled = True  # type: ignore[attr-defined]
                self._cancelled_timers = 0

    def _arm_timers(self) -> None:
        while self._scheduled and self._scheduled[0].cancelled():
            heapq.heappop(self._scheduled)._scheduled = False  # type: ignore[attr-defined]
            self._cancelled_timers = max(0, self._cancelled_timers - 1)
        if not self._scheduled:
            self._timers.stop()
            return
        wait_ms = max(0, math.ceil((self._scheduled[0].when() - self.time()) * 1000))
        self._timers.start(wait_ms)

    def _timers_due(self) -> None:
        """The Qt timer fired: every timer now due joins the ready callbacks (run while the loop runs)."""
        end = self.time() + _CLOCK_RESOLUTION
        while self._scheduled and self._scheduled[0].when() <= end:
            handle = heapq.heappop(self._scheduled)
            handle._scheduled = False  # type: ignore[attr-defined]
            if handle.cancelled():
                self._cancelled_timers = max(0, self._cancelled_timers - 1)
                continue
            self._ready.append(handle)
        if self._ready and not self._ready_timer.isActive():
            self._ready_timer.start()
        self._arm_timers()

    def _run_ready(self) -> None:
        if not self.is_running():
            return  # run_forever re-arms the timer
        # Callbacks queued by these callbacks run in the same pass (a streamed chunk wakes four or five in
        # a row), but a pass hands Qt its turn after PASS_BUDGET_S.
        deadline = time.perf_counter() + PASS_BUDGET_S
        ready = self._ready
        while ready:
            handle = ready.popleft()
            if not handle.cancelled():
                handle._run()
            if not self.is_running():  # a callback stopped the loop: the rest wait for the next run
                break
            if time.perf_counter() > deadline:
                break
        if ready and not self._ready_timer.isActive():
            self._ready_timer.start()

    # ---- file descriptors -------------------------------------------------------------------------

    def _add_reader(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self._watch((_fd(fd), _READ), callback, args)

    def _remove_reader(self, fd: Any) -> bool:
        return self._unwatch((_fd(fd), _READ))

    def _add_writer(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self._watch((_fd(fd), _WRITE), callback, args)

    def _remove_writer(self, fd: Any) -> bool:
        return self._unwatch((_fd(fd), _WRITE))

    def _watch(self, key: _Key, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self._check_closed()
        self._watchers[key] = asyncio.Handle(callback, args, self)
        notifier = self._notifiers.get(key)
        if notifier is None:
            notifier = QSocketNotifier(key[0], key[1])
            notifier.activated.connect(partial(self._fd_ready, key))
            self._notifiers[key] = notifier
        notifier.setEnabled(True)

    def _unwatch(self, key: _Key) -> bool:
        if self.is_closed():
            return False
        handle = self._watchers.pop(key, None)
        notifier = self._notifiers.get(key)
        if notifier is not None:
            notifier.setEnabled(False)
        return handle is not None

    def _fd_ready(self, key: _Key, *_: object) -> None:
        notifier = self._notifiers.get(key)
        handle = self._watchers.get(key)
        if notifier is None:
            return
        notifier.setEnabled(False)  # until its callback has run (it may stop watching, or read all)
        if handle is not None:
            self.call_soon(self._fd_dispatch, key, handle)

    def _fd_dispatch(self, key: _Key, handle: asyncio.Handle) -> None:
        if self._watchers.get(key) is not handle:
            return  # no longer watched, or watched with another callback (which re-enabled it)
        try:
            if not handle.cancelled():
                handle._run()
        finally:
            notifier = self._notifiers.get(key)
            if notifier is not None and self._watchers.get(key) is handle:
                notifier.setEnabled(True)
