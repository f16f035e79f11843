"""Search everything as you type: one worker thread, and a newer query interrupts the one running.

Queries run on the worker's own SQLite connection (peewee opens one per thread; WAL lets it read while
the store's writer thread writes). A new query interrupts the running one
(`sqlite3.Connection.interrupt`), and a query still waiting when a newer one arrives is dropped:
stale queries are cancelled, never queued. Results come back on the GUI thread through `results`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal

from desktop_chat.domain import SearchHit
from desktop_chat.storage import Repo
from desktop_chat.storage.search import SearchOrder, compile_query

log = logging.getLogger(__name__)
__all__ = ["SearchFailed", "SearchHit", "SearchOrder", "SearchResults", "SearchService"]


@dataclass(frozen=True, slots=True)
class SearchResults:
    """The hits of the newest search."""

    request_id: int
    query: str
    hits: tuple[SearchHit, ...]


@dataclass(frozen=True, slots=True)
class SearchFailed:
    """The newest search could not run; `message` is for a person."""

    request_id: int
    message: str


class SearchService(QObject):
    """Full-text search over every conversation, off the GUI thread.

    Signals:
        results(SearchResults): the newest request's hits (a stale request's are dropped).
        failed(SearchFailed): the newest request failed.
    """

    results = Signal(SearchResults)
    failed = Signal(SearchFailed)
    _from_worker = Signal(int, str, object, str)  # request id, query, hits, error ("" when none)

    def __init__(self, repo: Repo, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._repo = repo
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._latest = 0
        self._running: sqlite3.Connection | None = None
        self.ran = 0  # queries that really ran (tests: stale ones are dropped)
        self._from_worker.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def latest(self) -> int:
        """The id of the newest request."""
        return self._latest

    def search(self, query: str, *, order: SearchOrder = SearchOrder.RECENT, limit: int = 50) -> int:
        """Start a search (interrupting the one running); returns its request id."""
        with self._lock:
            self._latest += 1
            request = self._latest
            running = self._running
        if running is not None:
            running.interrupt()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")
        self._executor.submit(self._run, request, query, order, limit)
        return request

    @staticmethod
    def highlight_terms(query: str) -> tuple[str, ...]:
        """What to mark in a message found by `query`: its phrases whole and its words, not its exclusions."""
        return compile_query(query).terms

    def search_now(
        self, query: str, *, order: SearchOrder = SearchOrder.RECENT, limit: int = 50
    ) -> list[SearchHit]:
        """The same search, here and now (for scripts and tests)."""
        return self._repo.search(query, order=order, limit=limit).items

    def _run(self, request: int, query: str, order: SearchOrder, limit: int) -> None:
        with self._lock:
            if request != self._latest:
                return  # a newer query came before this one started
            connection = self._repo.thread_connection()
            self._running = connection
        try:
            self.ran += 1
            hits = self._repo.search(query, order=order, limit=limit).items
        except Exception as exc:  # sqlite3's or peewee's OperationalError
            if request != self._latest or "interrupt" in str(exc).lower():
                return  # a newer query took over (an interrupt can surface as another error)
            log.exception("Search failed")
            self._from_worker.emit(request, query, [], f"The search failed: {type(exc).__name__}: {exc}")
            return
        finally:
            with self._lock:
                self._running = None
        self._from_worker.emit(request, query, hits, "")

    def _deliver(self, request: int, query: str, hits: list[SearchHit], error: str) -> None:
        if request != self._latest:
            return
        if error:
            self.failed.emit(SearchFailed(request, error))
        else:
            self.results.emit(SearchResults(request, query, tuple(hits)))

    def close(self) -> None:
        """Stop the worker (closing its database connection)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        with self._lock:
            self._latest += 1
            if self._running is not None:
                self._running.interrupt()
        executor.submit(self._repo.close_thread_connection)
        executor.shutdown(wait=True)
