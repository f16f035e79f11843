"""The two ways a Qt test uses its asyncio loop (the app's `QtEventLoop`, fixture `aloop`): `run` an
awaitable, `until` a condition holds.

`qtbot.waitSignal` spins a nested Qt loop in which no asyncio loop runs, so async code is driven with
`run(aloop, coro)` instead: the coroutine and every task it wakes run while the loop runs. Tests stop and
start the loop many times, and Qt processes events in between (pytest-qt's hooks, `qtbot.waitExposed`):
`QtEventLoop` keeps any callback that falls due then for its next run, as the app's loop, which never
stops, would run it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

current: asyncio.AbstractEventLoop | None = None  # the running test's `aloop`, while it has one


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


async def soon(getter: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Let the running loop run until `getter()` gives something (not None); that (TimeoutError after
    `timeout` seconds). For what the app does once a write is stored: a new conversation's id."""
    deadline = time.monotonic() + timeout
    while (found := getter()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("nothing came")
        await asyncio.sleep(0.005)
    return found
