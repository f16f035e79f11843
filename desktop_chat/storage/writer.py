"""One thread makes the app's writes to the database, on its own connection; callers only enqueue.

A slow disk (a spinning disk, a network home folder, an antivirus scanning each write) then slows this
thread, never the caller's. Jobs run in the order they were submitted, one at a time, each a function
of the `Repo` (which opens this thread's own SQLite connection on first use: peewee keeps one per
thread). A job that fails with an operational error (the file locked by another process, an I/O error,
a full disk) is tried again after a pause; if it still fails, or fails otherwise, it is logged, its
future carries the error (`StoreWrites` tells the person) and `on_failure`, if given, hears of it: a
write is never dropped silently.

`close()` lets every queued job run, checkpoints the WAL into the main file and closes the connection.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import peewee

from desktop_chat.storage.repo import Repo

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_DELAYS_S = (0.05, 0.25, 1.0)  # pauses before the second, third and fourth try
_TRANSIENT = (peewee.OperationalError, sqlite3.OperationalError)


@dataclass(frozen=True, slots=True)
class _Job:
    run: Callable[[Repo], Any]
    future: Future[Any]
    label: str


class WriterClosed(RuntimeError):
    """The writer has stopped (the app is quitting): nothing more can be written."""


class StoreWriter:
    """The store's writer thread. `submit(job)` returns a future; the job runs on the thread."""

    def __init__(
        self,
        repo: Repo,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
        on_failure: Callable[[str, BaseException], None] | None = None,
        checkpoint_on_close: bool = True,
    ) -> None:
        self._repo = repo
        self._retry_delays = retry_delays
        self._on_failure = on_failure
        self._checkpoint_on_close = checkpoint_on_close
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    @property
    def thread_ident(self) -> int | None:
        """The writer thread's identity (None before the first write)."""
        thread = self._thread
        return thread.ident if thread is not None else None

    @property
    def closed(self) -> bool:
        """True once `close()` was called: nothing more is accepted."""
        with self._lock:
            return self._closed

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        with self._lock:
            return self._pending

    def submit(self, job: Callable[[Repo], T], *, label: str = "write") -> Future[T]:
        """Queue `job` (a function of the repo) for the writer thread; its future has its result."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise WriterClosed(f"The store is closed; {label} was not saved.")
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="store-writer", daemon=True)
                self._thread.start()
        self._queue.put(_Job(job, future, label))
        return future

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every job submitted so far has finished (shutdown, scripts, tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float | None = None) -> None:
        """Run every queued job, checkpoint the WAL, close the writer's connection, stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.error("The store writer did not finish in %s s; %d write(s) pending", timeout, self.pending)

    # ---- the thread ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                break
            try:
                self._run(job)
            finally:
                with self._idle:
                    self._pending -= 1
                    if not self._pending:
                        self._idle.notify_all()
        self._finish()

    def _run(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        delays = iter(self._retry_delays)
        while True:
            try:
                result = job.run(self._repo)
            except _TRANSIENT as exc:
                delay = next(delays, None)
                if delay is None:
                    self._failed(job, exc)
                    return
                log.warning("Saving %s failed (%s); trying again in %.2f s", job.label, exc, delay)
                time.sleep(delay)
            except BaseException as exc:  # a bug or a constraint: trying again would fail the same way
                self._failed(job, exc)
                if not isinstance(exc, Exception):
                    raise
                return
            else:
                job.future.set_result(result)
                return

    def _failed(self, job: _Job, exc: BaseException) -> None:
        log.error("Could not save %s: %s", job.label, exc, exc_info=exc)
        job.future.set_exception(exc)
        if self._on_failure is not None:
            try:
                self._on_failure(job.label, exc)
            except Exception:
                log.exception("Reporting a failed write failed")

    def _finish(self) -> None:
        db = self._repo.db
        try:
            if self._checkpoint_on_close and not db.is_closed():
                db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except peewee.DatabaseError as exc:
            log.warning("Could not checkpoint the database after the last write: %s", exc)
        finally:
            self._repo.close_thread_connection()
