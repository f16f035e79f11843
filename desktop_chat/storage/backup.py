"""Backups of the one database file: online copies, checked restores, and daily automatic copies.

Copies use SQLite's online backup API, a few MiB at a time, so the app can keep writing while a copy
is made (in WAL mode the copy holds only a read snapshot). Nothing is ever replaced by a file that
has not passed `PRAGMA integrity_check` and shows a schema version this app understands.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from desktop_chat.storage.db import CorruptDatabaseError, NewerSchemaError, StoreError
from desktop_chat.storage.migrations import SCHEMA_VERSION, check_versions

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (pages done, pages in all)
AUTO_PREFIX = "desktop_chat-"
AUTO_SUFFIX = ".sqlite3"
_AUTO_NAME = re.compile(r"^desktop_chat-(\d{4}-\d{2}-\d{2})\.sqlite3$")
_STEP_PAGES = 1024  # 4 MiB with 4 KiB pages: a step takes milliseconds
_MAX_RESTARTS = 3  # a busy writer restarts a stepped copy; after this many, copy in one step instead
_LOCK_TIMEOUT = 0.5  # seconds to wait for other connections to let go before a restore gives up


class BackupError(Exception):
    """A backup or restore could not be made; `str()` is a message for a person."""


class DatabaseInUseError(BackupError):
    """Another process (most likely the running app) has the database open."""


class BackupCancelled(BackupError):
    """The caller asked to stop; nothing was written."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A backup that was written and checked."""

    path: Path
    schema_version: int
    size: int


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did: the version now in place and where the previous database was kept."""

    db_path: Path
    schema_version: int
    previous: Path | None


class _Restart(Exception):
    """Raised from the progress callback to abandon a stepped copy that keeps restarting."""


class _Cancel(Exception):
    """Raised from the progress callback when the caller cancelled."""


def _timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def _side_file(target: Path, what: str) -> Path:
    return target.with_name(f".{target.name}.{what}-{os.getpid()}-{time.monotonic_ns()}")


def _remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def _copy_with_wal(source: Path, target: Path) -> None:
    """`source` and its `-wal` (if any) copied byte for byte beside `target`; BackupError if unreadable."""
    try:
        shutil.copyfile(source, target)
        if Path(f"{source}-wal").is_file():
            shutil.copyfile(f"{source}-wal", f"{target}-wal")
    except OSError as exc:
        raise BackupError(f"Cannot read {source}: {exc.strerror or exc}") from exc


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError), path.open("rb") as fh:
        os.fsync(fh.fileno())


def _check_copy(conn: sqlite3.Connection, origin: Path) -> int:
    """Integrity and schema version of a finished copy (named after where it came from)."""
    try:
        problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        has_tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'conversation'"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(origin, str(exc)) from exc
    if problems != ["ok"]:
        raise CorruptDatabaseError(origin, "integrity check failed: " + "; ".join(problems[:3]))
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(origin, version, SCHEMA_VERSION)
    if version < 1 or not has_tables:
        raise CorruptDatabaseError(origin, "not a desktop_chat database")
    return version


def _copy_online(
    src: sqlite3.Connection,
    dst: sqlite3.Connection,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    """src -> dst with the backup API in steps; one step (a plain read snapshot) if writers keep
    restarting it."""
    state = {"remaining": -1, "restarts": 0}

    def step(_status: int, remaining: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise _Cancel
        if state["remaining"] >= 0 and remaining > state["remaining"]:
            state["restarts"] += 1
            if state["restarts"] > _MAX_RESTARTS:
                raise _Restart
        state["remaining"] = remaining
        if progress is not None:
            progress(total - remaining, total)

    try:
        src.backup(dst, pages=_STEP_PAGES, progress=step, sleep=0.001)
    except _Restart:
        log.info("The database kept changing during a stepped backup; copying it in one step")
        src.backup(dst, pages=-1)
    except _Cancel:
        raise BackupCancelled("The backup was cancelled.") from None
    if progress is not None:
        total = int(dst.execute("PRAGMA page_count").fetchone()[0])
        progress(total, total)


def _finish_copy(dst: sqlite3.Connection, origin: Path) -> int:
    """Make a fresh copy one self-contained file (rollback journal), then check it."""
    dst.execute("PRAGMA journal_mode = DELETE")
    return _check_copy(dst, origin)


def backup_to(
    source: Path | sqlite3.Connection,
    target: Path,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> BackupResult:
    """Copy a database (a path, or an open connection) to `target` while it may be in use.

    The copy is written to a temporary file next to `target`, checked, and only then moved over it.
    Raises NewerSchemaError / CorruptDatabaseError for a source this app would refuse, BackupError
    when the source is missing or the target cannot be written, BackupCancelled when `cancelled()`.
    """
    origin = Path(source) if isinstance(source, Path) else target
    if isinstance(source, Path):
        if not source.is_file():
            raise BackupError(f"There is no database at {source}.")
        check_versions(source)
    target = target.expanduser()
    if target.is_dir():
        raise BackupError(f"{target} is a folder; name the backup file to write.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create {target.parent}: {exc.strerror or exc}") from exc
    tmp = _side_file(target, "tmp")
    src: sqlite3.Connection | None = None
    try:
        if isinstance(source, Path):
            # A connection of its own that only reads (a read-only one would leave empty -wal/-shm
            # files behind beside a database nobody else has open).
            src = sqlite3.connect(source, timeout=5, isolation_level=None)
            src.execute("PRAGMA query_only = 1")
        reader = src if src is not None else source
        assert isinstance(reader, sqlite3.Connection)
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            _copy_online(reader, dst, progress, cancelled)
            version = _finish_copy(dst, origin)
        finally:
            dst.close()
        _fsync(tmp)
        for suffix in ("-wal", "-shm", "-journal"):  # a stale WAL beside the target would be replayed
            with contextlib.suppress(FileNotFoundError):
                Path(f"{target}{suffix}").unlink()
        os.replace(tmp, target)
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(origin, str(exc)) from exc
    except OSError as exc:
        raise BackupError(f"Cannot write the backup {target}: {exc.strerror or exc}") from exc
    finally:
        if src is not None:
            src.close()
        _remove_with_sidecars(tmp)
    return BackupResult(target, version, target.stat().st_size)


# ---- restore ------------------------------------------------------------------------------------


def _stage(backup: Path, staged: Path) -> int:
    """Copy `backup` (with its WAL) to `staged`, fold the WAL in, and check the result."""
    if not backup.is_file():
        raise BackupError(f"There is no backup at {backup}.")
    check_versions(backup)
    _copy_with_wal(backup, staged)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(staged, isolation_level=None)
        version = _check_copy(conn, backup)
        conn.execute("PRAGMA journal_mode = DELETE")  # folds a copied WAL into the file
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(backup, str(exc)) from exc
    finally:
        if conn is not None:
            conn.close()
    _fsync(staged)
    return version


@contextlib.contextmanager
def exclusive(db_path: Path, *, timeout: float = _LOCK_TIMEOUT) -> Iterator[sqlite3.Connection | None]:
    """Hold `db_path` so that no other connection can use it (None when there is no readable database).

    Raises DatabaseInUseError when another connection has it open.
    """
    if not db_path.exists():
        yield None
        return
    conn = sqlite3.connect(db_path, timeout=timeout, isolation_level=None)
    held: sqlite3.Connection | None = conn
    try:
        # In WAL mode only exclusive locking mode keeps readers out too; it fails while anyone else
        # has the file open. The locks stay after COMMIT: exclusive locking mode never gives them back.
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            conn.close()
            raise DatabaseInUseError(
                f"The database {db_path} is in use by another program (is desktop_chat running?). "
                "Quit it and try again; nothing was changed."
            ) from exc
        held = None
    except sqlite3.DatabaseError:  # not a database at all: nothing to lock; it is kept aside as is
        held = None
    try:
        yield held
    finally:
        conn.close()


def restore_from(backup: Path, db_path: Path, *, now: datetime | None = None) -> RestoreResult:
    """Replace the database at `db_path` by a checked copy of `backup`.

    The backup is checked first (integrity, a schema this app understands); the current database is
    then copied to `<db>.before-restore-<time>` and the checked copy moved into place. Refuses,
    changing nothing, when another program has the database open.
    """
    backup = backup.expanduser()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    staged = _side_file(db_path, "restore")
    previous: Path | None = None
    try:
        version = _stage(backup, staged)
        with exclusive(db_path) as held:
            if db_path.exists():
                previous = db_path.with_name(f"{db_path.name}.before-restore-{_timestamp(now)}")
                n = 1
                while previous.exists():
                    n += 1
                    previous = db_path.with_name(f"{db_path.name}.before-restore-{_timestamp(now)}-{n}")
                if held is not None:
                    aside = sqlite3.connect(previous, isolation_level=None)
                    try:
                        held.backup(aside)
                        aside.execute("PRAGMA journal_mode = DELETE")
                    finally:
                        aside.close()
                    # Out of WAL mode while still held: the old -wal is folded in and removed, so
                    # nothing of the old file can be replayed onto the restored one.
                    held.execute("PRAGMA journal_mode = DELETE")
                else:
                    for suffix in ("", "-wal"):
                        if Path(f"{db_path}{suffix}").exists():
                            shutil.copyfile(f"{db_path}{suffix}", f"{previous}{suffix}")
            for suffix in ("-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{db_path}{suffix}").unlink()
            os.replace(staged, db_path)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Could not restore {backup} into {db_path}: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"Could not restore {backup} into {db_path}: {exc.strerror or exc}") from exc
    finally:
        _remove_with_sidecars(staged)
    log.info("Restored %s into %s; the previous database is at %s", backup, db_path, previous)
    return RestoreResult(db_path, version, previous)


# ---- copies for review ---------------------------------------------------------------------------


def copy_database(source: Path, target: Path, *, attempts: int = 3) -> int:
    """Copy `source` and its `-wal` byte for byte to `target` (to open the copy, never the original).

    Nothing is opened, locked or written at `source`; its `-shm` is not copied (SQLite rebuilds it
    from the WAL). The copy is checked like a backup; a copy torn by a writer that was busy at the
    same moment is made again. Raises NewerSchemaError / CorruptDatabaseError naming `source`.
    """
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    check_versions(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        _remove_with_sidecars(target)
        _copy_with_wal(source, target)
        conn = sqlite3.connect(target, isolation_level=None)
        try:
            return _check_copy(conn, source)
        except CorruptDatabaseError:
            if attempt == attempts:
                raise
            time.sleep(0.05 * attempt)
        except sqlite3.DatabaseError as exc:
            raise CorruptDatabaseError(source, str(exc)) from exc
        finally:
            conn.close()
    raise AssertionError("unreachable")


# ---- automatic daily backups --------------------------------------------------------------------


def auto_backup_name(day: date) -> str:
    """The file name of the automatic backup of `day`."""
    return f"{AUTO_PREFIX}{day:%Y-%m-%d}{AUTO_SUFFIX}"


def automatic_backups(folder: Path) -> list[Path]:
    """The automatic backups in `folder`, oldest first."""
    try:
        names = sorted(p.name for p in folder.iterdir() if _AUTO_NAME.match(p.name))
    except FileNotFoundError:
        return []
    return [folder / n for n in names]


def auto_backup(
    db_path: Path,
    folder: Path,
    keep: int,
    *,
    now: datetime | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path | None:
    """Today's backup in `folder` unless there is one already; keeps the newest `keep` (at least 1).

    Returns the file written, or None when there was nothing to do.
    """
    if not db_path.is_file():
        return None
    target = folder / auto_backup_name((now or datetime.now()).date())
    written: Path | None = None
    if not target.exists():
        written = backup_to(db_path, target, cancelled=cancelled).path
    for old in automatic_backups(folder)[: -max(1, keep)]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
            log.info("Removed the old automatic backup %s", old)
    return written


__all__ = [
    "BackupCancelled",
    "BackupError",
    "BackupResult",
    "DatabaseInUseError",
    "RestoreResult",
    "StoreError",
    "auto_backup",
    "auto_backup_name",
    "automatic_backups",
    "backup_to",
    "check_versions",
    "copy_database",
    "exclusive",
    "restore_from",
]
