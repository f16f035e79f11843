"""Property: a mutated valid export imports whole conversations or skips them with a reason, never half.

A valid JSON export of a few rich conversations is mutated at random (keys deleted, values of another
type, strings and lists cut short, values swapped, ids duplicated, parent links broken) and imported
into a fresh real store. Bounded and derandomized, so every run checks the same 100 files.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from desktop_chat.interchange.importers import import_file
from desktop_chat.interchange.importers.runner import entry_label
from desktop_chat.interchange.json_writer import export_json
from desktop_chat.storage import Repo, open_store
from desktop_chat.storage.db import integrity_errors
from tests.helpers import export_samples as samples

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    2**70,
    10**400,  # no float can hold it
    1e308,
    float("nan"),
    "",
    "x",
    "streaming",
    "queued",
    "assistant",
    [],
    [1, "a"],
    {},
    {"a": 1},
]
DROPPED = re.compile(r"^message \d+ skipped: |: a second message with this id was skipped$")
# The only reason a well-formed record may still fail as a whole: ids that are stored already.
CONFLICT = "could not be imported (ValueError: conflicts with stored data"

Draw = Callable[[st.SearchStrategy[Any]], Any]


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) below `node`, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    out: list[tuple[Any, Any]] = []
    for key, value in list(items):
        out.append((node, key))
        out.extend(_slots(value))
    return out


def _messages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    conversations = doc.get("conversations")
    return [
        m
        for c in (conversations if isinstance(conversations, list) else [])
        if isinstance(c, dict) and isinstance(c.get("messages"), list)
        for m in c["messages"]
        if isinstance(m, dict)
    ]


def _mutate(doc: dict[str, Any], op: str, draw: Draw) -> None:
    """Apply one mutation in place (a no-op when there is nothing it applies to)."""
    conversations = doc.get("conversations")
    inside = conversations if isinstance(conversations, list) else doc
    slots = _slots(inside) if op != "top" else [(doc, k) for k in doc]
    if op == "retype_field":  # every field name alike, however rare: a round as often as a title
        names = sorted({str(k) for c, k in slots if isinstance(c, dict)})
        if names:
            name = draw(st.sampled_from(names))
            container, key = draw(st.sampled_from([(c, k) for c, k in slots if k == name]))
            container[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    elif op in ("delete", "retype", "top") and slots:
        container, key = draw(st.sampled_from(slots))
        if op == "retype" or (op == "top" and draw(st.booleans())):
            container[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    elif op == "truncate":
        cut = [(c, k) for c, k in slots if isinstance(c[k], str | list) and c[k]]
        if cut:
            container, key = draw(st.sampled_from(cut))
            container[key] = container[key][: draw(st.integers(0, len(container[key]) - 1))]
    elif op == "swap" and len(slots) > 1:
        (c1, k1), (c2, k2) = draw(st.lists(st.sampled_from(slots), min_size=2, max_size=2))
        c1[k1], c2[k2] = c2[k2], c1[k1]
    elif op == "duplicate_id":
        ids = [(c, k) for c, k in slots if k == "uuid" and isinstance(c, dict)]
        if len(ids) > 1:
            (c1, _), (c2, _) = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2))
            c1["uuid"] = c2["uuid"]
    elif op == "break_parent":
        messages = _messages(doc)
        if messages:
            message = draw(st.sampled_from(messages))
            other = draw(st.sampled_from(messages))
            message["parent_uuid"] = draw(
                st.sampled_from([other.get("uuid"), message.get("uuid"), "no-such-message", None])
            )


def _stored_counts(repo: Repo) -> dict[str, int]:
    rows = repo.db.execute_sql(
        "SELECT c.uuid, count(m.id) FROM conversation c LEFT JOIN message m ON m.conversation_id = c.id "
        "GROUP BY c.id"
    ).fetchall()
    return {str(u): int(n) for u, n in rows}


def _assert_readable(repo: Repo) -> None:
    """Everything stored can be listed and opened: no row the app would skip as unreadable."""
    assert repo.conversation_summaries().skipped == []
    page = repo.list_conversations(include_archived=True, limit=1000)
    assert page.skipped == []
    for conversation in page.items:
        messages = repo.list_messages(conversation.id)
        assert messages.skipped == [], messages.skipped
        for message in messages.items:
            if message.response is not None:
                assert repo.list_tool_executions(message.response.id).skipped == []


@pytest.fixture(scope="module")
def valid_export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("valid-export")
    store = open_store(folder / "desktop_chat.sqlite3")
    try:
        samples.fill_rich_store(store.repo)
        conv = store.repo.create_conversation("Still streaming")  # exported as "streaming"
        q = store.repo.add_message(conv.id, "hi")
        store.repo.start_response(conv.id, q.id)
        export_json(store.repo, None, folder / "export.json")
    finally:
        store.close()
    document: dict[str, Any] = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    return document


OPS = [
    "delete",
    "retype",
    "retype_field",
    "retype_field",
    "truncate",
    "swap",
    "duplicate_id",
    "break_parent",
    "top",
]


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_mutated_export_imports_whole_conversations_or_skips_them(
    valid_export: dict[str, Any], data: st.DataObject
) -> None:
    doc = copy.deepcopy(valid_export)
    for op in data.draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=6), label="mutations"):
        _mutate(doc, op, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        store = open_store(Path(tmp) / "desktop_chat.sqlite3")
        try:
            repo = store.repo
            try:
                report = import_file(repo, path)
            except ValueError:  # the documented refusal of a file that is not an export at all
                event("refused whole")
                assert _stored_counts(repo) == {}
                return
            entries: list[Any] = doc["conversations"]
            stored = _stored_counts(repo)
            assert report.imported == len(stored)
            assert not report.cancelled
            for reason in report.skipped:
                assert "could not be imported (" not in reason or CONFLICT in reason, reason
            labels = [entry_label(e, "desktop_chat", n) for n, e in enumerate(entries, 1)]
            for label, entry in zip(labels, entries, strict=True):
                mine = [r[len(label) + 2 :] for r in report.skipped if r.startswith(f"{label}: ")]
                uid = entry.get("uuid") if isinstance(entry, dict) else None
                if not (isinstance(uid, str) and uid in stored):
                    assert mine, f"{label} is neither stored nor reported"
                    event("a conversation skipped with a reason")
                    continue
                if (
                    labels.count(label) > 1
                    or [e.get("uuid") for e in entries if isinstance(e, dict)].count(uid) > 1
                ):
                    continue  # the notes of two entries cannot be told apart
                given_messages = entry.get("messages", [])
                expected = len(given_messages) - sum(1 for note in mine if DROPPED.search(note))
                assert stored[uid] == expected, (label, mine)
                event("a stored conversation counted" + (" (messages left out)" if mine else ""))
            _assert_readable(repo)
            assert integrity_errors(store.db) == []
            assert store.db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
        finally:
            store.close()
