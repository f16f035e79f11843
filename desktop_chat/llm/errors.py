"""Typed failures of a model request, each with a message a person understands (`str(error)`).

`detail` keeps what the provider said (trimmed), `status` the HTTP status when there was one. The API
key is never part of a message: callers build messages from the endpoint's URL and model only.
"""

from __future__ import annotations

_DETAIL_MAX = 300


def _trim(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


class LLMError(Exception):
    """A request to a model failed. `retryable` errors may succeed when sent again."""

    kind = "error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.detail = _trim(detail)
        self.status = status
        self.retry_after = retry_after
        text = (
            message
            if not self.detail or self.detail in message
            else f"{message} The provider said: {self.detail}"
        )
        super().__init__(text)


class AuthError(LLMError):
    """401/403: the key is missing, wrong, or not allowed to use this model."""

    kind = "auth"


class ModelNotFoundError(LLMError):
    """404: no such model (or no such endpoint) at this base URL."""

    kind = "model_not_found"


class RateLimitError(LLMError):
    """429: too many requests or tokens; `retry_after` seconds when the provider said."""

    kind = "rate_limit"
    retryable = True


class ServerError(LLMError):
    """5xx: the provider failed. 502/503/504 are usually passing."""

    kind = "server"

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """Gateway and overload errors are worth another try."""
        return self.status in (502, 503, 504, 529)


class BadRequestError(LLMError):
    """400/422 and other 4xx: the provider refused this request as sent."""

    kind = "bad_request"


class ContextLengthError(BadRequestError):
    """The conversation is longer than the model's context window."""

    kind = "context_length"


class ConnectError(LLMError):
    """No connection: refused, unknown host, TLS failure, proxy failure."""

    kind = "connect"


class TimeoutError_(LLMError):  # noqa: N801 (the builtin name is taken)
    """No answer (or no next byte) in time."""

    kind = "timeout"


class StreamCutError(LLMError):
    """The stream ended before the model finished its message."""

    kind = "stream_cut"


class MalformedStreamError(LLMError):
    """The provider sent something that is not a chat completion stream."""

    kind = "malformed"


class ProviderStreamError(LLMError):
    """The provider reported an error inside the stream (an `error` event or an `error` object)."""

    kind = "provider"
