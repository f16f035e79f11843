"""The main window over a real store: list, transcript, empty state, keyboard, state saved on close."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QListView, QPlainTextEdit, QPushButton, QWidget

from desktop_chat.domain import ResponsePatch, ResponseStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import LAST_CONVERSATION, WINDOW_GEOMETRY
from tests.helpers.history import new_conversation
from tests.helpers.loop import run, soon


def test_main_widgets_have_names(main_window, services: AppServices) -> None:
    w = main_window()
    for cls, name in (
        (QAbstractItemView, "conversationList"),
        (QListView, "transcript"),
        (QLineEdit, "conversationFilter"),
        (QPushButton, "newChatButton"),
        (QPlainTextEdit, "composer"),
        (QPushButton, "sendButton"),
        (QPushButton, "stopButton"),
        (QWidget, "modelPicker"),
    ):
        widget = w.findChild(cls, name)
        assert widget is not None, name
        assert widget.accessibleName()


def test_empty_store_shows_welcome(main_window, services: AppServices) -> None:
    w = main_window()
    assert w.pages.currentWidget() is w.empty_label
    assert "Welcome" in w.empty_label.text()
    assert not w.send_button.isEnabled()


def test_list_comes_from_the_store_and_opens_the_newest(main_window, services: AppServices) -> None:
    repo = services.store.repo
    old = repo.create_conversation("Old chat")
    repo.add_message(old.id, "hello old")
    new = repo.create_conversation("New chat about cats")
    q = repo.add_message(new.id, "Tell me about cats")
    a = repo.start_response(new.id, q.id)
    repo.apply_patches([ResponsePatch(a.response_id, "Cats are", status=ResponseStatus.STREAMING)])
    repo.recover_unfinished()  # as at start-up after a crash
    w = main_window()
    titles = [w.conversation_model.data(w.conversation_model.index(r, 0)) for r in range(2)]
    assert titles == ["New chat about cats", "Old chat"]
    assert w.current_conversation_id() == new.id
    shown = w.transcript_model.data(w.transcript_model.index(1))
    assert "interrupted" in shown
    assert "Cats are" in shown

    w.conversation_list.setCurrentIndex(w.conversation_model.index(1, 0))
    assert w.current_conversation_id() == old.id
    assert w.transcript_model.rowCount() == 1


def test_ctrl_n_creates_and_opens_a_conversation(aloop, qtbot, main_window, services: AppServices) -> None:
    w = main_window(active=True)
    w.conversation_list.setFocus()
    qtbot.keyClick(w.conversation_list, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    run(aloop, soon(w.current_conversation_id))  # opened once it is stored
    assert services.conversations.count() == 1
    assert w.conversation_model.rowCount() == 1
    assert w.current_conversation_id() is not None
    assert w.pages.currentWidget() is w.transcript


def test_unreadable_row_is_reported_not_fatal(main_window, services: AppServices) -> None:
    repo = services.store.repo
    repo.create_conversation("fine one")
    bad = repo.create_conversation("broken one")
    services.store.db.execute_sql("UPDATE conversation SET params = '{oops' WHERE id = ?", (bad.id,))
    w = main_window()
    assert w.conversation_model.rowCount() == 1
    assert w.conversation_model.data(w.conversation_model.index(0, 0)) == "fine one"
    assert "could not be read" in w.statusBar().currentMessage()


def test_close_remembers_geometry_and_conversation(main_window, services: AppServices) -> None:
    conv = services.store.repo.create_conversation("remember me")
    services.store.repo.create_conversation("newer")
    w = main_window()
    row = w.conversation_model.row_of(conv.id)
    assert row is not None
    w.conversation_list.setCurrentIndex(w.conversation_model.index(row, 0))
    w.close()
    assert services.settings.get(LAST_CONVERSATION) == conv.id
    assert services.settings.get(WINDOW_GEOMETRY)
    w2 = main_window()
    assert w2.current_conversation_id() == conv.id


def test_review_mode_shows_history_but_cannot_send_or_set_up(main_window, services: AppServices) -> None:
    from desktop_chat.ui.empty_state import REVIEW_HINT

    conv = new_conversation(services, "Kept")
    services.store.repo.add_message(conv.id, "an old question")
    w = main_window(review="/backups/chats.sqlite3")
    assert w.windowTitle() == "Review: /backups/chats.sqlite3 (read-only)"
    assert w.current_conversation_id() == conv.id, "the history opens"
    assert w.transcript_model.rowCount() == 1
    assert not w.composer.isEnabled()
    assert w.composer.placeholderText() == REVIEW_HINT
    assert not w.send_button.isEnabled()
    assert not w.setup_button.isVisible()
    assert not w.model_picker.isVisible()
    assert w.open_settings() is w, "no settings (no providers, no keys) in a review"
    assert w.show_welcome_if_needed() is None
