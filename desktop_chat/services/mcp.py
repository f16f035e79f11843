"""MCP servers as the person configures them: saved in settings (tokens in the keychain), run by the host.

The servers live in the `tools/mcp_servers` setting in the `mcpServers` format other MCP clients use, so
a block copied from another client's config works as is. A streamable-HTTP server's token is kept in the
keychain (`mcp:<name>`) and sent as `Authorization: Bearer <token>`; it is never written to settings.
`--mcp-config FILE` adds servers for one run without saving them.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from desktop_chat.llm.transport import warmed_up
from desktop_chat.secrets import KeychainError, SecretStore
from desktop_chat.settings import MCP_SERVERS, Settings
from desktop_chat.tools.mcp_config import McpServerConfig, load_mcp_config, parse_mcp_servers
from desktop_chat.tools.mcp_host import McpHost
from desktop_chat.tools.mcp_server import ServerState, ServerStatus
from desktop_chat.tools.registry import ToolRegistry

log = logging.getLogger(__name__)
__all__ = ["McpServerConfig", "McpService", "ServerState", "ServerStatus", "token_ref"]  # the UI's view


def token_ref(name: str) -> str:
    """The keychain entry of a server's token."""
    return f"mcp:{name}"


class McpService(QObject):
    """Configured MCP servers, their live status, and their tools in the registry.

    Signals:
        status_changed(ServerStatus): a server's state changed (starting, ready with its tools, failed).
        servers_changed(): a server was added, edited, removed, switched on or off.
    """

    status_changed = Signal(ServerStatus)
    servers_changed = Signal()
    _status_from_host = Signal(object)  # the host thread's reports, delivered on this object's thread

    def __init__(
        self, settings: Settings, secrets: SecretStore, registry: ToolRegistry, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._secrets = secrets
        self._run_only: dict[str, McpServerConfig] = {}
        self._status_from_host.connect(self._on_status, Qt.ConnectionType.QueuedConnection)
        self.host = McpHost(on_status=self._status_from_host.emit)
        registry.add_source(self._registry_tools)
        settings.changed.connect(self._on_setting)
        self._apply()

    # ---- what is configured --------------------------------------------------------------------

    def _saved(self) -> dict[str, Any]:
        value = self._settings.get(MCP_SERVERS)
        return dict(value) if isinstance(value, dict) else {}

    def servers(self) -> list[McpServerConfig]:
        """Saved servers, then those of `--mcp-config` (for this run)."""
        saved, skipped = parse_mcp_servers({"mcpServers": self._saved()})
        for problem in skipped:
            log.warning("Skipped a saved MCP server: %s", problem)
        names = {s.name for s in saved}
        return [*saved, *(c for n, c in self._run_only.items() if n not in names)]

    def server(self, name: str) -> McpServerConfig | None:
        """One server's configuration."""
        return next((s for s in self.servers() if s.name == name), None)

    def is_saved(self, name: str) -> bool:
        """False for a server that only `--mcp-config` brought in."""
        return name in self._saved()

    def save_server(self, config: McpServerConfig, *, previous_name: str | None = None) -> None:
        """Add or replace a server (renaming it from `previous_name`)."""
        if not config.name.strip():
            raise ValueError("A server needs a name.")
        if not config.command and not config.url:
            raise ValueError("A server needs a command (stdio) or a URL (streamable HTTP).")
        saved = self._saved()
        if previous_name and previous_name != config.name:
            saved.pop(previous_name, None)
            token = self.token(previous_name)
            if token:
                self.set_token(config.name, token)
                self.set_token(previous_name, None)
        saved[config.name] = config.to_json()
        self._settings.set(MCP_SERVERS, saved)

    def remove_server(self, name: str) -> None:
        """Forget a server (and its token)."""
        saved = self._saved()
        if saved.pop(name, None) is not None:
            self._settings.set(MCP_SERVERS, saved)
        self._run_only.pop(name, None)
        self.set_token(name, None)
        self._apply()

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Switch a server on or off."""
        self._update(name, lambda entry: _set_flag(entry, "disabled", not enabled))

    def set_tool_enabled(self, name: str, tool: str, enabled: bool) -> None:
        """Switch one of a server's tools on or off."""

        def change(entry: dict[str, Any]) -> None:
            off = set(entry.get("disabledTools") or [])
            off.discard(tool) if enabled else off.add(tool)
            if off:
                entry["disabledTools"] = sorted(off)
            else:
                entry.pop("disabledTools", None)

        self._update(name, change)

    def _update(self, name: str, change: Any) -> None:
        saved = self._saved()
        if name in saved:
            entry = dict(saved[name])
            change(entry)
            saved[name] = entry
            self._settings.set(MCP_SERVERS, saved)
        elif name in self._run_only:
            entry = self._run_only[name].to_json()
            change(entry)
            configs, _ = parse_mcp_servers({"mcpServers": {name: entry}})
            self._run_only[name] = configs[0]
            self._apply()

    def import_file(self, path: Path) -> tuple[list[str], list[str]]:
        """Save the servers of a JSON file's `mcpServers` block: (names added, problems); ValueError."""
        configs, skipped = load_mcp_config(path)
        saved = self._saved()
        for config in configs:
            saved[config.name] = config.to_json()
        if configs:
            self._settings.set(MCP_SERVERS, saved)
        return [c.name for c in configs], skipped

    def load_for_run(self, path: Path) -> tuple[list[str], list[str]]:
        """`--mcp-config FILE`: its servers for this run only (not saved). Raises ValueError."""
        configs, skipped = load_mcp_config(path)
        for config in configs:
            self._run_only[config.name] = config
        self._apply()
        return [c.name for c in configs], skipped

    # ---- tokens (keychain only) ----------------------------------------------------------------

    def token(self, name: str) -> str | None:
        """A server's token from the keychain (None when there is none or no keychain)."""
        try:
            return self._secrets.get(token_ref(name))
        except KeychainError:
            return None

    def set_token(self, name: str, token: str | None) -> None:
        """Save (or, with None, delete) a server's token in the keychain. Raises KeychainError."""
        if token:
            self._secrets.set(token_ref(name), token)
        else:
            with contextlib.suppress(KeychainError):
                self._secrets.delete(token_ref(name))
        self._apply()

    # ---- status ------------------------------------------------------------------------------------

    def status(self, name: str) -> ServerStatus:
        """A server's live status."""
        return self.host.status(name) or ServerStatus(name, ServerState.STOPPED)

    async def restart(self, name: str) -> bool:
        """Start a server again now (after fixing its configuration); True when ready."""
        await warmed_up()
        return await self.host.restart(name)

    async def start_all(self) -> list[ServerStatus]:
        """Start every enabled server (as before an answer) and return their statuses."""
        await warmed_up()
        await self.host.tools()
        return self.host.statuses()

    async def _registry_tools(self) -> list[Any]:
        await warmed_up()  # pydantic (which mcp needs too) is imported by one thread only
        return await self.host.registry_tools()

    def close(self) -> None:
        """Stop every server process (at quit)."""
        self.host.close()

    # ---- internals ---------------------------------------------------------------------------------

    def _on_setting(self, key: str) -> None:
        if key == MCP_SERVERS.key:
            self._apply()

    def _apply(self) -> None:
        configs = []
        for saved in self.servers():
            token = self.token(saved.name) if saved.url else None
            if token and "authorization" not in {k.lower() for k in saved.headers}:
                saved = _with_header(saved, "Authorization", f"Bearer {token}")  # noqa: PLW2901
            configs.append(saved)
        self.host.set_servers(configs)
        self.servers_changed.emit()

    def _on_status(self, status: object) -> None:
        if isinstance(status, ServerStatus):
            self.status_changed.emit(status)


def _set_flag(entry: dict[str, Any], key: str, value: bool) -> None:
    if value:
        entry[key] = True
    else:
        entry.pop(key, None)


def _with_header(config: McpServerConfig, key: str, value: str) -> McpServerConfig:
    from dataclasses import replace

    return replace(config, headers={**config.headers, key: value})
