"""The JSON export: every chosen conversation in one file, the lossless format the importers read back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop_chat.interchange.files import Cancelled, Progress, export_records, write_atomic
from desktop_chat.interchange.format import export_document
from desktop_chat.storage import Repo


def dumps(document: dict[str, Any]) -> str:
    """The export's text: deterministic (sorted keys, one-space indent), UTF-8 as is."""
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def exported_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the JSON export writes it: messages by created_at, then uuid."""
    record["messages"] = sorted(record["messages"], key=lambda m: (m["created_at"], m["uuid"]))
    return record


def export_json(
    repo: Repo,
    conversation_ids: Sequence[int] | None,
    path: Path,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """Write these conversations (None: all, archived too) to one JSON file; returns how many.

    Cancelling writes nothing (and returns 0). Conversations that cannot be read are logged and left out.
    """
    chosen = export_records(repo, conversation_ids, progress=progress, cancelled=cancelled)
    records = [exported_record(record) for record in chosen]
    if cancelled is not None and cancelled():
        return 0
    text = dumps(export_document(records))
    if cancelled is not None and cancelled():
        return 0
    write_atomic(path, text)
    return len(records)
