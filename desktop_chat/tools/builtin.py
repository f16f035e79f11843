"""Built-in tools: the clock, a calculator, history search, attached files, and web pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desktop_chat.tools.calculator import CalculatorTool
from desktop_chat.tools.conversation_search import ConversationSearchTool, Hit
from desktop_chat.tools.registry import Tool, ToolResult, ToolSpec
from desktop_chat.tools.text_files import ReadTextFileTool
from desktop_chat.tools.web_fetch import WebFetchTool

if TYPE_CHECKING:
    import httpx2


class CurrentDateTime:
    """The current date and time, in the person's time zone or a named one."""

    spec = ToolSpec(
        name="current_datetime",
        description=(
            "Get the current date, time and weekday. Without arguments it uses the user's local time zone; "
            "pass an IANA time zone name (for example 'Europe/Paris' or 'America/New_York') for another one."
        ),
        parameters={
            "type": "object",
            "properties": {
                "timezone": {
                    "type": "string",
                    "description": "IANA time zone name; omit for the user's local time zone",
                }
            },
        },
    )

    def __init__(self, now: Any = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        """The time now, as ISO 8601 plus a readable line."""
        zone_name = arguments.get("timezone")
        now: datetime = self._now()
        if zone_name:
            try:
                local = now.astimezone(ZoneInfo(str(zone_name)))
            except (ZoneInfoNotFoundError, ValueError):
                return ToolResult(
                    f"Unknown time zone {zone_name!r}; use an IANA name like 'Europe/Paris'.", True
                )
            label = str(zone_name)
        else:
            local = now.astimezone()
            label = local.tzname() or "local time"
        return ToolResult(
            f"{local.isoformat(timespec='seconds')} ({local:%A %d %B %Y, %H:%M}, {label}, UTC{local:%z})"
        )


def builtin_tools(
    *,
    search: Callable[[str, int], Sequence[Hit]] | None = None,
    attached_files: Callable[[], Sequence[Path]] | None = None,
    web_client_factory: Callable[[], httpx2.AsyncClient] | None = None,
) -> list[Tool]:
    """Every built-in tool: history search and file reading only when their sources are given."""
    tools: list[Tool] = [CurrentDateTime(), CalculatorTool()]
    if search is not None:
        tools.append(ConversationSearchTool(search))
    if attached_files is not None:
        tools.append(ReadTextFileTool(attached_files))
    tools.append(WebFetchTool(web_client_factory))
    return tools
