"""Chunk builders: `chat.completion.chunk` dicts as OpenAI-compatible servers stream them, compact JSON, and
the `data:` payloads of an SSE body. The test server and the recorded-style shapes (tests/helpers/shapes/)
both build their chunks here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

DEFAULT_MODEL: Final = "test-model"
CREATED: Final = 1_700_000_000
CHUNK_ID: Final = "chatcmpl-test"


def dumps(obj: Any, *, ascii_only: bool = False) -> str:
    """Compact JSON as servers send it (non-ASCII as it is, unless `ascii_only`)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)


def choice(delta: dict[str, Any] | None, finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    """Choice 0 of a chunk: its delta, logprobs null and the finish reason, then the `extra` fields."""
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason, **extra}


def envelope(
    choices: list[dict[str, Any]],
    *,
    model: str = DEFAULT_MODEL,
    chunk_id: str = CHUNK_ID,
    created: int = CREATED,
    fingerprint: str | None = None,
    **top: Any,
) -> dict[str, Any]:
    """A `chat.completion.chunk` around `choices`: id, object, created, model, the system fingerprint
    (when given), choices, then the `top` fields in the order given."""
    out: dict[str, Any] = {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
    }
    if fingerprint is not None:
        out["system_fingerprint"] = fingerprint
    out["choices"] = choices
    out.update(top)
    return out


def chunk(
    content: str | None = None,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    role: str | None = None,
    choices: list[dict[str, Any]] | None = None,
    model: str = DEFAULT_MODEL,
    **extra: Any,
) -> dict[str, Any]:
    """A `chat.completion.chunk` dict; the delta holds only the fields given, `choices=[]` for usage-only."""
    if choices is None:
        delta: dict[str, Any] = {}
        for key, value in (
            ("role", role),
            ("content", content),
            ("reasoning_content", reasoning_content),
            ("reasoning", reasoning),
            ("tool_calls", tool_calls),
        ):
            if value is not None:
                delta[key] = value
        choices = [choice(delta, finish_reason)]
    if usage is not None:
        extra = {"usage": dict(usage), **extra}
    return envelope(choices, model=model, **extra)


def tool_call(
    index: int | None = 0, call_id: str | None = None, name: str | None = None, arguments: Any = None
) -> dict[str, Any]:
    """One entry of a delta's `tool_calls`; what is left None is left out, as servers do (id and type
    together). `arguments` is a JSON string, or whatever else a server sends there."""
    out: dict[str, Any] = {} if index is None else {"index": index}
    if call_id is not None:
        out["id"] = call_id
        out["type"] = "function"
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    if function:
        out["function"] = function
    return out


def usage(prompt_tokens: int = 5, completion_tokens: int = 0, **extra: Any) -> dict[str, Any]:
    """A usage dict with `total_tokens` filled in."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        **extra,
    }


def error_body(message: str, type_: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    """The OpenAI error shape: {"error": {"message", "type", "param", "code"}}."""
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def sse_data(body: bytes) -> list[bytes]:
    """The `data:` payloads of a raw (de-chunked) SSE body, in order, one per `data:` line."""
    lines = body.replace(b"\r\n", b"\n").split(b"\n")
    return [line[5:].removeprefix(b" ") for line in lines if line.startswith(b"data:")]
