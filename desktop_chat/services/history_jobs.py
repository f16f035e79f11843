"""Long work on the history (export, import, backup) in a worker thread, with progress and cancel.

One job at a time runs on the worker (they all read or write the whole store). Progress, the result and
failures come back as signals on the GUI thread; `cancel` stops a job between conversations (an import
keeps the conversations it finished, whole; an export or backup leaves no partial file).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from desktop_chat.services.conversations import ConversationService
from desktop_chat.storage import Repo
from desktop_chat.storage.writer import StoreWriter

log = logging.getLogger(__name__)

FORMATS = ("json", "md", "html")
IMPORT_BATCH = 20  # conversations per writer job: streamed answers' flushes wait behind at most one


@dataclass(frozen=True, slots=True)
class JobProgress:
    """How far a job has come (`total` 0 while it does not know yet)."""

    job_id: int
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class JobEnded:
    """A job ended: what it did, or what went wrong, in words for a person."""

    job_id: int
    text: str


class HistoryJobs(QObject):
    """Export, import and back up without freezing the window.

    Signals:
        progress(JobProgress): a running job moved on.
        finished(JobEnded): a job did its work (an import may have stopped early: the text says so).
        failed(JobEnded): a job could not do its work.
    """

    progress = Signal(JobProgress)
    finished = Signal(JobEnded)
    failed = Signal(JobEnded)
    _report = Signal(int, str, str, int, int)  # job id, kind ("progress" | "done" | "failed"), text, n, total

    def __init__(
        self,
        repo: Repo,
        conversations: ConversationService,
        db_path: Path | None,
        writer: StoreWriter,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._repo = repo  # exports read on the history thread's own connection
        self._writer = writer  # imports write through the store's writer thread
        self._conversations = conversations
        self._db_path = db_path
        self._executor: ThreadPoolExecutor | None = None
        self._ids = 0
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self._imports: set[int] = set()
        self._report.connect(self._on_report, Qt.ConnectionType.QueuedConnection)

    # ---- starting jobs ---------------------------------------------------------------------------

    def export(self, fmt: str, path: Path, conversation_ids: list[int] | None = None) -> int:
        """Export (all, or these) conversations as json (one file) or md/html (a folder); a job id."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> str:
            from desktop_chat.interchange.export import export

            n = export(fmt, self._repo, conversation_ids, path, progress=progress, cancelled=cancelled)
            return f"Exported {n} conversation{'s' if n != 1 else ''} to {path}."

        return self._start(work)

    def import_file(self, path: Path) -> int:
        """Import an export file (this app's JSON, ChatGPT's or Claude's); a job id."""

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> str:
            from desktop_chat.interchange.importers import import_file

            report = import_file(
                self._repo,
                path,
                progress=progress,
                cancelled=cancelled,
                run_batch=lambda batch: self._writer.submit(batch, label="an import").result(),
                batch_size=IMPORT_BATCH,
            )
            parts = [f"Imported {report.imported} conversation{'s' if report.imported != 1 else ''}"]
            if report.unchanged:
                parts.append(f"{report.unchanged} already here")
            if report.skipped:
                parts.append(f"skipped {len(report.skipped)}: " + "; ".join(report.skipped[:5]))
            if report.cancelled:
                parts.append("stopped before the end")
            return ", ".join(parts) + f" ({report.format})."

        job = self._start(work)
        self._imports.add(job)
        return job

    def backup(self, target: Path) -> int:
        """A backup copy of the database (SQLite's online backup); a job id."""
        db_path = self._db_path
        if db_path is None:
            raise ValueError("This history has no database file to back up.")

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> str:
            from desktop_chat.storage.backup import backup_to

            backup_to(db_path, target, progress=progress, cancelled=cancelled)
            return f"Backed up to {target}."

        return self._start(work)

    def markdown(self, conversation_id: int) -> str:
        """A conversation's branch as Markdown (for the clipboard)."""
        from desktop_chat.interchange.markdown_writer import conversation_markdown

        return conversation_markdown(self._repo, conversation_id)

    def cancel(self, job: int) -> None:
        """Stop a job at its next check."""
        with self._lock:
            self._cancelled.add(job)

    def close(self) -> None:
        """Finish the running job and stop the worker (at quit)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            with self._lock:
                self._cancelled.update(range(1, self._ids + 1))
            executor.submit(self._repo.close_thread_connection)
            executor.shutdown(wait=True)

    # ---- the worker --------------------------------------------------------------------------------

    def _start(self, work: Callable[[Callable[[int, int], None], Callable[[], bool]], str]) -> int:
        self._ids += 1
        job = self._ids
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        self._executor.submit(self._run, job, work)
        return job

    def _run(self, job: int, work: Callable[[Callable[[int, int], None], Callable[[], bool]], str]) -> None:
        def progress(done: int, total: int) -> None:
            self._report.emit(job, "progress", "", int(done), int(total))

        def cancelled() -> bool:
            with self._lock:
                return job in self._cancelled

        try:
            summary = work(progress, cancelled)
        except Exception as exc:
            log.warning("History job %d failed", job, exc_info=True)
            self._report.emit(job, "failed", str(exc) or type(exc).__name__, 0, 0)
            return
        self._report.emit(job, "done", summary, 0, 0)

    def _on_report(self, job: int, kind: str, text: str, done: int, total: int) -> None:
        if kind == "progress":
            self.progress.emit(JobProgress(job, done, total))
            return
        if job in self._imports:
            self._imports.discard(job)
            self._conversations.reload_all()  # the list reads the store again
        if kind == "done":
            log.info("%s", text)
            self.finished.emit(JobEnded(job, text))
        else:
            self.failed.emit(JobEnded(job, text))
