"""The transcript model: branch pages, reloads that keep rows, siblings, UI state, under qtmodeltester."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_chat.domain import Role
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.transcript.model import ID_ROLE, ROW_ROLE, TEXT_ROLE, TranscriptModel
from desktop_chat.ui.transcript.row import TranscriptRow
from tests.helpers.history import new_conversation, stored
from tests.helpers.markdown_samples import fill_conversation
from tests.helpers.transcript_ui import add_answer, add_exchange


def _model(services: AppServices) -> TranscriptModel:
    return TranscriptModel(conversations=services.conversations, chat=services.chat)


def test_pages_of_the_branch_newest_first_then_older(services: AppServices, qtmodeltester) -> None:
    conv = new_conversation(services, "long")
    ids = fill_conversation(services.store.repo, conv.id, 120)
    model = _model(services)
    model.show_conversation(conv.id)
    assert model.rowCount() == 50
    older = model.has_older
    assert older
    assert [model.data(model.index(r), ID_ROLE) for r in (0, 49)] == [ids[70], ids[119]]
    qtmodeltester.check(model)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    assert model.load_older() == 50
    assert model.load_older() == 20
    assert inserted == [(0, 49), (0, 19)]
    assert not model.has_older
    assert model.load_older() == 0
    assert [model.data(model.index(r), ID_ROLE) for r in range(120)] == ids
    qtmodeltester.check(model)


def test_a_new_message_appends_rows_and_keeps_older_pages(services: AppServices, qtmodeltester) -> None:
    conv = new_conversation(services, "c")
    fill_conversation(services.store.repo, conv.id, 80)
    model = _model(services)
    model.show_conversation(conv.id)
    model.load_older()
    assert model.rowCount() == 80
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    add_exchange(services, conv.id, "Another question", "Another answer")
    services.chat.messages_changed.emit(conv.id)  # what the chat service announces after writing
    assert resets == []  # rows kept, two appended
    assert model.rowCount() == 82
    assert model.data(model.index(81), TEXT_ROLE) == "Another answer"
    qtmodeltester.check(model)


def test_regenerated_answer_replaces_the_tail_and_counts_siblings(
    services: AppServices, qtmodeltester
) -> None:
    conv = new_conversation(services, "c")
    q, first = add_exchange(services, conv.id, "Question", "First answer")
    model = _model(services)
    model.show_conversation(conv.id)
    row: TranscriptRow = model.data(model.index(1), ROW_ROLE)
    assert row.siblings is None
    second = add_answer(services, conv.id, q, "Second answer")
    services.chat.messages_changed.emit(conv.id)
    assert model.rowCount() == 2
    row = model.data(model.index(1), ROW_ROLE)
    assert row.message.id == second
    assert row.siblings is not None
    assert (row.siblings.index, row.siblings.count) == (2, 2)
    assert row.siblings.neighbour(-1) == first
    services.conversations.switch_branch(first)  # branch_changed reloads, once it is stored
    stored(services)
    assert model.data(model.index(1), TEXT_ROLE) == "First answer"
    qtmodeltester.check(model)


def test_display_and_accessible_text(services: AppServices) -> None:
    conv = new_conversation(services, "c")
    add_exchange(services, conv.id, "What time is it?", "Noon.", tool=("current_datetime", "{}", "12:00"))
    model = _model(services)
    model.show_conversation(conv.id)
    assert model.data(model.index(0), Qt.ItemDataRole.DisplayRole).startswith("You\nWhat time")
    spoken = model.data(model.index(1), Qt.ItemDataRole.AccessibleTextRole)
    assert spoken.startswith("Assistant · test-model:")
    assert "Noon." in spoken
    assert "Tool current_datetime: succeeded." in spoken
    assert "12 prompt, 34 completion tokens." in spoken
    row: TranscriptRow = model.data(model.index(1), ROW_ROLE)
    assert row.executions["call_1"].result == "12:00"  # tool runs are loaded with the page
    first, last = model.message_at(0), model.last_message()
    assert first is not None
    assert first.role is Role.USER
    assert last is not None
    assert last.text == "Noon."


def test_expanded_parts_are_row_state(services: AppServices, qtmodeltester) -> None:
    conv = new_conversation(services, "c")
    _, answer = add_exchange(services, conv.id, "Q", "A", reasoning="Thinking it over.")
    model = _model(services)
    model.show_conversation(conv.id)
    changed: list[int] = []
    model.dataChanged.connect(lambda tl, _br, _roles: changed.append(tl.row()))
    version = model.data(model.index(1), ROW_ROLE).version
    model.set_expanded(answer, "reasoning", True)
    model.set_expanded(answer, "reasoning", True)  # no change, no signal
    assert model.is_expanded(answer, "reasoning")
    assert changed == [1]
    assert model.data(model.index(1), ROW_ROLE).version > version
    model.set_expanded(answer, "reasoning", False)
    assert not model.is_expanded(answer, "reasoning")
    qtmodeltester.check(model)


def test_switching_conversations_and_none(services: AppServices, qtmodeltester) -> None:
    a = new_conversation(services, "a")
    add_exchange(services, a.id, "Qa", "Aa")
    b = new_conversation(services, "b")
    model = _model(services)
    model.show_conversation(a.id)
    assert model.rowCount() == 2
    model.show_conversation(b.id)
    assert model.rowCount() == 0
    assert not model.has_older
    model.show_conversation(None)
    assert model.conversation_id is None
    qtmodeltester.check(model)
