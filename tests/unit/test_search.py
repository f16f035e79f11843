"""Full-text search: compiled queries, highlighted snippets, ordering, only complete messages indexed."""

from __future__ import annotations

import random
import time

import pytest

from desktop_chat.domain import HIGHLIGHT_END, HIGHLIGHT_START, ResponsePatch, ResponseStatus, Role
from desktop_chat.storage import Store
from desktop_chat.storage.search import SearchOrder, compile_query
from tests.helpers.history import conversation_with


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("hello world", '"hello" AND "world"'),
        ('"exact phrase" -spam', '"exact phrase" NOT "spam"'),
        ('-"bad phrase" good', '"good" NOT "bad phrase"'),
        ("data*", '"data"*'),
        ("d*", '"d"'),  # one-letter prefixes would match half the index: taken as a word
        ("e-mail", '"e mail"'),
        ("c++11", '"c 11"'),
        ("-only -exclusions", None),
        ("", None),
        ('() * " - ^ :', None),
        ('"unterminated phrase', '"unterminated phrase"'),
        ("a AND OR NOT", '"a" AND "AND" AND "OR" AND "NOT"'),  # operators are words, not syntax
        ("col:value", '"col value"'),  # no column filters
    ],
)
def test_compile_query(text: str, match: str | None) -> None:
    assert compile_query(text).match == match


def test_finds_user_and_assistant_text_with_highlighted_snippets(store: Store) -> None:
    q, a = conversation_with(
        store,
        "Cooking",
        "How long do I bake sourdough bread?",
        "Bake the sourdough at 230 °C for about 40 minutes, lid on for the first 20.",
    )
    hits = store.repo.search("sourdough").items
    assert {h.message_id for h in hits} == {q, a}
    assert all(h.conversation_title == "Cooking" for h in hits)
    by_id = {h.message_id: h for h in hits}
    assert by_id[a].role is Role.ASSISTANT
    assert f"{HIGHLIGHT_START}sourdough{HIGHLIGHT_END}" in by_id[a].snippet
    parts = by_id[q].snippet_parts()
    assert ("sourdough", True) in parts
    assert "".join(t for t, _ in parts) == "How long do I bake sourdough bread?"


def test_streaming_answer_is_indexed_once_when_complete(store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation("t")
    q = repo.add_message(conv.id, "tell me about axolotls")
    msg = repo.start_response(conv.id, q.id)
    rid = msg.response_id
    repo.apply_patches([ResponsePatch(rid, "Axolotls are salamanders ", status=ResponseStatus.STREAMING)])
    repo.apply_patches([ResponsePatch(rid, "that keep their gills.")])
    assert repo.search("salamanders").items == []  # not searchable while it streams
    repo.finish_response(rid, ResponseStatus.DONE)
    hits = repo.search("gills").items
    assert [h.message_id for h in hits] == [msg.id]
    rows = store.db.execute_sql("SELECT count(*) FROM message_fts WHERE rowid = ?", (msg.id,)).fetchone()
    assert rows[0] == 1


def test_recent_order_is_newest_first_and_rank_order_prefers_density(store: Store) -> None:
    old = conversation_with(store, "old", "kiwi kiwi kiwi kiwi kiwi everywhere")[0]
    time.sleep(0.01)
    new = conversation_with(store, "new", "a single kiwi among many other words in a long sentence here")[0]
    recent = [h.message_id for h in store.repo.search("kiwi").items]
    ranked = [h.message_id for h in store.repo.search("kiwi", order=SearchOrder.RANK).items]
    assert recent == [new, old]
    assert ranked == [old, new]


def test_prefix_phrase_exclusion_and_diacritics(store: Store) -> None:
    a = conversation_with(store, "a", "Gradient descent converges slowly")[0]
    b = conversation_with(store, "b", "Gradients vanish in deep networks")[0]
    c = conversation_with(store, "c", "Mon résumé est prêt")[0]
    search = store.repo.search
    assert {h.message_id for h in search("gradient*").items} == {a, b}
    assert [h.message_id for h in search("gradient").items] == [a]
    assert [h.message_id for h in search('"descent converges"').items] == [a]
    assert search('"converges descent"').items == []
    assert [h.message_id for h in search("gradient* -vanish").items] == [a]
    assert [h.message_id for h in search("resume").items] == [c]
    assert [h.message_id for h in search("RÉSUMÉ").items] == [c]


def test_limit_offset_and_deleted_conversations(store: Store) -> None:
    ids = [conversation_with(store, f"c{i}", f"common marker {i}")[0] for i in range(12)]
    first = [h.message_id for h in store.repo.search("marker", limit=5).items]
    second = [h.message_id for h in store.repo.search("marker", limit=5, offset=5).items]
    assert first == ids[::-1][:5]
    assert second == ids[::-1][5:10]
    conv_id = store.repo.get_message(ids[-1]).conversation_id
    store.repo.delete_conversation(conv_id)
    assert ids[-1] not in {h.message_id for h in store.repo.search("marker", limit=50).items}


def test_hostile_input_never_raises(store: Store) -> None:
    conversation_with(store, "x", 'quotes " and stars * and (parens) and NEAR/3 and col:val and ^caret')
    rng = random.Random(7)
    alphabet = 'ab "*()-^:+/\\NEARORANDNOT.,;\x00é🎉'
    nasty = ['"', '""', "*", "-", "(", ")", "NEAR(", "a OR", "^", ":", "\x00", "' OR 1=1 --", "🎉*"]
    nasty += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(400)]
    for text in nasty:
        page = store.repo.search(text)
        assert page.skipped == []
