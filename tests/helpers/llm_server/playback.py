"""Playing a script's body steps into a response: a stream of SSE events (with the paced bulk `fast`
step), a non-streamed `chat.completion` assembled from the same steps, or an HTTP error."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Final

from tests.helpers.llm_server.chunks import CHUNK_ID, CREATED, DEFAULT_MODEL, chunk, dumps, error_body
from tests.helpers.llm_server.connection import Exchange, phrase
from tests.helpers.llm_server.scripts import ERROR_KINDS, Step, fast_text, fast_unit, step_kind, usage_for

_FAST_MAX_BATCH: Final = 4096


def _dumps(obj: Any) -> bytes:
    return dumps(obj).encode()


async def http_error_response(ex: Exchange, step: Step) -> None:
    """A complete error response: the step's body (JSON, or text), or the OpenAI error shape."""
    status = int(step["http_error"])
    body = step.get("body")
    if body is None:
        type_, code = ERROR_KINDS.get(status, ("api_error", None))
        body = error_body(f"Test server error {status} {phrase(status)}", type_, code)
    if isinstance(body, str):
        await ex.send_full(status, body.encode(), "text/plain; charset=utf-8", step.get("headers"))
    else:
        await ex.send_json(status, body, step.get("headers"))


async def stream(ex: Exchange, steps: Sequence[Step]) -> None:
    """The streamed response: one flushed write per step, then the end of the body."""
    await ex.start_stream()
    async for kind, value in _played(ex, steps):
        if kind == "chunk":
            await ex.body(b"data: " + _dumps(value) + b"\n\n")
        elif kind == "raw":
            await ex.body(value.encode())
        elif kind == "done":
            await ex.body(b"data: [DONE]\n\n")
        elif kind == "fast":
            await fast_stream(ex, value)
    if ex.rec.outcome != "cut":
        await ex.end()


async def _played(ex: Exchange, steps: Sequence[Step]) -> AsyncIterator[tuple[str, Any]]:
    """Each step's (kind, value), once the steps every response plays alike are played here: pauses and
    hangs wait, `end` stops, `cut` drops the connection and stops (`ex.rec.outcome` is then "cut")."""
    for step in steps:
        kind = step_kind(step)
        value = step[kind]
        if kind in ("sleep", "wait_for_request_close"):
            await asyncio.sleep(value)
        elif kind == "hang":
            await asyncio.get_running_loop().create_future()
        elif kind == "cut":
            ex.cut(value)
            return
        elif kind == "end":
            return
        else:
            yield kind, value


async def fast_stream(ex: Exchange, spec: Mapping[str, Any]) -> None:
    """A `fast` step: its chunks at the paced rate, due ones in one write, each write in the send log."""
    count: int = spec.get("count", 0)
    rate: float | None = spec.get("rate")
    text: str | None = spec.get("text")
    per_chunk: int = spec.get("per_chunk", 1)
    model = ex.rec.model or DEFAULT_MODEL
    prefix = b'data: {"id":"%b","object":"chat.completion.chunk","created":%d,"model":%b,' % (
        CHUNK_ID.encode(),
        CREATED,
        _dumps(model),
    )
    prefix += b'"choices":[{"index":0,"delta":{"%b":' % spec.get("field", "content").encode()
    suffix = b'},"logprobs":null,"finish_reason":null}]}\n\n'
    encode = _fast_encoder(prefix, suffix, text, per_chunk)
    send_log = ex.rec.send_log
    start = time.monotonic()
    sent = 0
    while sent < count:
        due = min(count, sent + _FAST_MAX_BATCH)
        if rate is not None:
            due = min(due, int((time.monotonic() - start) * rate) + 1)
        if due > sent:
            await ex.body(b"".join([encode(i) for i in range(sent, due)]))
            sent = due
            send_log.append((time.monotonic(), sent))
        if rate is None:
            await asyncio.sleep(0)  # drain() does not yield below the high-water mark
        elif sent < count:
            await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
    ex.server._notify()
    if spec.get("done", True):
        await ex.body(b"data: " + _dumps(chunk(finish_reason="stop", model=model)) + b"\n\n")
        await ex.body(b"data: " + _dumps(chunk(choices=[], usage=usage_for(count), model=model)) + b"\n\n")
        await ex.body(b"data: [DONE]\n\n")


async def complete(ex: Exchange, steps: Sequence[Step]) -> None:
    """A non-streamed `chat.completion` assembled from the script's chunks."""
    rec = ex.rec
    content: list[str] = []
    reasoning: dict[str, list[str]] = {"reasoning_content": [], "reasoning": []}
    calls: dict[int, dict[str, Any]] = {}
    finish: str | None = None
    counts: dict[str, Any] | None = None
    model = rec.model or DEFAULT_MODEL
    deltas = 0
    async for kind, value in _played(ex, steps):
        if kind == "fast":
            n, per = value.get("count", 0), value.get("per_chunk", 1)
            target = content if value.get("field", "content") == "content" else reasoning[value["field"]]
            target.append(fast_text(n, value.get("text"), per))
            deltas += n
            finish = "stop"
        elif kind == "chunk":
            model = value.get("model", model)
            counts = value.get("usage") or counts
            for choice in value.get("choices") or []:
                if choice.get("index", 0) != 0:
                    continue
                finish = choice.get("finish_reason") or finish
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    content.append(delta["content"])
                    deltas += 1
                for key, parts in reasoning.items():
                    if delta.get(key):
                        parts.append(delta[key])
                for call in delta.get("tool_calls") or []:
                    _merge_tool_call(calls, call)
    if rec.outcome == "cut":
        return
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(content) if content or not calls else None,
    }
    for key, parts in reasoning.items():
        if parts:
            message[key] = "".join(parts)
    if calls:
        message["tool_calls"] = [calls[k] for k in sorted(calls)]
    completion = {
        "id": f"chatcmpl-test-{ex.index}",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish or ("tool_calls" if calls else "stop"),
            }
        ],
        "usage": counts or usage_for(deltas),
    }
    await ex.send_json(200, completion)


def _fast_encoder(prefix: bytes, suffix: bytes, text: str | None, per_chunk: int) -> Callable[[int], bytes]:
    """Chunk i of a fast stream as bytes, as cheaply as possible."""
    if text is None and per_chunk == 1:

        def numbered(i: int) -> bytes:
            return b'%b"%06d "%b' % (prefix, i, suffix)

        return numbered
    if text is not None:
        fixed = prefix + _dumps(text * per_chunk) + suffix
        return lambda _i: fixed

    def joined(i: int) -> bytes:
        units = range(i * per_chunk, (i + 1) * per_chunk)
        return prefix + _dumps("".join(fast_unit(j) for j in units)) + suffix

    return joined


def _merge_tool_call(calls: dict[int, dict[str, Any]], delta: Mapping[str, Any]) -> None:
    call = calls.setdefault(
        int(delta.get("index", 0)), {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if delta.get("id"):
        call["id"] = delta["id"]
    function = delta.get("function") or {}
    for key in ("name", "arguments"):
        if function.get(key):
            call["function"][key] += function[key]
