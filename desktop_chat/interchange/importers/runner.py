"""Importing a file: every entry read by its format's reader, each conversation stored whole or skipped.

Every source is first turned into records of the export format (`desktop_chat.interchange.format`);
each conversation is then stored in its own savepoint, so a bad entry is skipped whole and reported,
never stored in part. Re-importing is idempotent: conversation ids map to stable uuids, and a
conversation whose uuid is already stored is left as it is ("unchanged").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_chat.interchange.format import FORMAT, tree_from_record
from desktop_chat.interchange.importers.chatgpt import from_chatgpt
from desktop_chat.interchange.importers.claude import from_claude
from desktop_chat.interchange.importers.detect import detect_format, read_export
from desktop_chat.interchange.importers.shared import ImportEntryError, stable_uuid
from desktop_chat.interchange.importers.this_app import from_desktop_chat
from desktop_chat.storage import Repo

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
Batch = Callable[[Repo], None]

BATCH_SIZE = 200  # conversations per commit (each still all-or-nothing on its own)


@dataclass
class ImportReport:
    """What an import did: the format read, conversations stored, already present, and what was skipped
    (each with the reason), and whether it was cancelled before the end."""

    format: str
    imported: int
    unchanged: int
    skipped: list[str]
    cancelled: bool = False


def import_file(
    repo: Repo,
    path: Path,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    run_batch: Callable[[Batch], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import every conversation in an export file (this app's JSON, ChatGPT's conversations.json or its
    data-export .zip, Claude's conversations.json). Raises ValueError when the file is not one of these.

    `progress(done, total)` after each conversation; `cancelled()` is checked between conversations, and
    what was imported before stays. Each batch of `batch_size` conversations is one transaction, written
    by `run_batch(batch)` (the app hands it to its writer thread; by default it runs here on `repo`).
    """
    data, files = read_export(path)
    fmt = detect_format(data)
    if fmt == FORMAT:
        entries = data.get("conversations")
        if not isinstance(entries, list):
            raise ValueError('a desktop_chat export without a "conversations" list')
    else:
        entries = data if isinstance(data, list) else [data]
    images = _image_names(files)
    report = ImportReport(fmt, 0, 0, [])
    total = len(entries)
    done = 0

    def batch(target: Repo) -> None:
        nonlocal done
        with target.import_batch():  # each conversation is its own savepoint inside the batch
            for entry in entries[done : done + batch_size]:
                if cancelled is not None and cancelled():
                    report.cancelled = True
                    break
                done += 1
                _import_entry(target, entry, fmt, done, images=images, report=report)
                if progress is not None:
                    progress(done, total)

    write = run_batch or (lambda job: job(repo))
    while done < total and not report.cancelled:
        write(batch)
    return report


def _import_entry(
    repo: Repo, entry: Any, fmt: str, number: int, *, images: list[str], report: ImportReport
) -> None:
    """Store one entry whole, or add why it was skipped to the report."""
    label = entry_label(entry, fmt, number)
    notes: list[str] = []
    try:
        if not isinstance(entry, dict):
            raise ImportEntryError(f"not a conversation object (found {type(entry).__name__})")
        known = _conversation_uuid(entry, fmt)
        if known is not None and repo.conversation_uuid_exists(known):
            report.unchanged += 1  # already stored: not even read
            return
        if fmt == FORMAT:
            record = from_desktop_chat(entry, notes)
        elif fmt == "chatgpt":
            record = from_chatgpt(entry, images, notes)
        else:
            record = from_claude(entry, notes)
        stored = repo.insert_conversation_tree(tree_from_record(record))
    except Exception as exc:  # one bad entry must not stop the others
        reason = (
            str(exc)
            if isinstance(exc, ImportEntryError)
            else f"could not be imported ({type(exc).__name__}: {exc})"
        )
        report.skipped.append(f"{label}: {reason}")
        log.warning("Import skipped %s: %s", label, reason)
        return
    if stored is None:
        report.unchanged += 1
    else:
        report.imported += 1
        report.skipped.extend(f"{label}: {note}" for note in notes)


def _conversation_uuid(entry: dict[str, Any], fmt: str) -> str | None:
    """The uuid an entry will be stored under, when it is cheap to know before reading the entry."""
    if fmt == FORMAT:
        value = entry.get("uuid")
        return value if isinstance(value, str) else None
    ident = entry.get("conversation_id") or entry.get("id") if fmt == "chatgpt" else entry.get("uuid")
    if isinstance(ident, str | int) and not isinstance(ident, bool) and str(ident).strip():
        return stable_uuid(fmt, ident)
    return None


def entry_label(entry: Any, fmt: str, number: int) -> str:
    """How the report names an entry: its title and id, or its number in the file."""
    if not isinstance(entry, dict):
        return f"entry {number}"
    if fmt == "chatgpt":
        title, ident = entry.get("title"), entry.get("conversation_id") or entry.get("id")
    elif fmt == "claude":
        title, ident = entry.get("name"), entry.get("uuid")
    else:
        title, ident = entry.get("title"), entry.get("uuid")
    title = title if isinstance(title, str) and title.strip() else "untitled"
    return f"conversation {' '.join(title.split())[:80]!r} (id {ident if ident else f'#{number}'})"


def _image_names(files: list[str]) -> list[str]:
    """The data export's file names that may hold images (`file-abc-photo.png`), sorted."""
    return sorted(n for n in files if n.startswith(("file-", "file_")))
