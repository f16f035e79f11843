"""The repo on a real SQLite file: conversations, branches, response documents, tool executions."""

from __future__ import annotations

import pytest

from desktop_chat.domain import ResponsePatch, ResponseStatus, Role, ToolCall, ToolStatus, Usage
from desktop_chat.services.conversations import active_path
from desktop_chat.storage import NotFoundError, Store, open_store
from desktop_chat.storage.db import integrity_errors


def test_pragmas_are_the_house_ones(store: Store) -> None:
    q = store.db.execute_sql
    assert q("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert q("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert q("PRAGMA foreign_keys").fetchone()[0] == 1
    assert q("PRAGMA user_version").fetchone()[0] >= 1


def test_conversation_crud_and_listing_order(store: Store) -> None:
    repo = store.repo
    a = repo.create_conversation("first")
    b = repo.create_conversation("second")
    c = repo.create_conversation("third")
    repo.update_conversation(a.id, pinned=True)
    repo.update_conversation(c.id, archived=True)
    listed = [x.title for x in repo.list_conversations().items]
    assert listed == ["first", "second"]
    assert repo.count_conversations() == 2
    assert repo.count_conversations(include_archived=True) == 3
    repo.update_conversation(b.id, title="renamed", params={"temperature": 0.3})
    got = repo.get_conversation(b.id)
    assert (got.title, got.params) == ("renamed", {"temperature": 0.3})
    repo.delete_conversation(b.id)
    with pytest.raises(NotFoundError):
        repo.get_conversation(b.id)
    with pytest.raises(ValueError, match="unknown"):
        repo.update_conversation(a.id, colour="red")


def test_listing_pages_without_gaps_or_repeats(store: Store) -> None:
    repo = store.repo
    ids = {repo.create_conversation(f"c{i}").id for i in range(25)}
    seen: list[int] = []
    for offset in range(0, 30, 10):
        seen.extend(c.id for c in repo.list_conversations(offset=offset, limit=10).items)
    assert sorted(seen) == sorted(ids)


def test_branches_share_a_parent_and_active_path_follows_the_leaf(store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation("branches")
    q1 = repo.add_message(conv.id, "question one")
    a1 = repo.start_response(conv.id, q1.id)
    repo.finish_response(a1.response_id, ResponseStatus.DONE, pending=[ResponsePatch(a1.response_id, "one")])
    edited = repo.add_message(conv.id, "question one, edited", parent_id=None)
    a2 = repo.start_response(conv.id, edited.id)
    repo.finish_response(a2.response_id, ResponseStatus.DONE, pending=[ResponsePatch(a2.response_id, "two")])
    messages = repo.list_messages(conv.id).items
    assert len(messages) == 4
    leaf = repo.get_conversation(conv.id).active_leaf_id
    assert [m.text for m in active_path(messages, leaf)] == ["question one, edited", "two"]
    assert [m.text for m in active_path(messages, a1.id)] == ["question one", "one"]


def test_response_document_streams_as_chunks_and_compacts_on_finish(store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation()
    q = repo.add_message(conv.id, "hi")
    msg = repo.start_response(conv.id, q.id, model="m1", provider="local")
    assert msg.response is not None
    rid = msg.response_id
    assert msg.response.status is ResponseStatus.PENDING
    deltas = ["Hel", "lo", " wor", "ld", " ünïcødé 🎉"]
    repo.apply_patches([ResponsePatch(rid, text_delta=deltas[0], status=ResponseStatus.STREAMING)])
    for d in deltas[1:]:
        repo.apply_patches([ResponsePatch(rid, text_delta=d, reasoning_delta="r")])
    calls = (ToolCall("call_1", "now", '{"tz": "UTC"}'),)
    repo.apply_patches([ResponsePatch(rid, tool_calls=calls, tool_status={"call_1": ToolStatus.RUNNING})])
    live = repo.get_response(rid)
    assert live.status is ResponseStatus.STREAMING
    assert live.text == "".join(deltas)
    assert live.reasoning == "r" * 4
    assert live.tool_calls == calls
    chunk_rows = store.db.execute_sql("SELECT count(*) FROM response_chunk").fetchone()[0]
    assert chunk_rows == 9
    done = repo.finish_response(rid, ResponseStatus.DONE, finish_reason="stop", usage=Usage(3, 5, 8))
    assert done.text == "".join(deltas)
    assert done.usage == Usage(3, 5, 8)
    assert done.finished_at is not None
    assert store.db.execute_sql("SELECT count(*) FROM response_chunk").fetchone()[0] == 0
    assert store.db.execute_sql("SELECT text FROM response WHERE id = ?", (rid,)).fetchone()[0] == done.text
    with pytest.raises(ValueError, match="finish_response"):
        repo.apply_patches([ResponsePatch(rid, status=ResponseStatus.DONE)])


def test_recover_marks_unfinished_interrupted_and_keeps_text(db_path) -> None:
    s = open_store(db_path)
    conv = s.repo.create_conversation()
    q = s.repo.add_message(conv.id, "q")
    m = s.repo.start_response(conv.id, q.id)
    rid = m.response_id
    s.repo.apply_patches([ResponsePatch(rid, "partial answer", status=ResponseStatus.STREAMING)])
    tool = s.repo.add_tool_execution(rid, "c1", "now", "{}")
    s.repo.update_tool_execution(tool.id, ToolStatus.RUNNING)
    s.db.close()  # as if the process died: no shutdown path ran
    s2 = open_store(db_path)
    try:
        assert s2.recovered == [rid]
        r = s2.repo.get_response(rid)
        assert r.status is ResponseStatus.INTERRUPTED
        assert r.text == "partial answer"
        assert r.error
        assert s2.repo.get_tool_execution(tool.id).status is ToolStatus.CANCELLED
        assert integrity_errors(s2.db) == []
    finally:
        s2.close()


def test_tool_execution_timings(store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation()
    m = repo.start_response(conv.id, None)
    t = repo.add_tool_execution(m.response_id, "call_9", "calc", '{"e": "1+1"}', round_no=1)
    assert t.status is ToolStatus.QUEUED
    assert t.started_at is None
    t = repo.update_tool_execution(t.id, ToolStatus.RUNNING)
    assert t.started_at is not None
    assert t.finished_at is None
    t = repo.update_tool_execution(t.id, ToolStatus.SUCCEEDED, result="2")
    assert (t.result, t.round) == ("2", 1)
    assert t.finished_at is not None
    assert t.started_at is not None
    assert t.finished_at >= t.started_at
    assert [x.id for x in repo.list_tool_executions(m.response_id).items] == [t.id]


def test_provider_profiles_hold_no_key(store: Store) -> None:
    repo = store.repo
    p = repo.add_profile("OpenRouter", "https://openrouter.ai/api/v1", "x/y", {"X-Title": "desktop_chat"})
    assert p.key_ref
    assert p.needs_key
    columns = {r[1] for r in store.db.execute_sql("PRAGMA table_info(provider_profile)").fetchall()}
    assert not {"key", "api_key", "secret", "token"} & columns
    p2 = repo.update_profile(p.id, default_model="z")
    assert p2.default_model == "z"
    assert p2.headers == {"X-Title": "desktop_chat"}
    assert repo.delete_profile(p.id) == p.key_ref
    assert repo.list_profiles().items == []


def test_deleting_a_conversation_cascades(store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation()
    q = repo.add_message(conv.id, "q")
    m = repo.start_response(conv.id, q.id)
    repo.add_tool_execution(m.response_id, "c", "n", "{}")
    repo.delete_conversation(conv.id)
    for table in ("message", "response", "tool_execution", "message_fts"):
        assert store.db.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_add_message_rejects_assistant_role(store: Store) -> None:
    conv = store.repo.create_conversation()
    with pytest.raises(ValueError, match="start_response"):
        store.repo.add_message(conv.id, "x", role=Role.ASSISTANT)


def _chain(repo, conv_id: int, n: int, parent: int | None = None) -> list[int]:
    ids = []
    for i in range(n):
        parent = repo.add_message(conv_id, f"m{i}", parent_id=parent).id
        ids.append(parent)
    return ids


def test_branch_pages_walk_up_from_the_leaf(store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation()
    ids = _chain(repo, conv.id, 120)
    page, more = repo.branch_ids(ids[-1], limit=50)
    assert page == ids[70:]
    assert more
    older, more = repo.branch_ids(ids[69], limit=50)
    assert older == ids[20:70]
    assert more
    oldest, more = repo.branch_ids(ids[19], limit=50)
    assert oldest == ids[:20]
    assert not more
    assert [m.id for m in repo.messages_by_id(ids[3:6]).items] == ids[3:6]


def test_siblings_and_newest_leaf(store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation()
    root_a = repo.add_message(conv.id, "a").id
    root_b = repo.add_message(conv.id, "b").id
    kid_1 = repo.add_message(conv.id, "a1", parent_id=root_a).id
    kid_2 = repo.add_message(conv.id, "a2", parent_id=root_a).id
    grandkid = repo.add_message(conv.id, "a1x", parent_id=kid_1).id
    siblings = repo.sibling_ids(conv.id, [None, root_a, kid_1])
    assert siblings == {None: [root_a, root_b], root_a: [kid_1, kid_2], kid_1: [grandkid]}
    assert repo.newest_leaf_under(root_a) == grandkid
    assert repo.newest_leaf_under(kid_2) == kid_2
    assert repo.latest_message_id(conv.id) == grandkid


# Every Repo method, by whether it writes (a writer thread will take these): a new method must be put in
# one of the two lists, and its docstring must say "Writes:" exactly when it writes.
WRITES = {
    "add_message",
    "add_messages_bulk",
    "add_profile",
    "add_tool_execution",
    "apply_patches",
    "create_conversation",
    "delete_conversation",
    "delete_profile",
    "finish_response",
    "import_batch",
    "insert_conversation_tree",
    "recover_unfinished",
    "reopen_response",
    "set_response_status",
    "start_response",
    "update_conversation",
    "update_profile",
    "update_tool_execution",
}
READS = {
    "branch_ids",
    "close_thread_connection",
    "conversation_ids_for_export",
    "conversation_summaries",
    "conversation_summary",
    "conversation_tree",
    "conversation_uuid_exists",
    "count_conversations",
    "get_conversation",
    "get_message",
    "get_profile",
    "get_response",
    "get_tool_execution",
    "latest_message_id",
    "list_conversations",
    "list_messages",
    "list_profiles",
    "list_tool_executions",
    "messages_by_id",
    "newest_leaf_under",
    "search",
    "sibling_ids",
    "thread_connection",
    "tool_executions_for",
    "unfinished_response_ids",
}


def test_every_repo_method_says_whether_it_writes_and_writes_come_after_reads() -> None:
    import inspect

    from desktop_chat.storage import Repo

    public = {n for n in dir(Repo) if not n.startswith("_") and callable(getattr(Repo, n))}
    assert public == WRITES | READS
    for name in public:
        doc = inspect.getdoc(getattr(Repo, name)) or ""
        assert doc, f"{name} has no docstring"
        assert doc.startswith("Writes:") is (name in WRITES), name
    for part in Repo.__mro__[1:]:
        if not part.__module__.startswith("desktop_chat.storage.repo."):
            continue
        methods = [(n, f) for n, f in vars(part).items() if inspect.isfunction(f) and n != "__init__"]
        writes = [(inspect.getdoc(f) or "").startswith("Writes:") for _, f in methods]
        first = writes.index(True) if True in writes else len(writes)
        assert all(writes[first:]), f"{part.__name__}: a read after the writes"


def test_finding_unfinished_answers_at_start_uses_the_partial_index(store: Store) -> None:
    from desktop_chat.storage.repo.responses import UNFINISHED_QUERY

    plan = " ".join(str(row[-1]) for row in store.db.execute_sql(f"EXPLAIN QUERY PLAN {UNFINISHED_QUERY}"))
    assert "response_unfinished" in plan, plan
    assert "SCAN response" not in plan.replace("USING", "")
