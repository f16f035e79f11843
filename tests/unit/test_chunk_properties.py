"""Properties of the chunk parser: whatever a server sends, it answers with events or one of its typed
errors (desktop_chat/llm/errors.py), never with another exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_chat.llm.chunks import ChunkParser, end_of_stream_error
from desktop_chat.llm.errors import LLMError
from desktop_chat.llm.events import StreamEvent
from tests.helpers.strategies import chunk_like, json_values, line_text

KINDS = ["text", "output_text", "thinking", "reasoning", "image_url"]
EVENT_NAMES = st.sampled_from([None, "message", "error", "ping", "keep-alive", "update"])


def play(datas: list[tuple[str, str | None]]) -> list[StreamEvent]:
    """Feed each (data, event name) as the transport does, up to the first typed error; then finish."""
    parser = ChunkParser()
    events: list[StreamEvent] = []
    for data, name in datas:
        try:
            events += parser.feed(data, name)
        except LLMError:
            events += parser.events_before_error
            break
        if parser.done:
            break
    events += parser.finish()
    error = end_of_stream_error(parser)
    assert error is None or isinstance(error, LLMError)
    return events


@given(st.lists(st.tuples(json_values().map(json.dumps), EVENT_NAMES), max_size=6))
def test_any_json_values_give_events_or_a_typed_error(datas: list[tuple[str, str | None]]) -> None:
    play(datas)


@given(st.lists(chunk_like(json_values()).map(json.dumps), max_size=6))
def test_any_values_inside_a_chunk_give_events_or_a_typed_error(datas: list[str]) -> None:
    play([(data, None) for data in datas])


@given(st.lists(st.tuples(line_text, EVENT_NAMES), max_size=6))
def test_any_text_as_data_gives_events_or_a_typed_error(datas: list[tuple[str, str | None]]) -> None:
    play(datas)


@given(st.lists(chunk_like(json_values()), min_size=1, max_size=4))
def test_a_list_of_chunks_in_one_event_reads_like_the_chunks_one_by_one(chunks: list[dict[str, Any]]) -> None:
    """Some servers batch chunks into one JSON array; nothing else changes."""
    batched = play([(json.dumps(chunks), None)])
    one_by_one = play([(json.dumps(chunk), None) for chunk in chunks])
    if all(not _raises(chunk) for chunk in chunks):
        assert batched == one_by_one


def _raises(chunk: dict[str, Any]) -> bool:
    try:
        ChunkParser().feed(json.dumps(chunk))
    except LLMError:
        return True
    return False


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.sampled_from(KINDS)))
def test_a_content_part_of_any_kind_gives_events_or_a_typed_error(kind: Any) -> None:
    play([(_parts_of_kind(kind), None)])


def _parts_of_kind(kind: Any) -> str:
    """A chunk whose content is a list of parts (Mistral's way), the first of this `type`."""
    return json.dumps({"choices": [{"delta": {"content": [{"type": kind, "text": "x"}, "y"]}}]})


# -- bugs these properties found (desktop_chat/llm/chunks.py), fixed: kept as regression tests -----------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param('{"choices": [], "usage": {"prompt_tokens": 1e400}}', id="prompt-1e400"),
        pytest.param('{"choices": [], "usage": {"completion_tokens": -1e400}}', id="completion-minus-1e400"),
        pytest.param('{"choices": [], "usage": {"prompt_tokens": 3, "total_tokens": NaN}}', id="total-NaN"),
        pytest.param(
            '{"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens_details": {"reasoning_tokens": '
            "Infinity}}}",
            id="reasoning-Infinity",
        ),
        pytest.param('{"choices": [], "x_groq": {"usage": {"prompt_tokens": 1e400}}}', id="groq-1e400"),
        pytest.param('{"choices": [], "timings": {"prompt_n": 1e400, "predicted_n": 2}}', id="timings-1e400"),
    ],
)
def test_token_counts_out_of_range_give_events_or_a_typed_error(data: str) -> None:
    play([(data, None)])


@pytest.mark.parametrize("kind", [[], {}, ["thinking"], {"type": "text"}], ids=["[]", "{}", "list", "object"])
def test_a_content_part_whose_type_is_a_list_or_object_is_skipped(kind: Any) -> None:
    play([(_parts_of_kind(kind), None)])
