"""Properties of search: nothing a person types raises, neither when compiled nor as an FTS5 MATCH on a
real store."""

from __future__ import annotations

from hypothesis import given

from desktop_chat.storage import Store
from desktop_chat.storage.search import SearchOrder, compile_query
from tests.helpers.history import conversation_with
from tests.helpers.strategies import TRICKY, examples, search_text

TEXTS = [
    "Why does my Rust struct need a lifetime parameter?",
    'She said "e-mail me" at 10:30 - or was it c++11?',
    "Café crème, naïve façade, Straße; 東京 and 🎉 " + "".join(TRICKY),
    "NOT a keyword AND not OR syntax NEAR(here) col:value ^start *star*",
]


@given(search_text)
@examples('"', '-"', "*", '"*"', "a* -b* \"c d\"* -'e'", "\x00", "NEAR(a b)")
def test_no_typed_text_raises_when_compiled(text: str) -> None:
    compiled = compile_query(text)
    assert compiled.match is None or compiled.match.strip()
    assert all(term for term in compiled.terms)


def test_no_typed_text_raises_as_a_match_on_a_real_store(store: Store) -> None:
    conversation_with(store, "Search me", *TEXTS)
    count_sql = "SELECT count(*) FROM message_fts WHERE message_fts MATCH ?"

    @given(search_text)
    @examples('"e-mail me"', "caf* -crème", "__*", "-\x00 a\x00b", "🎉* 東京")
    def search(text: str) -> None:
        compiled = compile_query(text)
        if compiled.match is not None:
            store.db.execute_sql(count_sql, (compiled.match,)).fetchone()
        for order in SearchOrder:
            store.repo.search(text, order=order, limit=5)

    search()
