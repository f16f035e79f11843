"""Exporting conversations in one of the three forms: `json` (one file), `md` or `html` (a folder).

No Qt here: plain functions over the repo, safe to run on a worker thread. The forms are described in
docs/export-format.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desktop_chat.interchange.files import Cancelled, Progress, export_records, file_stem, write_atomic
from desktop_chat.interchange.html_writer import html_document
from desktop_chat.interchange.json_writer import export_json
from desktop_chat.interchange.markdown_writer import markdown_document
from desktop_chat.storage import Repo

FORMATS = ("json", "md", "html")
_PAGES: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "md": (".md", markdown_document),
    "html": (".html", html_document),
}


def export(
    fmt: str,
    repo: Repo,
    conversation_ids: Sequence[int] | None,
    path: Path,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """Export these conversations (None: all, archived too) as `fmt`; returns how many were written.

    `json` writes the one file `path` (a cancel writes nothing); `md` and `html` write one file per
    conversation (its active branch) into the folder `path` (a cancel keeps those already written).
    `progress(done, total)` after each conversation; ones that cannot be read are logged and left out.
    """
    if fmt == "json":
        return export_json(repo, conversation_ids, path, progress=progress, cancelled=cancelled)
    if fmt not in _PAGES:
        raise ValueError(f"unknown format {fmt!r}")
    suffix, render = _PAGES[fmt]
    path.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    written = 0
    for record in export_records(repo, conversation_ids, progress=progress, cancelled=cancelled):
        write_atomic(path / f"{file_stem(record, used)}{suffix}", render(record))
        written += 1
    return written
