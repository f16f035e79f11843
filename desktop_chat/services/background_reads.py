"""Reads too long for the GUI thread, on a thread of their own with its own SQLite connection.

The history sent with a request is one: a 10,000-message branch took 0.4 s to read and convert on the
GUI thread, which froze the window between Enter and the message showing. Reads here see every write the
writer thread has committed (WAL), and never wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from desktop_chat.storage import Repo

T = TypeVar("T")


class BackgroundReads:
    """Runs `job(repo)` on the reader thread; `await run(job)` for its result."""

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, job: Callable[[Repo], T]) -> T:
        """The job's result (the job runs on the reader thread; the loop goes on meanwhile)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-reader")
        future = self._executor.submit(job, self._repo)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the reader thread (closing its connection)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._repo.close_thread_connection)
            executor.shutdown(wait=True)
