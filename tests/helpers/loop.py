"""The asyncio loop Qt tests run on, and the two ways a test uses it: `run` an awaitable, `until` a
condition holds.

`qtbot.waitSignal` spins a nested Qt loop in which no asyncio loop runs, so async code is driven with
`run(aloop, coro)` instead: the coroutine and every task it wakes run while the qasync loop runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import qasync

T = TypeVar("T")


class _OnLoopOnly:
    """A loop callback as qasync's timer holds it: run only while its loop runs, else kept for later."""

    __slots__ = ("_handle", "_loop")

    def __init__(self, loop: QtTestLoop, handle: asyncio.Handle) -> None:
        self._loop = loop
        self._handle = handle

    @property
    def _cancelled(self) -> bool:
        return self._handle.cancelled()

    def _run(self) -> None:
        if asyncio._get_running_loop() is self._loop:
            self._handle._run()
        else:
            self._loop.defer(self._handle)


class QtTestLoop(qasync.QEventLoop):  # type: ignore[misc]
    """A qasync loop whose callbacks never run outside it.

    Tests stop and start the loop many times (`run`), and Qt processes events between two runs: pytest-qt
    in its set-up, call and teardown hooks, `qtbot.waitExposed`/`waitUntil`, and qasync itself after each
    `run_until_complete` (one last `processEvents` once the running loop is unset). A task step that a Qt
    timer fires there would run with no running loop (`asyncio.to_thread`: "no running event loop"); here
    it is kept instead and runs first thing when the loop runs again, as in the app, whose loop never stops.
    (It wraps qasync's private `_add_callback`, through which every `call_soon`/`call_later` goes.)
    """

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._deferred: list[asyncio.Handle] = []

    def _add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
        self._timer.add_callback(_OnLoopOnly(self, handle), delay)
        return handle

    def defer(self, handle: asyncio.Handle) -> None:
        """Keep a callback that came due while the loop was stopped."""
        self._deferred.append(handle)

    def run_forever(self) -> Any:
        deferred, self._deferred = self._deferred, []
        for handle in deferred:
            self._add_callback(handle)
        return super().run_forever()


def run(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T], timeout: float = 30) -> T:
    """Run an awaitable on the qasync loop, failing the test after `timeout` seconds."""

    async def bounded() -> T:
        return await asyncio.wait_for(awaitable, timeout)

    return loop.run_until_complete(bounded())


async def until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.005) -> None:
    """Let the running loop run until `predicate()` is true (TimeoutError after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(interval)
