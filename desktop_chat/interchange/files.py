"""Reading the conversations to export, and writing export files: atomically (a crash or a cancel never
leaves half a file), with portable names."""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from desktop_chat.interchange.format import record_from_tree
from desktop_chat.storage import NotFoundError, Repo

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, flush it to disk, rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_stem(record: dict[str, Any], used: set[str]) -> str:
    """A portable file name (no extension) from the title's slug and the uuid's start; unique in `used`."""
    ascii_title = unicodedata.normalize("NFKD", str(record.get("title") or "")).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.decode().lower()).strip("-")[:60].strip("-")
    slug = slug or "conversation"
    uid = str(record["uuid"])
    stem = f"{slug}-{uid[:8]}"
    if stem in used:
        stem = f"{slug}-{uid}"
    n = 2
    while stem in used:
        stem = f"{slug}-{uid}-{n}"
        n += 1
    used.add(stem)
    return stem


def read_record(repo: Repo, conversation_id: int) -> dict[str, Any] | None:
    """One stored conversation's record (messages in stored order), or None (logged) when it cannot be
    read."""
    try:
        return record_from_tree(repo.conversation_tree(conversation_id))
    except (NotFoundError, ValueError, TypeError) as exc:
        log.warning("Conversation %s left out of the export: %s", conversation_id, exc)
        return None


def export_records(
    repo: Repo,
    conversation_ids: Sequence[int] | None,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Iterator[dict[str, Any]]:
    """The records of these conversations (None: all, archived too) in export order, those that can be
    read; `progress(done, total)` after each conversation; stops early once `cancelled()`."""
    ids = repo.conversation_ids_for_export(conversation_ids)
    for done, cid in enumerate(ids, 1):
        if cancelled is not None and cancelled():
            return
        record = read_record(repo, cid)
        if record is not None:
            yield record
        if progress is not None:
            progress(done, len(ids))
