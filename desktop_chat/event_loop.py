"""The asyncio loop on Qt's event loop (qasync), without qasync's one unsafe step.

qasync 0.28's `run_until_complete` ends with one more `processEvents()` after it has cleared the
running loop: an asyncio callback that falls due in that pass (a task woken by a thread, a timer) runs
with no running loop, so `asyncio.get_running_loop()`, `asyncio.to_thread` or sniffio fail inside it.
Here `run_until_complete` stops like asyncio's own: callbacks still pending wait for the next run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from typing import Any, TypeVar

os.environ.setdefault("QT_API", "pyside6")  # qasync picks the first Qt binding it finds
import PySide6.QtCore  # noqa: F401  (before qasync, for the same reason)
import qasync

T = TypeVar("T")


class QtEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop; `run_until_complete` never runs callbacks outside the running loop."""

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
