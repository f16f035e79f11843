"""The chat service against the local server: real client, real database, signals, tools, branches, stop."""

from __future__ import annotations

from desktop_chat.domain import ResponseStatus, Role
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat import ResponseUpdate
from tests.helpers.llm_server import LLMServer, text_script
from tests.qt.conftest import run, use_server


def _answer(services: AppServices, conversation_id: int):
    branch = services.conversations.transcript(conversation_id)
    assert branch[-1].role is Role.ASSISTANT
    assert branch[-1].response is not None
    return branch[-1].response


def test_send_streams_into_the_document_and_announces_after_commits(
    aloop, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue(text_script("Hello there, how are you today?", pieces=8))
    conv = services.conversations.create()
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
