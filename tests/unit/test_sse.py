"""SSEDecoder: the spec's rules for event streams, and the tolerances real servers need."""

from __future__ import annotations

import json
import random

import pytest

from desktop_chat.llm.sse import LineSplitter, SSEDecoder, SSEEvent
from tests.helpers.shapes import SHAPES, Shape, to_lines


def decode(lines: list[str]) -> list[SSEEvent]:
    """All events of a list of lines, flushed at the end."""
    decoder = SSEDecoder()
    events = [event for line in lines if (event := decoder.feed_line(line)) is not None]
    last = decoder.flush()
    return [*events, last] if last is not None else events


# -- the spec ------------------------------------------------------------------------------------------


def test_a_blank_line_dispatches_the_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed_line("data: hello") is None
    assert decoder.feed_line("") == SSEEvent("hello")
    assert decoder.flush() is None


def test_one_optional_space_after_the_colon() -> None:
    assert decode(["data:no space", ""]) == [SSEEvent("no space")]
    assert decode(["data: one space", ""]) == [SSEEvent("one space")]
    assert decode(["data:  two spaces", ""]) == [SSEEvent(" two spaces")]


def test_colons_inside_the_value_are_kept() -> None:
    assert decode(['data: {"a": "b:c"}', ""]) == [SSEEvent('{"a": "b:c"}')]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode(["data: first", "data: second", "data:", "data: fourth", ""]) == [
        SSEEvent("first\nsecond\n\nfourth")
    ]


def test_a_data_line_without_colon_is_empty_data() -> None:
    assert decode(["data", ""]) == [SSEEvent("")]


def test_comments_are_ignored() -> None:
    assert decode([": OPENROUTER PROCESSING", "", ":keep-alive", "", "data: x", ": inside", ""]) == [
        SSEEvent("x")
    ]


def test_event_names_apply_to_one_event() -> None:
    assert decode(["event: error", "data: boom", "", "data: next", ""]) == [
        SSEEvent("boom", "error"),
        SSEEvent("next"),
    ]


def test_an_empty_event_name_is_the_default() -> None:
    assert decode(["event:", "data: x", ""]) == [SSEEvent("x")]


def test_id_and_retry_fields() -> None:
    decoder = SSEDecoder()
    for line in ["id: 42", "retry: 1500", "data: x", ""]:
        decoder.feed_line(line)
    assert decoder.last_event_id == "42"
    assert decoder.retry == 1500
    decoder.feed_line("retry: soon")  # not a number: ignored
    decoder.feed_line("id: a\0b")  # a NUL: ignored
    assert decoder.retry == 1500
    assert decoder.last_event_id == "42"


def test_unknown_fields_are_ignored() -> None:
    assert decode(["foo: bar", "data: x", "baz", ""]) == [SSEEvent("x")]


def test_a_blank_line_without_data_dispatches_nothing() -> None:
    assert decode(["", "", "event: ping", "", "id: 3", ""]) == []


def test_an_error_event_without_data_is_still_dispatched() -> None:
    assert decode(["event: error", ""]) == [SSEEvent("", "error")]


def test_a_bom_at_the_start_is_skipped() -> None:
    assert decode(["\ufeffdata: x", ""]) == [SSEEvent("x")]
    assert decode(["\ufeff", "data: y", ""]) == [SSEEvent("y")]


def test_flush_dispatches_an_unterminated_last_event() -> None:
    decoder = SSEDecoder()
    decoder.feed_line("event: message")
    decoder.feed_line("data: tail")
    assert decoder.flush() == SSEEvent("tail", "message")
    assert decoder.flush() is None


# -- tolerances ----------------------------------------------------------------------------------------


def test_carriage_returns_are_dropped() -> None:
    assert decode(["data: x\r", "\r", "event: error\r", "data: y\r", "\r"]) == [
        SSEEvent("x"),
        SSEEvent("y", "error"),
    ]


def test_back_to_back_json_documents_are_separate_events() -> None:
    assert decode(['data: {"a":1}', 'data: {"b":2}', "data: [DONE]", 'data: {"c":3}']) == [
        SSEEvent('{"a":1}'),
        SSEEvent('{"b":2}'),
        SSEEvent("[DONE]"),
        SSEEvent('{"c":3}'),
    ]


def test_a_json_document_split_over_data_lines_stays_one_event() -> None:
    lines = ["data: {", 'data:   "a": [1,', "data:     2]", "data: }", ""]
    (event,) = decode(lines)
    assert json.loads(event.data) == {"a": [1, 2]}


def test_bare_json_lines_are_events() -> None:
    assert decode(['{"a":1}', '{"b":2}']) == [SSEEvent('{"a":1}'), SSEEvent('{"b":2}')]


def test_a_bare_json_line_inside_an_event_is_data() -> None:
    assert decode(["event: message", '{"a":1}', ""]) == [SSEEvent('{"a":1}', "message")]


def test_llamacpp_error_field_is_an_error_event() -> None:
    line = 'error: {"code":500,"message":"boom","type":"server_error"}'
    assert decode([line, "", "data: [DONE]", ""]) == [
        SSEEvent('{"code":500,"message":"boom","type":"server_error"}', "error"),
        SSEEvent("[DONE]"),
    ]


def test_llamacpp_error_field_after_an_unclosed_event() -> None:
    assert decode(["data: partial", "error: {}", ""]) == [SSEEvent("partial"), SSEEvent("{}", "error")]


# -- every recorded shape ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_every_shape_decodes_into_json_chunks(shape: Shape) -> None:
    events = decode(shape.lines)
    assert events or not shape.lines
    for event in events:
        if event.data.strip() == "[DONE]" or shape.name == "malformed_json_line":
            continue
        assert isinstance(json.loads(event.data), dict | list)


def test_many_events_decode_one_by_one() -> None:
    decoder = SSEDecoder()
    line = 'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}'
    count = 0
    for _ in range(100_000):
        decoder.feed_line(line)
        if decoder.feed_line("") is not None:
            count += 1
    assert count == 100_000


# -- LineSplitter: response bytes -> lines ---------------------------------------------------------------


def split(pieces: list[bytes]) -> list[str]:
    splitter = LineSplitter()
    lines = [line for piece in pieces for line in splitter.feed(piece)]
    return lines + splitter.flush()


def test_line_endings_crlf_lf_and_cr() -> None:
    assert split([b"a\r\nb\nc\rd"]) == ["a", "b", "c", "d"]
    assert split([b"a\r", b"\nb\r", b"", b"\r\n"]) == ["a", "b", ""]
    assert split([b"x\n\n"]) == ["x", ""]
    assert split([b""]) == []


def test_unicode_line_separators_do_not_split_lines() -> None:
    text = 'data: {"content":"a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"}\n\n'
    assert split([text.encode()]) == [text[:-2], ""]


def test_characters_split_between_reads_are_intact() -> None:
    data = "data: 日本語 🙂\n".encode()
    for cut in range(1, len(data)):
        assert split([data[:cut], data[cut:]]) == ["data: 日本語 🙂"]


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert split([b"ok \xff\xfe\n"]) == ["ok \ufffd\ufffd"]


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_every_shape_splits_back_into_its_lines(shape: Shape) -> None:
    body = to_lines(shape).encode()
    rng = random.Random(shape.name)
    cuts = sorted({rng.randrange(1, len(body)) for _ in range(20)}) if len(body) > 1 else []
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert split(pieces) == [line.removesuffix("\r") for line in shape.lines]
