"""The services of one app run, and their ordered shutdown."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from desktop_chat.secrets import SecretStore
from desktop_chat.services.chat import ChatService
from desktop_chat.services.conversations import ConversationService
from desktop_chat.services.mcp import McpService
from desktop_chat.services.providers import ProviderService
from desktop_chat.settings import DISABLED_TOOLS, Settings
from desktop_chat.storage import Store
from desktop_chat.tools.builtin import builtin_tools
from desktop_chat.tools.conversation_search import hits_from_repo
from desktop_chat.tools.registry import ToolRegistry

log = logging.getLogger(__name__)


class AppServices(QObject):
    """Owns the store and every service built on it."""

    def __init__(
        self, store: Store, settings: Settings, secrets: SecretStore, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.secrets = secrets
        self.conversations = ConversationService(store.repo, self)
        self.tools = ToolRegistry(
            builtin_tools(
                search=hits_from_repo(store.repo),  # the person's own history, through the store
                attached_files=self.conversations.attached_files,  # files picked or dropped in
            )
        )
        self.mcp = McpService(settings, secrets, self.tools, self)  # servers start when first needed
        self._apply_disabled_tools(DISABLED_TOOLS.key)
        settings.changed.connect(self._apply_disabled_tools)
        self.providers = ProviderService(store.repo, settings, secrets, self)
        self.chat = ChatService(
            store.repo, self.conversations, settings, secrets, tools=self.tools, parent=self
        )
        # Deleting a conversation stops its answer (kept as cancelled, should the deletion be undone).
        self.conversations.deletion_requested.connect(self.chat.stop)
        self._closed = False

    def _apply_disabled_tools(self, key: str) -> None:
        if key == DISABLED_TOOLS.key:
            self.tools.disabled = {str(n) for n in self.settings.get(DISABLED_TOOLS)}

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

    async def aclose(self) -> None:
        """Stop streaming answers (HTTP closed, text kept as interrupted) while the loop still runs."""
        await self.chat.shutdown()

    def shutdown(self) -> None:
        """Flush, mark anything unfinished as interrupted, and close the database (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.mcp.close()  # every MCP server process has exited when this returns
        except Exception:
            log.exception("Could not stop the MCP servers cleanly")
        try:
            self.chat.flush()
            self.store.repo.recover_unfinished()
        finally:
            try:
                # Deletions still in their undo window are carried out now, while the store is open
                # (after the flush: the last chunks may belong to a conversation being deleted).
                self.conversations.finalize_deletions()
            finally:
                self.store.close()
        log.info("Store closed")
