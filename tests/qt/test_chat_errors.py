"""HTTP and stream failures through the chat service, the real client and the local server.

Each failure must end the answer as `error` in the database with a message a person understands (no
traceback, no Python class names), keep any text that arrived, and retry only what is worth retrying:
rate limits and overloads before any content, honouring Retry-After.
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any

import pytest

from desktop_chat.domain import Response, ResponseStatus, Role, Usage
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat_events import ResponseUpdate
from desktop_chat.settings import READ_TIMEOUT, RETRY_ATTEMPTS
from tests.helpers.history import new_conversation
from tests.helpers.llm_server import LLMServer, RecordedRequest, Script, chunk, http_error, text_script, usage
from tests.helpers.loop import run
from tests.helpers.services import use_server

pytestmark = pytest.mark.usefixtures("on_test_server")

MODEL = "test-model"
_NOT_FOR_PEOPLE = re.compile(
    r"Traceback|File \"|\bhttpx|\bhttpcore|\bopenai\.|\bdesktop_chat\.|<class|"
    r"\b[A-Z][a-z]+(?:[A-Z][a-z]*)*(?:Error|Exception|Timeout)\b"
)


# -- helpers ---------------------------------------------------------------------------------------------


def send(aloop, services: AppServices, text: str = "Hi!", *, timeout: float = 20) -> Response:
    """Send in a new conversation, wait for the answer to end, and read it back from the database."""
    conv = new_conversation(services)
    services.chat.send(conv.id, text)
    run(aloop, services.chat.wait(conv.id), timeout=timeout)
    branch = services.conversations.transcript(conv.id)
    assert [m.role for m in branch] == [Role.USER, Role.ASSISTANT]
    response = branch[-1].response
    assert response is not None
    return response


def chats(server: LLMServer) -> list[RecordedRequest]:
    return [r for r in server.requests if r.path == "/v1/chat/completions"]


def assert_failed(response: Response, *, mentions: list[str], partial: str = "") -> str:
    """The answer ended as an error, kept `partial`, and says what happened in words for a person."""
    assert response.status is ResponseStatus.ERROR
    assert response.text == partial
    message = response.error or ""
    assert message.strip(), "an error needs a message"
    for words in mentions:
        assert words in message, f"{words!r} not in {message!r}"
    assert not _NOT_FOR_PEOPLE.search(message), f"not for a person: {message!r}"
    assert len(message) < 600, message
    return message


def text_then(*steps: dict[str, Any], text: tuple[str, ...] = ("Partial", " answer")) -> Script:
    """Some text deltas, then `steps`."""
    return [
        {"chunk": chunk(content=piece, role="assistant" if i == 0 else None)} for i, piece in enumerate(text)
    ] + [*steps]


# -- HTTP statuses --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, ["refused the API key", "HTTP 401", "Settings", "Incorrect API key provided"]),
        (403, ["does not allow this key", "“test-model”", "HTTP 403", "not allowed to use this model"]),
    ],
)
def test_auth_errors_say_the_key_is_the_problem(
    aloop, services: AppServices, llm_server: LLMServer, status: int, words: list[str]
) -> None:
    provider_says = {401: "Incorrect API key provided", 403: "Key not allowed to use this model"}[status]
    llm_server.default_script = [http_error(status, provider_says)]
    response = send(aloop, services)
    message = assert_failed(response, mentions=[llm_server.origin.removeprefix("http://"), *words[:3]])
    assert provider_says in message  # what the provider said, for whoever fixes the key
    assert len(chats(llm_server)) == 1  # never retried


def test_unknown_model_names_the_model_and_the_base_url(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.default_script = [http_error(404, "The model `test-model` does not exist")]
    response = send(aloop, services)
    assert_failed(response, mentions=["“test-model”", llm_server.url, "not found", "HTTP 404"])
    assert len(chats(llm_server)) == 1


def test_rate_limit_honours_retry_after_then_answers(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.enqueue(
        [http_error(429, "Rate limit reached for requests", retry_after=1)],
        text_script("After the wait."),
    )
    updates: list[ResponseUpdate] = []
    services.chat.response_patched.connect(updates.append)
    started = time.monotonic()
    response = send(aloop, services)
    elapsed = time.monotonic() - started

    assert response.status is ResponseStatus.DONE
    assert response.error is None
    assert response.text == "After the wait."
    requests = chats(llm_server)
    assert len(requests) == 2
    first_finished = requests[0].finished
    assert first_finished is not None
    waited = requests[1].started - first_finished
    assert 0.9 <= waited < 6, waited  # Retry-After: 1 (Qt's coarse timers may fire up to 5 % early)
    assert 0.9 <= elapsed < 10, elapsed
    # While waiting, the answer said so (still pending, not failed); the note went once the text came.
    waiting = [u for u in updates if u.note]
    assert waiting, [u.note for u in updates]
    assert all(u.status is ResponseStatus.PENDING for u in waiting)
    note = waiting[0].note or ""
    assert "HTTP 429" in note
    assert "Retrying in 1 s" in note
    assert not _NOT_FOR_PEOPLE.search(note), note
    assert updates[-1].status is ResponseStatus.DONE
    assert updates[-1].note is None


def test_rate_limit_that_never_ends_fails_after_the_set_number_of_tries(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    attempts = services.settings.get(RETRY_ATTEMPTS)
    assert attempts == 3
    llm_server.default_script = [http_error(429, "Too many requests", retry_after=0)]
    response = send(aloop, services)
    assert_failed(response, mentions=["rate-limiting", "HTTP 429", "Too many requests"])
    assert len(chats(llm_server)) == attempts


def test_rate_limit_with_a_long_retry_after_fails_at_once_saying_when_to_try_again(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.default_script = [http_error(429, "Daily quota exceeded", retry_after=3600)]
    started = time.monotonic()
    response = send(aloop, services)
    assert time.monotonic() - started < 10  # not 3600 s, nor any backoff
    assert_failed(
        response, mentions=["rate-limiting", "HTTP 429", "Try again in 60 min", "Daily quota exceeded"]
    )
    assert len(chats(llm_server)) == 1


def test_server_error_500_is_not_retried(aloop, services: AppServices, llm_server: LLMServer) -> None:
    llm_server.default_script = [http_error(500, "Internal failure")]
    response = send(aloop, services)
    assert_failed(response, mentions=["failed to answer", "HTTP 500", "Internal failure"])
    assert len(chats(llm_server)) == 1


def test_overloaded_503_is_retried_and_answers(aloop, services: AppServices, llm_server: LLMServer) -> None:
    llm_server.enqueue([http_error(503, "Overloaded", retry_after=0)], text_script("Second time lucky."))
    response = send(aloop, services)
    assert response.status is ResponseStatus.DONE
    assert response.text == "Second time lucky."
    assert response.error is None
    assert len(chats(llm_server)) == 2


def test_context_length_error_says_the_conversation_is_too_long(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.default_script = [
        http_error(
            400,
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9120 "
            "tokens. Please reduce the length of the messages.",
        )
    ]
    response = send(aloop, services)
    assert_failed(response, mentions=["too long for “test-model”", "HTTP 400", "new chat"])
    assert len(chats(llm_server)) == 1


def test_a_server_refusing_stream_options_is_asked_again_without_them(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.enqueue(
        [http_error(400, "Unrecognized request argument supplied: stream_options")],
        text_script("Fine without usage.", usage=False),
        text_script("Still fine.", usage=False),
    )
    response = send(aloop, services)
    assert response.status is ResponseStatus.DONE
    assert response.text == "Fine without usage."
    requests = chats(llm_server)
    assert len(requests) == 2
    assert requests[0].body["stream_options"] == {"include_usage": True}
    assert "stream_options" not in requests[1].body
    assert requests[1].body["stream"] is True
    assert requests[1].body["messages"] == requests[0].body["messages"]
    # The same client remembers: the next answer does not try stream_options again.
    assert send(aloop, services, "Again").text == "Still fine."
    requests = chats(llm_server)
    assert len(requests) == 3
    assert "stream_options" not in requests[2].body


# -- connections ----------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_suggests_the_server_is_not_running(aloop, services: AppServices) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    profile = services.providers.ensure_for_url(url, MODEL, needs_key=False)
    services.providers.use(profile, MODEL)
    response = send(aloop, services)
    assert_failed(response, mentions=[f"Could not connect to {url}", "Is the server running?"])


@pytest.mark.parametrize(
    ("script", "partial"),
    [
        pytest.param([{"hang": True}], "", id="before-any-text"),
        pytest.param(text_then({"hang": True}), "Partial answer", id="after-some-text"),
    ],
)
def test_read_timeout_gives_up_and_keeps_the_text(
    aloop, services: AppServices, llm_server: LLMServer, script: Script, partial: str
) -> None:
    services.settings.set(READ_TIMEOUT, 0.5)
    llm_server.default_script = script
    started = time.monotonic()
    response = send(aloop, services)
    elapsed = time.monotonic() - started
    assert_failed(response, mentions=["sent nothing for 0.5 s", "given up"], partial=partial)
    assert 0.4 <= elapsed < 10, elapsed
    assert len(chats(llm_server)) == 1
    # The client went away: the server saw its connection close.
    assert llm_server.wait_client_closed(0, timeout=5) is not None


@pytest.mark.parametrize("how", ["reset", "fin"])
def test_a_server_that_drops_the_connection_before_answering(
    aloop, services: AppServices, llm_server: LLMServer, how: str
) -> None:
    llm_server.default_script = [{"cut": how}]
    response = send(aloop, services)
    host = llm_server.origin.removeprefix("http://")
    assert_failed(response, mentions=[f"{host} closed the connection before answering", "Try again"])
    assert len(chats(llm_server)) == 1


# -- a 200 that is not a stream -------------------------------------------------------------------------


def test_a_whole_json_completion_instead_of_a_stream_is_the_answer(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    completion = {
        "id": "chatcmpl-json",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "A whole answer at once."},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(7, 6),
    }
    llm_server.default_script = [http_error(200, body=completion)]
    response = send(aloop, services)
    assert response.status is ResponseStatus.DONE
    assert response.error is None
    assert response.text == "A whole answer at once."
    assert response.finish_reason == "stop"
    assert response.usage == Usage(7, 6, 13)


def test_an_error_object_on_a_200_is_an_error(aloop, services: AppServices, llm_server: LLMServer) -> None:
    body = {"error": {"message": "The model is still loading", "type": "server_error", "code": None}}
    llm_server.default_script = [http_error(200, body=body)]
    response = send(aloop, services)
    assert_failed(response, mentions=["The model is still loading"])


# -- broken streams ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["reset", "fin"])
def test_a_cut_after_some_text_keeps_the_text(
    aloop, services: AppServices, llm_server: LLMServer, how: str
) -> None:
    llm_server.default_script = text_then({"cut": how})
    response = send(aloop, services)
    assert_failed(
        response, mentions=["connection closed before the answer finished"], partial="Partial answer"
    )
    assert len(chats(llm_server)) == 1  # content had arrived: never retried


def test_a_malformed_line_after_some_text_keeps_the_text_and_quotes_the_line(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.default_script = text_then(
        {"raw": "data: {not json at all\n\n"}, {"chunk": chunk(content=" never seen")}, {"done": True}
    )
    response = send(aloop, services)
    assert_failed(
        response, mentions=["not part of a chat answer", "{not json at all"], partial="Partial answer"
    )


def test_an_error_event_mid_stream_keeps_the_text_and_shows_the_provider_message(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.default_script = text_then(
        {
            "raw": "event: error\n"
            'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded, try later"}}\n\n'
        },
        {"chunk": chunk(content=" never seen")},
        {"done": True},
    )
    response = send(aloop, services)
    assert_failed(response, mentions=["reported an error", "Overloaded, try later"], partial="Partial answer")
    assert len(chats(llm_server)) == 1


# -- the key ----------------------------------------------------------------------------------------------


def test_the_session_key_is_sent_as_a_bearer_token(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    profile_id = use_server(services, llm_server)
    services.chat.set_session_key(profile_id, "sk-test-123")
    llm_server.default_script = text_script("Authorised.")
    assert send(aloop, services).text == "Authorised."
    assert chats(llm_server)[-1].headers["authorization"] == "Bearer sk-test-123"


def test_without_a_key_the_token_is_none(aloop, services: AppServices, llm_server: LLMServer) -> None:
    llm_server.default_script = text_script("Open server.")
    assert send(aloop, services).text == "Open server."
    assert chats(llm_server)[-1].headers["authorization"] == "Bearer none"


def test_a_refused_key_is_not_in_the_message(aloop, services: AppServices, llm_server: LLMServer) -> None:
    profile_id = use_server(services, llm_server)
    services.chat.set_session_key(profile_id, "sk-test-123")
    llm_server.default_script = [http_error(401, "Invalid authentication")]
    response = send(aloop, services)
    message = assert_failed(response, mentions=["refused the API key", "Invalid authentication"])
    assert "sk-test-123" not in message
    assert chats(llm_server)[-1].headers["authorization"] == "Bearer sk-test-123"


def test_a_garbage_retry_after_header_is_ignored(aloop, services: AppServices, llm_server: LLMServer) -> None:
    llm_server.default_script = [http_error(500, "Internal failure", headers={"Retry-After": "soon, maybe"})]
    response = send(aloop, services)
    assert_failed(response, mentions=["failed to answer", "HTTP 500", "Internal failure"])
    assert len(chats(llm_server)) == 1
