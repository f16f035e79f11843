"""The tools the model may call, as the window sees them: names, what each does, which are switched off.

The registry itself (running calls, MCP servers' tools coming and going) belongs to the services; the
window reads and changes the tool choice only through `ToolService`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject

from desktop_chat.settings import DISABLED_TOOLS, Settings
from desktop_chat.tools.registry import Tool, ToolRegistry


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """What a person is told about a tool."""

    name: str
    description: str
    needs_approval: bool
    server: str | None = None  # the MCP server that offers it (None: built in)


class ToolService(QObject):
    """The tool catalogue; the `tools/disabled` setting decides which tools are offered.

    Signals: none (the setting's own `changed` announces switching tools on and off; MCP servers'
    tools arrive with `McpService.status_changed`).
    """

    def __init__(self, registry: ToolRegistry, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._registry = registry
        self._settings = settings
        self._apply_disabled()
        settings.changed_for(DISABLED_TOOLS).connect(self._apply_disabled)

    def _apply_disabled(self, _key: str = "") -> None:
        self._registry.disabled = {str(n) for n in self._settings.get(DISABLED_TOOLS)}

    @property
    def disabled(self) -> frozenset[str]:
        """Tools the person switched off."""
        return frozenset(self._registry.disabled)

    def register(self, tool: Tool) -> None:
        """Add (or replace) a fixed tool."""
        self._registry.register(tool)

    def names(self, *, include_disabled: bool = False) -> list[str]:
        """Tool names, sorted (switched-off ones only when asked)."""
        return self._registry.names(include_disabled=include_disabled)

    async def refresh(self) -> None:
        """Ask the MCP servers for their tools now (they start if they have not yet)."""
        await self._registry.refresh()

    def describe(self, name: str) -> ToolInfo | None:
        """What a tool is, for people; None when there is no such tool."""
        tool = self._registry.get(name)
        if tool is None:
            return None
        spec = tool.spec
        server = getattr(getattr(tool, "info", None), "server", None)
        return ToolInfo(spec.name, spec.description, spec.needs_approval, server if server else None)

    def builtin(self) -> list[ToolInfo]:
        """The tools that come with the app (switched off ones included), sorted by name."""
        found = (self.describe(n) for n in self._registry.names(include_disabled=True))
        return [info for info in found if info is not None and info.server is None]
