"""One registry for every tool the model may call: built-in ones now, MCP servers' later, all alike.

A tool has a name, a description, JSON-schema parameters and an async `run`. Whatever goes wrong in a
call (unknown tool, arguments that are not JSON, an exception, a timeout) becomes an error *result* that
goes back to the model, never a crash of the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the model is told about a tool."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    needs_approval: bool = False  # touches the network or files: ask the person first
    timeout: float | None = None  # seconds a call may take (None: the registry's default)

    def api(self) -> dict[str, Any]:
        """The entry for the request's `tools` list."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a call returned: text for the model, or an error message for it."""

    text: str
    is_error: bool = False


def text_argument(arguments: dict[str, Any], name: str) -> str | None:
    """The string argument `name` without surrounding white space; None when missing, not text or blank."""
    value = arguments.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


class Tool(Protocol):
    """Anything the registry can run."""

    @property
    def spec(self) -> ToolSpec:
        """Name, description, parameters."""
        ...

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        """Do the work (may be cancelled at any await)."""
        ...


ToolSource = Callable[[], Awaitable[list[Tool]]]
"""Tools that come and go (an MCP server's): asked again before each answer."""


class ToolRegistry:
    """Tools by name: fixed ones (built in) and those of sources (MCP servers), alike to callers."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._sources: list[ToolSource] = []
        self._dynamic: dict[str, Tool] = {}
        self.disabled: set[str] = set()  # switched off by the person
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        """Add (or replace) a tool."""
        self._tools[tool.spec.name] = tool

    def add_source(self, source: ToolSource) -> None:
        """Tools that `refresh()` asks for again each time."""
        self._sources.append(source)

    async def refresh(self) -> None:
        """Ask every source for its tools now (a source that fails adds none)."""
        dynamic: dict[str, Tool] = {}
        for source in self._sources:
            try:
                for tool in await source():
                    dynamic.setdefault(tool.spec.name, tool)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("A tool source failed", exc_info=True)
        self._dynamic = dynamic

    def _all(self) -> dict[str, Tool]:
        return {**self._dynamic, **self._tools}

    def names(self, *, include_disabled: bool = False) -> list[str]:
        """Tool names, sorted (switched-off ones only when asked)."""
        return sorted(n for n in self._all() if include_disabled or n not in self.disabled)

    def get(self, name: str) -> Tool | None:
        """A tool by name."""
        return self._tools.get(name) or self._dynamic.get(name)

    def api_tools(self, enabled: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The request's `tools` list: tools not switched off, and only the `enabled` names if given."""
        wanted = None if enabled is None else set(enabled)
        return [
            t.spec.api()
            for n, t in sorted(self._all().items())
            if n not in self.disabled and (wanted is None or n in wanted)
        ]

    async def run(self, name: str, arguments: str, *, timeout: float = DEFAULT_TIMEOUT) -> ToolResult:
        """Run a call as the model sent it (arguments as JSON text); failures are error results."""
        tool = self.get(name)
        if tool is None or name in self.disabled:
            return ToolResult(f"There is no tool named {name!r}. Available: {', '.join(self.names())}.", True)
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            return ToolResult(f"The arguments are not valid JSON ({exc.msg}): {arguments[:200]}", True)
        if not isinstance(parsed, dict):
            return ToolResult("The arguments must be a JSON object.", True)
        limit = tool.spec.timeout or timeout
        try:
            return await asyncio.wait_for(tool.run(parsed), limit)
        except TimeoutError:
            return ToolResult(f"The tool {name} did not finish within {limit:g} s.", True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool's bug is the model's error message, not our crash
            log.warning("Tool %s failed", name, exc_info=True)
            return ToolResult(f"The tool {name} failed: {type(exc).__name__}: {exc}", True)
