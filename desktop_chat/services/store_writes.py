"""The services' side of the store writer: jobs go to the writer thread, their outcomes come back here.

The chat and conversation services write through `StoreWrites`: `submit(job, then=...)` for changes whose
announcement waits for the commit, and `await run(job)` where a coroutine needs the result (the id of
a new row). Outcomes reach this object's thread (the GUI's) through a queued signal, in the order the
jobs were submitted, so a service announces a change only once it is in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

from desktop_chat.storage import Repo
from desktop_chat.storage.writer import StoreWriter

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """A change that could not be saved after its retries; `message` is for a person."""

    label: str
    message: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    future: Future[Any]
    then: Callable[[Any], object] | None
    failed: Callable[[BaseException], object] | None
    label: str


class StoreWrites(QObject):
    """Writes through the store's writer thread, with results delivered on this object's thread.

    Signals:
        write_failed(WriteFailure): a change could not be saved (after retries); it was not lost silently.
    """

    write_failed = Signal(WriteFailure)
    _outcome = Signal(object)  # _Outcome, from the writer thread

    def __init__(self, writer: StoreWriter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._writer = writer
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def writer(self) -> StoreWriter:
        """The writer thread (its identity, its queue)."""
        return self._writer

    def submit(
        self,
        job: Callable[[Repo], T],
        *,
        label: str,
        then: Callable[[T], object] | None = None,
        failed: Callable[[BaseException], object] | None = None,
    ) -> None:
        """Queue `job`; `then(result)` (or `failed(error)`) runs on this thread once it is done."""
        future = self._writer.submit(job, label=label)
        outcome = _Outcome(future, then, failed, label)
        future.add_done_callback(lambda _done: self._outcome.emit(outcome))

    async def run(self, job: Callable[[Repo], T], *, label: str) -> T:
        """Queue `job` and wait (without blocking the loop) for its result; raises what it raised."""
        return await self.future(job, label=label)

    def future(self, job: Callable[[Repo], T], *, label: str) -> asyncio.Future[T]:
        """Queue `job` now; an asyncio future of its outcome (await it, or shield it from a cancellation)."""
        waiting: asyncio.Future[T] = asyncio.get_event_loop().create_future()

        def done(result: T) -> None:
            if not waiting.done():
                waiting.set_result(result)

        def fail(error: BaseException) -> None:
            if not waiting.done():
                waiting.set_exception(error)

        self.submit(job, label=label, then=done, failed=fail)
        return waiting

    async def idle(self) -> None:
        """Until everything submitted before this call is saved (a no-op job at the end of the queue)."""
        if not self._writer.closed:  # a closed writer has finished its queue
            await self.run(lambda _repo: None, label="nothing")

    def _deliver(self, outcome: _Outcome) -> None:
        error = outcome.future.exception()
        if error is None:
            if outcome.then is not None:
                outcome.then(outcome.future.result())
            return
        self.write_failed.emit(WriteFailure(outcome.label, f"Could not save {outcome.label}: {error}"))
        if outcome.failed is not None:
            outcome.failed(error)
