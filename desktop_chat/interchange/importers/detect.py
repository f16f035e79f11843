"""Reading an export file (JSON, or a data-export .zip) and telling which format it is."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from desktop_chat.interchange.format import FORMAT, FORMAT_VERSION


def detect_format(data: Any) -> str:
    """ "desktop_chat", "chatgpt" or "claude" for parsed export JSON; ValueError saying why otherwise."""
    if isinstance(data, dict):
        if data.get("format") == FORMAT:
            version = data.get("version")
            if not isinstance(version, int) or isinstance(version, bool):
                raise ValueError('a desktop_chat export without a valid "version" number')
            if version > FORMAT_VERSION:
                raise ValueError(
                    f"written by a newer desktop_chat (format version {version}; this version reads "
                    f"up to {FORMAT_VERSION}): update desktop_chat to import it"
                )
            return FORMAT
        if "mapping" in data:
            return "chatgpt"
        if "chat_messages" in data:
            return "claude"
        raise ValueError(
            'not a conversation export: a JSON object without "format": "desktop_chat" '
            "(nor a single ChatGPT or Claude conversation)"
        )
    if isinstance(data, list):
        for entry in data:
            if isinstance(entry, dict):
                if "mapping" in entry or "current_node" in entry:
                    return "chatgpt"
                if "chat_messages" in entry:
                    return "claude"
        raise ValueError(
            'a JSON list, but no entry looks like a ChatGPT conversation (with a "mapping") or a Claude '
            'conversation (with "chat_messages")'
        )
    raise ValueError(
        f"not a conversation export: expected a JSON object or list, found {type(data).__name__}"
    )


def read_export(path: Path) -> tuple[Any, list[str]]:
    """The parsed JSON of an export file, or of the `conversations.json` inside a data-export .zip, and the
    names of the zip's other files (to name images)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            candidates = sorted((n for n in names if PurePosixPath(n).name == "conversations.json"), key=len)
            if not candidates:
                raise ValueError(f"{path.name} is a .zip without a conversations.json")
            raw = archive.read(candidates[0])
            others = [PurePosixPath(n).name for n in names if n != candidates[0]]
    else:
        raw, others = path.read_bytes(), []
    try:
        return json.loads(raw.decode("utf-8-sig")), others
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not UTF-8 text: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not valid JSON: {exc}") from exc
