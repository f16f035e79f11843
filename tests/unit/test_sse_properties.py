"""Properties of the SSE reader: however the body arrives in pieces, the same lines and the same events."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from desktop_chat.llm.sse import LineSplitter, SSEDecoder, SSEEvent
from tests.helpers.strategies import pieces, sse_streams


def read(chunks: list[bytes]) -> tuple[list[str], list[SSEEvent], str, int | None]:
    """What the transport gets from these pieces of a body: the lines, the events, the last id and retry."""
    splitter, decoder = LineSplitter(), SSEDecoder()
    lines: list[str] = []
    for chunk in chunks:
        lines += splitter.feed(chunk)
    lines += splitter.flush()
    events = [event for line in lines if (event := decoder.feed_line(line)) is not None]
    last = decoder.flush()
    if last is not None:
        events.append(last)
    return lines, events, decoder.last_event_id, decoder.retry


@given(st.data(), sse_streams())
def test_any_split_of_an_event_stream_gives_the_same_lines_and_events(
    data: st.DataObject, body: bytes
) -> None:
    assert read(data.draw(pieces(body))) == read([body])


def test_every_cut_in_two_of_a_tricky_stream_gives_the_same_events() -> None:
    """A BOM, CRLF, a lone CR, U+2028 inside data, 2- and 4-byte characters: cut at every byte."""
    text = "\ufeffdata: caf\u00e9\r\n\r\ndata: a\u2028b \U0001f389\r\revent: error\rdata: {}\n\ndata: end"
    body = text.encode()
    whole = read([body])
    assert [e.data for e in whole[1]] == ["caf\u00e9", "a\u2028b \U0001f389", "{}", "end"]
    for i in range(len(body) + 1):
        assert read([body[:i], body[i:]]) == whole, i


@given(sse_streams())
def test_byte_by_byte_is_the_same_as_all_at_once(body: bytes) -> None:
    assert read([body[i : i + 1] for i in range(len(body))]) == read([body])


@given(st.data(), st.binary(max_size=200))
def test_any_split_of_any_bytes_gives_the_same_lines(data: st.DataObject, body: bytes) -> None:
    assert read(data.draw(pieces(body))) == read([body])


@given(sse_streams())
def test_lines_end_at_cr_lf_and_crlf_only(body: bytes) -> None:
    """The spec's line endings and no others: U+2028, U+2029 and NEL stay inside their line."""
    lines = re.split(r"\r\n|\r|\n", body.decode("utf-8"))
    if lines[-1] == "":
        lines.pop()
    assert read([body])[0] == lines
