"""ChunkParser: every recorded provider shape, and the tricky rules one by one."""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

import pytest

from desktop_chat.domain import Usage
from desktop_chat.llm.chunk_fields import normalise_finish_reason
from desktop_chat.llm.chunks import ChunkParser, end_of_stream_error
from desktop_chat.llm.errors import MalformedStreamError, ProviderStreamError, StreamCutError
from desktop_chat.llm.events import Finished, ReasoningDelta, TextDelta, ToolCallDelta, UsageReport
from desktop_chat.llm.sse import LineSplitter
from tests.helpers.shapes import SHAPES, Shape, assemble, replay, to_lines

if TYPE_CHECKING:
    from desktop_chat.llm.events import StreamEvent


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any) -> str:
    """The JSON of one chunk with choice 0."""
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **top})


def text_chunk(text: str) -> str:
    return chunk({"content": text})


def feed_all(parser: ChunkParser, datas: list[str]) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    for data in datas:
        events.extend(parser.feed(data))
    events.extend(parser.finish())
    return events


def texts(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def reasonings(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


# -- every shape ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_shape_replays_to_the_expected_answer(shape: Shape) -> None:
    events, error = replay(shape)
    outcome = assemble(events)
    assert outcome.text == shape.expected_text
    assert outcome.reasoning == shape.expected_reasoning
    assert outcome.tool_calls == shape.expected_tool_calls
    assert outcome.usage == shape.expected_usage
    assert outcome.finish == shape.expected_finish
    if shape.expected_error is None:
        assert error is None
    else:
        assert type(error) is shape.expected_error
        assert str(error)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_shape_sent_verbatim_reads_the_same(shape: Shape) -> None:
    """The bytes a test server sends (to_lines), read in random pieces by LineSplitter, give the same."""
    body = to_lines(shape).encode()
    rng = random.Random(shape.name)
    for _ in range(5):
        splitter = LineSplitter()
        lines: list[str] = []
        start = 0
        while start < len(body):
            end = start + rng.randint(1, 64)
            lines += splitter.feed(body[start:end])
            start = end
        lines += splitter.flush()
        resplit = Shape(shape.name, lines)
        expected_events, expected_error = replay(shape)
        events, error = replay(resplit)
        assert assemble(events) == assemble(expected_events)
        assert type(error) is type(expected_error)


def test_shapes_cover_the_required_kinds() -> None:
    errors = {shape.expected_error for shape in SHAPES.values()}
    assert {None, StreamCutError, MalformedStreamError, ProviderStreamError} <= errors
    finishes = {shape.expected_finish for shape in SHAPES.values()}
    assert {"stop", "length", "tool_calls", "content_filter", None} <= finishes
    assert len(SHAPES) >= 40
    assert all(shape.source for shape in SHAPES.values())


# -- text ----------------------------------------------------------------------------------------------


def test_empty_and_null_content_produce_no_events() -> None:
    parser = ChunkParser()
    assert parser.feed(chunk({"role": "assistant", "content": ""})) == []
    assert parser.feed(chunk({"role": "assistant", "content": None})) == []
    assert parser.feed(chunk(None)) == []
    assert parser.feed(json.dumps({"choices": None})) == []
    assert parser.feed(json.dumps({"choices": []})) == []
    assert not parser.saw_content


def test_text_is_passed_through_byte_identical() -> None:
    parser = ChunkParser()
    pieces = ["  leading spaces", "\n\n", "tabs\t", " \u00e9 \u0301 \U0001f600 ", "\r\n"]
    assert texts(feed_all(parser, [text_chunk(p) for p in pieces])) == "".join(pieces)


def test_random_splits_of_unicode_text_rejoin_exactly() -> None:
    rng = random.Random(20240501)
    alphabet = "abc xyz\n\t<>/thinké\u0301日本語中文🙂👩\u200d💻🏽ñ\"'\\{}"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        cuts = (
            sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(0, 12))))
            if len(text) > 1
            else []
        )
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        events = feed_all(ChunkParser(), [text_chunk(p) for p in pieces])
        if text.lstrip().startswith(("<think>", "<thinking>")):
            continue  # a leading think block is reasoning: covered below
        assert texts(events) == text


def test_random_utf16_splits_are_rejoined() -> None:
    """A proxy that cuts between the two halves of a surrogate pair: the emoji survives."""
    rng = random.Random(7)
    text = "Emoji 😀🙂👍🏽 and 𝄞 music, 日本語, e\u0301 " * 3
    units = text.encode("utf-16-le")
    for _ in range(100):
        cuts = sorted({rng.randrange(1, len(units) // 2) * 2 for _ in range(rng.randint(1, 20))})
        pieces = [
            units[a:b].decode("utf-16-le", "surrogatepass")
            for a, b in zip([0, *cuts], [*cuts, len(units)], strict=True)
        ]
        datas = [json.dumps({"choices": [{"index": 0, "delta": {"content": p}}]}) for p in pieces if p]
        assert texts(feed_all(ChunkParser(), datas)) == text


def test_a_lone_high_surrogate_at_the_end_becomes_a_replacement_character() -> None:
    events = feed_all(ChunkParser(), ['{"choices":[{"index":0,"delta":{"content":"end \\ud83d"}}]}'])
    assert texts(events) == "end \ufffd"
    texts(events).encode("utf-8")  # storable


def test_refusal_is_answer_text() -> None:
    events = feed_all(ChunkParser(), [chunk({"content": None, "refusal": "I can't help with that."})])
    assert events == [TextDelta("I can't help with that.")]


def test_content_parts() -> None:
    parser = ChunkParser()
    parts = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "hm"}, {"type": "text", "text": "m"}]},
        {"type": "reasoning", "text": "!"},
        {"type": "text", "text": "Answer"},
        {"type": "image_url", "image_url": {"url": "x"}},
        " plain",
    ]
    events = parser.feed(chunk({"content": parts}))
    assert events == [ReasoningDelta("hmm"), ReasoningDelta("!"), TextDelta("Answer"), TextDelta(" plain")]


def test_a_non_streamed_completion_in_a_stream_is_read_from_message() -> None:
    data = json.dumps(
        {
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "Whole"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )
    events = ChunkParser().feed(data)
    assert events == [TextDelta("Whole"), Finished("stop"), UsageReport(Usage(1, 1, 2))]


def test_a_json_array_of_chunks() -> None:
    data = json.dumps([json.loads(text_chunk("a")), json.loads(text_chunk("b"))])
    assert ChunkParser().feed(data) == [TextDelta("a"), TextDelta("b")]


# -- reasoning -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "thinking"])
def test_reasoning_fields(field: str) -> None:
    assert ChunkParser().feed(chunk({field: "why"})) == [ReasoningDelta("why")]


def test_the_same_reasoning_in_several_fields_is_not_doubled() -> None:
    delta = {
        "reasoning": "once",
        "reasoning_content": "once",
        "reasoning_details": [{"type": "reasoning.text", "text": "once"}],
    }
    assert ChunkParser().feed(chunk(delta)) == [ReasoningDelta("once")]


def test_reasoning_details_when_no_reasoning_string() -> None:
    delta = {
        "reasoning": None,
        "reasoning_details": [
            {"type": "reasoning.text", "text": "a"},
            {"type": "reasoning.summary", "summary": "b"},
            {"type": "reasoning.encrypted", "data": "xyz"},
        ],
    }
    assert ChunkParser().feed(chunk(delta)) == [ReasoningDelta("a"), ReasoningDelta("b")]


# -- <think> -------------------------------------------------------------------------------------------

THINK_STREAM = "\n<think>\nStep one.\nStep <two>.\n</think>\n\n  Final answer with <think> inside."


@pytest.mark.parametrize("cut", range(1, len(THINK_STREAM)))
def test_think_block_split_at_any_point(cut: int) -> None:
    events = feed_all(ChunkParser(), [text_chunk(THINK_STREAM[:cut]), text_chunk(THINK_STREAM[cut:])])
    assert reasonings(events) == "\nStep one.\nStep <two>.\n"
    assert texts(events) == "Final answer with <think> inside."


def test_think_block_split_into_random_pieces() -> None:
    rng = random.Random(3)
    for _ in range(300):
        cuts = sorted(set(rng.sample(range(1, len(THINK_STREAM)), rng.randint(1, 25))))
        pieces = [THINK_STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(THINK_STREAM)], strict=True)]
        events = feed_all(ChunkParser(), [text_chunk(p) for p in pieces])
        assert reasonings(events) == "\nStep one.\nStep <two>.\n"
        assert texts(events) == "Final answer with <think> inside."


def test_thinking_tag_variant() -> None:
    events = feed_all(ChunkParser(), [text_chunk("<thinking>hm</thinking>"), text_chunk("ok")])
    assert (reasonings(events), texts(events)) == ("hm", "ok")


def test_think_later_in_the_answer_is_text() -> None:
    events = feed_all(ChunkParser(), [text_chunk("Hi "), text_chunk("<think>x</think>")])
    assert texts(events) == "Hi <think>x</think>"
    assert reasonings(events) == ""


def test_unclosed_think_stays_reasoning() -> None:
    events = feed_all(ChunkParser(), [text_chunk("<think>still"), text_chunk(" going </thin")])
    assert reasonings(events) == "still going </thin"
    assert texts(events) == ""


def test_a_partial_opening_tag_at_the_end_is_text() -> None:
    events = feed_all(ChunkParser(), [text_chunk("  <thi")])
    assert texts(events) == "  <thi"


def test_answer_that_starts_with_another_tag_is_text() -> None:
    events = feed_all(ChunkParser(), [text_chunk("<"), text_chunk("b>bold</b>")])
    assert texts(events) == "<b>bold</b>"


def test_whitespace_only_answer_is_kept() -> None:
    assert texts(feed_all(ChunkParser(), [text_chunk("\n"), text_chunk(" ")])) == "\n "


# -- tool calls ----------------------------------------------------------------------------------------


def tool_chunk(*pieces: dict[str, Any]) -> str:
    return chunk({"tool_calls": list(pieces)})


def test_tool_call_pieces_by_index() -> None:
    parser = ChunkParser()
    events = feed_all(
        parser,
        [
            tool_chunk({"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}),
            tool_chunk({"index": 0, "function": {"arguments": '{"x":'}}),
            tool_chunk({"index": 0, "function": {"arguments": "1}"}}),
        ],
    )
    assert events == [
        ToolCallDelta(0, "a", "f", ""),
        ToolCallDelta(0, None, None, '{"x":'),
        ToolCallDelta(0, None, None, "1}"),
    ]
    assert parser.saw_content


def test_repeated_names_and_ids_are_emitted_once() -> None:
    piece = {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    events = feed_all(
        ChunkParser(), [tool_chunk(piece), tool_chunk({**piece, "function": {"name": "f", "arguments": ""}})]
    )
    assert events == [ToolCallDelta(0, "a", "f", "{}")]


def test_index_less_pieces() -> None:
    events = feed_all(
        ChunkParser(),
        [
            tool_chunk({"id": "a", "function": {"name": "f", "arguments": "{"}}),
            tool_chunk({"function": {"arguments": "}"}}),  # no index, no id: the last call
            tool_chunk({"id": "b", "function": {"name": "g", "arguments": "{}"}}),  # a new id: a new call
            tool_chunk({"id": "a", "function": {"arguments": ""}}),  # a known id: that call, nothing new
            tool_chunk({"function": {"name": "h", "arguments": "[]"}}),  # no id, another name: a new call
        ],
    )
    assert assemble(events).tool_calls == [("a", "f", "{}"), ("b", "g", "{}"), (None, "h", "[]")]


def test_same_index_with_a_new_id_is_a_new_call() -> None:
    events = feed_all(
        ChunkParser(),
        [
            tool_chunk({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}),
            tool_chunk({"index": 0, "id": "b", "function": {"name": "f", "arguments": "[]"}}),
            tool_chunk({"index": 0, "function": {"arguments": " "}}),  # continues the call now at index 0: b
        ],
    )
    assert assemble(events).tool_calls == [("a", "f", "{}"), ("b", "f", "[] ")]


def test_a_known_id_at_another_index_keeps_its_call() -> None:
    events = feed_all(
        ChunkParser(),
        [
            tool_chunk({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}}),
            tool_chunk({"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}}),
            tool_chunk({"index": 1, "id": "a", "function": {"arguments": "}"}}),
        ],
    )
    assert assemble(events).tool_calls == [("a", "f", "{}"), ("b", "g", "{}")]


def test_arguments_as_an_object_are_sent_once_as_compact_json() -> None:
    piece = {"index": 0, "id": "a", "function": {"name": "f", "arguments": {"city": "Zürich", "n": [1, 2]}}}
    events = feed_all(ChunkParser(), [tool_chunk(piece), tool_chunk(piece)])
    assert events == [ToolCallDelta(0, "a", "f", '{"city":"Zürich","n":[1,2]}')]


def test_null_arguments_and_empty_pieces_add_nothing() -> None:
    events = feed_all(
        ChunkParser(),
        [
            tool_chunk({"index": 0, "id": "a", "function": {"name": "f", "arguments": None}}),
            tool_chunk({"index": 0, "function": {"arguments": None}}),
            tool_chunk({"extra_content": {"google": {"thought_signature": "x"}}}),
            chunk({"tool_calls": []}),
        ],
    )
    assert events == [ToolCallDelta(0, "a", "f", "")]


def test_legacy_function_call_gets_a_synthetic_id() -> None:
    events = feed_all(
        ChunkParser(),
        [
            chunk({"function_call": {"name": "f", "arguments": '{"a"'}}),
            chunk({"function_call": {"arguments": ":1}"}}),
            chunk({}, "function_call"),
        ],
    )
    assert assemble(events).tool_calls == [("call_0", "f", '{"a":1}')]
    assert assemble(events).finish == "tool_calls"


# -- finish reasons ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("stop", "stop"),
        ("eos", "stop"),
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("STOP", "stop"),
        ("length", "length"),
        ("max_tokens", "length"),
        ("MAX_TOKENS", "length"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("tool_use", "tool_calls"),
        ("content_filter", "content_filter"),
        ("insufficient_system_resource", "insufficient_system_resource"),
    ],
)
def test_finish_reasons_are_normalised(raw: str, expected: str) -> None:
    assert normalise_finish_reason(raw) == expected
    parser = ChunkParser()
    assert parser.feed(chunk({}, raw)) == [Finished(expected)]
    assert parser.finish_reason == expected


def test_a_repeated_finish_reason_is_emitted_once() -> None:
    parser = ChunkParser()
    events = feed_all(
        parser, [chunk({"content": "a"}, "stop"), chunk({"content": "b"}, "stop"), chunk({}, "stop")]
    )
    assert events == [TextDelta("a"), Finished("stop"), TextDelta("b")]


def test_a_changed_finish_reason_is_emitted_again_and_the_last_counts() -> None:
    parser = ChunkParser()
    events = feed_all(parser, [chunk({"content": "a"}, "stop"), chunk({}, "length")])
    assert [e for e in events if isinstance(e, Finished)] == [Finished("stop"), Finished("length")]
    assert parser.finish_reason == "length"


def test_stop_after_tool_calls_means_tool_calls() -> None:
    parser = ChunkParser()
    events = feed_all(
        parser, [tool_chunk({"id": "a", "function": {"name": "f", "arguments": "{}"}}), chunk({}, "stop")]
    )
    assert events[-1] == Finished("tool_calls")
    assert parser.finish_reason == "tool_calls"


def test_length_after_tool_calls_stays_length() -> None:
    parser = ChunkParser()
    feed_all(
        parser,
        [
            tool_chunk({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}}),
            chunk({}, "length"),
        ],
    )
    assert parser.finish_reason == "length"


# -- usage ---------------------------------------------------------------------------------------------


def test_usage_mapping_with_reasoning_and_missing_total() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": None,
        "completion_tokens_details": {"reasoning_tokens": 3, "audio_tokens": None},
        "prompt_cache_hit_tokens": 4,
    }
    assert ChunkParser().feed(json.dumps({"choices": [], "usage": usage})) == [
        UsageReport(Usage(10, 5, 15, 3))
    ]


def test_usage_with_null_counts() -> None:
    usage = {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None}
    assert ChunkParser().feed(json.dumps({"choices": [], "usage": usage})) == [UsageReport(Usage())]


def test_a_later_usage_replaces_and_repeats_are_skipped() -> None:
    parser = ChunkParser()
    events = feed_all(
        parser,
        [
            chunk({"content": "a"}, usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}),
            chunk({"content": "b"}, usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}),
            json.dumps(
                {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
            ),
        ],
    )
    reports = [e for e in events if isinstance(e, UsageReport)]
    assert reports == [UsageReport(Usage(3, 1, 4)), UsageReport(Usage(3, 2, 5))]
    assert assemble(events).usage == Usage(3, 2, 5)


def test_x_groq_and_choice_usage() -> None:
    groq = json.dumps(
        {"choices": [], "x_groq": {"id": "req_1", "usage": {"prompt_tokens": 1, "completion_tokens": 2}}}
    )
    assert ChunkParser().feed(groq) == [UsageReport(Usage(1, 2, 3))]
    inner = json.dumps(
        {"choices": [{"index": 0, "delta": {}, "usage": {"prompt_tokens": 4, "completion_tokens": 1}}]}
    )
    assert ChunkParser().feed(inner) == [UsageReport(Usage(4, 1, 5))]


def test_timings_are_usage_only_without_real_usage() -> None:
    timings = {"prompt_n": 7, "predicted_n": 2, "predicted_ms": 10.0}
    parser = ChunkParser()
    assert parser.feed(chunk({}, "stop", timings=timings)) == [Finished("stop")]
    assert parser.finish() == [UsageReport(Usage(7, 2, 9))]
    parser = ChunkParser()
    parser.feed(
        chunk(
            {},
            "stop",
            timings=timings,
            usage={"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10},
        )
    )
    assert parser.finish() == []


# -- [DONE], errors, malformed input -------------------------------------------------------------------


@pytest.mark.parametrize("data", ["[DONE]", " [DONE] ", "[DONE]\n"])
def test_done(data: str) -> None:
    parser = ChunkParser()
    assert parser.feed(data) == []
    assert parser.done


def test_blank_data_and_pings_are_ignored() -> None:
    parser = ChunkParser()
    assert parser.feed("") == []
    assert parser.feed("  ") == []
    assert parser.feed("{}", "ping") == []
    assert parser.feed("{}") == []


def test_malformed_json_message_is_readable_and_quotes_the_line() -> None:
    parser = ChunkParser()
    with pytest.raises(MalformedStreamError) as caught:
        parser.feed('{"choices":[{"index":0,"delta":{"content":"trunc')
    message = str(caught.value)
    assert message.startswith("The provider sent something that is not part of a chat answer")
    assert '{"choices":[{"index":0' in message


def test_malformed_excerpt_is_short() -> None:
    with pytest.raises(MalformedStreamError) as caught:
        ChunkParser().feed("<html><body>" + "x" * 5000 + "</body></html>")
    assert "<html><body>" in str(caught.value)
    assert len(caught.value.message) < 200


@pytest.mark.parametrize("data", ["not json", "42", '"a string"', "[1, 2]"])
def test_non_chunks_are_malformed(data: str) -> None:
    with pytest.raises(MalformedStreamError):
        ChunkParser().feed(data)


def test_error_event_raises_with_the_providers_message() -> None:
    parser = ChunkParser()
    data = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    with pytest.raises(ProviderStreamError) as caught:
        parser.feed(data, "error")
    assert "Overloaded" in str(caught.value)
    assert parser.events_before_error == []


def test_error_event_with_plain_text() -> None:
    with pytest.raises(ProviderStreamError) as caught:
        ChunkParser().feed("upstream timed out", "error")
    assert "upstream timed out" in str(caught.value)


def test_top_level_error_keeps_earlier_events_and_status() -> None:
    parser = ChunkParser()
    assert parser.feed(text_chunk("kept")) == [TextDelta("kept")]
    data = json.dumps(
        {
            "error": {"message": "Bad gateway", "code": 502},
            "choices": [{"index": 0, "delta": {"content": " too"}}],
        }
    )
    with pytest.raises(ProviderStreamError) as caught:
        parser.feed(data)
    assert caught.value.status == 502
    assert "Bad gateway" in str(caught.value)
    assert parser.events_before_error == [TextDelta(" too")]


def test_finish_reason_error_uses_the_choice_error_when_there_is_no_top_level_one() -> None:
    data = json.dumps(
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "error", "error": {"message": "cut off"}}]}
    )
    with pytest.raises(ProviderStreamError) as caught:
        ChunkParser().feed(data)
    assert "cut off" in str(caught.value)


def test_finish_reason_error_without_any_message() -> None:
    with pytest.raises(ProviderStreamError) as caught:
        ChunkParser().feed(chunk({}, "error"))
    assert str(caught.value)


def test_null_error_field_is_not_an_error() -> None:
    assert ChunkParser().feed(chunk({"content": "ok"}, error=None)) == [TextDelta("ok")]


# -- end of stream -------------------------------------------------------------------------------------


def test_end_of_stream_rules() -> None:
    finished = ChunkParser()
    finished.feed(chunk({"content": "a"}, "stop"))
    assert end_of_stream_error(finished) is None  # a finish reason, no [DONE]: fine

    done_with_text = ChunkParser()
    done_with_text.feed(text_chunk("a"))
    done_with_text.feed("[DONE]")
    assert end_of_stream_error(done_with_text) is None  # [DONE] after content: fine

    cut = ChunkParser()
    cut.feed(text_chunk("a"))
    error = end_of_stream_error(cut)
    assert isinstance(error, StreamCutError)
    assert str(error) == "The connection closed before the answer finished; the text received so far is kept."

    empty = ChunkParser()
    empty.feed("[DONE]")
    assert isinstance(end_of_stream_error(empty), StreamCutError)
    assert isinstance(end_of_stream_error(ChunkParser()), StreamCutError)


def test_saw_content_counts_reasoning_and_tools() -> None:
    reasoning = ChunkParser()
    reasoning.feed(chunk({"reasoning_content": "r"}))
    assert reasoning.saw_content
    tools = ChunkParser()
    tools.feed(tool_chunk({"index": 0, "id": "a", "function": {"name": "f"}}))
    assert tools.saw_content
    held = ChunkParser()
    held.feed(text_chunk("<thi"))
    assert held.saw_content
