"""Hypothesis strategies for the property tests: SSE streams as bytes, JSON values shaped like chat
completion chunks (and not), and what a person types into a search box."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import example
from hypothesis import strategies as st

F = TypeVar("F", bound=Callable[..., Any])

# Characters that make text handling interesting: line and paragraph separators other than CR/LF (SSE
# must not split on them), NEL, NUL, a BOM, multi-byte UTF-8 (2, 3 and 4 bytes), combining marks.
TRICKY = ["\u2028", "\u2029", "\x85", "\x00", "\ufeff", "é", "中", "🎉", "👩‍💻", "e\u0301", "\t", " "]

LINE_ENDINGS = st.sampled_from(["\n", "\r", "\r\n"])


def tricky_text(max_size: int, *, without: str = "", extra: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """Text of any characters but `without` (and lone surrogates, which UTF-8 cannot hold), often TRICKY."""
    pieces = st.one_of(
        st.characters(codec="utf-8", exclude_characters=without),
        st.sampled_from([*TRICKY, *extra]),
    )
    return st.lists(pieces, max_size=max_size).map("".join)


line_text = tricky_text(30, without="\r\n")  # text that stands on one line

sse_line = st.one_of(
    st.builds(lambda v: "data: " + v, line_text),
    st.builds(lambda v: "data:" + v, line_text),
    st.builds(
        lambda v: "data: " + json.dumps(v), st.dictionaries(st.text(max_size=5), line_text, max_size=3)
    ),
    st.just("data: [DONE]"),
    st.builds(lambda v: "event: " + v, st.sampled_from(["message", "error", "ping", "update", ""])),
    st.builds(lambda v: ":" + v, line_text),
    st.builds(lambda v: "id: " + v, line_text),
    st.builds(lambda v: "retry: " + v, st.sampled_from(["3000", "x", ""])),
    st.builds(lambda v: "error: " + v, line_text),
    st.builds(json.dumps, st.dictionaries(st.text(max_size=5), line_text, max_size=3)),  # a bare JSON line
    line_text,  # a field of any name
    st.just(""),  # a blank line: dispatch
)


@st.composite
def sse_streams(draw: st.DrawFn) -> bytes:
    """An event stream as a server sends it: lines with CR, LF or CRLF endings, maybe a BOM first, maybe a
    last line without an ending."""
    lines = draw(st.lists(st.tuples(sse_line, LINE_ENDINGS), max_size=12))
    text = "".join(line + ending for line, ending in lines)
    if draw(st.booleans()):
        text += draw(sse_line)  # no line ending at the end of the body
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text.encode("utf-8")


@st.composite
def pieces(draw: st.DrawFn, body: bytes) -> list[bytes]:
    """`body` cut at any places (a multi-byte character or a CRLF may be cut in two), empty pieces too."""
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=8)))
    bounds = [0, *cuts, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


# -- JSON ----------------------------------------------------------------------------------------------

# Keys a chat completion chunk may hold, anywhere in it, so that random values land where the parser looks.
CHUNK_KEYS = [
    "choices", "delta", "message", "index", "finish_reason", "content", "role", "refusal", "reasoning",
    "reasoning_content", "thinking", "reasoning_details", "summary", "text", "type", "tool_calls", "id",
    "function", "name", "arguments", "function_call", "usage", "prompt_tokens", "completion_tokens",
    "total_tokens", "input_tokens", "output_tokens", "completion_tokens_details", "reasoning_tokens",
    "x_groq", "timings", "prompt_n", "predicted_n", "error", "object", "code", "status", "detail",
]  # fmt: skip

# Finite floats only: a non-finite token count crashes the parser today (see test_chunk_properties.py).
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), finite_floats, tricky_text(10))
json_keys = st.one_of(st.sampled_from(CHUNK_KEYS), st.text(max_size=6))


def json_values(scalars: st.SearchStrategy[Any] = json_scalars) -> st.SearchStrategy[Any]:
    """Any JSON value (nested lists and objects), its object keys mostly a chunk's."""
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=5),
        max_leaves=24,
    )


@st.composite
def chunk_like(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> dict[str, Any]:
    """A dict with a chunk's outline (choices with a delta, usage, error...), any values inside."""
    delta = draw(st.dictionaries(st.sampled_from(CHUNK_KEYS), values, max_size=6))
    choice = draw(st.dictionaries(st.sampled_from(CHUNK_KEYS), values, max_size=3))
    choice["delta"] = delta
    if draw(st.booleans()):
        choice["index"] = draw(st.sampled_from([0, 1, None, "0"]))
    chunk = draw(st.dictionaries(st.sampled_from(CHUNK_KEYS), values, max_size=4))
    chunk["choices"] = [choice, *draw(st.lists(values, max_size=2))]
    return chunk


# -- search --------------------------------------------------------------------------------------------

search_text = tricky_text(
    40, extra=('"', "*", "-", "(", ")", ":", "^", "+", "NOT", "AND", "OR", "NEAR", " ", '-"', '*"')
)


def examples(*values: object) -> Callable[[F], F]:
    """`@example(value)` for each value: the cases a property tries on every run, before the random ones."""

    def apply(test: F) -> F:
        for value in reversed(values):
            test = example(value)(test)
        return test

    return apply
