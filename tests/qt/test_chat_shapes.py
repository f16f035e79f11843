"""Every recorded stream shape through the real chat service, client and local server, read back from the DB.

The server plays each shape's exact bytes (`to_lines`); the service streams them into the answer's
document; the test reads the document from the database. Text and reasoning must be byte-identical to the
shape's deltas; an error keeps the partial text and a message for a person. Shapes with tool calls also run
the tool loop: the registry only knows `current_datetime`, so the shapes' tools fail as results sent back to
the model, and a second scripted answer closes the document.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from desktop_chat.domain import Response, ResponseStatus, Role, ToolExecution, ToolStatus
from desktop_chat.llm.errors import StreamCutError
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat_events import ToolUpdate
from tests.helpers.history import new_conversation
from tests.helpers.llm_server import LLMServer, Script, text_script
from tests.helpers.loop import run
from tests.helpers.services import use_server
from tests.helpers.shapes import SHAPES, Shape, replay, to_lines

FOLLOW_UP = " (done)"
USER_TEXT = "Hi!"

# What the error message of each failing shape must say (the provider's words, or what went wrong).
ERROR_WORDS: dict[str, str] = {
    "llamacpp_error_field": "llama_decode failed: out of memory",
    "openrouter_midstream_error": "Provider disconnected unexpectedly",
    "sse_event_error": "Overloaded",
    "top_level_error_line": "The server had an error while processing your request",
    "vllm_error_object": "The model encountered an internal error",
    "error_before_any_content": "the request exceeds the available context size",
    "stream_cut_midway": "closed before the answer finished",
    "empty_stream_done_at_once": "without sending any answer",
    "malformed_json_line": '“{"id":"chatcmpl-1","object":"chat.completion.chunk"',
}

_CLASS_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]*)*(?:Error|Exception)\b|\bhttpx|\bopenai\.|Traceback")


def is_cut(shape: Shape) -> bool:
    """A shape whose connection drops mid-answer: cut, no [DONE], no finish (the wire must really break)."""
    return shape.expected_error is StreamCutError and not any(
        line.strip().endswith("[DONE]") for line in shape.lines
    )


def script_for(shape: Shape) -> Script:
    """The shape's bytes verbatim; a cut shape drops the connection (TCP reset, no chunked terminator)."""
    steps: Script = [{"raw": to_lines(shape)}]
    if is_cut(shape):
        steps.append({"cut": True})
    return steps


def assert_for_a_person(message: str | None, *, mentions: str) -> None:
    assert message, "an error needs a message"
    assert mentions in message, message
    assert not _CLASS_NAME.search(message), f"a Python class name or traceback in: {message!r}"
    assert len(message) < 600, message


def answer_of(services: AppServices, conversation_id: int) -> Response:
    branch = services.conversations.transcript(conversation_id)
    assert [m.role for m in branch] == [Role.USER, Role.ASSISTANT]
    response = branch[-1].response
    assert response is not None
    return response


def test_every_error_shape_has_its_words() -> None:
    failing = {name for name, shape in SHAPES.items() if shape.expected_error is not None}
    assert failing == set(ERROR_WORDS)


def test_only_the_cut_midway_shape_breaks_the_connection() -> None:
    assert [name for name, shape in SHAPES.items() if is_cut(shape)] == ["stream_cut_midway"]


@pytest.mark.parametrize("shape", SHAPES.values(), ids=list(SHAPES))
def test_shape_streams_into_the_document(
    aloop, services: AppServices, llm_server: LLMServer, shape: Shape
) -> None:
    check_shape(aloop, services, llm_server, shape)


def test_a_known_tool_in_a_split_call_runs_and_its_result_goes_back(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    """The split tool-call shape naming the one built-in tool: the tool succeeds, its result is sent back."""
    base = SHAPES["openai_tool_call_split"]
    shape = dataclasses.replace(
        base,
        name="openai_tool_call_split_current_datetime",
        lines=[line.replace('"get_weather"', '"current_datetime"') for line in base.lines],
        expected_tool_calls=[(i, "current_datetime", a) for i, _, a in base.expected_tool_calls],
    )
    assert to_lines(shape) != to_lines(base)
    executions = check_shape(aloop, services, llm_server, shape)
    assert [e.status for e in executions] == [ToolStatus.SUCCEEDED]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", executions[0].result or ""), executions[0].result


def check_shape(aloop, services: AppServices, llm_server: LLMServer, shape: Shape) -> list[ToolExecution]:
    """Play the shape through the service and check the stored document; returns its tool executions."""
    use_server(services, llm_server)
    has_tools = bool(shape.expected_tool_calls)
    llm_server.enqueue(script_for(shape))
    if has_tools:
        llm_server.enqueue(text_script(FOLLOW_UP, usage=False))
    # The document as it stood when the first round's tools ran: the finish reason and usage then are
    # that round's (the follow-up round starts its own).
    first_round: list[Response] = []

    def on_tool(update: ToolUpdate) -> None:
        if not first_round:
            live = services.chat.live_response(update.response_id)
            assert live is not None
            first_round.append(live)

    services.chat.tool_status_changed.connect(on_tool)
    conv = new_conversation(services)
    services.chat.send(conv.id, USER_TEXT)
    run(aloop, services.chat.wait(conv.id), timeout=20)

    response = answer_of(services, conv.id)
    requests = [r for r in llm_server.requests if r.path == "/v1/chat/completions"]
    assert requests[0].body["messages"] == [{"role": "user", "content": USER_TEXT}]
    assert response.reasoning == shape.expected_reasoning

    if shape.expected_error is not None:
        assert response.status is ResponseStatus.ERROR
        assert response.text == shape.expected_text  # the partial text, byte for byte
        expected_error = replay(shape)[1]
        assert type(expected_error) is shape.expected_error
        assert expected_error.message in (response.error or "")
        assert_for_a_person(response.error, mentions=ERROR_WORDS[shape.name])
        assert response.usage == shape.expected_usage
        assert response.finish_reason == shape.expected_finish
        assert not response.tool_calls
        assert len(requests) == 1  # errors inside a stream are never retried
        return []

    assert response.error is None
    assert response.status is ResponseStatus.DONE
    if not has_tools:
        assert response.text == shape.expected_text
        assert response.usage == shape.expected_usage
        assert response.finish_reason == shape.expected_finish
        assert not response.tool_calls
        assert len(requests) == 1
        return []

    # -- the tool loop ---------------------------------------------------------------------------------
    assert response.text == shape.expected_text + FOLLOW_UP
    assert response.finish_reason == "stop"  # the follow-up round's
    assert len(first_round) == 1
    assert first_round[0].finish_reason == shape.expected_finish
    assert first_round[0].usage == shape.expected_usage
    assert first_round[0].text == shape.expected_text

    calls = list(response.tool_calls)
    assert [(c.name, c.arguments) for c in calls] == [(n, a) for _, n, a in shape.expected_tool_calls]
    for call, (call_id, _, _) in zip(calls, shape.expected_tool_calls, strict=True):
        if call_id is not None:
            assert call.id == call_id
        assert call.id
        assert call.round == 0
        assert call.text_offset == len(shape.expected_text)
    assert len({c.id for c in calls}) == len(calls)

    executions = services.store.repo.list_tool_executions(response.id).items
    assert [(e.call_id, e.name, e.arguments) for e in executions] == [
        (c.id, c.name, c.arguments) for c in calls
    ]
    for execution in executions:
        if execution.name == "current_datetime":
            assert execution.status is ToolStatus.SUCCEEDED
        else:
            assert execution.status is ToolStatus.FAILED
            assert execution.error is not None
            assert repr(execution.name) in execution.error
    assert response.tool_status == {e.call_id: e.status for e in executions}

    assert len(requests) == 2
    follow_up: list[dict[str, Any]] = requests[1].body["messages"]
    assistant = {
        "role": "assistant",
        "content": shape.expected_text,  # "" (never null) when the round had no text
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ],
    }
    assert follow_up[:2] == [{"role": "user", "content": USER_TEXT}, assistant]
    tool_messages = follow_up[2:]
    assert [m["role"] for m in tool_messages] == ["tool"] * len(calls)
    assert [m["tool_call_id"] for m in tool_messages] == [c.id for c in calls]
    for message, execution in zip(tool_messages, executions, strict=True):
        if execution.status is ToolStatus.FAILED:
            assert message["content"] == f"Error: {execution.error}"
        else:
            assert message["content"] == execution.result
    return executions
