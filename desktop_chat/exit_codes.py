"""The process exit codes of `desktop-chat`, the window app and its headless commands alike."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2  # a usage error, or no display for the window
EXIT_STORE_REFUSED = 3  # the database is newer or unreadable; it is left untouched
