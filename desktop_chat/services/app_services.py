"""The services of one app run, and their ordered shutdown."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject

from desktop_chat.secrets import SecretStore
from desktop_chat.services.chat import ChatService
from desktop_chat.services.conversations import ConversationService
from desktop_chat.services.history_jobs import HistoryJobs
from desktop_chat.services.mcp import McpService
from desktop_chat.services.providers import ProviderService
from desktop_chat.services.search import SearchService
from desktop_chat.services.store_writes import StoreWrites
from desktop_chat.services.tools import ToolService
from desktop_chat.settings import BACKUP_AUTO, BACKUP_FOLDER, BACKUP_KEEP, Settings
from desktop_chat.storage import Store
from desktop_chat.storage.backup import BackupCancelled, auto_backup
from desktop_chat.storage.writer import StoreWriter
from desktop_chat.tools.builtin import builtin_tools
from desktop_chat.tools.conversation_search import hits_from_repo
from desktop_chat.tools.registry import ToolRegistry

log = logging.getLogger(__name__)


class AppServices(QObject):
    """Owns the store, its writer thread and every service built on them.

    The services write through `writes` (the writer thread, its own connection; history imports hand their
    batches to `writer` from their own thread), except provider profiles, saved from the settings forms on
    this thread. They read on this thread's connection, or on worker threads for long reads.

    Signals: none of its own; each service announces its own changes (`writes.write_failed` included).
    """

    def __init__(
        self, store: Store, settings: Settings, secrets: SecretStore, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.secrets = secrets
        self.writer = StoreWriter(store.repo)
        self.writes = StoreWrites(self.writer, self)
        self.conversations = ConversationService(store.repo, self.writes, self)
        registry = ToolRegistry(
            builtin_tools(
                search=hits_from_repo(store.repo),  # the person's own history, through the store
                attached_files=self.conversations.attached_files,  # files picked or dropped in
            )
        )
        self.tools = ToolService(registry, settings, self)
        self.mcp = McpService(settings, secrets, registry, self)  # servers start when first needed
        self.search = SearchService(store.repo, self)
        self.history = HistoryJobs(store.repo, self.conversations, store.path, self.writer, self)
        self.providers = ProviderService(store.repo, settings, secrets, self)
        self.chat = ChatService(
            store.repo, self.conversations, settings, secrets, tools=registry, writes=self.writes, parent=self
        )
        # Deleting a conversation stops its answer (kept as cancelled, should the deletion be undone).
        self.conversations.deletion_requested.connect(self.chat.stop)
        self._closed = False
        self._backup_thread: threading.Thread | None = None
        self._backup_cancel = threading.Event()
        self.last_backup: Path | None = None  # written by this run's automatic backup

    def startup_notes(self) -> list[str]:
        """Things a person should know about this start (upgrades, recovered answers)."""
        notes: list[str] = []
        report = self.store.migration
        if report.backup_path is not None:
            notes.append(
                f"Your history was upgraded from schema {report.from_version} to {report.to_version}; "
                f"a copy of the old file is at {report.backup_path}."
            )
        if self.store.recovered:
            n = len(self.store.recovered)
            notes.append(f"{n} answer(s) were cut off when desktop_chat last stopped; their text is kept.")
        return notes

    def backup_folder(self) -> Path:
        """Where automatic backups go: the `backup/folder` setting, or `<data dir>/backups`."""
        configured = self.settings.get(BACKUP_FOLDER).strip()
        return Path(configured).expanduser() if configured else self.store.path.parent / "backups"

    def start_auto_backup(self) -> threading.Thread | None:
        """Today's automatic backup (if on and not made yet) in a worker thread; never blocks the GUI.

        The copy goes through its own SQLite connection with the online backup API, so the app keeps
        writing meanwhile; `shutdown()` stops it if it is still running.
        """
        if not self.settings.get(BACKUP_AUTO) or self._backup_thread is not None:
            return None
        if not self.store.repo.count_conversations(include_archived=True):
            log.info("Automatic backup: the history is empty, nothing to copy yet")
            return None
        folder, keep = self.backup_folder(), self.settings.get(BACKUP_KEEP)
        thread = threading.Thread(
            target=self._auto_backup, args=(folder, keep), name="auto-backup", daemon=True
        )
        self._backup_thread = thread
        thread.start()
        return thread

    def _auto_backup(self, folder: Path, keep: int) -> None:
        try:
            written = auto_backup(self.store.path, folder, keep, cancelled=self._backup_cancel.is_set)
        except BackupCancelled:
            log.info("Automatic backup stopped at quit")
        except Exception as exc:  # a failed backup must never take the app down; it is logged
            log.warning("Automatic backup to %s failed: %s", folder, exc)
        else:
            if written is None:
                log.info("Automatic backup: today's copy is already in %s", folder)
            else:
                self.last_backup = written
                log.info("Automatic backup written to %s", written)

    async def aclose(self) -> None:
        """Stop streaming answers (HTTP closed, text kept as interrupted) while the loop still runs."""
        await self.chat.shutdown()

    def shutdown(self) -> None:
        """Store what is queued, mark anything unfinished as interrupted, carry out pending deletions, let
        the writer finish and checkpoint, and close the database (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.history.close()
            self.search.close()
        except Exception:
            log.exception("Could not stop the search worker cleanly")
        try:
            self.mcp.close()  # every MCP server process has exited when this returns
        except Exception:
            log.exception("Could not stop the MCP servers cleanly")
        try:
            self.chat.flush()
            self.writer.submit(lambda repo: repo.recover_unfinished(), label="unfinished answers")
            # Deletions still in their undo window are carried out now, while the store is open
            # (after the flush: the last chunks may belong to a conversation being deleted).
            self.conversations.finalize_deletions()
        finally:
            try:
                self.writer.close()  # runs everything queued, then checkpoints the WAL
            finally:
                self.store.close()
        log.info("Store closed")
