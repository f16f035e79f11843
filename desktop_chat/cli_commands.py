"""The commands `desktop-chat COMMAND ...` runs without a window: one list, for every place that names them.

The window app's `--help`, its dispatch to the headless CLI (`app.main`) and the CLI's own parser
(`cli.build_parser`) all read `COMMANDS`; what each command does is in `cli`.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class CliCommand(NamedTuple):
    """One command: its name, its line in `desktop-chat COMMAND --help`, and its own `--help` text."""

    name: str
    help: str
    description: str


COMMANDS: Final = (
    CliCommand(
        "export",
        "write conversations as Markdown, HTML or JSON",
        "Write conversations (all of them unless --conversation names some) as Markdown or "
        "HTML files in a folder, or as one JSON file that `desktop-chat import` reads back.",
    ),
    CliCommand(
        "import",
        "import conversations from an export file",
        "Import conversations from a file; its format is detected. Conversations already "
        "in the history are left as they are.",
    ),
    CliCommand(
        "search",
        "full-text search of the history",
        'Search every message: words must all match, "quoted phrases", -word excludes, '
        "word* matches a prefix. Newest first.",
    ),
    CliCommand(
        "backup",
        "copy the database to a file (also while the app runs)",
        "Copy the database to PATH with SQLite's online backup, checked before it is "
        "written; the app may keep running meanwhile.",
    ),
    CliCommand(
        "restore",
        "replace the database by a backup (the current one is kept aside)",
        "Check a backup, keep the current database as <database>.before-restore-<time>, "
        "and put the backup in its place. Quit the app first.",
    ),
)
COMMAND_NAMES: Final = tuple(command.name for command in COMMANDS)


def is_cli_command(arguments: list[str]) -> bool:
    """True when a command line asks for a headless command (its first word names one)."""
    return bool(arguments) and arguments[0] in COMMAND_NAMES
