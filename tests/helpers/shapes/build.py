"""Builders for the shapes' lines: SSE events of chunks made with the test server's chunk builder
(tests/helpers/llm_server/chunks.py), here as captured from OpenAI (its id, timestamp and fingerprint)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tests.helpers.llm_server.chunks import choice, dumps, envelope, tool_call

__all__ = [
    "DONE",
    "TIME_ARGS",
    "WEATHER_ARGS",
    "argument_pieces",
    "chunk",
    "dumps",
    "each",
    "split",
    "sse",
    "texts",
    "tool_call",
    "usage_only",
]

DONE = ["data: [DONE]", ""]
WEATHER_ARGS = '{"location":"Paris, France","unit":"celsius"}'
TIME_ARGS = '{"timezone":"Europe/Paris"}'


def sse(obj: object, *, ascii_only: bool = False) -> list[str]:
    """One `data:` event and its blank line."""
    return [f"data: {dumps(obj, ascii_only=ascii_only)}", ""]


def chunk(
    delta: dict[str, Any] | None,
    finish: str | None = None,
    *,
    model: str = "gpt-4o-2024-08-06",
    cid: str = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    choice_extra: dict[str, Any] | None = None,
    system_fingerprint: str = "fp_eb9dce56a8",
    **top: Any,
) -> dict[str, Any]:
    """An OpenAI-style chat.completion.chunk with one choice (index 0), then the `top` fields."""
    return envelope(
        [choice(delta, finish, **(choice_extra or {}))],
        model=model,
        chunk_id=cid,
        created=1741569952,
        fingerprint=system_fingerprint,
        **top,
    )


def usage_only(usage: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The chunk that reports usage: `choices` [] and the usage (`kwargs` as for `chunk`)."""
    out = chunk(None, **kwargs)
    out["choices"] = []
    out["usage"] = usage
    return out


def each(pieces: Iterable[str], make: Callable[[str], object]) -> list[str]:
    """The events of `make(piece)` for each piece, in order."""
    return [line for piece in pieces for line in sse(make(piece))]


def argument_pieces(sizes: list[int], make: Callable[..., dict[str, Any]] = chunk) -> list[str]:
    """WEATHER_ARGS cut into pieces of these sizes: tool call 0's arguments, a chunk (`make`) per piece."""
    return each(
        split(WEATHER_ARGS, sizes), lambda piece: make({"tool_calls": [tool_call(0, arguments=piece)]})
    )


def texts(pieces: list[str], **kwargs: Any) -> list[str]:
    """One content chunk's event per piece."""
    return each(pieces, lambda piece: chunk({"content": piece}, **kwargs))


def split(text: str, sizes: list[int]) -> list[str]:
    """Cut text into pieces of the given sizes (the rest is the last piece)."""
    pieces: list[str] = []
    for size in sizes:
        pieces.append(text[:size])
        text = text[size:]
    if text:
        pieces.append(text)
    return pieces
