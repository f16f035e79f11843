"""The local OpenAI-compatible test server: endpoints, scripts, recording, disconnects, pacing, CLI."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from tests.helpers.llm_server import (
    DEFAULT_TEXT,
    LLMServer,
    LLMServerProcess,
    chunk,
    fast,
    fast_text,
    http_error,
    sse_data,
    text_script,
    tool_call,
    usage,
    validate_script,
    write_script_file,
)

MESSAGES: list[Any] = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as s:
        yield s
        assert s.errors == []
    assert not s.running


def client_for(server: LLMServer, **kwargs: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="test", base_url=server.url, max_retries=0, **kwargs)


# ------------------------------------------------------------------------------------- raw HTTP helpers


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes  # de-chunked
    chunks: list[bytes] | None  # the HTTP chunks, when chunked
    size: int  # bytes on the wire


def request_bytes(
    method: str, path: str, body: Any = None, *, close: bool = True, headers: tuple[str, ...] = ()
) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def dechunk(data: bytes) -> list[bytes]:
    """The chunks of a complete chunked body (ValueError/AssertionError if it is cut short)."""
    chunks: list[bytes] = []
    pos = 0
    while True:
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end], 16)
        pos = end + 2
        if size == 0:
            assert data[pos:] == b"\r\n", "chunked terminator"
            return chunks
        chunks.append(data[pos : pos + size])
        assert data[pos + size : pos + size + 2] == b"\r\n"
        pos += size + 2


def parse_response(data: bytes) -> Raw:
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    chunks = dechunk(rest) if headers.get("transfer-encoding") == "chunked" else None
    body = b"".join(chunks) if chunks is not None else rest
    return Raw(int(lines[0].split()[1]), headers, body, chunks, len(data))


def raw_exchange(port: int, request: bytes, timeout: float = 5.0) -> Raw:
    """Send one request (with Connection: close) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        parts = []
        while data := sock.recv(65536):
            parts.append(data)
    return parse_response(b"".join(parts))


def post_chat(port: int, stream: bool = True, model: str = "test-model", **extra: Any) -> Raw:
    body = {"model": model, "messages": MESSAGES, "stream": stream, **extra}
    return raw_exchange(port, request_bytes("POST", "/v1/chat/completions", body))


def events(body: bytes) -> list[Any]:
    """The JSON payloads of an SSE body, with "[DONE]" kept as a string."""
    return ["[DONE]" if d == b"[DONE]" else json.loads(d) for d in sse_data(body)]


def contents(evs: list[Any]) -> list[str]:
    return [
        e["choices"][0]["delta"]["content"]
        for e in evs
        if isinstance(e, dict) and e["choices"] and "content" in e["choices"][0]["delta"]
    ]


# ------------------------------------------------------------------------------------------------ tests


def test_models_list_and_404_without_one(server: LLMServer) -> None:
    async def ids() -> list[str]:
        async with client_for(server) as client:
            return [m.id async for m in client.models.list()]

    assert asyncio.run(ids()) == ["test-model"]
    server.models = ["a", "b"]
    raw = raw_exchange(server.port, request_bytes("GET", "/v1/models"))
    assert raw.status == 200
    assert raw.headers["content-type"] == "application/json"
    assert json.loads(raw.body) == {
        "object": "list",
        "data": [
            {"id": "a", "object": "model", "created": 1_700_000_000, "owned_by": "test"},
            {"id": "b", "object": "model", "created": 1_700_000_000, "owned_by": "test"},
        ],
    }
    server.models = None
    with pytest.raises(openai.NotFoundError):
        asyncio.run(ids())


def test_unknown_paths_are_404_json(server: LLMServer) -> None:
    for method, path in (("GET", "/v1/nope"), ("POST", "/v1/completions"), ("GET", "/v1/chat/completions")):
        raw = raw_exchange(server.port, request_bytes(method, path))
        assert raw.status == 404
        assert "message" in json.loads(raw.body)["error"]
    assert [r.status for r in server.requests] == [404, 404, 404]


def test_default_answer_streams_hello(server: LLMServer) -> None:
    raw = post_chat(server.port, model="some-model")
    assert raw.status == 200
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.headers["cache-control"] == "no-cache"
    assert raw.headers["transfer-encoding"] == "chunked"
    evs = events(raw.body)
    assert "".join(contents(evs)) == DEFAULT_TEXT
    assert len(contents(evs)) > 2
    assert evs[0]["choices"][0]["delta"]["role"] == "assistant"
    assert evs[0]["model"] == "some-model"
    assert evs[-3]["choices"][0]["finish_reason"] == "stop"
    assert evs[-2]["choices"] == []
    assert evs[-2]["usage"]["total_tokens"] > 0
    assert evs[-1] == "[DONE]"
    assert server.requests[0].bytes_sent == raw.size


def test_text_script_through_the_openai_client(server: LLMServer) -> None:
    server.enqueue(text_script("The quick brown fox jumps", pieces=4, usage=usage(3, 4)))

    async def run() -> tuple[list[str], list[str | None], Any]:
        async with client_for(server) as client:
            stream = await client.chat.completions.create(model="test-model", messages=MESSAGES, stream=True)
            texts: list[str] = []
            finishes: list[str | None] = []
            last_usage = None
            async for c in stream:
                if c.choices:
                    texts.append(c.choices[0].delta.content or "")
                    finishes.append(c.choices[0].finish_reason)
                last_usage = c.usage or last_usage
            return texts, finishes, last_usage

    texts, finishes, got_usage = asyncio.run(run())
    assert "".join(texts) == "The quick brown fox jumps"
    assert len([t for t in texts if t]) == 4
    assert finishes[-1] == "stop"
    assert got_usage is not None
    assert (got_usage.prompt_tokens, got_usage.completion_tokens, got_usage.total_tokens) == (3, 4, 7)


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_raw_steps_arrive_byte_exact(server: LLMServer, framing: str) -> None:
    pieces = [
        ": keep-alive comment\n\n",
        "data: {not json\n\n",
        'event: error\ndata: {"error": {"message": "boom"}}\n\n',
        "data: ünïcödé 🌀\r\n\r\n",
        'data: {"missing": "blank line"}\n',
    ]
    server.enqueue([{"framing": framing}, *({"raw": p} for p in pieces), {"done": True}])
    raw = post_chat(server.port)
    expected = [p.encode() for p in pieces] + [b"data: [DONE]\n\n"]
    assert raw.body == b"".join(expected)
    if framing == "chunked":
        assert raw.chunks == expected  # one flushed HTTP chunk per step
    else:
        assert "transfer-encoding" not in raw.headers
        assert "content-length" not in raw.headers
        assert raw.headers["connection"] == "close"
    assert server.wait_response_done(0).outcome == "complete"


def test_http_error_with_retry_after(server: LLMServer) -> None:
    server.enqueue(
        [http_error(429, "Slow down", retry_after=7)],
        [{"delay_headers": 0.05}, http_error(503, body="upstream unavailable")],
    )

    async def run() -> openai.RateLimitError:
        async with client_for(server) as client:
            with pytest.raises(openai.RateLimitError) as info:
                await client.chat.completions.create(model="test-model", messages=MESSAGES, stream=True)
            return info.value

    err = asyncio.run(run())
    assert err.status_code == 429
    assert err.response.headers["retry-after"] == "7"
    assert err.body == {
        "message": "Slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    raw = post_chat(server.port)
    assert (raw.status, raw.body) == (503, b"upstream unavailable")
    assert raw.headers["content-type"].startswith("text/plain")
    assert [r.status for r in server.requests] == [429, 503]


@pytest.mark.parametrize(("how", "cause"), [(True, httpx2.ReadError), ("fin", httpx2.RemoteProtocolError)])
def test_cut_breaks_the_client_stream(server: LLMServer, how: object, cause: type[Exception]) -> None:
    server.enqueue([{"chunk": chunk(content="partial", role="assistant")}, {"cut": how}])

    async def run() -> tuple[list[str], BaseException]:
        got: list[str] = []
        async with client_for(server) as client:
            stream = await client.chat.completions.create(model="test-model", messages=MESSAGES, stream=True)

            async def consume() -> None:
                async for c in stream:
                    got.append(c.choices[0].delta.content or "")

            with pytest.raises(openai.APIConnectionError) as info:
                await consume()
            return got, info.value

    got, err = asyncio.run(run())
    assert got == ["partial"]
    assert isinstance(err.__cause__, cause)
    assert server.wait_response_done(0).outcome == "cut"
    assert server.requests[0].finished is None


def test_end_without_done(server: LLMServer) -> None:
    server.enqueue([{"chunk": chunk(content="no ")}, {"chunk": chunk(content="done")}, {"end": True}])
    server.enqueue(text_script("implicit end", done=False))
    raw = post_chat(server.port)  # dechunk() asserts the chunked terminator is there
    assert b"[DONE]" not in raw.body
    assert contents(events(raw.body)) == ["no ", "done"]

    async def run() -> str:
        async with client_for(server) as client:
            stream = await client.chat.completions.create(model="test-model", messages=MESSAGES, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == "implicit end"  # the SDK ends quietly without [DONE]
    assert [r.outcome for r in server.requests] == ["complete", "complete"]


def test_requests_are_recorded(server: LLMServer) -> None:
    async def run() -> None:
        async with client_for(server) as client:
            stream = await client.chat.completions.create(
                model="test-model",
                messages=MESSAGES,
                stream=True,
                temperature=0.5,
                stream_options={"include_usage": True},
                extra_headers={"X-Test": "yes"},
            )
            async for _ in stream:
                pass

    asyncio.run(run())
    rec = server.wait_response_done(0)
    assert rec.method == "POST"
    assert rec.path == "/v1/chat/completions"
    assert rec.body == {
        "messages": MESSAGES,
        "model": "test-model",
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.5,
    }
    assert rec.stream
    assert rec.model == "test-model"
    assert rec.headers["authorization"] == "Bearer test"
    assert rec.headers["x-test"] == "yes"
    assert rec.headers["content-type"] == "application/json"
    assert rec.headers["user-agent"].startswith("AsyncOpenAI/Python")
    assert rec.status == 200
    assert rec.finished is not None
    assert rec.started <= rec.finished
    assert rec.client_closed is None
    assert rec.bytes_sent > 0


def test_chunked_request_body_is_read(server: LLMServer) -> None:
    body = json.dumps({"model": "test-model", "messages": MESSAGES, "stream": False}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        pieces = iter([body[:10], body[10:]])
        conn.request("POST", "/v1/chat/completions", body=pieces, encode_chunked=True)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 200
    assert answer["choices"][0]["message"]["content"] == DEFAULT_TEXT
    rec = server.requests[0]
    assert rec.headers["transfer-encoding"] == "chunked"
    assert rec.body["messages"] == MESSAGES


@pytest.mark.parametrize("pause", [{"sleep": 30}, {"hang": True}, {"wait_for_request_close": 30}])
def test_client_disconnect_is_noticed_quickly(server: LLMServer, pause: dict[str, Any]) -> None:
    server.enqueue([{"chunk": chunk(content="first", role="assistant")}, pause, {"done": True}])

    async def run() -> tuple[float, float | None]:
        async with client_for(server) as client:
            stream = await client.chat.completions.create(model="test-model", messages=MESSAGES, stream=True)
            first = await stream.__anext__()
            assert first.choices[0].delta.content == "first"
            closing = time.monotonic()
            await stream.close()
            return closing, await asyncio.to_thread(server.wait_client_closed, 0, 2.0)

    closing, closed = asyncio.run(run())
    assert closed is not None
    print(f"disconnect noticed {1000 * (closed - closing):.1f} ms after the client closed ({pause})")
    assert closed - closing < 0.2
    rec = server.requests[0]
    assert rec.outcome == "client_closed"
    assert rec.finished is None


def test_keep_alive_serves_several_requests_per_connection(server: LLMServer) -> None:
    with httpx2.Client(base_url=server.url) as client:
        chat = {"model": "test-model", "messages": MESSAGES}
        streamed = client.post("/chat/completions", json={**chat, "stream": True})
        models = client.get("/models")
        whole = client.post("/chat/completions", json=chat)
    assert b"[DONE]" in streamed.content
    assert models.json()["data"][0]["id"] == "test-model"
    assert whole.json()["object"] == "chat.completion"

    async def twice() -> None:
        async with client_for(server) as client:
            for _ in range(2):
                stream = await client.chat.completions.create(
                    model="test-model", messages=MESSAGES, stream=True
                )
                async for _c in stream:
                    pass

    asyncio.run(twice())
    connections = [r.connection for r in server.requests]
    assert connections[0] == connections[1] == connections[2]
    assert connections[3] == connections[4] != connections[0]  # the openai client pools its connection too


def test_non_stream_completion(server: LLMServer) -> None:
    server.enqueue(
        [
            {"chunk": chunk(role="assistant", reasoning_content="Think ")},
            {"chunk": chunk(reasoning_content="first.")},
            {"chunk": chunk(content="Calling a tool")},
            {"chunk": chunk(tool_calls=[tool_call(0, "call_1", "get_weather", '{"ci')])},
            {"chunk": chunk(tool_calls=[tool_call(0, arguments='ty": "Oslo"}')])},
            {"chunk": chunk(finish_reason="tool_calls")},
            {"chunk": chunk(choices=[], usage=usage(11, 7))},
            {"done": True},
        ]
    )

    async def run() -> Any:
        async with client_for(server) as client:
            return await client.chat.completions.create(model="test-model", messages=MESSAGES)

    completion = asyncio.run(run())
    message = completion.choices[0].message
    assert completion.object == "chat.completion"
    assert message.content == "Calling a tool"
    assert message.model_extra is not None
    assert message.model_extra["reasoning_content"] == "Think first."
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_1",
        "get_weather",
        '{"city": "Oslo"}',
    )
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 18
    raw = post_chat(server.port, stream=False)
    assert raw.headers["content-length"] == str(len(raw.body))
    assert json.loads(raw.body)["choices"][0]["message"] == {"role": "assistant", "content": DEFAULT_TEXT}


def test_script_order_model_scripts_then_queue_then_default(server: LLMServer) -> None:
    server.default_script = text_script("default")
    server.enqueue(text_script("one"), text_script("two"))
    server.script_for_model("special", text_script("special"))

    def answer(model: str) -> str:
        return "".join(contents(events(post_chat(server.port, model=model).body)))

    assert [answer("m"), answer("special"), answer("m"), answer("m")] == ["one", "special", "two", "default"]
    assert server.pending() == 0
    server.script_for_model("special", None)
    server.default_script = None
    assert answer("special") == DEFAULT_TEXT


def test_delay_headers_delays_the_first_byte(server: LLMServer) -> None:
    server.enqueue([{"delay_headers": 0.15}, {"chunk": chunk(content="late")}, {"done": True}])
    started = time.monotonic()
    raw = post_chat(server.port)
    assert time.monotonic() - started >= 0.15
    assert contents(events(raw.body)) == ["late"]


def test_bad_scripts_are_refused(server: LLMServer) -> None:
    bad_scripts: list[list[Any]] = [
        [{"nonsense": 1}],
        [{"chunk": {}, "raw": "x"}],
        [{"chunk": {}}, {"framing": "close"}],
        [http_error(500), {"done": True}],
        [{"sleep": -1}],
        [{"fast": {"count": 10, "rate": 0}}],
        [{"raw": object()}],
    ]
    for bad in bad_scripts:
        with pytest.raises(ValueError, match=r"step|JSON"):
            server.enqueue(bad)
    assert server.pending() == 0
    assert validate_script([fast(5, 100)]) == [
        {"fast": {"count": 5, "rate": 100, "per_chunk": 1, "done": True}}
    ]


def test_stop_closes_open_streams_and_is_idempotent() -> None:
    server = LLMServer().start()
    server.enqueue([{"hang": True}])
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request_bytes("POST", "/v1/chat/completions", {"model": "m", "stream": True}))
        server.wait_for_request(1)
        server.stop()
        data = b""
        with contextlib.suppress(ConnectionResetError):  # EOF or reset: either way the stream is gone
            while part := sock.recv(65536):
                data += part
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert not server.running
    assert server.requests[0].outcome == "stopped"
    server.stop()


def test_fast_mode_paces_10k_deltas_per_second(server: LLMServer) -> None:
    count, rate = 20_000, 10_000.0
    server.enqueue([fast(count, rate)])
    received: list[tuple[float, int]] = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request_bytes("POST", "/v1/chat/completions", {"model": "m", "stream": True}))
        parts = []
        while data := sock.recv(1 << 20):
            parts.append(data)
            received.append((time.monotonic(), len(data)))
    raw = parse_response(b"".join(parts))
    evs = events(raw.body)
    deltas = contents(evs)
    assert len(deltas) == count
    assert "".join(deltas) == fast_text(count)
    assert evs[-1] == "[DONE]"
    assert evs[-2]["usage"]["completion_tokens"] == count
    log = server.wait_response_done(0).send_log
    (t0, n0), (t1, n1) = log[0], log[-1]
    achieved = (n1 - n0) / (t1 - t0)
    client_rate = count / (received[-1][0] - received[0][0])
    print(
        f"fast mode: target {rate:.0f}/s, sent {achieved:.0f}/s in {len(log)} writes "
        f"({count / len(log):.1f} deltas/write), client saw {client_rate:.0f}/s"
    )
    assert n1 == count
    assert abs(achieved - rate) / rate < 0.05


def test_fast_mode_unpaced_throughput(server: LLMServer) -> None:
    count = 60_000
    server.enqueue([fast(count)])
    started = time.monotonic()
    raw = post_chat(server.port)
    elapsed = time.monotonic() - started
    assert raw.body.count(b'"finish_reason":null') == count
    print(f"fast mode unpaced: {count / elapsed:.0f} deltas/s ({raw.size / elapsed / 1e6:.0f} MB/s)")
    assert count / elapsed > 20_000


def test_cli_subprocess(tmp_path: Path) -> None:
    scripts = write_script_file(
        tmp_path / "scripts.json",
        queue=[text_script("from a file")],
        by_model={"fast": [fast(10_000, 20_000)]},
    )
    log = tmp_path / "log.json"
    with LLMServerProcess(["--script", str(scripts), "--models", "a,b"], log=log) as proc:
        models = raw_exchange(proc.port, request_bytes("GET", "/v1/models"))
        answer = post_chat(proc.port)
        started = time.monotonic()
        quick = post_chat(proc.port, model="fast")
        elapsed = time.monotonic() - started
        code = proc.stop()
    assert code == 0
    assert [m["id"] for m in json.loads(models.body)["data"]] == ["a", "b"]
    assert "".join(contents(events(answer.body))) == "from a file"
    assert "".join(contents(events(quick.body))) == fast_text(10_000)
    records = proc.requests()
    assert [r.path for r in records] == ["/v1/models", "/v1/chat/completions", "/v1/chat/completions"]
    assert records[1].body["messages"] == MESSAGES
    send_log = records[2].send_log
    achieved = (send_log[-1][1] - send_log[0][1]) / (send_log[-1][0] - send_log[0][0])
    print(f"subprocess fast mode: target 20000/s, sent {achieved:.0f}/s, request took {elapsed:.2f} s")
    assert abs(achieved - 20_000) / 20_000 < 0.05
    assert all(r.outcome == "complete" for r in records)


def test_pipelined_requests_and_bad_requests(server: LLMServer) -> None:
    chat = {"model": "test-model", "messages": MESSAGES, "stream": True}
    both = request_bytes("POST", "/v1/chat/completions", chat, close=False) + request_bytes(
        "GET", "/v1/models"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(both)  # the second request arrives while the first is answered
        data = b""
        while part := sock.recv(65536):
            data += part
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert data.count(b"data: [DONE]") == 1
    assert data.endswith(b'"owned_by":"test"}]}')
    assert [r.connection for r in server.requests] == [1, 1]
    assert raw_exchange(server.port, b"NONSENSE\r\n\r\n").status == 400
    assert post_chat(server.port, stream=False).status == 200
    bad_json = b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{oops"
    assert raw_exchange(server.port, bad_json).status == 400
    assert server.requests[-1].raw_body == b"{oops"
