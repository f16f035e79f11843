"""Importing conversations: this app's JSON export (lossless), ChatGPT's and Claude's data exports.

`import_file` (in `runner`) is the entry point; `detect` tells the formats apart, and `this_app`,
`chatgpt` and `claude` each turn one entry into a record of the export format.
"""

from __future__ import annotations

from desktop_chat.interchange.importers.detect import detect_format, read_export
from desktop_chat.interchange.importers.runner import BATCH_SIZE, ImportReport, import_file
from desktop_chat.interchange.importers.shared import parse_timestamp, stable_uuid

__all__ = [
    "BATCH_SIZE",
    "ImportReport",
    "detect_format",
    "import_file",
    "parse_timestamp",
    "read_export",
    "stable_uuid",
]
