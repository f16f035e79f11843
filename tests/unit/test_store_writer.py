"""The store's writer thread: jobs in order on its own connection, retried, reported, drained at close."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import peewee
import pytest

from desktop_chat.storage import Repo, Store, open_store
from desktop_chat.storage.writer import StoreWriter, WriterClosed


def test_jobs_run_in_order_on_the_writer_thread_with_its_own_connection(store: Store) -> None:
    writer = StoreWriter(store.repo, retry_delays=())
    here = threading.get_ident()
    order: list[int] = []
    threads: set[int] = set()
    connections: set[int] = set()

    def job(n: int) -> Callable[[Repo], int]:
        def run(repo: Repo) -> int:
            order.append(n)
            threads.add(threading.get_ident())
            connections.add(id(store.db.connection()))
            return n

        return run

    futures = [writer.submit(job(n), label=f"job {n}") for n in range(50)]
    assert [f.result(timeout=10) for f in futures] == list(range(50))
    assert order == list(range(50))
    assert threads == {writer.thread_ident}
    assert here not in threads
    assert id(store.db.connection()) not in connections, "the writer has a connection of its own"
    writer.close()


def test_a_transient_failure_is_tried_again_and_a_lasting_one_reported(store: Store) -> None:
    reported: list[tuple[str, str]] = []
    writer = StoreWriter(
        store.repo,
        retry_delays=(0.01, 0.01),
        on_failure=lambda label, exc: reported.append((label, str(exc))),
    )
    tries = {"n": 0}

    def flaky(repo: object) -> str:
        tries["n"] += 1
        if tries["n"] < 3:
            raise peewee.OperationalError("database is locked")
        return "stored"

    assert writer.submit(flaky, label="a flaky write").result(timeout=10) == "stored"
    assert tries["n"] == 3
    assert reported == []

    def broken(repo: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    future = writer.submit(broken, label="a doomed write")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        future.result(timeout=10)
    assert reported == [("a doomed write", "disk I/O error")], "never dropped silently"

    def bug(repo: object) -> None:
        raise ValueError("not a transient error")

    with pytest.raises(ValueError, match="not a transient"):
        writer.submit(bug, label="a bug").result(timeout=10)
    assert reported[-1] == ("a bug", "not a transient error")
    writer.close()


def test_close_runs_everything_queued_then_checkpoints(db_path: Path) -> None:
    store = open_store(db_path)
    conversation = store.repo.create_conversation("drained")
    writer = StoreWriter(store.repo)
    release = threading.Event()
    writer.submit(lambda repo: release.wait(10), label="a slow first write")
    for i in range(200):
        writer.submit(lambda repo, i=i: repo.add_message(conversation.id, f"message {i}"), label="a message")  # type: ignore[misc]
    release.set()
    writer.close(timeout=30)
    assert not writer.pending
    wal = Path(f"{db_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the WAL is checkpointed into the file"
    assert len(store.repo.list_messages(conversation.id).items) == 200
    with pytest.raises(WriterClosed):
        writer.submit(lambda repo: None, label="too late")
    store.close()
