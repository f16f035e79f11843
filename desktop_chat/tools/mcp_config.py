"""MCP server configuration: the `mcpServers` block other MCP clients use, read from settings or a file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 60.0  # seconds a call may run (per server, configurable)


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One server: a command (stdio) or a URL (streamable HTTP)."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT
    disabled_tools: frozenset[str] = frozenset()

    @property
    def transport(self) -> str:
        """ "stdio" or "http"."""
        return "stdio" if self.command else "http"

    def to_json(self) -> dict[str, Any]:
        """The `mcpServers` entry (the format other MCP clients use), plus this app's own keys."""
        out: dict[str, Any] = {}
        if self.command:
            out["command"] = self.command
            if self.args:
                out["args"] = list(self.args)
            if self.env:
                out["env"] = dict(self.env)
            if self.cwd:
                out["cwd"] = self.cwd
        else:
            out["url"] = self.url
            if self.headers:
                out["headers"] = dict(self.headers)
        if not self.enabled:
            out["disabled"] = True
        if self.timeout != DEFAULT_TIMEOUT:
            out["timeout"] = self.timeout
        if self.disabled_tools:
            out["disabledTools"] = sorted(self.disabled_tools)
        return out


def parse_mcp_servers(data: Any) -> tuple[list[McpServerConfig], list[str]]:
    """The servers of an `mcpServers` block (or of a whole file holding one), and what was skipped, why."""
    block = data.get("mcpServers", data) if isinstance(data, Mapping) else None
    if not isinstance(block, Mapping):
        return [], ['there is no "mcpServers" object']
    servers: list[McpServerConfig] = []
    skipped: list[str] = []
    for name, entry in block.items():
        if not isinstance(entry, Mapping):
            skipped.append(f"{name}: not an object")
            continue
        try:
            servers.append(_server_from_json(str(name), entry))
        except (TypeError, ValueError) as exc:
            skipped.append(f"{name}: {exc}")
    return servers, skipped


def _server_from_json(name: str, entry: Mapping[str, Any]) -> McpServerConfig:
    command = entry.get("command") or ""
    url = entry.get("url") or entry.get("serverUrl") or ""
    if not isinstance(command, str) or not isinstance(url, str):
        raise ValueError("command and url must be text")
    if not command and not url:
        raise ValueError("needs a command (stdio) or a url (streamable HTTP)")
    args = entry.get("args") or []
    env = entry.get("env") or {}
    headers = entry.get("headers") or {}
    if not isinstance(args, list) or not all(isinstance(a, str | int | float) for a in args):
        raise ValueError("args must be a list of strings")
    if not isinstance(env, Mapping) or not isinstance(headers, Mapping):
        raise ValueError("env and headers must be objects")
    timeout = entry.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    disabled_tools = entry.get("disabledTools") or []
    return McpServerConfig(
        name=name,
        command=command,
        args=tuple(str(a) for a in args),
        env={str(k): str(v) for k, v in env.items()},
        cwd=str(entry["cwd"]) if entry.get("cwd") else None,
        url=url if not command else "",
        headers={str(k): str(v) for k, v in headers.items()},
        enabled=not bool(entry.get("disabled", False)),
        timeout=float(timeout),
        disabled_tools=frozenset(str(t) for t in disabled_tools),
    )


def load_mcp_config(path: Path) -> tuple[list[McpServerConfig], list[str]]:
    """Read a JSON config file's `mcpServers` block; raises ValueError with a clear message."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_mcp_servers(data)
