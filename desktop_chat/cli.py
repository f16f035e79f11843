"""`desktop-chat COMMAND ...`: export, import, search, backup and restore without a window.

Headless by design: nothing here creates a QApplication or imports QtWidgets/QtGui, so every command
runs over SSH, in cron jobs and in CI without a display, and nothing imports the window's composition
root (`app`). Exit codes are the app's (`exit_codes`): 0 done, 1 failed, 2 usage error, 3 the database
was refused (newer schema or unreadable; it is left untouched). The commands are `cli_commands.COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from desktop_chat.cli_commands import COMMANDS
from desktop_chat.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_STORE_REFUSED, EXIT_USAGE
from desktop_chat.paths import resolve_paths

if TYPE_CHECKING:
    from desktop_chat.storage import Store

PROG = "desktop-chat"
EPILOG = (
    "The database is the one in --data-dir DIR (default: the app's own data folder). "
    "Exit codes: 0 done, 1 failed, 2 usage error, 3 database refused (newer or unreadable)."
)


class CommandError(Exception):
    """A command failed in a way a person can act on; `str()` says how. Exit code 1."""


class Progress:
    """`label done/total` on one stderr line, only when asked or when stderr is a terminal."""

    def __init__(self, label: str, *, enabled: bool, stream: IO[str] | None = None) -> None:
        self._label = label
        self._stream = stream or sys.stderr
        self.enabled = enabled
        self._shown = False
        self._last = 0.0
        self._said: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or self._said == (done, total):
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last, self._said = now, (done, total)
        self._shown = True
        self._stream.write(f"\r{self._label} {done}/{total}")
        self._stream.flush()

    def close(self) -> None:
        """End the progress line (before the summary)."""
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
            self._shown = False


def _say(text: str) -> None:
    """The one-line summary every command ends with (stderr: stdout stays the command's data)."""
    print(text, file=sys.stderr, flush=True)


def _fail(text: str) -> None:
    print(f"desktop_chat: {text}", file=sys.stderr, flush=True)


# ---- the parser -----------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", help="the data folder whose database is used")
    return common


def _with_progress() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--progress", action="store_true", help="show progress on stderr (default: only on a terminal)"
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """`desktop-chat COMMAND ...`."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="desktop_chat's commands that run without a window.", epilog=EPILOG
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, progress = _common(), _with_progress()
    for command in COMMANDS:
        how = _HOW[command.name]
        how.arguments(
            sub.add_parser(
                command.name,
                parents=[common, progress] if how.progress else [common],
                help=command.help,
                description=command.description,
                epilog=EPILOG,
            )
        )
    return parser


def _export_arguments(export: argparse.ArgumentParser) -> None:
    export.add_argument("--format", required=True, choices=("md", "html", "json"), help="what to write")
    export.add_argument(
        "--conversation",
        type=int,
        action="append",
        metavar="ID",
        help="export this conversation (repeat for more; default: all)",
    )
    export.add_argument(
        "--output", required=True, metavar="PATH", help="a folder for md and html, a file for json"
    )


def _search_arguments(search: argparse.ArgumentParser) -> None:
    search.add_argument("query", metavar="QUERY", help="what to look for")
    search.add_argument("--limit", type=int, default=20, metavar="N", help="at most N hits (default: 20)")
    search.add_argument("--json", action="store_true", help="print one JSON array of hits")


def _path_argument(help_text: str) -> Callable[[argparse.ArgumentParser], None]:
    """The arguments of a command that takes one PATH."""

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path", metavar="PATH", help=help_text)

    return arguments


# ---- the commands ---------------------------------------------------------------------------


def _db_path(args: argparse.Namespace) -> Path:
    from desktop_chat.storage import database_path

    return database_path(resolve_paths(args.data_dir).data_dir)


def _open(args: argparse.Namespace, *, create: bool = False) -> Store:
    """The store of --data-dir. Unfinished answers are left alone: the app may be running."""
    from desktop_chat.storage import open_store

    path = _db_path(args)
    if not create and not path.is_file():
        raise CommandError(f"There is no database at {path}; nothing to do.")
    return open_store(path, recover=False)


def _export(args: argparse.Namespace) -> int:
    try:
        from desktop_chat.interchange.export import export
    except ImportError as exc:
        raise CommandError(f"`export` is not available in this build: {exc}") from exc
    from desktop_chat.storage import NotFoundError

    output = Path(args.output).expanduser()
    if args.format == "json" and output.is_dir():
        raise CommandError(f"{output} is a folder; --format json writes one file.")
    if args.format != "json" and output.exists() and not output.is_dir():
        raise CommandError(f"{output} is a file; --format {args.format} writes a folder of files.")
    store = _open(args)
    progress = Progress("Exporting", enabled=args.progress or sys.stderr.isatty())
    try:
        ids: list[int] | None = args.conversation
        for cid in ids or ():
            try:
                store.repo.get_conversation(cid)
            except NotFoundError:
                raise CommandError(f"There is no conversation {cid}.") from None
        count = export(args.format, store.repo, ids, output, progress=progress)
    except OSError as exc:
        raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from exc
    finally:
        progress.close()
        store.close()
    _say(f"Exported {count} conversation(s) as {args.format} to {output}")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser()
    if not path.is_file():
        raise CommandError(f"Cannot read {path}: no such file.")
    try:
        from desktop_chat.interchange.importers import import_file
    except ImportError as exc:
        raise CommandError(f"`import` is not available in this build: {exc}") from exc
    store = _open(args, create=True)
    progress = Progress("Importing", enabled=args.progress or sys.stderr.isatty())
    try:
        report = import_file(store.repo, path, progress=progress)
    except (OSError, ValueError) as exc:
        raise CommandError(f"Cannot import {path}: {exc}") from exc
    finally:
        progress.close()
        store.close()
    for reason in report.skipped:
        print(f"skipped: {reason}")
    _say(
        f"Imported {report.imported} conversation(s) from {path} ({report.format}); "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped"
    )
    return EXIT_OK


def _marked(snippet: str, start: str, end: str) -> str:
    from desktop_chat.domain import HIGHLIGHT_END, HIGHLIGHT_START

    return snippet.replace(HIGHLIGHT_START, start).replace(HIGHLIGHT_END, end).replace("\n", " ")


def _search(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise _UsageError("--limit must be at least 1")
    store = _open(args)
    try:
        page = store.repo.search(args.query, limit=args.limit)
    finally:
        store.close()
    if args.json:
        hits = [
            {
                "conversation_id": h.conversation_id,
                "conversation_title": h.conversation_title,
                "message_id": h.message_id,
                "role": h.role.value,
                "created_at": h.created_at.isoformat(),
                "snippet": _marked(h.snippet, "**", "**"),
            }
            for h in page.items
        ]
        print(json.dumps(hits, ensure_ascii=False, indent=2))
    else:
        bold = sys.stdout.isatty()
        start, end = ("\x1b[1m", "\x1b[0m") if bold else ("**", "**")
        for h in page.items:
            when = h.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
            title = h.conversation_title or "Untitled"
            print(f"{title}  ({when}, {h.role.value}, conversation {h.conversation_id})")
            print(f"    {_marked(h.snippet, start, end)}")
    _say(f"{len(page.items)} hit(s) for {args.query!r}")
    return EXIT_OK


def _backup(args: argparse.Namespace) -> int:
    from desktop_chat.storage.backup import BackupError, backup_to

    source = _db_path(args)
    target = Path(args.path).expanduser()
    if target.resolve() == source.resolve():
        raise CommandError("The backup would overwrite the database itself; choose another path.")
    progress = Progress("Copying pages", enabled=args.progress or sys.stderr.isatty())
    try:
        result = backup_to(source, target, progress=progress)
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        progress.close()
    _say(f"Backed up {source} to {result.path} (schema {result.schema_version}, {result.size:,} bytes)")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from desktop_chat.storage.backup import BackupError, restore_from

    db_path = _db_path(args)
    try:
        result = restore_from(Path(args.path), db_path)
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
    if result.previous is not None:
        print(f"The previous database is kept at {result.previous}")
    _say(f"Restored {args.path} into {db_path} (schema {result.schema_version})")
    return EXIT_OK


class _UsageError(Exception):
    """A usage problem found after parsing (exit 2)."""


class _How(NamedTuple):
    """How the CLI runs one of `COMMANDS`: its own arguments, whether it shows --progress, and its code."""

    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    progress: bool = False


_HOW: dict[str, _How] = {
    "export": _How(_export_arguments, _export, progress=True),
    "import": _How(_path_argument("the file to import"), _import, progress=True),
    "search": _How(_search_arguments, _search),
    "backup": _How(_path_argument("the backup file to write"), _backup, progress=True),
    "restore": _How(_path_argument("the backup file to restore"), _restore),
}


def main(argv: Sequence[str]) -> int:
    """Run one command; returns its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(level=logging.WARNING, format="desktop_chat: %(message)s", stream=sys.stderr)
    logging.getLogger("peewee").setLevel(logging.INFO)
    from desktop_chat.storage import StoreError

    try:
        return _HOW[args.command].run(args)
    except _UsageError as exc:
        parser.print_usage(sys.stderr)
        _fail(str(exc))
        return EXIT_USAGE
    except StoreError as exc:  # the app's refusal, word for word
        _fail(str(exc))
        return EXIT_STORE_REFUSED
    except CommandError as exc:
        _fail(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _fail("stopped")
        return EXIT_FAILURE
