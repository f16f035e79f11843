"""HTTP failures as typed `errors`: an error status (in the provider's own words), or a broken connection."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

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
from desktop_chat.llm.retry import parse_retry_after
from desktop_chat.llm.transport import is_loopback

if TYPE_CHECKING:
    from desktop_chat.llm.endpoint import Endpoint

log = logging.getLogger(__name__)

_CONTEXT_MARKERS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "context window",
)


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


def transport_error(exc: BaseException, endpoint: Endpoint, *, streaming: bool) -> LLMError:
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
