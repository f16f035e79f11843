"""Opening the SQLite file: header checks before anything is written, pragmas, and typed errors."""

from __future__ import annotations

import logging
import sqlite3
import struct
from pathlib import Path
from typing import Any

import peewee

log = logging.getLogger(__name__)

DB_FILENAME = "desktop_chat.sqlite3"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_USER_VERSION_OFFSET = 60
_WAL_MAGIC = {0x377F0682: "<", 0x377F0683: ">"}  # checksum byte order, by the WAL header's magic
_WAL_HEADER = 32
_WAL_FRAME_HEADER = 24

PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    # KiB per connection. The app has up to five (the window's, the writer's, the reader's, search's,
    # the history jobs'): 4 MiB each, with the system's file cache behind them. At 32 MiB each a long
    # session's resident size grew with the database for as long as the caches had room (about
    # 1.5 MiB a minute in the soak benchmark).
    "cache_size": -4_000,
    "temp_store": "memory",
}


class StoreError(Exception):
    """The database cannot be used; `str()` is a message for a person."""


class NewerSchemaError(StoreError):
    """The file was written by a newer desktop_chat; it is refused and left untouched."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        self.path, self.found, self.supported = path, found, supported
        super().__init__(
            f"The database {path} uses schema version {found}, but this version of desktop_chat "
            f"understands schema versions up to {supported}. Update desktop_chat to open it. "
            "The file has not been changed."
        )


class CorruptDatabaseError(StoreError):
    """The file is not a readable SQLite database; it is refused and left untouched."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path, self.detail = path, detail
        super().__init__(
            f"The database {path} cannot be read ({detail}). It has not been changed; "
            "restore a backup or move it aside to start with an empty history."
        )


def database_path(data_dir: Path) -> Path:
    """Where the one database file lives inside a data dir."""
    return data_dir / DB_FILENAME


def header_user_version(path: Path) -> int | None:
    """The `user_version` in the file header, read without opening SQLite (so nothing is written).

    None for a missing or empty file. Raises CorruptDatabaseError when the header is not SQLite's.
    """
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptDatabaseError(path, exc.strerror or str(exc)) from exc
    if not header:
        return None
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise CorruptDatabaseError(path, "not an SQLite database")
    return int.from_bytes(header[_USER_VERSION_OFFSET : _USER_VERSION_OFFSET + 4], "big")


def _wal_checksum(data: bytes, s0: int, s1: int, order: str) -> tuple[int, int]:
    """SQLite's cumulative WAL checksum over `data` (a multiple of 8 bytes)."""
    for x0, x1 in struct.iter_unpack(order + "II", data):
        s0 = (s0 + x0 + s1) & 0xFFFFFFFF
        s1 = (s1 + x1 + s0) & 0xFFFFFFFF
    return s0, s1


def wal_user_version(path: Path) -> int | None:
    """The `user_version` of the last transaction committed to `path`'s WAL file, read without SQLite.

    After a crash (or while another process has the database open) the newest page 1 may still sit
    in the `-wal` file, not yet in the header. Opening the database read-write to find out would
    checkpoint that WAL into the file on close, so it is read here byte by byte, with the same
    salt and checksum rules SQLite uses to decide which frames count. None when there is no WAL,
    or no committed copy of page 1 in it.
    """
    try:
        wal = Path(f"{path}-wal").read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptDatabaseError(path, exc.strerror or str(exc)) from exc
    if len(wal) < _WAL_HEADER:
        return None
    magic, _fmt, page_size, _seq, salt1, salt2, c0, c1 = struct.unpack(">8I", wal[:_WAL_HEADER])
    order = _WAL_MAGIC.get(magic)
    if order is None or page_size < 512 or page_size & (page_size - 1):
        return None
    s0, s1 = _wal_checksum(wal[:24], 0, 0, order)
    if (s0, s1) != (c0, c1):
        return None
    version: int | None = None
    pending: int | None = None  # page 1's user_version in the transaction not yet committed
    frame_size = _WAL_FRAME_HEADER + page_size
    for offset in range(_WAL_HEADER, len(wal) - frame_size + 1, frame_size):
        pgno, commit_size, f_salt1, f_salt2, f_c0, f_c1 = struct.unpack(
            ">6I", wal[offset : offset + _WAL_FRAME_HEADER]
        )
        if (f_salt1, f_salt2) != (salt1, salt2) or pgno == 0:
            break
        page = wal[offset + _WAL_FRAME_HEADER : offset + frame_size]
        s0, s1 = _wal_checksum(wal[offset : offset + 8], s0, s1, order)
        s0, s1 = _wal_checksum(page, s0, s1, order)
        if (s0, s1) != (f_c0, f_c1):
            break
        if pgno == 1:
            pending = int.from_bytes(page[_USER_VERSION_OFFSET : _USER_VERSION_OFFSET + 4], "big")
        if commit_size:
            version = pending if pending is not None else version
    return version


class _TolerantSqliteDatabase(peewee.SqliteDatabase):
    """SqliteDatabase whose text decoding never raises: invalid UTF-8 shows as U+FFFD, not a crash."""

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._connect()  # type: ignore[misc]
        conn.text_factory = _decode_text
        return conn


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def connect(path: Path, *, readonly: bool = False) -> peewee.SqliteDatabase:
    """A Peewee database for `path` with the house pragmas (connections open lazily, per thread)."""
    if readonly:
        return _TolerantSqliteDatabase(
            f"file:{path}?mode=ro", uri=True, pragmas={"foreign_keys": 1, "query_only": 1}
        )
    return _TolerantSqliteDatabase(str(path), pragmas=PRAGMAS)


def read_user_version(db: peewee.SqliteDatabase) -> int:
    """PRAGMA user_version of an open database."""
    return int(db.execute_sql("PRAGMA user_version").fetchone()[0])


def integrity_errors(db: peewee.SqliteDatabase) -> list[str]:
    """Problems reported by `PRAGMA integrity_check` (empty when the file is sound)."""
    rows = [str(r[0]) for r in db.execute_sql("PRAGMA integrity_check").fetchall()]
    return [] if rows == ["ok"] else rows
