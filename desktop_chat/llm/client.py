"""Requests to one OpenAI-compatible endpoint through the `openai` package (imported on first use).

The client streams raw server-sent events and turns them into `events` itself (`stream_reader`): the
openai package's own chunk models cost 58-80 µs of CPU per chunk, too much at thousands of chunks a
second. HTTP errors, timeouts and broken connections become typed `errors` with messages for people
(`http_errors`); rate limits and overloads are retried before any content arrives (`retry`). The HTTP
stack, its TLS context and the proxy rule are in `transport`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop_chat.llm.chunks import ChunkParser
from desktop_chat.llm.errors import BadRequestError, LLMError
from desktop_chat.llm.events import Retrying, StreamEvent
from desktop_chat.llm.http_errors import status_error, transport_error
from desktop_chat.llm.retry import RetryPolicy
from desktop_chat.llm.stream_reader import finalize_async_generators_on_loop, read_events
from desktop_chat.llm.transport import http_client, http_timeout, warmed_up

if TYPE_CHECKING:
    import openai

    from desktop_chat.llm.endpoint import Endpoint

log = logging.getLogger(__name__)

NO_KEY = "none"  # sent as the bearer token to endpoints that need no key (the openai package wants one)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion request. `params` go into the body as they are (temperature, max_tokens...)."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    stream_usage: bool = True


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
            import openai

            ep = self.endpoint
            timeout = http_timeout(ep.timeouts)
            self._client = openai.AsyncOpenAI(
                api_key=ep.api_key or NO_KEY,
                base_url=ep.base_url,
                default_headers=dict(ep.headers) or None,
                max_retries=0,  # retries are ours: visible, cancellable, only before any content
                timeout=timeout,
                http_client=http_client(ep, timeout),
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
                        async with aclosing(read_events(response, parser, self.endpoint)) as events:
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
                raise transport_error(exc, self.endpoint, streaming=False) from None

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
            raise transport_error(exc, self.endpoint, streaming=False) from None
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
            raise transport_error(exc, self.endpoint, streaming=False) from None
        return list(dict.fromkeys(m.id for m in page.data if getattr(m, "id", None)))
