"""While answers stream (tools, titles and edits included), no store write runs on the GUI thread.

Every SQL statement the store's connections execute is traced with the thread that executed it: the
GUI thread's own connection, the writer thread's, and any connection opened meanwhile (the reader's).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from typing import Any

from desktop_chat.domain import ResponseStatus, ToolStatus
from desktop_chat.services.app_services import AppServices
from tests.helpers.history import new_conversation
from tests.helpers.llm_server import LLMServer, text_script, tool_round
from tests.helpers.loop import run
from tests.helpers.services import use_server

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "PRAGMA WAL_CHECKPOINT")


def _trace(services: AppServices) -> dict[int, list[str]]:
    """Statements by thread id, from now on, for every connection of the store."""
    seen: dict[int, list[str]] = defaultdict(list)

    def record(sql: str) -> None:
        seen[threading.get_ident()].append(sql.lstrip().upper())

    db = services.store.db
    db.connection().set_trace_callback(record)  # the GUI thread's
    services.writer.submit(lambda _repo: db.connection().set_trace_callback(record)).result(timeout=10)
    opening = db._connect  # type: ignore[attr-defined]

    def traced() -> Any:  # connections opened from now on (the reader thread's)
        conn = opening()
        conn.set_trace_callback(record)
        return conn

    db._connect = traced  # type: ignore[attr-defined]
    return seen


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith(WRITES)]


def test_no_store_write_runs_on_the_gui_thread_while_answers_stream(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    one = new_conversation(services)
    two = new_conversation(services, "second")
    seen = _trace(services)
    gui = threading.get_ident()
    llm_server.enqueue(
        tool_round(("c1", "calculator", {"expression": "6*7"})),
        text_script("It is 42. " * 40, pieces=80),
        text_script("Another answer, streamed alongside. " * 20, pieces=60),
    )
    services.chat.send(one.id, "What is 6*7?")
    services.chat.send(two.id, "Stream too")
    services.conversations.rename(two.id, "renamed while streaming")
    services.conversations.set_pinned(one.id, True)
    run(aloop, services.chat.wait(one.id), timeout=60)
    run(aloop, services.chat.wait(two.id), timeout=60)
    run(aloop, services.writes.idle())

    assert _writes(seen[gui]) == [], "the GUI thread wrote to the store"
    writer_writes = _writes(seen[services.writer.thread_ident or -1])
    assert any("INSERT INTO RESPONSE_CHUNK" in s for s in writer_writes), "streamed patches"
    assert any(s.startswith('INSERT INTO "TOOL_EXECUTION"') or "TOOL_EXECUTION" in s for s in writer_writes)
    assert any("MESSAGE_FTS" in s for s in writer_writes), "the end of an answer: compacted and indexed"
    assert any('"TITLE"' in s or "TITLE" in s for s in writer_writes), "the rename"
    others = {t: _writes(s) for t, s in seen.items() if t not in (gui, services.writer.thread_ident)}
    assert all(not w for w in others.values()), f"another thread wrote: {others}"
    answers = [services.conversations.transcript(c.id)[-1] for c in (one, two)]
    assert [a.response.status for a in answers if a.response] == [ResponseStatus.DONE] * 2
    executions = services.conversations.tool_executions([a.response_id for a in answers])
    (execution,) = [e for runs in executions.values() for e in runs]  # whichever got the tool round
    assert execution.status is ToolStatus.SUCCEEDED
    assert json.loads(execution.arguments) == {"expression": "6*7"}
