"""The text of the MCP server form: command lines and environments as a person types them, and the
short lines that describe a server or a tool in a list."""

from __future__ import annotations

import shlex
from pathlib import Path

from desktop_chat.services.mcp import McpServerConfig


def parse_command(text: str) -> tuple[str, tuple[str, ...]]:
    """A command line split as a shell would (quotes, backslashes): (command, args); ValueError."""
    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"The command line cannot be read ({exc}); check its quotes.") from None
    return (parts[0], tuple(parts[1:])) if parts else ("", ())


def format_command(command: str, args: tuple[str, ...] | list[str]) -> str:
    """The editable command line (quoted where needed)."""
    return shlex.join([command, *args]) if command else ""


def parse_env(text: str) -> dict[str, str]:
    """`KEY=VALUE` lines (blank lines ignored) as a dict; raises ValueError naming the bad line."""
    env: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise ValueError(f"Environment line {n} is not “KEY=VALUE”.")
        env[key] = value
    return env


def format_env(env: dict[str, str]) -> str:
    """The editable text of an environment (one `KEY=VALUE` per line)."""
    return "\n".join(f"{key}={value}" for key, value in env.items())


def first_sentence(text: str) -> str:
    """The first sentence of a description (for one line of a list)."""
    text = " ".join(text.split())
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


def transport_text(config: McpServerConfig, *, short: bool = False) -> str:
    """What a server runs or where it is: its command line or its URL."""
    if not config.command:
        return config.url
    command = Path(config.command).name if short else config.command
    return format_command(command, config.args)
