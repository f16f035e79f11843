"""The list and transcript models under pytest-qt's model tester, and their reactions to service signals."""

from __future__ import annotations

from desktop_chat.domain import ResponsePatch, ResponseStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.sidebar.model import ConversationListModel
from desktop_chat.ui.sidebar.roles import ID_ROLE
from desktop_chat.ui.transcript.model import STATUS_ROLE, TEXT_ROLE, TranscriptModel
from tests.helpers.history import new_conversation, stored


def test_conversation_list_model_loads_all_and_reacts(services: AppServices, qtmodeltester) -> None:
    repo = services.store.repo
    for i in range(450):
        repo.create_conversation(f"chat {i}")
    model = ConversationListModel(services.conversations)
    assert model.rowCount() == 450  # every summary at once: 10,000 load in ~15 ms, no paging
    assert model.data(model.index(0)) == "chat 449"  # newest first
    qtmodeltester.check(model)
    ids = [model.data(model.index(r), ID_ROLE) for r in range(450)]
    assert len(set(ids)) == 450

    created = new_conversation(services, "brand new")
    assert model.data(model.index(0)) == "brand new"
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, _roles: changed.append((tl.row(), br.row())))
    target = model.row_of(ids[10])
    assert target is not None
    services.conversations.rename(ids[10], "renamed")
    stored(services)
    assert changed == [(target, target)]  # only the changed row (a rename keeps the row's place)
    assert model.data(model.index(target)) == "renamed"
    services.conversations.delete(created.id)
    assert model.row_of(created.id) is None
    assert model.rowCount() == 450
    qtmodeltester.check(model)


def test_transcript_model_shows_branch_and_status(services: AppServices, qtmodeltester) -> None:
    repo = services.store.repo
    conv = repo.create_conversation("t")
    q = repo.add_message(conv.id, "Why is the sky blue?")
    a = repo.start_response(conv.id, q.id, model="tiny")
    repo.apply_patches([ResponsePatch(a.response_id, "Rayleigh scattering", status=ResponseStatus.STREAMING)])
    model = TranscriptModel()
    model.set_messages(services.conversations.transcript(conv.id))
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.data(model.index(1), TEXT_ROLE) == "Rayleigh scattering"
    assert model.data(model.index(1), STATUS_ROLE) == "streaming"
    assert "tiny" in model.data(model.index(1))
