"""A tool that reads a text file the person attached to the conversation (and no other file)."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_chat.tools.registry import ToolResult, ToolSpec

MAX_CHARS = 200_000
SNIFF_BYTES = 8192


class FileRefused(Exception):
    """A file that cannot be read as text (the message is for the model)."""


@dataclass(frozen=True, slots=True)
class TextFile:
    """What was read of a file."""

    text: str
    truncated: bool
    size: int  # bytes on disk


def _pick(requested: str, allowed: Sequence[Path]) -> Path | None:
    """The attached file the request names: the same resolved path, or a bare name unique among them."""
    resolved = {p.resolve(): p for p in allowed}
    target = Path(requested).expanduser().resolve()
    if target in resolved:
        return target
    if os.sep not in requested and "/" not in requested and requested not in (".", ".."):
        named = [r for r in resolved if r.name == requested]
        if len(named) == 1:
            return named[0]
    return None


def read_text(path: Path, limit: int = MAX_CHARS) -> TextFile:
    """At most `limit` characters of a text file, decoded as UTF-8 (bad bytes replaced)."""
    with path.open("rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        if b"\x00" in raw.read(SNIFF_BYTES):
            raise FileRefused(f"{path.name} is not a text file (it looks binary).")
        raw.seek(0)
        with io.TextIOWrapper(raw, encoding="utf-8", errors="replace") as text:
            content = text.read(limit + 1)
    return TextFile(content[:limit], len(content) > limit, size)


class ReadTextFileTool:
    """Reads one of the files the person attached to the conversation."""

    spec = ToolSpec(
        name="read_text_file",
        description=(
            "Read a text file that the user attached to this conversation (only attached files can be "
            f"read). Returns up to {MAX_CHARS:,} characters of its content."
        ),
        parameters={
            "type": "object",
            "properties": {
                "path": {
                    "type": "string",
                    "description": "The attached file's full path (or its file name, if unique)",
                }
            },
            "required": ["path"],
        },
        needs_approval=True,
    )

    def __init__(self, allowed: Callable[[], Sequence[Path]]) -> None:
        self._allowed = allowed

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        """The file's text, after a header line with its name."""
        requested = arguments.get("path")
        if not isinstance(requested, str) or not requested.strip():
            return ToolResult("Pass the attached file's path as a string in 'path'.", True)
        allowed = list(self._allowed())
        if not allowed:
            return ToolResult(
                "No files are attached to this conversation, so there is nothing to read.", True
            )
        try:
            path = await asyncio.to_thread(_pick, requested.strip(), allowed)
        except (OSError, RuntimeError, ValueError) as exc:  # unresolvable path (loop, bad characters)
            return ToolResult(f"Cannot use the path {requested!r}: {exc}", True)
        if path is None:
            names = ", ".join(sorted(p.name for p in allowed))
            return ToolResult(
                f"{requested!r} is not a file the user attached; only these can be read: {names}.", True
            )
        try:
            read = await asyncio.to_thread(read_text, path)
        except FileRefused as exc:
            return ToolResult(str(exc), True)
        except FileNotFoundError:
            return ToolResult(f"The attached file {path.name} no longer exists ({path}).", True)
        except IsADirectoryError:
            return ToolResult(f"{path} is a folder, not a file.", True)
        except PermissionError:
            return ToolResult(f"Permission denied reading {path}.", True)
        except OSError as exc:
            return ToolResult(f"Could not read {path}: {exc.strerror or exc}", True)
        header = f"File: {path} ({read.size:,} bytes)"
        if read.truncated:
            note = f"\n\n[Truncated: only the first {MAX_CHARS:,} characters of the file are shown.]"
            return ToolResult(f"{header}\n\n{read.text}{note}")
        return ToolResult(f"{header}\n\n{read.text}")
