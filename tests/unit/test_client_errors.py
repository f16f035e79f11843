"""The client's pure error logic: HTTP statuses to typed errors, Retry-After, backoff, loopback, transport."""

from __future__ import annotations

import email.utils
import random
import re
import time
from typing import Any

import httpx2
import openai
import pytest

from desktop_chat.llm.endpoint import Endpoint, Timeouts
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
from desktop_chat.llm.http_errors import status_error, transport_error
from desktop_chat.llm.retry import RetryPolicy, parse_retry_after
from desktop_chat.llm.transport import is_loopback

KEY = "sk-live-0123456789abcdef"
LOCAL = Endpoint("http://127.0.0.1:8080/v1", KEY)
CLOUD = Endpoint("https://api.example.com/v1", KEY)
MODEL = "gpt-test"
_CLASS_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]*)*(?:Error|Exception|Timeout)\b|httpx|openai\.")


def body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "x", "param": None, "code": None}}


# -- status_error ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "provider_says", "kind", "words"),
    [
        (401, {}, "Incorrect API key", AuthError, ["api.example.com", "refused the API key", "HTTP 401"]),
        (403, {}, "Forbidden", AuthError, ["does not allow this key", f"“{MODEL}”", "HTTP 403"]),
        (
            404,
            {},
            "No such model",
            ModelNotFoundError,
            [f"“{MODEL}”", "https://api.example.com/v1", "HTTP 404"],
        ),
        (429, {"Retry-After": "20"}, "Slow down", RateLimitError, ["rate-limiting", "Try again in 20 s"]),
        (429, {"retry-after": "600"}, "Slow down", RateLimitError, ["Try again in 10 min"]),
        (429, {"Retry-After": "7200"}, "Quota", RateLimitError, ["Try again in 2.0 h"]),
        (500, {}, "Boom", ServerError, ["failed to answer", "HTTP 500"]),
        (502, {}, "Bad gateway", ServerError, ["HTTP 502"]),
        (503, {"Retry-After": "3"}, "Overloaded", ServerError, ["HTTP 503"]),
        (529, {}, "Overloaded", ServerError, ["HTTP 529"]),
        (400, {}, "Invalid value for temperature", BadRequestError, ["refused the request", "HTTP 400"]),
        (422, {}, "Unprocessable", BadRequestError, ["HTTP 422"]),
        (
            400,
            {},
            "This model's maximum context length is 8192 tokens",
            ContextLengthError,
            [f"too long for “{MODEL}”", "HTTP 400", "new chat"],
        ),
        (413, {}, "Too many tokens in the request", ContextLengthError, ["too long", "HTTP 413"]),
        (400, {}, "context_length_exceeded", ContextLengthError, ["too long"]),
        (400, {}, "prompt exceeds the context window", ContextLengthError, ["too long"]),
    ],
)
def test_status_error_table(
    status: int, headers: dict[str, str], provider_says: str, kind: type[LLMError], words: list[str]
) -> None:
    error = status_error(status, headers, body(provider_says), endpoint=CLOUD, model=MODEL)
    assert type(error) is kind
    assert error.status == status
    assert error.detail == provider_says
    message = str(error)
    for w in words:
        assert w in message, message
    assert message.endswith(f"The provider said: {provider_says}")
    assert KEY not in message
    assert not _CLASS_NAME.search(message), message


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (429, True), (500, False), (501, False)]
    + [(s, True) for s in (502, 503, 504, 529)],
)
def test_only_rate_limits_and_overloads_are_retryable(status: int, retryable: bool) -> None:
    assert status_error(status, {}, None, endpoint=CLOUD, model=MODEL).retryable is retryable


def test_retry_after_is_kept_on_rate_limits_and_server_errors() -> None:
    rate = status_error(429, {"Retry-After": "7"}, None, endpoint=CLOUD, model=MODEL)
    server = status_error(503, {"retry-after-ms": "1500"}, None, endpoint=CLOUD, model=MODEL)
    assert rate.retry_after == 7.0
    assert server.retry_after == 1.5
    no_header = status_error(429, {}, None, endpoint=CLOUD, model=MODEL)
    assert no_header.retry_after is None
    assert "Try again" not in str(no_header)


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"error": {"message": "nested"}}, "nested"),
        ({"message": "flat"}, "flat"),
        ({"detail": "fastapi style"}, "fastapi style"),
        ({"error": "a string"}, "a string"),
        ("plain text body", "plain text body"),
        (None, ""),
        ({"error": {"code": 1}}, ""),
        ("   ", ""),
    ],
)
def test_the_provider_message_is_found_in_any_error_body(payload: object, detail: str) -> None:
    error = status_error(400, {}, payload, endpoint=CLOUD, model=MODEL)
    assert error.detail == detail
    assert ("The provider said" in str(error)) is bool(detail)


def test_a_long_provider_message_is_trimmed() -> None:
    error = status_error(500, {}, body("x " * 1000), endpoint=CLOUD, model=MODEL)
    assert len(error.detail) <= 300
    assert error.detail.endswith("…")


# -- parse_retry_after ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"RETRY-AFTER": "0"}, 0.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After-Ms": "1500", "Retry-After": "9"}, 1.5),  # the precise one wins
        ({"retry-after-ms": "soon", "Retry-After": "9"}, 9.0),  # a bad ms header falls back
        ({}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "soon, maybe"}, None),  # a comma once made it a date and raised
        ({"Retry-After": "Wed, garbage"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"retry-after-ms": "inf"}, None),
        ({"Retry-After": "Fri, 31 Dec 99999 23:59:59 GMT"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: now
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers) == seconds


def test_parse_retry_after_reads_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 60, usegmt=True)
    seconds = parse_retry_after({"Retry-After": when})
    assert seconds is not None
    assert 55 <= seconds <= 61


# -- RetryPolicy.delay ----------------------------------------------------------------------------------


def test_delay_honours_retry_after_exactly() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    assert policy.delay(0, 7.0) == 7.0
    assert policy.delay(5, 0.0) == 0.0
    assert policy.delay(0, 45.0) == 45.0  # the provider's word beats max_delay (max_wait decides)
    assert policy.delay(0, -1.0) == 0.0


@pytest.mark.parametrize(("attempt", "backoff"), [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0)])
def test_delay_backs_off_exponentially_within_jitter_bounds(
    monkeypatch: pytest.MonkeyPatch, attempt: int, backoff: float
) -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert policy.delay(attempt, None) == pytest.approx(0.75 * backoff)
    monkeypatch.setattr(random, "random", lambda: 0.5)
    assert policy.delay(attempt, None) == pytest.approx(backoff)
    monkeypatch.setattr(random, "random", lambda: 0.999999)
    assert policy.delay(attempt, None) == pytest.approx(1.25 * backoff, rel=1e-5)


def test_delay_jitter_spreads_retries() -> None:
    policy = RetryPolicy(base_delay=2.0, max_delay=30.0)
    delays = [policy.delay(1, None) for _ in range(200)]
    assert all(3.0 <= d <= 5.0 for d in delays)
    assert max(delays) - min(delays) > 0.5  # not one fixed value: clients retrying together spread out


def test_delay_stops_growing_at_max_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    monkeypatch.setattr(random, "random", lambda: 0.5)
    assert policy.delay(4, None) == pytest.approx(16.0)
    assert policy.delay(5, None) == pytest.approx(30.0)  # 32 capped
    assert policy.delay(20, None) == pytest.approx(30.0)
    # The cap is a hard cap: it applies after the ±25 % jitter.
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert policy.delay(20, None) == pytest.approx(30.0)
    assert policy.delay(5, None) == pytest.approx(24.0)  # 32 * 0.75 is under the cap
    monkeypatch.setattr(random, "random", lambda: 0.999999)
    assert policy.delay(20, None) == pytest.approx(30.0)


# -- is_loopback ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://localhost:11434/v1", True),
        ("http://LOCALHOST/v1", True),
        ("http://127.0.0.1:8080/v1", True),
        ("http://127.45.6.7/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://[::1]/v1", True),
        ("http://sub.localhost:1234/v1", True),
        ("http://10.0.0.1:8080/v1", False),
        ("http://192.168.1.20:1234/v1", False),
        ("https://example.com/v1", False),
        ("https://localhost.example.com/v1", False),
        ("http://127.0.0.1.example.com/v1", False),
        ("http://0.0.0.0:8080/v1", False),
        ("", False),
        ("not a url", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


# -- transport errors -----------------------------------------------------------------------------------

REQUEST = httpx2.Request("POST", "http://127.0.0.1:8080/v1/chat/completions")


def wrapped(cause: BaseException) -> openai.APIConnectionError:
    """How openai raises a transport failure: APIConnectionError from the httpx error."""
    try:
        raise openai.APIConnectionError(request=REQUEST) from cause
    except openai.APIConnectionError as exc:
        return exc


def assert_for_a_person(error: LLMError) -> str:
    message = str(error)
    assert message.strip()
    assert not _CLASS_NAME.search(message), message
    assert KEY not in message
    assert ".." not in message, message
    return message


def test_connection_refused_locally_asks_whether_the_server_runs() -> None:
    error = transport_error(
        wrapped(httpx2.ConnectError("[Errno 111] Connection refused")), LOCAL, streaming=False
    )
    assert type(error) is ConnectError
    message = assert_for_a_person(error)
    assert "Could not connect to http://127.0.0.1:8080/v1" in message
    assert "Connection refused" in message
    assert "Is the server running?" in message


def test_connection_failure_to_a_cloud_provider_points_at_the_network() -> None:
    error = transport_error(httpx2.ConnectError("Name or service not known"), CLOUD, streaming=False)
    message = assert_for_a_person(error)
    assert "Check the address and your network." in message
    assert "Is the server running?" not in message


def test_a_proxy_failure_points_at_the_proxy_setting() -> None:
    error = transport_error(httpx2.ProxyError("407 Proxy Authentication Required"), CLOUD, streaming=False)
    assert type(error) is ConnectError
    assert "proxy setting" in assert_for_a_person(error)


def test_a_connect_timeout_names_the_connect_timeout() -> None:
    endpoint = Endpoint(CLOUD.base_url, KEY, timeouts=Timeouts(connect=2.5))
    error = transport_error(wrapped(httpx2.ConnectTimeout("timed out")), endpoint, streaming=False)
    assert type(error) is TimeoutError_
    assert "Could not connect to api.example.com within 2.5 s." in assert_for_a_person(error)


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(
    "exc",
    [httpx2.ReadTimeout(""), openai.APITimeoutError(request=REQUEST)],
    ids=["httpx-read-timeout", "openai-timeout"],
)
def test_a_read_timeout_names_the_read_timeout(exc: BaseException, streaming: bool) -> None:
    endpoint = Endpoint(LOCAL.base_url, timeouts=Timeouts(read=0.5))
    error = transport_error(exc, endpoint, streaming=streaming)
    assert type(error) is TimeoutError_
    assert "127.0.0.1:8080 sent nothing for 0.5 s" in assert_for_a_person(error)
    default = transport_error(exc, LOCAL, streaming=streaming)
    assert "sent nothing for 300 s" in str(default)


@pytest.mark.parametrize(
    "cause",
    [
        httpx2.ReadError(""),
        httpx2.RemoteProtocolError("peer closed connection without sending complete message body"),
    ],
    ids=["read-error", "protocol-error"],
)
def test_a_broken_stream_is_a_cut_without_class_names(cause: BaseException) -> None:
    error = transport_error(cause, LOCAL, streaming=True)
    assert type(error) is StreamCutError
    message = assert_for_a_person(error)
    assert message == "The connection closed before the answer finished; the text received so far is kept."


@pytest.mark.parametrize(
    ("cause", "said"),
    [
        (httpx2.ReadError(""), None),
        (
            httpx2.RemoteProtocolError("Server disconnected without sending a response."),
            "without sending a response",
        ),
    ],
    ids=["reset", "closed"],
)
def test_a_connection_closed_before_any_answer_says_so(cause: BaseException, said: str | None) -> None:
    error = transport_error(wrapped(cause), LOCAL, streaming=False)
    assert type(error) is ConnectError
    message = assert_for_a_person(error)
    assert "127.0.0.1:8080 closed the connection before answering" in message
    if said:
        assert said in message
