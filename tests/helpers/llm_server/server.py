"""A local OpenAI-compatible HTTP/1.1 server for tests and benchmarks (standard library only).

    with LLMServer() as server:
        server.enqueue(text_script("Hi there"))
        client = openai.AsyncOpenAI(api_key="test", base_url=server.url, max_retries=0)

The server runs an asyncio stream server on its own event loop in a daemon thread, so it works beside a
qasync/Qt loop in the main thread; its public methods are thread-safe. It serves `GET /v1/models` and
`POST /v1/chat/completions`; anything else is a 404 JSON error. Connections are persistent (HTTP/1.1).

Each chat request plays a *script*: the one set for its model (`script_for_model`), else the next one
queued (`enqueue`, FIFO), else `default_script`, else a streamed "Hello from the test server.". A script
is a list of JSON-serialisable steps, so the same scripts can go to a file for the CLI:

    {"chunk": {...}}            `data: <compact json>\\n\\n` (build the dict with `chunk()`)
    {"raw": "text"}             written exactly as given (UTF-8)
    {"done": true}              `data: [DONE]\\n\\n`
    {"sleep": s}                pause
    {"wait_for_request_close": s}  pause (the client closing ends the response, as always)
    {"hang": true}              send nothing more until the client goes away (or the server stops)
    {"end": true}               end the body cleanly now (so does the end of the list); no implicit [DONE]
    {"cut": true | "reset" | "fin"}  drop the connection mid-body: "reset" (= true) sends a TCP RST,
                                "fin" a plain close; neither sends the chunked terminator. Before any
                                header was sent, the client gets no response at all
    {"fast": {...}}             paced bulk stream, see `fast()`
  Only before all other steps (the first other step sends the response headers, unless it is `cut`):
    {"delay_headers": s}        wait before the response headers
    {"framing": "chunked" | "close"}  stream framing: chunked (default) or no length + Connection: close
    {"headers": {...}}          extra response headers
    {"http_error": status, "headers": {...}, "body": {...} | "text"}  a complete error response (last
                                step); a dict body is sent as JSON as given, no body gives the OpenAI
                                {"error": {...}} shape (see `http_error()`, `error_body()`)

Every write of a step is flushed (one HTTP chunk per step). Without `"stream": true` the request gets one
`chat.completion` built from the script's chunks (content, reasoning, tool calls, finish reason, usage;
raw/done steps ignored; sleeps honoured before the answer).

    python -m tests.helpers.llm_server [--port 0] [--script FILE.json] [--fast-count N --fast-rate R]
                                       [--models a,b | --no-models] [--log FILE.json]

prints `PORT <n>` as its first stdout line, serves until SIGTERM/SIGINT, then writes the recorded
requests to `--log`. A script file holds a list of steps (played for every request) or
{"queue": [script, ...], "default": script, "by_model": {model: script}}. Timestamps are
`time.monotonic()`, which is system-wide on Linux, so a test can compare them across processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http
import itertools
import json
import logging
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Final

log = logging.getLogger(__name__)

Step = dict[str, Any]
Script = list[Step]

DEFAULT_MODEL: Final = "test-model"
DEFAULT_TEXT: Final = "Hello from the test server."
CREATED: Final = 1_700_000_000
CHUNK_ID: Final = "chatcmpl-test"
_FIELDS: Final = ("content", "reasoning_content", "reasoning")
_PRE_HEAD: Final = frozenset({"http_error", "delay_headers", "framing", "headers"})
_KINDS: Final = _PRE_HEAD | {
    "chunk",
    "raw",
    "done",
    "sleep",
    "wait_for_request_close",
    "hang",
    "end",
    "cut",
    "fast",
}
_FAST_KEYS: Final = frozenset({"count", "rate", "text", "per_chunk", "done", "field"})
_MAX_HEAD: Final = 64 * 1024
_MAX_BODY: Final = 64 * 1024 * 1024
_FAST_MAX_BATCH: Final = 4096
_REPO_ROOT: Final = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------------------------------------- builders


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
        choices = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
    out: dict[str, Any] = {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        out["usage"] = dict(usage)
    out.update(extra)
    return out


def tool_call(
    index: int = 0, call_id: str | None = None, name: str | None = None, arguments: str | None = None
) -> dict[str, Any]:
    """One entry of a delta's `tool_calls` (id and type only when `call_id` is given)."""
    out: dict[str, Any] = {"index": index}
    if call_id is not None:
        out["id"] = call_id
        out["type"] = "function"
    function: dict[str, str] = {}
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


def http_error(
    status: int,
    message: str | None = None,
    *,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
    body: dict[str, Any] | str | None = None,
) -> Step:
    """An `http_error` step; without `body`, an OpenAI-shaped error with `message` (or a default)."""
    step: Step = {"http_error": status}
    all_headers = dict(headers or {})
    if retry_after is not None:
        all_headers["Retry-After"] = f"{retry_after:g}"
    if all_headers:
        step["headers"] = all_headers
    if body is None and message is not None:
        type_, code = _ERROR_KINDS.get(status, ("api_error", None))
        body = error_body(message, type_, code)
    if body is not None:
        step["body"] = body
    return step


def split_text(text: str, pieces: int | None = None) -> list[str]:
    """`text` as deltas: words with their leading space (None), or `pieces` near-equal parts."""
    if not text:
        return [""]
    if pieces is None:
        out: list[str] = []
        for i, word in enumerate(text.split(" ")):
            piece = word if i == 0 else " " + word
            if out and not word:
                out[-1] += piece
            else:
                out.append(piece)
        return out
    n = max(1, min(pieces, len(text)))
    return [text[i * len(text) // n : (i + 1) * len(text) // n] for i in range(n)]


def text_script(
    text: str | Sequence[str] = DEFAULT_TEXT,
    pieces: int | None = None,
    usage: Mapping[str, Any] | bool = True,
    finish_reason: str | None = "stop",
    done: bool = True,
    model: str = DEFAULT_MODEL,
) -> Script:
    """A streamed answer: role + first delta, the other deltas, a finish chunk, a usage chunk, [DONE].

    `text` is split by `split_text(text, pieces)`, or taken as the list of deltas; `usage=True` counts one
    completion token per delta, False sends no usage chunk.
    """
    deltas = split_text(text, pieces) if isinstance(text, str) else list(text)
    steps: Script = []
    for i, delta in enumerate(deltas):
        steps.append({"chunk": chunk(content=delta, role="assistant" if i == 0 else None, model=model)})
    if finish_reason is not None:
        steps.append({"chunk": chunk(finish_reason=finish_reason, model=model)})
    if usage is not False:
        counts = _usage_for(len(deltas)) if usage is True else dict(usage)
        steps.append({"chunk": chunk(choices=[], usage=counts, model=model)})
    if done:
        steps.append({"done": True})
    return steps


def fast(
    count: int,
    rate: float | None = None,
    text: str | None = None,
    per_chunk: int = 1,
    done: bool = True,
    field: str = "content",
) -> Step:
    """A fast-mode step: `count` chunks paced at `rate` chunks/s (None: as fast as the socket takes them).

    Chunk i's delta (in `field`) joins `per_chunk` units `fast_unit(j, text)`; the whole text is
    `fast_text(count, text, per_chunk)`. Due chunks go out in one write; each write is logged in
    `RecordedRequest.send_log` as (time, chunks sent so far). With `done`, a stop chunk, a usage chunk
    and [DONE] follow; without, the script's next steps do.
    """
    spec: dict[str, Any] = {"count": count, "rate": rate, "per_chunk": per_chunk, "done": done}
    if text is not None:
        spec["text"] = text
    if field != "content":
        spec["field"] = field
    return {"fast": spec}


def fast_unit(j: int, text: str | None = None) -> str:
    """The j-th unit of fast-mode text: `text`, or by default the index as "%06d " (unique, checkable)."""
    return "%06d " % j if text is None else text  # noqa: UP031


def fast_text(count: int, text: str | None = None, per_chunk: int = 1) -> str:
    """Everything a fast step with these settings streams."""
    return "".join(fast_unit(j, text) for j in range(count * per_chunk))


def validate_script(script: Sequence[Mapping[str, Any]]) -> Script:
    """A checked deep copy (through JSON, so it is serialisable); ValueError says which step is wrong."""
    try:
        steps: Any = json.loads(json.dumps(list(script)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"script is not JSON-serialisable: {exc}") from exc
    head_phase = True
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ValueError(f"step {i}: not a dict: {step!r}")
        kind = step_kind(step)
        value = step[kind]
        if kind in _PRE_HEAD:
            if not head_phase:
                raise ValueError(f"step {i}: {kind!r} must come before any step that sends the body")
            if kind == "http_error" and i != len(steps) - 1:
                raise ValueError(f"step {i}: http_error must be the last step")
        else:
            head_phase = False
        _check_value(i, kind, value, step)
    return list(steps)


def step_kind(step: Mapping[str, Any]) -> str:
    """Which kind of step this is; ValueError if none or ambiguous."""
    if "http_error" in step:
        extra = set(step) - {"http_error", "headers", "body"}
        if extra:
            raise ValueError(f"unexpected keys in http_error step: {sorted(extra)}")
        return "http_error"
    keys = list(step)
    if len(keys) != 1 or keys[0] not in _KINDS:
        raise ValueError(f"a step needs exactly one of {sorted(_KINDS)}: {dict(step)!r}")
    return str(keys[0])


def _check_value(i: int, kind: str, value: Any, step: Mapping[str, Any]) -> None:
    ok = True
    if kind in ("sleep", "delay_headers", "wait_for_request_close"):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    elif kind in ("done", "end", "hang"):
        ok = value is True
    elif kind == "cut":
        ok = value is True or value in ("reset", "fin")
    elif kind == "framing":
        ok = value in ("chunked", "close")
    elif kind == "raw":
        ok = isinstance(value, str)
    elif kind in ("chunk", "headers"):
        ok = isinstance(value, dict)
    elif kind == "http_error":
        ok = isinstance(value, int) and 100 <= value <= 599
        ok = ok and isinstance(step.get("headers", {}), dict)
        ok = ok and isinstance(step.get("body", ""), dict | str)
    elif kind == "fast":
        ok = isinstance(value, dict) and not set(value) - _FAST_KEYS
        if ok:
            rate = value.get("rate")
            ok = (
                isinstance(value.get("count", 0), int)
                and value.get("count", 0) >= 0
                and (rate is None or (isinstance(rate, int | float) and rate > 0))
                and isinstance(value.get("per_chunk", 1), int)
                and value.get("per_chunk", 1) >= 1
                and isinstance(value.get("text", ""), str)
                and value.get("field", "content") in _FIELDS
            )
    if not ok:
        raise ValueError(f"step {i}: bad value for {kind!r}: {dict(step)!r}")


_ERROR_KINDS: Final[dict[int, tuple[str, str | None]]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


def _usage_for(completion_tokens: int) -> dict[str, Any]:
    return usage(5, completion_tokens)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


# --------------------------------------------------------------------------------------------- recording


@dataclass
class RecordedRequest:
    """One request as the server saw it, updated by the server thread while it is answered.

    `finished`: when the response was completely written; `client_closed`: when the server noticed the
    client had gone before that; `outcome`: "" while answering, then "complete", "cut",
    "client_closed" or "stopped". `connection` numbers the TCP connection (same number: reused).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    started: float
    query: str = ""
    raw_body: bytes = b""
    connection: int = 0
    status: int | None = None
    finished: float | None = None
    client_closed: float | None = None
    outcome: str = ""
    send_log: list[tuple[float, int]] = field(default_factory=list)
    bytes_sent: int = 0

    @property
    def model(self) -> str | None:
        """The `model` the body names, if any."""
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def stream(self) -> bool:
        """Whether the body asked for a stream."""
        return isinstance(self.body, dict) and self.body.get("stream") is True

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's log format)."""
        out = {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "started": self.started,
            "connection": self.connection,
            "status": self.status,
            "finished": self.finished,
            "client_closed": self.client_closed,
            "outcome": self.outcome,
            "send_log": [list(entry) for entry in self.send_log],
            "bytes_sent": self.bytes_sent,
        }
        if self.body is None and self.raw_body:
            out["raw_body"] = self.raw_body.decode("utf-8", "replace")
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordedRequest:
        """Back from `to_json`."""
        fields = dict(data)
        fields["raw_body"] = str(fields.get("raw_body", "")).encode()
        fields["send_log"] = [(float(t), int(n)) for t, n in fields.get("send_log", [])]
        return cls(**fields)


def load_log(path: Path) -> list[RecordedRequest]:
    """The requests a CLI server wrote to `--log`."""
    return [RecordedRequest.from_json(item) for item in json.loads(path.read_text(encoding="utf-8"))]


def write_script_file(
    path: Path,
    script: Sequence[Step] | None = None,
    *,
    queue: Sequence[Sequence[Step]] = (),
    by_model: Mapping[str, Sequence[Step]] | None = None,
) -> Path:
    """Write scripts for the CLI's `--script`: `script` for every request, after the `queue` is used up."""
    data: dict[str, Any] = {"queue": [validate_script(s) for s in queue]}
    if script is not None:
        data["default"] = validate_script(script)
    if by_model:
        data["by_model"] = {model: validate_script(s) for model, s in by_model.items()}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- connections


class _BadRequest(Exception):
    pass


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes
    started: float

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


class _Conn:
    """A client connection: a reader with its own buffer (so a disconnect watcher keeps what it reads)."""

    def __init__(self, cid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.id = cid
        self.reader = reader
        self.writer = writer
        self.transport = writer.transport
        self.buf = bytearray()
        self.eof = False

    async def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = await self.reader.read(65536)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def read_until(self, sep: bytes, limit: int) -> bytes | None:
        start = 0
        while True:
            i = self.buf.find(sep, start)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[: i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise _BadRequest("line or header block too long")
            start = max(0, len(self.buf) - len(sep) + 1)
            if not await self._fill():
                return None

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self._fill():
                raise _BadRequest("body cut short")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def watch(self) -> float:
        """Wait until the client closes (keeping anything it sends); return when that was noticed."""
        while await self._fill():
            pass
        return time.monotonic()

    async def read_request(self) -> _Request | None:
        while self.buf.startswith(b"\r\n"):
            del self.buf[:2]
        head = await self.read_until(b"\r\n\r\n", _MAX_HEAD)
        if head is None:
            return None
        started = time.monotonic()
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(f"bad request line {lines[0]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise _BadRequest(f"bad header line {line!r}")
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "100-continue" in headers.get("expect", "").lower():
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked()
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise _BadRequest("bad Content-Length") from None
            if not 0 <= length <= _MAX_BODY:
                raise _BadRequest("bad Content-Length")
            body = await self.read_exactly(length)
        else:
            body = b""
        return _Request(parts[0], parts[1], parts[2], headers, body, started)

    async def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = await self.read_until(b"\r\n", 1024)
            if line is None:
                raise _BadRequest("chunked body cut short")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadRequest(f"bad chunk size {line!r}") from None
            if size == 0:
                while await self.read_until(b"\r\n", _MAX_HEAD):  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            total += size
            if total > _MAX_BODY:
                raise _BadRequest("body too large")
            parts.append(await self.read_exactly(size))
            if await self.read_until(b"\r\n", 2) != b"":
                raise _BadRequest("chunk not followed by CRLF")

    def abort(self, *, reset: bool = False) -> None:
        if reset:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def close(self) -> None:
        if not self.transport.is_closing():
            self.writer.close()


class _Exchange:
    """Writing one response: framing, byte counts and the record."""

    def __init__(
        self, server: LLMServer, conn: _Conn, rec: RecordedRequest, index: int, req: _Request
    ) -> None:
        self.server = server
        self.conn = conn
        self.rec = rec
        self.index = index
        self.keep_alive = req.keep_alive
        self.chunked = req.version != "HTTP/1.0"
        self.extra_headers: list[tuple[str, str]] = []
        self.head_sent = False

    async def write(self, data: bytes) -> None:
        if self.conn.transport.is_closing():
            raise ConnectionResetError("connection closed")
        self.conn.writer.write(data)
        self.rec.bytes_sent += len(data)
        await self.conn.writer.drain()

    def _head(self, status: int, headers: Sequence[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {_phrase(status)}", "Server: llm-test-server"]
        lines += [f"x-request-id: req_test_{self.index}"]
        lines += [f"{k}: {v}" for k, v in (*headers, *self.extra_headers)]
        self.rec.status = status
        self.head_sent = True
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def send_full(
        self, status: int, payload: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        extra = dict(headers or {})
        hdrs: list[tuple[str, str]] = []
        if not any(k.lower() == "content-type" for k in extra):
            hdrs.append(("Content-Type", content_type))
        hdrs.append(("Content-Length", str(len(payload))))
        if not self.keep_alive:
            hdrs.append(("Connection", "close"))
        hdrs += extra.items()
        await self.write(self._head(status, hdrs) + payload)
        self.server._update(self.rec, finished=time.monotonic(), outcome="complete")

    async def send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        await self.send_full(status, _dumps(obj), "application/json", headers)

    async def start_stream(self) -> None:
        hdrs = [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")]
        if self.chunked:
            hdrs.append(("Transfer-Encoding", "chunked"))
            if not self.keep_alive:
                hdrs.append(("Connection", "close"))
        else:
            hdrs.append(("Connection", "close"))
            self.keep_alive = False
        await self.write(self._head(200, hdrs))

    async def body(self, data: bytes) -> None:
        if not data:
            return  # an empty chunk would end a chunked body
        if not self.head_sent:
            await self.start_stream()
        await self.write(b"%x\r\n%b\r\n" % (len(data), data) if self.chunked else data)

    async def end(self) -> None:
        if not self.head_sent:
            await self.start_stream()
        if self.chunked:
            await self.write(b"0\r\n\r\n")
        self.server._update(self.rec, finished=time.monotonic(), outcome="complete")

    def cut(self, how: Any) -> None:
        self.keep_alive = False
        self.server._update(self.rec, outcome="cut")
        if how == "fin":
            self.conn.transport.close()
        else:
            self.conn.abort(reset=True)


# -------------------------------------------------------------------------------------------- the server


class LLMServer:
    """The test server; see the module docstring. Use as a context manager or `start()`/`stop()`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Sequence[str] | None = (DEFAULT_MODEL,),
        default_script: Sequence[Step] | None = None,
    ) -> None:
        self.host = host
        self.models: list[str] | None = None if models is None else list(models)
        """The ids `GET /v1/models` lists; None answers 404. Safe to reassign from any thread."""
        self._requested_port = port
        self._port = 0
        self._cond = threading.Condition()
        self._life = threading.Lock()
        self._queue: deque[Script] = deque()
        self._by_model: dict[str, Script] = {}
        self._default: Script | None = None if default_script is None else validate_script(default_script)
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._conns: set[_Conn] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: set[asyncio.Transport] = set()
        self._shutting_down = False
        self._conn_ids = itertools.count(1)

    # -- life cycle

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> LLMServer:
        """Bind and serve in a daemon thread; returns when the port is known. Not restartable."""
        with self._life:
            if self._thread is not None:
                if self._ready.is_set() and self._startup_error is None:
                    return self
                raise RuntimeError("LLMServer cannot be restarted")
            self._thread = threading.Thread(target=self._thread_main, name="LLMServer", daemon=True)
            self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("LLMServer did not start")
        if self._startup_error is not None:
            self._thread.join(timeout)
            raise RuntimeError(f"LLMServer failed to start: {self._startup_error!r}") from self._startup_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every client connection and the listener, and join the thread. Idempotent."""
        with self._life:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            if thread is threading.current_thread():
                raise RuntimeError("stop() called from the server's own thread")
            loop, stopping = self._loop, self._stopping
            if loop is not None and stopping is not None:
                with contextlib.suppress(RuntimeError):  # the loop already closed
                    loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError("LLMServer thread did not stop")

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    @property
    def port(self) -> int:
        """The bound port (after `start()`)."""
        if not self._port:
            raise RuntimeError("LLMServer is not started")
        return self._port

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The OpenAI base URL: http://127.0.0.1:PORT/v1"""
        return f"{self.origin}/v1"

    # -- scripts

    def enqueue(self, *scripts: Sequence[Step]) -> None:
        """Append scripts to the FIFO queue; each chat request without a model script takes the next."""
        checked = [validate_script(s) for s in scripts]
        with self._cond:
            self._queue.extend(checked)

    def script_for_model(self, model: str, script: Sequence[Step] | None) -> None:
        """Play `script` for every request naming `model` (before the queue); None removes it."""
        checked = None if script is None else validate_script(script)
        with self._cond:
            if checked is None:
                self._by_model.pop(model, None)
            else:
                self._by_model[model] = checked

    @property
    def default_script(self) -> Script | None:
        """The script played when nothing else applies (None: the built-in hello answer)."""
        with self._cond:
            return self._default

    @default_script.setter
    def default_script(self, script: Sequence[Step] | None) -> None:
        checked = None if script is None else validate_script(script)
        with self._cond:
            self._default = checked

    def pending(self) -> int:
        """How many queued scripts are still unplayed."""
        with self._cond:
            return len(self._queue)

    def clear_scripts(self) -> None:
        """Forget queued, per-model and default scripts."""
        with self._cond:
            self._queue.clear()
            self._by_model.clear()
            self._default = None

    # -- recording

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot list of the recorded requests (the records themselves keep updating)."""
        with self._cond:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected server-side errors (a test can assert this is empty)."""
        with self._cond:
            return list(self._errors)

    def clear_requests(self) -> None:
        """Forget the recorded requests (indexes restart at 0)."""
        with self._cond:
            self._requests.clear()

    def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> bool:
        """Block until `predicate()` is true (re-checked at every server-side change); False on timeout.

        Do not call it from a thread whose event loop the server's client needs (e.g. the qasync main
        thread while the app is streaming): that loop would stand still.
        """
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout))

    def wait_for_request(self, n: int = 1, timeout: float = 5.0) -> RecordedRequest:
        """The n-th request (1-based) once it has arrived; TimeoutError otherwise."""
        if not self.wait_for(lambda: len(self._requests) >= n, timeout):
            raise TimeoutError(f"{len(self._requests)} request(s) after {timeout} s, wanted {n}")
        with self._cond:
            return self._requests[n - 1]

    def wait_response_done(self, index: int, timeout: float = 5.0) -> RecordedRequest:
        """Request `index` (0-based) once its response is over, however it ended; TimeoutError otherwise."""
        if not self.wait_for(lambda: len(self._requests) > index and self._requests[index].outcome, timeout):
            raise TimeoutError(f"response {index} not over after {timeout} s")
        with self._cond:
            return self._requests[index]

    def wait_client_closed(self, request_index: int, timeout: float = 5.0) -> float | None:
        """When the client of request `request_index` went away before its response was complete.

        Returns that `time.monotonic()` stamp, or None if it did not happen within `timeout`.
        """

        def closed() -> bool:
            return (
                len(self._requests) > request_index
                and self._requests[request_index].client_closed is not None
            )

        if not self.wait_for(closed, timeout):
            return None
        with self._cond:
            return self._requests[request_index].client_closed

    # -- the server thread

    def _update(self, rec: RecordedRequest, **changes: Any) -> None:
        with self._cond:
            for key, value in changes.items():
                setattr(rec, key, value)
            self._cond.notify_all()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _record_error(self, what: str) -> None:
        text = f"{what}\n{traceback.format_exc()}"
        log.error("LLMServer: %s", text)
        with self._cond:
            self._errors.append(text)
            self._cond.notify_all()

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            if not self._ready.is_set():
                self._startup_error = exc
            else:
                self._record_error("server loop failed")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        loop = self._loop
        transports = self._transports

        class _Tracked(asyncio.StreamReaderProtocol):
            """Remembers its transport, so that stop() closes it even when the handler never ran."""

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                assert isinstance(transport, asyncio.Transport)
                self._tracked = transport
                transports.add(transport)
                super().connection_made(transport)

            def connection_lost(self, exc: Exception | None) -> None:
                transports.discard(self._tracked)
                super().connection_lost(exc)

        def factory() -> asyncio.Protocol:
            return _Tracked(asyncio.StreamReader(limit=2**16, loop=loop), self._handle, loop=loop)

        server = await loop.create_server(factory, self.host, self._requested_port)
        self._port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            self._shutting_down = True
            server.close()
            # A connection accepted just before the close is still being set up by a task of its own:
            # let it finish, or its socket would never be closed.
            for _ in range(3):
                await asyncio.sleep(0)
            for conn in list(self._conns):
                conn.abort()
            tasks = list(self._tasks)
            if tasks:  # an aborted connection ends its handler (EOF); cancel only what still runs
                await asyncio.wait(tasks, timeout=1.0)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()
            for transport in list(transports):
                if not transport.is_closing():
                    transport.abort()
            transports.clear()
            for _ in range(3):  # let the transports' connection_lost callbacks close the sockets
                await asyncio.sleep(0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = _Conn(next(self._conn_ids), reader, writer)
        self._tasks.add(task)
        self._conns.add(conn)
        try:
            while True:
                try:
                    req = await conn.read_request()
                except _BadRequest as exc:
                    with contextlib.suppress(OSError):
                        body = _dumps(error_body(str(exc)))
                        head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                        writer.write(
                            head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
                        )
                        await writer.drain()
                    break
                if req is None or not await self._serve(conn, req):
                    break
        except asyncio.CancelledError:
            raise
        except OSError:
            pass
        except Exception:
            self._record_error("connection handler failed")
            conn.abort()
        finally:
            self._conns.discard(conn)
            self._tasks.discard(task)
            conn.close()

    async def _serve(self, conn: _Conn, req: _Request) -> bool:
        """Answer one request while watching for the client to leave; True if the connection stays open."""
        path, _, query = req.target.partition("?")
        try:
            body: Any = json.loads(req.body) if req.body else None
        except ValueError:
            body = None
        rec = RecordedRequest(
            method=req.method,
            path=path,
            query=query,
            headers=req.headers,
            body=body,
            raw_body=req.body,
            started=req.started,
            connection=conn.id,
        )
        with self._cond:
            index = len(self._requests)
            self._requests.append(rec)
            self._cond.notify_all()
        ex = _Exchange(self, conn, rec, index, req)
        respond = asyncio.create_task(self._respond(ex, req))
        watch = asyncio.create_task(conn.watch())
        try:
            await asyncio.wait((respond, watch), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            respond.cancel()
            watch.cancel()
            await asyncio.gather(respond, watch, return_exceptions=True)
            if not rec.outcome:
                self._update(rec, outcome="stopped")
            raise
        if respond.done():
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            exc = respond.exception()
            if exc is None:
                return ex.keep_alive and rec.outcome == "complete"
            if not isinstance(exc, OSError):
                self._update(rec, outcome="error")
                raise exc
            closed_at = time.monotonic()
        else:
            closed_at = watch.result()
            respond.cancel()
            await asyncio.gather(respond, return_exceptions=True)
        if not rec.outcome:
            if self._shutting_down:  # stop() aborted the connection: not the client's doing
                self._update(rec, outcome="stopped")
            else:
                self._update(rec, client_closed=closed_at, outcome="client_closed")
        conn.abort()
        return False

    async def _respond(self, ex: _Exchange, req: _Request) -> None:
        rec = ex.rec
        if rec.path == "/v1/models" and req.method == "GET":
            models = self.models
            if models is None:
                await ex.send_json(404, error_body("This server has no model list", code="not_found"))
            else:
                data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "test"} for m in models]
                await ex.send_json(200, {"object": "list", "data": data})
        elif rec.path == "/v1/chat/completions" and req.method == "POST":
            await self._chat(ex)
        else:
            message = f"Unknown request: {req.method} {rec.path}"
            await ex.send_json(404, error_body(message, code="unknown_url"))

    def _next_script(self, model: str | None) -> Script:
        with self._cond:
            if model is not None and model in self._by_model:
                return self._by_model[model]
            if self._queue:
                return self._queue.popleft()
            if self._default is not None:
                return self._default
        return text_script(model=model or DEFAULT_MODEL)

    async def _chat(self, ex: _Exchange) -> None:
        rec = ex.rec
        if not isinstance(rec.body, dict):
            await ex.send_json(400, error_body("The request body is not a JSON object"))
            return
        steps = self._next_script(rec.model)
        i = 0
        while i < len(steps) and step_kind(steps[i]) in (*_PRE_HEAD, "cut"):
            step = steps[i]
            kind = step_kind(step)
            if kind == "delay_headers":
                await asyncio.sleep(step[kind])
            elif kind == "framing":
                ex.chunked = step[kind] == "chunked" and ex.chunked
            elif kind == "headers":
                ex.extra_headers += [(str(k), str(v)) for k, v in step[kind].items()]
            elif kind == "http_error":
                await self._http_error(ex, step)
                return
            else:
                ex.cut(step[kind])
                return
            i += 1
        if rec.stream:
            await self._stream(ex, steps[i:])
        else:
            await self._complete(ex, steps[i:])

    async def _http_error(self, ex: _Exchange, step: Step) -> None:
        status = int(step["http_error"])
        body = step.get("body")
        if body is None:
            type_, code = _ERROR_KINDS.get(status, ("api_error", None))
            body = error_body(f"Test server error {status} {_phrase(status)}", type_, code)
        if isinstance(body, str):
            await ex.send_full(status, body.encode(), "text/plain; charset=utf-8", step.get("headers"))
        else:
            await ex.send_json(status, body, step.get("headers"))

    async def _stream(self, ex: _Exchange, steps: Sequence[Step]) -> None:
        await ex.start_stream()
        for step in steps:
            kind = step_kind(step)
            value = step[kind]
            if kind == "chunk":
                await ex.body(b"data: " + _dumps(value) + b"\n\n")
            elif kind == "raw":
                await ex.body(value.encode())
            elif kind == "done":
                await ex.body(b"data: [DONE]\n\n")
            elif kind in ("sleep", "wait_for_request_close"):
                await asyncio.sleep(value)
            elif kind == "hang":
                await asyncio.get_running_loop().create_future()
            elif kind == "cut":
                ex.cut(value)
                return
            elif kind == "end":
                break
            elif kind == "fast":
                await self._fast(ex, value)
        await ex.end()

    async def _fast(self, ex: _Exchange, spec: Mapping[str, Any]) -> None:
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
        self._notify()
        if spec.get("done", True):
            await ex.body(b"data: " + _dumps(chunk(finish_reason="stop", model=model)) + b"\n\n")
            await ex.body(
                b"data: " + _dumps(chunk(choices=[], usage=_usage_for(count), model=model)) + b"\n\n"
            )
            await ex.body(b"data: [DONE]\n\n")

    async def _complete(self, ex: _Exchange, steps: Sequence[Step]) -> None:
        """A non-streamed `chat.completion` assembled from the script's chunks."""
        rec = ex.rec
        content: list[str] = []
        reasoning: dict[str, list[str]] = {"reasoning_content": [], "reasoning": []}
        calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        counts: dict[str, Any] | None = None
        model = rec.model or DEFAULT_MODEL
        deltas = 0
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
                break
            elif kind == "fast":
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
            "usage": counts or _usage_for(deltas),
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


def sse_data(body: bytes) -> list[bytes]:
    """The `data:` payloads of a raw (de-chunked) SSE body, in order, one per `data:` line."""
    lines = body.replace(b"\r\n", b"\n").split(b"\n")
    return [line[5:].removeprefix(b" ") for line in lines if line.startswith(b"data:")]


# ----------------------------------------------------------------------------------- subprocess and CLI


class LLMServerProcess:
    """The CLI server as a subprocess (its own GIL): `with LLMServerProcess(["--fast-count", "1000"]) as s:`.

    `stop()` sends SIGTERM and returns the exit code; `requests()` then reads the `--log` it wrote
    (`log` is passed as `--log`). POSIX only (select on the stdout pipe).
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        log: Path | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.args = list(args)
        self.log = log
        self.env = dict(os.environ if env is None else env)
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.returncode: int | None = None

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT/v1"""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LLMServerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LLMServerProcess:
        """Start the process and read its `PORT <n>` line."""
        cmd = [sys.executable, "-m", "tests.helpers.llm_server", *self.args]
        if self.log is not None:
            cmd += ["--log", str(self.log)]
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), self.env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=self.env)
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
            data = os.read(fd, 1) if ready else b""
            if not data:
                self.stop(timeout=5)
                raise RuntimeError(f"LLM server process gave no port (got {line!r})")
            line += data
        if not line.startswith(b"PORT "):
            self.stop(timeout=5)
            raise RuntimeError(f"unexpected first line from the LLM server process: {line!r}")
        self.port = int(line.split()[1])
        return self

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait (kill after `timeout`), close the pipe; the exit code. Idempotent."""
        proc = self.proc
        if proc is None:
            return -1
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self.returncode = proc.returncode
        return proc.returncode

    def requests(self) -> list[RecordedRequest]:
        """The recorded requests from the log (after `stop()`)."""
        if self.log is None:
            raise RuntimeError("started without a log")
        return load_log(self.log)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.helpers.llm_server",
        description="A local OpenAI-compatible test server. Prints 'PORT <n>' first.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON: a list of steps, or {queue, default, by_model}")
    parser.add_argument("--fast-count", type=int, help="answer every request with a fast stream of N chunks")
    parser.add_argument("--fast-rate", type=float, help="chunks/s for --fast-count (default: unpaced)")
    parser.add_argument("--fast-text", help="fixed delta text for --fast-count")
    parser.add_argument("--models", default=DEFAULT_MODEL, help="comma-separated model ids")
    parser.add_argument("--no-models", action="store_true", help="answer GET /v1/models with 404")
    parser.add_argument("--log", type=Path, help="write the recorded requests here (JSON) on exit")
    args = parser.parse_args(argv)

    models = None if args.no_models else [m for m in args.models.split(",") if m]
    server = LLMServer(host=args.host, port=args.port, models=models)
    if args.script is not None:
        data = json.loads(args.script.read_text(encoding="utf-8"))
        if isinstance(data, list):
            server.default_script = data
        else:
            server.enqueue(*data.get("queue", []))
            if data.get("default") is not None:
                server.default_script = data["default"]
            for model, script in (data.get("by_model") or {}).items():
                server.script_for_model(model, script)
    if args.fast_count is not None:
        server.default_script = [fast(args.fast_count, args.fast_rate, args.fast_text)]

    server.start()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        sys.stdout.write(f"PORT {server.port}\n")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()
        if args.log is not None:
            records = [r.to_json() for r in server.requests]
            args.log.write_text(json.dumps(records), encoding="utf-8")
        for error in server.errors:
            sys.stderr.write(error + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
