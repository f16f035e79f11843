"""The chat service against the local server: real client, real database, signals, tools, branches, stop."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from desktop_chat.domain import Response, ResponseStatus, Role, ToolStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat import ChatError
from desktop_chat.services.chat_events import ResponseUpdate
from desktop_chat.settings import AUTO_TITLE, MAX_TOOL_ROUNDS
from tests.helpers.history import new_conversation
from tests.helpers.llm_server import LLMServer, chunk, fast, text_script, tool_call, tool_round, usage
from tests.helpers.loop import run, until
from tests.helpers.services import use_server


def _answer(services: AppServices, conversation_id: int) -> Response:
    branch = services.conversations.transcript(conversation_id)
    assert branch[-1].role is Role.ASSISTANT
    assert branch[-1].response is not None
    return branch[-1].response


def test_send_streams_into_the_document_and_announces_after_commits(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue(text_script("Hello there, how are you today?", pieces=8))
    conv = new_conversation(services)
    updates: list[ResponseUpdate] = []
    services.chat.response_patched.connect(updates.append)
    services.chat.send(conv.id, "Hi!")
    assert services.chat.is_streaming(conv.id)
    run(aloop, services.chat.wait(conv.id))
    response = _answer(services, conv.id)
    assert response.status is ResponseStatus.DONE
    assert response.text == "Hello there, how are you today?"
    assert response.finish_reason == "stop"
    assert response.usage is not None
    assert response.model == "test-model"
    assert updates[-1].status is ResponseStatus.DONE
    assert [u.text_length for u in updates] == sorted(u.text_length for u in updates)
    body = llm_server.requests[-1].body
    assert body["messages"] == [{"role": "user", "content": "Hi!"}]
    assert body["stream"] is True
    assert services.conversations.get(conv.id).title == "Hi!"


def test_tool_loop_runs_the_tool_records_it_and_continues_the_answer(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue(tool_round(("call_1", "current_datetime", '{"timezone": "UTC"}')))
    llm_server.enqueue(text_script("It is noon in UTC.", pieces=3))
    conv = new_conversation(services)
    seen = []
    services.chat.tool_status_changed.connect(lambda u: seen.append((u.call_id, u.status)))
    services.chat.send(conv.id, "What time is it?")
    run(aloop, services.chat.wait(conv.id))
    response = _answer(services, conv.id)
    assert response.status is ResponseStatus.DONE
    assert response.text == "It is noon in UTC."
    assert [(c.id, c.name, c.round) for c in response.tool_calls] == [("call_1", "current_datetime", 0)]
    assert response.tool_status == {"call_1": ToolStatus.SUCCEEDED}
    (execution,) = services.store.repo.list_tool_executions(response.id).items
    assert execution.status is ToolStatus.SUCCEEDED
    assert execution.arguments == '{"timezone": "UTC"}'
    assert "UTC" in (execution.result or "")
    assert execution.started_at is not None
    assert execution.finished_at is not None
    assert seen == [
        ("call_1", ToolStatus.QUEUED),
        ("call_1", ToolStatus.RUNNING),
        ("call_1", ToolStatus.SUCCEEDED),
    ]
    first, second = (r.body for r in llm_server.requests)
    offered = [t["function"]["name"] for t in first["tools"]]
    assert offered == sorted(services.tools.names())
    assert {"current_datetime", "calculator", "search_conversations", "fetch_web_page"} <= set(offered)
    assistant, tool = second["messages"][1:]
    assert assistant == {
        "role": "assistant",
        "content": "",  # never null: llama.cpp answers 500 to null
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "current_datetime", "arguments": '{"timezone": "UTC"}'},
            }
        ],
    }
    assert tool == {"role": "tool", "tool_call_id": "call_1", "content": execution.result}


def test_tool_rounds_are_limited(aloop, services: AppServices, llm_server: LLMServer) -> None:
    services.settings.set(MAX_TOOL_ROUNDS, 1)
    use_server(services, llm_server)
    llm_server.enqueue(
        tool_round(("a", "current_datetime", "{}")), tool_round(("b", "current_datetime", "{}"))
    )
    conv = new_conversation(services)
    services.chat.send(conv.id, "loop forever")
    run(aloop, services.chat.wait(conv.id))
    response = _answer(services, conv.id)
    first, second = (r.body for r in llm_server.requests)
    assert "tools" in first
    assert "tools" not in second  # the last round must answer in words
    assert response.status is ResponseStatus.DONE
    assert "1 rounds of tool calls" in (response.error or "")
    assert response.tool_status == {"a": ToolStatus.SUCCEEDED, "b": ToolStatus.CANCELLED}


def test_stop_closes_the_stream_within_200_ms_and_keeps_the_text(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue([fast(2000, rate=200)])  # ten seconds of deltas
    conv = new_conversation(services)
    services.chat.send(conv.id, "count slowly")

    async def stop_when_streaming() -> float:
        answer = await services.chat.started(conv.id)
        assert answer is not None
        await until(
            lambda: (services.chat.live_response(answer.response_id) or _nothing).text.count(" ") >= 20
        )
        stopped = time.monotonic()
        services.chat.stop(conv.id)
        await services.chat.wait(conv.id)
        return stopped

    class _Nothing:
        text = ""

    _nothing = _Nothing()
    stopped = run(aloop, stop_when_streaming())
    closed = llm_server.wait_client_closed(0, timeout=2)
    assert closed is not None, "the server never saw the connection close"
    assert closed - stopped < 0.2
    response = _answer(services, conv.id)
    assert response.status is ResponseStatus.CANCELLED
    assert response.error
    words = response.text.split()
    assert len(words) >= 20
    assert words == [f"{i:06d}" for i in range(len(words))]  # intact prefix, nothing lost or doubled
    assert services.store.db.execute_sql("SELECT count(*) FROM response_chunk").fetchone()[0] == 0


def test_two_conversations_stream_at_once_and_both_finish_intact(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue([fast(600, rate=600, text="a")], [fast(600, rate=600, text="b")])
    one, two = new_conversation(services), new_conversation(services)
    services.chat.send(one.id, "first")
    services.chat.send(two.id, "second")
    assert set(services.chat.streaming_conversations()) == {one.id, two.id}
    run(aloop, asyncio.gather(services.chat.wait(one.id), services.chat.wait(two.id)))
    texts = {_answer(services, c.id).text for c in (one, two)}
    assert texts == {"a" * 600, "b" * 600}
    first, second = llm_server.requests
    assert first.finished is not None
    assert second.started < first.finished  # they really overlapped
    assert all(_answer(services, c.id).status is ResponseStatus.DONE for c in (one, two))


def test_commits_are_coalesced_not_per_delta(aloop, services: AppServices, llm_server: LLMServer) -> None:
    use_server(services, llm_server)
    llm_server.enqueue([fast(3000, rate=3000)])
    conv = new_conversation(services)
    services.chat.commit_times_ms.clear()
    started = time.monotonic()
    services.chat.send(conv.id, "fast")
    run(aloop, services.chat.wait(conv.id))
    elapsed = time.monotonic() - started
    commits = len(services.chat.commit_times_ms)
    assert _answer(services, conv.id).text == "".join(f"{i:06d} " for i in range(3000))
    assert commits < 3000 / 10  # thousands of deltas, a few dozen transactions
    assert commits <= elapsed / 0.025 + 5  # at most one flush per interval


def test_regenerate_and_edit_make_sibling_branches(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue(
        text_script("first answer"), text_script("second answer"), text_script("edited answer")
    )
    conv = new_conversation(services)
    services.chat.send(conv.id, "question")
    run(aloop, services.chat.wait(conv.id))
    first = services.conversations.transcript(conv.id)
    services.chat.regenerate(first[-1].id)
    run(aloop, services.chat.wait(conv.id))
    second = services.conversations.transcript(conv.id)
    assert [m.text for m in second] == ["question", "second answer"]
    assert second[-1].parent_id == first[-1].parent_id  # a sibling of the first answer
    services.chat.edit_and_resend(first[0].id, "question, edited")
    run(aloop, services.chat.wait(conv.id))
    third = services.conversations.transcript(conv.id)
    assert [m.text for m in third] == ["question, edited", "edited answer"]
    assert third[0].parent_id is None
    assert len(services.store.repo.list_messages(conv.id).items) == 5  # q, two answers, edited q, answer
    bodies = [r.body["messages"] for r in llm_server.requests]
    assert bodies[0] == bodies[1] == [{"role": "user", "content": "question"}]
    assert bodies[2] == [{"role": "user", "content": "question, edited"}]


def test_continue_appends_to_a_cut_answer(aloop, services: AppServices, llm_server: LLMServer) -> None:
    use_server(services, llm_server)
    llm_server.enqueue(
        [{"chunk": chunk(content="The first half")}, {"cut": True}],
        text_script(" and the second half.", pieces=2),
    )
    conv = new_conversation(services)
    services.chat.send(conv.id, "tell me")
    run(aloop, services.chat.wait(conv.id))
    cut = _answer(services, conv.id)
    assert cut.status is ResponseStatus.ERROR
    assert cut.text == "The first half"
    services.chat.continue_answer(cut.message_id)
    run(aloop, services.chat.wait(conv.id))
    done = _answer(services, conv.id)
    assert done.id == cut.id
    assert done.status is ResponseStatus.DONE
    assert done.text == "The first half and the second half."
    assert done.error is None
    messages = llm_server.requests[-1].body["messages"]
    assert messages[-1] == {"role": "assistant", "content": "The first half"}
    with pytest.raises(ChatError, match="complete"):
        services.chat.continue_answer(done.message_id)


def test_busy_conversation_and_missing_provider_are_clear_errors(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    conv = new_conversation(services)
    with pytest.raises(ChatError, match="provider"):
        services.chat.send(conv.id, "hello")
    use_server(services, llm_server)
    llm_server.enqueue([fast(400, rate=400)])
    services.chat.send(conv.id, "hello")
    with pytest.raises(ChatError, match="still answering"):
        services.chat.send(conv.id, "again")
    run(aloop, services.chat.wait(conv.id))


def test_shutdown_marks_streaming_answers_interrupted(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue([fast(2000, rate=200)])
    conv = new_conversation(services)
    services.chat.send(conv.id, "long")
    run(aloop, until(lambda: bool(llm_server.requests) and len(llm_server.requests[0].send_log) > 20))
    run(aloop, services.aclose())
    response = _answer(services, conv.id)
    assert response.status is ResponseStatus.INTERRUPTED
    assert response.text.startswith("000000 000001")
    assert llm_server.wait_client_closed(0, timeout=2) is not None


def test_model_title_replaces_the_first_words(aloop, services: AppServices, llm_server: LLMServer) -> None:
    services.settings.set(AUTO_TITLE, True)
    use_server(services, llm_server)
    llm_server.enqueue(text_script("Paris is the capital of France."), text_script('"Capital of France."'))
    conv = new_conversation(services)
    services.chat.send(conv.id, "what is the capital of france? asking for a quiz I am writing today")
    run(aloop, services.chat.started(conv.id))  # the first words are the title from the start
    assert services.conversations.get(conv.id).title.startswith("what is the capital of france?")
    run(aloop, services.chat.wait(conv.id))
    run(aloop, until(lambda: services.conversations.get(conv.id).title == "Capital of France"))
    title_request = llm_server.requests[-1]
    assert title_request.body.get("stream") in (None, False)
    assert "Paris is the capital" in json.dumps(title_request.body)


def test_usage_of_every_tool_round_adds_up(aloop, services: AppServices, llm_server: LLMServer) -> None:
    use_server(services, llm_server)
    llm_server.enqueue(
        [
            {"chunk": chunk(tool_calls=[tool_call(0, "c1", "current_datetime", "{}")])},
            {"chunk": chunk(finish_reason="tool_calls")},
            {"chunk": chunk(choices=[], usage=usage(10, 3))},
            {"done": True},
        ],
        text_script("Done.", usage=usage(20, 4)),
    )
    conv = new_conversation(services)
    services.chat.send(conv.id, "time?")
    run(aloop, services.chat.wait(conv.id))
    response = _answer(services, conv.id)
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (30, 7)
    assert response.usage.total_tokens == 37


def test_stop_before_the_task_ever_ran_still_ends_the_answer(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    conv = new_conversation(services)
    services.chat.send(conv.id, "never mind")
    services.chat.stop(conv.id)  # the task is cancelled before its first step
    run(aloop, services.chat.wait(conv.id), timeout=5)
    assert not services.chat.is_streaming(conv.id)
    response = _answer(services, conv.id)
    assert response.status is ResponseStatus.CANCELLED
    run(aloop, services.aclose(), timeout=5)  # quitting does not wait forever
