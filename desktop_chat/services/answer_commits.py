"""Streaming answers on their way into the store: per delta nothing but memory, per flush one transaction.

Each answer being written is a `LiveResponse` held here. A delta only marks it dirty and `schedule()`s a
flush; the flush, `FLUSH_INTERVAL_MS` after the first patch queued since the last one, hands every
queued patch of every answer to the writer thread as one job (one transaction of append-only chunk
rows) and, once that is committed, reports which answers it changed. One flush is in flight at a time:
patches that arrive meanwhile go with the next, so a slow disk makes flushes larger, never the loop
slower. A flush that fails keeps its patches for the next one. `finish()` commits an answer's last
patches, compacts its document and indexes it, all on the writer thread: ending a 200 KiB answer costs
this thread what ending a 2 KiB one does.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TypedDict

from PySide6.QtCore import QObject, QTimer

from desktop_chat.domain import ResponsePatch, ResponseStatus, ToolCall, ToolStatus, Usage
from desktop_chat.services.live import LiveResponse
from desktop_chat.services.store_writes import StoreWrites
from desktop_chat.storage import Repo

log = logging.getLogger(__name__)

FLUSH_INTERVAL_MS = 25  # first queued patch -> commit; keeps delta-to-signal well under 50 ms
COMMIT_TIMES_KEPT = 10_000


class _Ending(TypedDict):
    """An answer's document as it ends (`Repo.finish_response`'s keywords)."""

    finish_reason: str | None
    usage: Usage | None
    error: str | None
    tool_calls: tuple[ToolCall, ...]
    tool_status: dict[str, ToolStatus]


class AnswerCommits(QObject):
    """The answers being written, and their patches' way to the writer thread.

    Signals: none (it reports each stored flush to the chat service, which announces it).
    """

    def __init__(
        self,
        writes: StoreWrites,
        committed: Callable[[list[LiveResponse]], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._writes = writes
        self._committed = committed  # with the answers a flush changed, once it is in the store
        self._lives: dict[int, LiveResponse] = {}  # by response id
        self._failed: list[ResponsePatch] = []  # patches of a flush that failed: they go with the next
        self._in_flight = False
        self._waiting: list[Callable[[], object]] = []  # run once the next flush is committed
        # how long each of the last flushes' transactions took (benchmarks), bounded: the app runs for days
        self.commit_times_ms: deque[float] = deque(maxlen=COMMIT_TIMES_KEPT)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)

    def track(self, live: LiveResponse) -> None:
        """Hold an answer that starts (or continues) streaming."""
        self._lives[live.response_id] = live

    def get(self, response_id: int) -> LiveResponse | None:
        """The answer being written with this response id, until its end is stored."""
        return self._lives.get(response_id)

    def schedule(self) -> None:
        """A patch was queued (per delta: O(1)): flush within FLUSH_INTERVAL_MS."""
        if not self._in_flight and not self._timer.isActive():
            self._timer.start()

    def flush(self, then: Callable[[], object] | None = None) -> None:
        """Commit every queued patch now; `then()` runs once they are in the store."""
        self._timer.stop()
        if then is not None:
            self._waiting.append(then)
        if self._in_flight:
            return  # they go with the next flush, at the end of this one
        changed = [live for live in self._lives.values() if live.dirty and not live.ending]
        patches = [*self._failed, *(p for live in changed if (p := live.take_patch()) is not None)]
        self._failed = []
        waiting, self._waiting = self._waiting, []
        if not patches:
            self._done(changed, waiting)
            return
        self._in_flight = True

        def job(repo: Repo) -> float:
            started = time.perf_counter()
            repo.apply_patches(patches)
            return (time.perf_counter() - started) * 1000

        def stored(ms: float) -> None:
            self.commit_times_ms.append(ms)
            self._in_flight = False
            self._done(changed, waiting)
            self._again()

        def failed(_error: BaseException) -> None:
            log.error("Could not save %d streamed patch(es); they go with the next flush", len(patches))
            self._failed = [*patches, *self._failed]
            self._waiting = [*waiting, *self._waiting]
            self._in_flight = False
            self.schedule()

        self._writes.submit(job, label="the answer being written", then=stored, failed=failed)

    def _done(self, changed: list[LiveResponse], waiting: list[Callable[[], object]]) -> None:
        self._committed(changed)
        for callback in waiting:
            callback()

    def _again(self) -> None:
        if self._waiting:
            self.flush()
        elif any(live.dirty and not live.ending for live in self._lives.values()):
            self.schedule()

    def finish(
        self,
        live: LiveResponse,
        status: ResponseStatus,
        *,
        also: Callable[[Repo], object] | None = None,
        then: Callable[[], object],
    ) -> None:
        """End an answer: its last patches, the compacted document and its index entry in one job (with
        `also(repo)` first); `then()` once stored. The answer is held until then."""
        live.ending = True
        pending = [*self._failed, *([p] if (p := live.take_patch()) is not None else [])]
        self._failed = []
        ending: _Ending = {  # taken now: the writer runs the job later
            "finish_reason": live.finish_reason,
            "usage": live.usage,
            "error": live.error,
            "tool_calls": tuple(live.tool_calls),
            "tool_status": dict(live.tool_status),
        }

        def job(repo: Repo) -> None:
            if also is not None:
                also(repo)
            repo.finish_response(live.response_id, status, pending=pending, **ending)

        def stored(_result: object = None) -> None:
            self._lives.pop(live.response_id, None)
            then()

        def failed(_error: BaseException) -> None:  # reported by the writer; the run must still end
            log.error("Could not save the end of answer %d", live.response_id)
            stored()

        self._writes.submit(job, label="the end of the answer", then=stored, failed=failed)
