"""An open streaming response -> stream events: body bytes -> SSE lines (`sse`) -> chunks (`chunks`).

The hot path of every answer: per network read one line split, per line one SSE step, per event one
`ChunkParser.feed`; after `YIELD_EVERY_S` of uninterrupted parsing the loop is handed back to Qt.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from desktop_chat.llm.chunks import ChunkParser, end_of_stream_error
from desktop_chat.llm.errors import LLMError
from desktop_chat.llm.http_errors import transport_error
from desktop_chat.llm.sse import LineSplitter, SSEDecoder

if TYPE_CHECKING:
    from desktop_chat.llm.endpoint import Endpoint
    from desktop_chat.llm.events import StreamEvent

log = logging.getLogger(__name__)

DRAIN_S = 0.5  # how long to read on after [DONE] before closing the connection
YIELD_EVERY_S = 0.004  # hand the loop back to Qt after this much uninterrupted parsing
# A slow stream (each delta waited for) is read in small batches: a chunk that had to be waited for is
# followed by a pause of PACE_S, so the next deltas arrive together and are read in one go. A read that
# waits costs about 0.4 ms of CPU in the HTTP stack here, more than everything else a delta costs: at 100
# deltas/s, waiting for each on its own took 6-7 % of a core. Chunks already received are read on without
# a pause, so a fast stream is never held.
PACE_S = 0.04
WAITED_S = 0.005  # a chunk that came this long after the one before had to be waited for


def finalize_async_generators_on_loop() -> None:
    """Let the running loop close async generators that are dropped while suspended.

    asyncio's own loops install this finalizer while they run; qasync's loop never does. Without it, a
    dropped generator is closed by the garbage collector wherever it happens to run, outside the loop,
    and httpx's (which await while closing) fail there with "no running event loop". httpx leaves one
    suspended whenever a stream is left before its end (a provider error, a malformed line, a stop).
    The finalizer only schedules `aclose()` on its loop; on a closed loop it does nothing.
    """
    loop = asyncio.get_running_loop()
    finalizer = sys.get_asyncgen_hooks().finalizer
    owner = getattr(finalizer, "__self__", None)
    if finalizer is None or (isinstance(owner, asyncio.AbstractEventLoop) and owner is not loop):
        hook = getattr(loop, "_asyncgen_finalizer_hook", None)
        if hook is not None:
            sys.set_asyncgen_hooks(finalizer=hook)


async def read_events(
    response: Any, parser: ChunkParser, endpoint: Endpoint
) -> AsyncGenerator[StreamEvent, None]:
    """Events from an open streaming response (SSE lines -> chunks -> events)."""
    import httpx2

    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type and "json" in content_type:
        # a JSON body on a 200: an error object, or a server that ignored stream=True
        for event in _json_instead_of_stream(await response.read(), parser, endpoint):
            yield event
        return
    splitter, decoder = LineSplitter(), SSEDecoder()
    clock = time.perf_counter
    started = clock()
    body = response.iter_bytes()
    done_at = clock()
    try:
        async for raw in body:
            came_at = clock()
            for event in _events(splitter.feed(raw), decoder, parser):
                yield event
            if parser.done:
                break
            if came_at - done_at > WAITED_S:  # a slow stream: let the next deltas gather first
                await asyncio.sleep(max(0.0, PACE_S - (clock() - came_at)))
                started = clock()
            elif clock() - started > YIELD_EVERY_S:  # a burst of buffered chunks: let Qt paint
                await asyncio.sleep(0)
                started = clock()
            done_at = clock()
        else:
            # The body's last line, then a blank line: it dispatches an event still open, as
            # `decoder.flush()` would (a server that never closed its last event).
            for event in _events([*splitter.flush(), ""], decoder, parser):
                yield event
        if parser.done:
            await _drain(body)
    except httpx2.TransportError as exc:
        for event in parser.finish():
            yield event
        raise transport_error(exc, endpoint, streaming=True) from None
    for event in parser.finish():
        yield event
    cut = end_of_stream_error(parser)
    if cut is not None:
        raise cut


def _events(lines: list[str], decoder: SSEDecoder, parser: ChunkParser) -> Iterator[StreamEvent]:
    """The events of these lines, up to `[DONE]`. A provider error in a chunk is raised after the events
    that chunk held before it."""
    for line in lines:
        sse = decoder.feed_line(line)
        if sse is not None:
            try:
                events = parser.feed(sse.data, sse.event)
            except LLMError as exc:
                error = exc
            else:
                yield from events
                if parser.done:
                    return
                continue
            yield from parser.events_before_error
            raise error


async def _drain(lines: AsyncIterator[bytes]) -> None:
    """Read what follows [DONE] (normally nothing) so the connection can be reused and the transport's
    generators finish; give up after a moment."""
    try:
        async with asyncio.timeout(DRAIN_S):
            async for _ in lines:
                pass
    except (TimeoutError, Exception) as exc:
        log.debug("Not draining after [DONE]: %s", type(exc).__name__)


def _json_instead_of_stream(raw: bytes, parser: ChunkParser, endpoint: Endpoint) -> list[StreamEvent]:
    """A 200 with a JSON body: an error object (raised), or a whole completion (read as one chunk)."""
    import json

    from desktop_chat.llm.errors import MalformedStreamError

    try:
        data = json.loads(raw)
    except ValueError:
        raise MalformedStreamError(
            f"{endpoint.host} answered with something that is not a stream: {raw[:120]!r}"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("choices"), list):
        for choice in data["choices"]:
            if isinstance(choice, dict) and "message" in choice and "delta" not in choice:
                choice["delta"] = choice.pop("message")
    return [*parser.feed(json.dumps(data)), *parser.finish()]
