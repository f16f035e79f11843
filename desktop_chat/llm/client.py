"""Requests to one OpenAI-compatible endpoint through the `openai` package (imported on first use).

The client streams raw server-sent events and turns them into `events` itself (`sse` + `chunks`): the
openai package's own chunk models cost 58-80 µs of CPU per chunk, too much at thousands of chunks a
second. HTTP errors, timeouts and broken connections become typed `errors` with messages for people.

Proxies: loopback endpoints never go through a proxy; others use the proxy set in the app, or else the
system's (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, and the platform settings `urllib` reads).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import random
import sys
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from desktop_chat.llm.chunks import ChunkParser, end_of_stream_error
from desktop_chat.llm.errors import (
    AuthError,
    BadRequestError,
    ConnectError,
    ContextLengthError,
    LLMError,
    ModelNotFoundError,
    RateLimitError,
    ServerError,
    StreamCutError,
    TimeoutError_,
)
from desktop_chat.llm.events import Retrying, StreamEvent
from desktop_chat.llm.sse import LineSplitter, SSEDecoder, SSEEvent

if TYPE_CHECKING:
    import ssl

    import openai

log = logging.getLogger(__name__)

NO_KEY = "none"  # sent as the bearer token to endpoints that need no key (the openai package wants one)
DRAIN_S = 0.5  # how long to read on after [DONE] before closing the connection
YIELD_EVERY_S = 0.004  # hand the loop back to Qt after this much uninterrupted parsing
_CONTEXT_MARKERS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "context window",
)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to connect, to wait for each next byte (a local model may take long to load), to send."""

    connect: float = 10.0
    read: float = 300.0
    write: float = 30.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to send requests. `api_key` None: the endpoint needs no key."""

    base_url: str
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    proxy: str | None = None  # the app's proxy setting; None: the system's
    timeouts: Timeouts = Timeouts()

    @property
    def host(self) -> str:
        """`host:port` for messages."""
        return urlsplit(self.base_url).netloc or self.base_url

    def __repr__(self) -> str:  # never show the key
        return f"Endpoint({self.base_url!r}, key={'set' if self.api_key else 'none'})"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion request. `params` go into the body as they are (temperature, max_tokens...)."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    stream_usage: bool = True


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of a request that failed before any content arrived (rate limits, overloads)."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_wait: float = 120.0  # a Retry-After longer than this fails at once, saying when to try again

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before try `attempt + 1`: the provider's Retry-After, else backoff with jitter."""
        if retry_after is not None:
            return max(0.0, retry_after)
        jitter: float = random.random()  # noqa: S311 (jitter, not crypto)
        return float(min(self.max_delay, self.base_delay * 2**attempt * (0.75 + jitter * 0.5)))


_tls: list[ssl.SSLContext] = []  # one verified TLS context for every client (building one costs ~40 ms)
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The shared TLS context: the one httpx2 would build for each client (system trust store,
    SSL_CERT_FILE / SSL_CERT_DIR honoured)."""
    with _tls_lock:
        if not _tls:
            import httpx2

            _tls.append(httpx2.create_ssl_context())
        return _tls[0]


def warm_up() -> None:
    """Import the HTTP stack and build the TLS context ahead of the first request (0.4-0.8 s in all).

    Run it in a thread after the window is shown, so the first send does not freeze the window.
    """
    with _warm_lock:  # one thread imports; another caller waits (two importing pydantic at once break it)
        if _warmed.is_set():
            return
        for attempt in range(3):
            try:
                _import_http_stack()
                break
            except ImportError:
                # PySide's import hook inspects modules as they load; inside pydantic that can trigger one
                # of pydantic's lazy imports half-way ("partially initialized module"), now and then. The
                # failed modules are dropped from sys.modules, so importing again completes.
                if attempt == 2:
                    raise
                log.info("Importing the HTTP stack failed once; trying again", exc_info=True)
        tls_context()
        _warmed.set()


def _import_http_stack() -> None:
    import httpx2  # noqa: F401
    import openai
    import openai.resources.chat.completions.completions
    import openai.resources.models  # noqa: F401


_warmed = threading.Event()
_warm_lock = threading.Lock()


async def warmed_up() -> None:
    """Return once `warm_up` has run, running it in a worker thread if needed: the event loop's thread
    (the GUI's) must never import openai itself, or the window freezes for the 0.4-0.8 s it takes."""
    if not _warmed.is_set():
        await asyncio.to_thread(warm_up)


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


def is_loopback(base_url: str) -> bool:
    """True for endpoints on this machine (never sent through a proxy)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` (seconds or an HTTP date); None if absent or bad."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = _seconds(lowered.get("retry-after-ms"))
    if ms is not None:
        return ms / 1000
    value = lowered.get("retry-after")
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    import email.utils

    try:  # a header from a server is untrusted text: a bad date is no date, never a crash
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds(text: str | None) -> float | None:
    """A finite, non-negative number of seconds, or None."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return max(0.0, value) if math.isfinite(value) else None


def _provider_message(body: object, fallback: str) -> str:
    """The human part of an error body: `{"error": {"message": ...}}`, `{"message": ...}`, or text."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail", "error"):
                if isinstance(inner.get(key), str):
                    return str(inner[key])
        if isinstance(inner, str):
            return inner
    if isinstance(body, str) and body.strip():
        return body
    return fallback


def _wait_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def status_error(
    status: int, headers: Mapping[str, str], body: object, *, endpoint: Endpoint, model: str
) -> LLMError:
    """The typed error for an HTTP error status."""
    detail = _provider_message(body, "")
    where = endpoint.host
    if status in (401, 403):
        if status == 401:
            msg = f"{where} refused the API key (HTTP 401). Check the key of this provider in Settings."
        else:
            msg = f"{where} does not allow this key to use “{model}” (HTTP 403)."
        return AuthError(msg, detail=detail, status=status)
    if status == 404:
        return ModelNotFoundError(
            f"The model “{model}” was not found at {endpoint.base_url} (HTTP 404). "
            "Choose another model, or check the provider's base URL.",
            detail=detail,
            status=status,
        )
    if status == 429:
        retry_after = parse_retry_after(headers)
        when = f" Try again in {_wait_text(retry_after)}." if retry_after else ""
        return RateLimitError(
            f"{where} is rate-limiting requests (HTTP 429).{when}",
            detail=detail,
            status=status,
            retry_after=retry_after,
        )
    if status >= 500:
        retry_after = parse_retry_after(headers)
        return ServerError(
            f"{where} failed to answer (HTTP {status}). This is usually passing; try again.",
            detail=detail,
            status=status,
            retry_after=retry_after,
        )
    lowered = detail.lower()
    if any(m in lowered for m in _CONTEXT_MARKERS):
        return ContextLengthError(
            f"The conversation is too long for “{model}” (HTTP {status}). Start a new chat, or pick a model "
            "with a larger context.",
            detail=detail,
            status=status,
        )
    return BadRequestError(f"{where} refused the request (HTTP {status}).", detail=detail, status=status)


def _transport_error(exc: BaseException, endpoint: Endpoint, *, streaming: bool) -> LLMError:
    """A typed error for a connection-level failure (httpx2 or openai exception)."""
    import httpx2
    import openai

    cause: BaseException = exc
    while cause.__cause__ is not None and isinstance(cause, openai.APIConnectionError):
        cause = cause.__cause__
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException) or isinstance(
        cause, httpx2.TimeoutException
    ):
        if isinstance(cause, httpx2.ConnectTimeout):
            return TimeoutError_(
                f"Could not connect to {endpoint.host} within {endpoint.timeouts.connect:g} s.",
                detail=str(cause),
            )
        return TimeoutError_(
            f"{endpoint.host} sent nothing for {endpoint.timeouts.read:g} s; the request was given up.",
            detail=str(cause),
        )
    if streaming and not isinstance(cause, httpx2.ConnectError | httpx2.ProxyError):
        # What broke is for the log: the message would show a Python class name as "The provider said".
        log.info("The stream from %s broke: %s: %s", endpoint.host, type(cause).__name__, cause)
        return StreamCutError(
            "The connection closed before the answer finished; the text received so far is kept."
        )
    reason = str(cause).strip().rstrip(".")
    if isinstance(cause, httpx2.ReadError | httpx2.WriteError | httpx2.RemoteProtocolError):
        # connected, then the connection broke (reset, closed, garbled) before any answer came back
        log.info(
            "The connection to %s broke before an answer: %s: %s", endpoint.host, type(cause).__name__, cause
        )
        return ConnectError(
            f"{endpoint.host} closed the connection before answering"
            + (f": {reason}." if reason else ".")
            + " Try again; if it keeps happening, check the server.",
            detail=reason,
        )
    reason = reason or "the connection failed"
    hint = (
        " Is the server running?"
        if is_loopback(endpoint.base_url)
        else " Check the address and your network."
    )
    if isinstance(cause, httpx2.ProxyError):
        hint = " The proxy refused or failed the connection; check the proxy setting."
    return ConnectError(f"Could not connect to {endpoint.base_url}: {reason}.{hint}", detail=reason)


class ChatClient:
    """An `openai.AsyncOpenAI` for one endpoint, and the requests desktop_chat makes with it."""

    def __init__(self, endpoint: Endpoint, *, retry: RetryPolicy | None = None) -> None:
        self.endpoint = endpoint
        self.retry = retry or RetryPolicy()
        self._client: openai.AsyncOpenAI | None = None
        self._no_stream_options = False  # the server refused stream_options once: don't send it again

    # ---- the openai client ---------------------------------------------------------------------

    def _openai(self) -> openai.AsyncOpenAI:
        if self._client is None:
            import httpx2
            import openai

            ep = self.endpoint
            timeout = httpx2.Timeout(
                connect=ep.timeouts.connect,
                read=ep.timeouts.read,
                write=ep.timeouts.write,
                pool=ep.timeouts.connect,
            )
            tls = tls_context()
            if is_loopback(ep.base_url):
                http = openai.DefaultAsyncHttpx2Client(timeout=timeout, verify=tls, trust_env=False)
            elif ep.proxy:
                http = openai.DefaultAsyncHttpx2Client(
                    timeout=timeout, verify=tls, proxy=ep.proxy, trust_env=False
                )
            else:
                http = openai.DefaultAsyncHttpx2Client(timeout=timeout, verify=tls, trust_env=True)
            self._client = openai.AsyncOpenAI(
                api_key=ep.api_key or NO_KEY,
                base_url=ep.base_url,
                default_headers=dict(ep.headers) or None,
                max_retries=0,  # retries are ours: visible, cancellable, only before any content
                timeout=timeout,
                http_client=http,
            )
        return self._client

    async def aclose(self) -> None:
        """Close pooled connections."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    # ---- requests --------------------------------------------------------------------------------

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": request.model, "messages": request.messages}
        if stream:
            body["stream"] = True
            if request.stream_usage and not self._no_stream_options:
                body["stream_options"] = {"include_usage": True}
        if request.tools:
            body["tools"] = request.tools
        body.update(request.params)
        return body

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Stream one answer as events, retrying rate limits and overloads before any content arrives.

        Raises `LLMError` subclasses. When the consuming task is cancelled, the HTTP response is closed
        (shielded from the cancellation) so the provider stops generating.
        """
        await warmed_up()
        finalize_async_generators_on_loop()
        attempt = 0
        while True:
            parser = ChunkParser()
            try:
                async with aclosing(self._stream_once(request, parser)) as events:
                    async for event in events:
                        yield event
                return
            except LLMError as exc:
                if parser.saw_content or not exc.retryable or attempt + 1 >= self.retry.max_attempts:
                    raise
                delay = self.retry.delay(attempt, exc.retry_after)
                if delay > self.retry.max_wait:
                    raise
                attempt += 1
                log.info(
                    "Retrying %s in %.1f s (attempt %d): %s", self.endpoint.host, delay, attempt + 1, exc
                )
                yield Retrying(attempt, delay, str(exc))
                await asyncio.sleep(delay)

    async def _stream_once(
        self, request: ChatRequest, parser: ChunkParser
    ) -> AsyncGenerator[StreamEvent, None]:
        import httpx2
        import openai

        for _ in range(2):  # a second time only without stream_options, if the server refused it
            body = self._body(request, stream=True)
            # The messages travel in `extra_body`, which the request merges over `messages=[]`:
            # openai's typed transform of `messages` costs ~0.7 ms per message, on the GUI thread
            # (6.8 s for a 10,000-message conversation); our messages are already plain JSON.
            manager = self._openai().chat.completions.with_streaming_response.create(
                model=body.pop("model"),
                messages=[],
                stream=body.pop("stream"),
                extra_body=body,
            )
            try:
                async with manager as response:
                    try:
                        async with aclosing(self._read(response, parser)) as events:
                            async for event in events:
                                yield event
                    finally:
                        # Close even when cancelled: the provider sees the connection go and stops.
                        await asyncio.shield(response.close())
                return
            except openai.APIStatusError as exc:
                error = status_error(
                    exc.status_code,
                    exc.response.headers,
                    exc.body,
                    endpoint=self.endpoint,
                    model=request.model,
                )
                if (
                    isinstance(error, BadRequestError)
                    and "stream_options" in error.detail
                    and "stream_options" in body
                ):
                    self._no_stream_options = True
                    log.info("%s refuses stream_options; asking again without it", self.endpoint.host)
                    continue
                raise error from None
            except (openai.APIConnectionError, httpx2.TransportError) as exc:
                raise _transport_error(exc, self.endpoint, streaming=False) from None

    async def _read(self, response: Any, parser: ChunkParser) -> AsyncGenerator[StreamEvent, None]:
        """Events from an open streaming response (SSE lines -> chunks -> events)."""
        import httpx2

        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type and "json" in content_type:
            # a JSON body on a 200: an error object, or a server that ignored stream=True
            for event in self._json_instead_of_stream(await response.read(), parser):
                yield event
            return
        splitter, decoder = LineSplitter(), SSEDecoder()
        clock = time.perf_counter
        started = clock()
        body = response.iter_bytes()
        try:
            async for raw in body:
                for line in splitter.feed(raw):
                    sse = decoder.feed_line(line)
                    if sse is not None:
                        events, error = self._feed(parser, sse)
                        for event in events:
                            yield event
                        if error is not None:
                            raise error
                        if parser.done:
                            break
                if parser.done:
                    break
                if clock() - started > YIELD_EVERY_S:  # a burst of buffered chunks: let Qt paint
                    await asyncio.sleep(0)
                    started = clock()
            else:
                for line in splitter.flush():
                    sse = decoder.feed_line(line)
                    if sse is not None:
                        events, error = self._feed(parser, sse)
                        for event in events:
                            yield event
                        if error is not None:
                            raise error
                last = decoder.flush()
                if last is not None and not parser.done:
                    events, error = self._feed(parser, last)
                    for event in events:
                        yield event
                    if error is not None:
                        raise error
            if parser.done:
                await self._drain(body)
        except httpx2.TransportError as exc:
            for event in parser.finish():
                yield event
            raise _transport_error(exc, self.endpoint, streaming=True) from None
        for event in parser.finish():
            yield event
        cut = end_of_stream_error(parser)
        if cut is not None:
            raise cut

    @staticmethod
    def _feed(parser: ChunkParser, sse: SSEEvent) -> tuple[list[StreamEvent], LLMError | None]:
        """The events of one SSE event, and the provider error it carried (to raise after its events)."""
        try:
            return parser.feed(sse.data, sse.event), None
        except LLMError as exc:
            return list(parser.events_before_error), exc

    @staticmethod
    async def _drain(lines: AsyncIterator[bytes]) -> None:
        """Read what follows [DONE] (normally nothing) so the connection can be reused and the transport's
        generators finish; give up after a moment."""
        try:
            async with asyncio.timeout(DRAIN_S):
                async for _ in lines:
                    pass
        except (TimeoutError, Exception) as exc:
            log.debug("Not draining after [DONE]: %s", type(exc).__name__)

    def _json_instead_of_stream(self, raw: bytes, parser: ChunkParser) -> list[StreamEvent]:
        """A 200 with a JSON body: an error object (raised), or a whole completion (read as one chunk)."""
        import json

        from desktop_chat.llm.errors import MalformedStreamError

        try:
            data = json.loads(raw)
        except ValueError:
            raise MalformedStreamError(
                f"{self.endpoint.host} answered with something that is not a stream: {raw[:120]!r}"
            ) from None
        if isinstance(data, dict) and isinstance(data.get("choices"), list):
            for choice in data["choices"]:
                if isinstance(choice, dict) and "message" in choice and "delta" not in choice:
                    choice["delta"] = choice.pop("message")
        return [*parser.feed(json.dumps(data)), *parser.finish()]

    async def complete(self, request: ChatRequest) -> str:
        """A whole (non-streamed) answer's text, for short jobs such as titles."""
        await warmed_up()
        import httpx2
        import openai

        body = self._body(request, stream=False)
        try:
            completion = await self._openai().chat.completions.create(
                model=body.pop("model"),
                messages=[],
                extra_body=body,  # messages in extra_body (above)
            )
        except openai.APIStatusError as exc:
            raise status_error(
                exc.status_code, exc.response.headers, exc.body, endpoint=self.endpoint, model=request.model
            ) from None
        except (openai.APIConnectionError, httpx2.TransportError) as exc:
            raise _transport_error(exc, self.endpoint, streaming=False) from None
        if not completion.choices:
            return ""
        return completion.choices[0].message.content or ""

    async def list_models(self) -> list[str]:
        """Model ids the endpoint lists at /models, in its order (servers list their newest or default
        first), without repeats; raises LLMError (404 when it has no list)."""
        await warmed_up()
        import httpx2
        import openai

        try:
            page = await self._openai().models.list()
        except openai.APIStatusError as exc:
            raise status_error(
                exc.status_code, exc.response.headers, exc.body, endpoint=self.endpoint, model="(model list)"
            ) from None
        except (openai.APIConnectionError, httpx2.TransportError) as exc:
            raise _transport_error(exc, self.endpoint, streaming=False) from None
        return list(dict.fromkeys(m.id for m in page.data if getattr(m, "id", None)))
