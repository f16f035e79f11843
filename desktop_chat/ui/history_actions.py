"""The window's history actions: export (the open conversation or all, to a file and format the person
picks), import, back up, and copy as Markdown. Jobs run in the background behind a progress dialog that
only shows when a job takes a while, and can be cancelled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from desktop_chat.services.history_jobs import HistoryJobs, JobEnded, JobProgress
from desktop_chat.ui.common.window_part import WindowPart

EXPORT_FORMATS = {  # the file dialog's name filter -> export format
    "JSON, one complete file (*.json)": "json",
    "Markdown, one file each (*)": "md",
    "HTML, one file each (*)": "html",
}


class HistoryActions(WindowPart):
    """Export, import, back up and copy-as-Markdown for a window: the actions, dialogs and progress.

    `current` tells the open conversation, `copy` puts text on the clipboard (and says so). Short
    messages for the status bar come out of `note`, among them what a finished job said.
    """

    def __init__(
        self,
        history: HistoryJobs,
        window: QWidget,
        *,
        current: Callable[[], int | None],
        copy: Callable[[str], None],
    ) -> None:
        super().__init__(window, current=current)
        self._history = history
        self._copy = copy
        self.last_result = ""  # what the last export, import or backup said
        self.export_one = QAction("Export this conversation…", self)
        self.export_one.triggered.connect(lambda: self.choose_export(current_only=True))
        self.export_all = QAction("Export all conversations…", self)
        self.export_all.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.export_all.triggered.connect(lambda: self.choose_export(current_only=False))
        self.import_action = QAction("Import conversations…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+Shift+I"))
        self.import_action.triggered.connect(self.choose_import)
        self.backup_action = QAction("Back up now…", self)
        self.backup_action.triggered.connect(self.choose_backup)
        self.copy_markdown_action = QAction("Copy conversation as Markdown", self)
        self.copy_markdown_action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.copy_markdown_action.triggered.connect(self.copy_markdown)

    # ---- jobs ---------------------------------------------------------------------------------

    def export(self, fmt: str, path: Path, conversation_ids: list[int] | None = None) -> int:
        """Export in the background with a progress dialog; returns the job id."""
        job = self._history.export(fmt, path, conversation_ids)
        self._track(job, "Exporting conversations…")
        return job

    def import_file(self, path: Path) -> int:
        """Import an export file in the background with a progress dialog; returns the job id."""
        job = self._history.import_file(path)
        self._track(job, f"Importing {path.name}…")
        return job

    def backup(self, path: Path) -> int:
        """Back the database up in the background with a progress dialog; returns the job id."""
        job = self._history.backup(path)
        self._track(job, "Backing up…")
        return job

    def _track(self, job: int, title: str) -> None:
        from PySide6.QtWidgets import QProgressDialog

        dialog = QProgressDialog(title, "Cancel", 0, 0, self._window)
        dialog.setObjectName("historyProgress")
        dialog.setWindowTitle("Desktop Chat")
        dialog.setMinimumDuration(400)  # quick jobs never show it
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        history = self._history
        dialog.canceled.connect(lambda: history.cancel(job))

        def on_progress(progress: JobProgress) -> None:
            if progress.job_id == job:
                dialog.setMaximum(max(progress.total, 1))
                dialog.setValue(min(progress.done, max(progress.total, 1)))

        def on_end(ended: JobEnded) -> None:
            if ended.job_id != job:
                return
            text = ended.text
            history.progress.disconnect(on_progress)
            history.finished.disconnect(on_end)
            history.failed.disconnect(on_end)
            dialog.reset()
            dialog.deleteLater()
            self.note.emit(text)
            self.last_result = text

        history.progress.connect(on_progress)
        history.finished.connect(on_end)
        history.failed.connect(on_end)

    # ---- dialogs ------------------------------------------------------------------------------

    def choose_export(self, *, current_only: bool) -> None:
        """Ask where (and in which format) to export, then export."""
        from PySide6.QtWidgets import QFileDialog

        current = self._current()
        if current_only and current is None:
            self.note.emit("Open a conversation first.")
            return
        ids = [current] if current_only and current is not None else None
        dialog = QFileDialog(self._window, "Export conversations")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(list(EXPORT_FORMATS))
        dialog.selectFile("desktop_chat-export.json")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(path: str) -> None:
            fmt = EXPORT_FORMATS.get(dialog.selectedNameFilter(), "json")
            self.export(fmt, Path(path), ids)

        dialog.fileSelected.connect(chosen)
        dialog.open()

    def choose_import(self) -> None:
        """Ask for an export file (this app's, ChatGPT's or Claude's), then import it."""
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, "Import conversations")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Exports (*.json *.zip)", "All files (*)"])
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.import_file(Path(path)))
        dialog.open()

    def choose_backup(self) -> None:
        """Ask where to write a backup, then write it."""
        from datetime import date

        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, "Back up your history")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(f"desktop_chat-backup-{date.today().isoformat()}.sqlite3")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.backup(Path(path)))
        dialog.open()

    def copy_markdown(self) -> str | None:
        """Ctrl+Shift+M: the open conversation (its branch) as Markdown on the clipboard."""
        current = self._current()
        if current is None:
            self.note.emit("Open a conversation first.")
            return None
        text = self._history.markdown(current)
        self._copy(text)
        return text
