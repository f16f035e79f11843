"""`--review FILE`: a read-only look at a database, a backup or a JSON export, through a temporary copy.

The copy holds no provider (nothing can be sent) and the keychain is a null one (no key is read or saved).
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("desktop_chat")


def prepare_review(file: Path, db_path: Path) -> None:
    """Put a copy of `file` at `db_path` (a JSON export is imported into a new database there).

    `file` itself is only ever read: a database and its -wal are copied byte for byte first.
    Raises StoreError (refused like the app's own database: exit 3) when it cannot be used.
    """
    from desktop_chat.storage import CorruptDatabaseError, StoreError
    from desktop_chat.storage.backup import BackupError, copy_database

    try:
        with file.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise CorruptDatabaseError(file, exc.strerror or str(exc)) from exc
    if head.startswith(b"SQLite format 3"):
        try:
            copy_database(file, db_path)
        except BackupError as exc:
            raise StoreError(str(exc)) from exc
        return
    if head.lstrip()[:1] not in (b"{", b"["):
        raise CorruptDatabaseError(file, "neither a desktop_chat database nor a JSON export")
    from desktop_chat.storage import open_store

    try:
        from desktop_chat.interchange.importers import import_file
    except ImportError as exc:
        raise StoreError(f"Reviewing a JSON export is not available in this build: {exc}") from exc
    store = open_store(db_path)
    try:
        report = import_file(store.repo, file)
    except (OSError, ValueError) as exc:
        raise CorruptDatabaseError(file, str(exc)) from exc
    finally:
        store.close()
    log.info("Review: imported %d conversation(s) of %s (%s)", report.imported, file, report.format)


def strip_providers(store: object) -> None:
    """No provider in the review copy: nothing can be sent, no model listed, no key looked up."""
    from desktop_chat.storage import Store

    assert isinstance(store, Store)
    for profile in store.repo.list_profiles().items:
        store.repo.delete_profile(profile.id)


def no_keychain() -> object:
    """A keychain backend that saves and reads nothing (a review never touches the real keychain)."""
    from keyring.backends.null import Keyring

    return Keyring()  # type: ignore[no-untyped-call]
