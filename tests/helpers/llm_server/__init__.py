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

The package, by job: `chunks` (chunk dicts, also for tests/helpers/shapes/), `scripts` (steps and their
builders), `recording`, `connection` (HTTP/1.1), `playback` (a script into a response), `server`
(`LLMServer`), `process` (`LLMServerProcess`) and `__main__` (the CLI).
"""

from __future__ import annotations

from tests.helpers.llm_server.chunks import (
    CHUNK_ID,
    CREATED,
    DEFAULT_MODEL,
    chunk,
    error_body,
    sse_data,
    tool_call,
    usage,
)
from tests.helpers.llm_server.process import LLMServerProcess
from tests.helpers.llm_server.recording import RecordedRequest, load_log
from tests.helpers.llm_server.scripts import (
    DEFAULT_TEXT,
    Script,
    Step,
    fast,
    fast_text,
    fast_unit,
    http_error,
    split_text,
    step_kind,
    text_script,
    tool_round,
    validate_script,
    write_script_file,
)
from tests.helpers.llm_server.server import LLMServer

__all__ = [
    "CHUNK_ID",
    "CREATED",
    "DEFAULT_MODEL",
    "DEFAULT_TEXT",
    "LLMServer",
    "LLMServerProcess",
    "RecordedRequest",
    "Script",
    "Step",
    "chunk",
    "error_body",
    "fast",
    "fast_text",
    "fast_unit",
    "http_error",
    "load_log",
    "split_text",
    "sse_data",
    "step_kind",
    "text_script",
    "tool_call",
    "tool_round",
    "usage",
    "validate_script",
    "write_script_file",
]
