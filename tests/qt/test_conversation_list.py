"""The conversation list: model and proxy under the model tester, day groups with an injected clock,
filter as you type, rename with F2, delete with undo, pin and archive, the streaming indicator, and the
figures at 10,000 conversations."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
import shiboken6
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QPainter
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QLineEdit, QStyleOptionViewItem

from desktop_chat.domain import ConversationSummary
from desktop_chat.services.app_services import AppServices
from desktop_chat.storage import Store, open_store
from desktop_chat.ui.sidebar.delegate import ConversationDelegate
from desktop_chat.ui.sidebar.model import ConversationListModel
from desktop_chat.ui.sidebar.pane import ConversationSidebar
from desktop_chat.ui.sidebar.proxy import ConversationFilterProxy
from desktop_chat.ui.sidebar.roles import GROUP_LABEL_ROLE, ID_ROLE, STREAMING_ROLE, Index
from tests.helpers.history import complete, new_conversation, stored
from tests.helpers.llm_server import LLMServer, text_script
from tests.helpers.loop import run, soon
from tests.helpers.services import use_server

if TYPE_CHECKING:
    from tests.helpers.qt_fixtures import Show

# A fixed "now": local 10 March 2024, half a minute after midnight (no test depends on the wall clock).
NOW = datetime(2024, 3, 10, 0, 0, 30).timestamp()


def _at(*args: int) -> float:
    return datetime(*args).timestamp()  # type: ignore[arg-type]


def bulk(store: Store, rows: list[tuple[str, float, bool, bool]]) -> list[int]:
    """Insert conversations (title, updated_at, pinned, archived) in one transaction; ids in order."""
    conn = store.db.connection()
    with store.db.atomic():
        first = int(conn.execute("SELECT coalesce(max(id), 0) FROM conversation").fetchone()[0]) + 1
        conn.executemany(
            "INSERT INTO conversation (uuid, title, created_at, updated_at, pinned, archived) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(uuid.uuid4().hex, t, u, u, int(p), int(a)) for t, u, p, a in rows],
        )
    return list(range(first, first + len(rows)))


def titles(model: ConversationFilterProxy | ConversationListModel) -> list[str]:
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def headers(proxy: ConversationFilterProxy) -> list[tuple[int, str]]:
    """(row, header) for every row that starts a day group."""
    out = []
    for r in range(proxy.rowCount()):
        label = ConversationDelegate.header_of(proxy.index(r, 0))
        if label is not None:
            out.append((r, label))
    return out


@pytest.fixture
def testers() -> Iterator[list[QAbstractItemModelTester]]:
    """Keeps Qt's model testers alive for the whole test (their failures are Qt warnings: test fails)."""
    kept: list[QAbstractItemModelTester] = []
    yield kept
    kept.clear()


def _check(kept: list[QAbstractItemModelTester], *models: QAbstractItemModel) -> None:
    for model in models:
        kept.append(QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning))


def _sidebar(shown: Show, services: AppServices, clock: float | None = None) -> ConversationSidebar:
    sidebar = ConversationSidebar(
        services.conversations, services.chat, clock=(lambda: clock) if clock is not None else time.time
    )
    return shown(sidebar, size=(280, 600), active=True)


# ---- storage and service ---------------------------------------------------------------------------------


def test_summaries_are_light_and_skip_unreadable_rows(store: Store) -> None:
    repo = store.repo
    good = repo.create_conversation("fine")
    bad = repo.create_conversation("bad params")
    worse = repo.create_conversation("bad time")
    store.db.execute_sql("UPDATE conversation SET params = '{oops' WHERE id = ?", (bad.id,))
    store.db.execute_sql("UPDATE conversation SET updated_at = 'soon' WHERE id = ?", (worse.id,))
    page = repo.conversation_summaries()
    assert [s.id for s in page.items] == [good.id]
    assert isinstance(page.items[0], ConversationSummary)
    assert page.items[0].pinned is False
    assert sorted(s.row_id for s in page.skipped) == [bad.id, worse.id]
    assert repo.conversation_summary(bad.id) is None
    assert repo.conversation_summary(good.id) == page.items[0]


def test_rename_pin_and_archive_keep_the_place_in_the_list(aloop, services: AppServices) -> None:
    service, store = services.conversations, services.store
    conv = new_conversation(services, "old title")
    store.db.execute_sql("UPDATE conversation SET updated_at = 1000 WHERE id = ?", (conv.id,))
    changed: list[int] = []
    service.conversation_changed.connect(changed.append)
    service.rename(conv.id, "  new title ")
    service.set_pinned(conv.id, True)
    service.set_archived(conv.id, True)
    assert service.get(conv.id).title == "old title", "the writer thread stores it; nothing waits for it"
    run(aloop, services.writes.idle())
    assert changed == [conv.id] * 3, "each change is announced once it is stored"
    got = service.get(conv.id)
    assert (got.title, got.pinned, got.archived) == ("new title", True, True)
    assert got.updated_at.timestamp() == 1000  # not moved to the top
    store.repo.add_message(conv.id, "a new message moves it")
    assert service.get(conv.id).updated_at.timestamp() > 1000


def test_shutdown_carries_out_pending_deletions_before_closing(services: AppServices, db_path) -> None:
    keep = new_conversation(services, "keep")
    gone = new_conversation(services, "gone")
    services.store.repo.add_message(gone.id, "with a message")
    services.conversations.undo_window_ms = 60_000
    services.conversations.delete(gone.id)
    assert services.store.repo.get_conversation(gone.id).title == "gone"  # still stored: undoable
    services.shutdown()
    again = open_store(db_path)
    try:
        assert [s.id for s in again.repo.conversation_summaries().items] == [keep.id]
        assert again.db.execute_sql("SELECT count(*) FROM message").fetchone()[0] == 0
    finally:
        again.close()


def test_a_crash_inside_the_undo_window_keeps_the_conversation(services: AppServices) -> None:
    service = services.conversations
    conv = new_conversation(services, "precious")
    service.undo_window_ms = 60_000
    service.delete(conv.id)
    assert conv.id not in [s.id for s in service.summaries()]
    # The process dies here (no finalize). The next start lists it again.
    assert conv.id in [s.id for s in services.store.repo.conversation_summaries().items]


# ---- models ---------------------------------------------------------------------------------------------


def test_source_and_proxy_stay_consistent_through_every_change(
    services: AppServices, qtmodeltester, testers
) -> None:
    ids = bulk(
        services.store,
        [
            ("alpha", _at(2024, 3, 9, 10, 0, 0), False, False),
            ("Bravo café", _at(2024, 3, 8, 10, 0, 0), False, False),
            ("charlie", _at(2024, 3, 1, 10, 0, 0), True, False),
            ("delta", _at(2024, 2, 1, 10, 0, 0), False, True),
            ("echo", _at(2023, 11, 1, 10, 0, 0), False, False),
        ],
    )
    clock = [NOW]
    model = ConversationListModel(services.conversations, services.chat, clock=lambda: clock[0])
    proxy = ConversationFilterProxy(model)
    qtmodeltester.check(proxy)
    _check(testers, model)
    assert titles(model) == ["charlie", "alpha", "Bravo café", "delta", "echo"]
    assert titles(proxy) == ["charlie", "alpha", "Bravo café", "echo"]  # archived hidden

    service = services.conversations
    new = new_conversation(services, "foxtrot")
    assert titles(proxy)[:2] == ["charlie", "foxtrot"]
    service.rename(ids[4], "echo renamed")
    service.set_pinned(ids[4], True)
    complete(services.writes.idle())
    assert titles(proxy)[:2] == ["charlie", "echo renamed"]  # pinned, newest first
    service.set_archived(ids[1], True)
    complete(services.writes.idle())
    assert "Bravo café" not in titles(proxy)
    proxy.set_show_archived(True)
    assert "Bravo café" in titles(proxy)
    assert "delta" in titles(proxy)
    proxy.set_filter_text("CAFE")
    assert titles(proxy) == ["Bravo café"]
    proxy.set_filter_text("")
    services.store.repo.add_message(ids[0], "bump")
    service.notify_changed(ids[0])
    model.set_streaming(ids[0], True)
    assert model.data(model.index(model.row_of(ids[0]) or 0), STREAMING_ROLE) is True
    service.delete(new.id)
    assert new.id not in [model.index(r).data(ID_ROLE) for r in range(model.rowCount())]
    service.undo_delete(new.id)
    assert model.row_of(new.id) is not None
    clock[0] += 86_400
    model.refresh_day()
    model.reload()
    assert model.rowCount() == 6


def test_a_new_message_moves_the_row_without_a_reset_and_keeps_the_selection(
    qtbot, shown, services: AppServices
) -> None:
    ids = bulk(services.store, [(f"c{i}", NOW - 3600 * (i + 1), False, False) for i in range(50)])
    sidebar = _sidebar(shown, services, clock=NOW)
    proxy, view = sidebar.model, sidebar.view
    target = ids[30]
    sidebar.select_conversation(target)
    resets: list[str] = []
    moves: list[tuple[int, int]] = []
    sidebar.source_model.modelReset.connect(lambda: resets.append("source"))
    proxy.modelReset.connect(lambda: resets.append("proxy"))
    sidebar.source_model.rowsMoved.connect(lambda _p, start, _e, _d, dest: moves.append((start, dest)))
    services.store.repo.add_message(target, "hello again")
    services.conversations.notify_changed(target)  # as ChatService does when the answer starts
    assert proxy.id_at(0) == target
    assert moves == [(30, 0)]
    assert resets == []
    assert view.current_id() == target
    assert headers(proxy)[0] == (0, "Today")


def test_headers_sit_on_the_first_row_of_each_group_and_roll_over_at_midnight(
    qtbot, services: AppServices
) -> None:
    bulk(
        services.store,
        [
            ("pinned old", _at(2023, 5, 1, 12, 0, 0), True, False),
            ("just after midnight", _at(2024, 3, 10, 0, 0, 5), False, False),
            ("late yesterday", _at(2024, 3, 9, 23, 59, 59), False, False),
            ("early yesterday", _at(2024, 3, 9, 0, 0, 1), False, False),
            ("this week", _at(2024, 3, 5, 12, 0, 0), False, False),
            ("this month", _at(2024, 2, 20, 12, 0, 0), False, False),
            ("february", _at(2024, 2, 1, 12, 0, 0), False, False),
            ("last year", _at(2023, 12, 24, 12, 0, 0), False, False),
        ],
    )
    clock = [NOW]
    sidebar = ConversationSidebar(services.conversations, services.chat, clock=lambda: clock[0])
    qtbot.addWidget(sidebar)
    proxy = sidebar.model
    month = sidebar.source_model.data(sidebar.source_model.index(6), GROUP_LABEL_ROLE)
    assert str(month).endswith("2024")
    assert [label for _row, label in headers(proxy)] == [
        "Pinned",
        "Today",
        "Yesterday",
        "Previous 7 days",
        "Previous 30 days",
        month,
        sidebar.source_model.data(sidebar.source_model.index(7), GROUP_LABEL_ROLE),
    ]
    assert [row for row, _label in headers(proxy)] == [0, 1, 2, 4, 5, 6, 7]
    # Row heights: header rows are taller, the others all the same.
    option = QStyleOptionViewItem()
    option.initFrom(sidebar.view)
    heights = [sidebar.view.delegate.sizeHint(option, proxy.index(r, 0)).height() for r in range(8)]
    assert len({heights[r] for r in (0, 1, 2, 4, 5, 6, 7)}) == 1
    assert heights[3] < heights[2]

    clock[0] += 86_400  # the next day: Today's row moves to Yesterday, both yesterdays to the week
    sidebar.source_model.refresh_day()
    assert [label for _row, label in headers(proxy)][:4] == [
        "Pinned",
        "Yesterday",
        "Previous 7 days",
        "Previous 30 days",
    ]
    # A filter that hides a group's first row moves the header to the next row shown.
    proxy.set_filter_text("early")
    assert headers(proxy) == [(0, "Previous 7 days")]


# ---- the sidebar -----------------------------------------------------------------------------------------


def test_filter_as_you_type_keeps_the_open_conversation_selected(qtbot, shown, services: AppServices) -> None:
    ids = bulk(
        services.store,
        [
            ("Café au lait", NOW - 100, False, False),
            ("CAFE menu", NOW - 200, False, False),
            ("Green tea", NOW - 300, False, False),
        ],
    )
    sidebar = _sidebar(shown, services, clock=NOW)
    opened: list[int] = []
    sidebar.conversation_activated.connect(opened.append)
    sidebar.select_conversation(ids[1])
    qtbot.keyClicks(sidebar.filter_edit, "cafe")
    assert titles(sidebar.model) == ["Café au lait", "CAFE menu"]
    assert sidebar.view.current_id() == ids[1]  # still shown: still selected
    sidebar.filter_edit.clear()
    qtbot.keyClicks(sidebar.filter_edit, "tea")
    assert titles(sidebar.model) == ["Green tea"]
    assert sidebar.view.current_id() is None  # the open one is hidden: nothing selected...
    assert opened == []  # ...and nothing else opened
    qtbot.keyClicks(sidebar.filter_edit, "pot")
    assert sidebar.model.rowCount() == 0
    assert sidebar.no_match.isVisible()
    qtbot.keyClick(sidebar.filter_edit, Qt.Key.Key_Escape)
    assert sidebar.filter_edit.text() == ""
    assert sidebar.model.rowCount() == 3
    assert sidebar.view.current_id() == ids[1]  # selected again once shown
    assert opened == []


def test_rename_in_place_with_f2_typing_and_enter(qtbot, main_window, services: AppServices) -> None:
    conv = new_conversation(services, "Untitled idea")
    w = main_window(active=True)
    assert w.current_conversation_id() == conv.id
    w.conversation_list.setFocus()
    qtbot.keyClick(w.conversation_list, Qt.Key.Key_F2)
    editor = w.conversation_list.findChild(QLineEdit, "conversationTitleEditor")
    assert editor is not None
    assert editor.text() == "Untitled idea"
    assert editor.selectedText() == "Untitled idea"
    qtbot.keyClicks(editor, "Trip to Lisbon")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Qt commits on the next loop turn
    qtbot.waitUntil(lambda: services.store.repo.get_conversation(conv.id).title == "Trip to Lisbon")
    assert titles(w.conversation_model) == ["Trip to Lisbon"]
    assert w.current_conversation_id() == conv.id
    qtbot.waitUntil(lambda: w.conversation_list.renaming() is None)
    assert w.conversation_list.hasFocus()  # back in the list

    # Rename from the menu opens the same editor; Escape cancels.
    w.sidebar.rename_conversation(conv.id)
    menu_editor = w.conversation_list.renaming()
    assert isinstance(menu_editor, QLineEdit)
    qtbot.keyClicks(menu_editor, "Never mind")
    qtbot.keyClick(menu_editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.conversation_list.renaming() is None)
    assert services.store.repo.get_conversation(conv.id).title == "Trip to Lisbon"


def test_ctrl_z_in_the_composer_undoes_typing_not_a_deletion(
    qtbot, main_window, services: AppServices
) -> None:
    keep = new_conversation(services, "keep")
    gone = new_conversation(services, "gone")
    w = main_window(active=True)
    w.sidebar.delete_conversation(gone.id)
    assert w.current_conversation_id() == keep.id
    w.composer.setFocus()
    qtbot.keyClick(w.composer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.conversation_model.row_of(gone.id) is None
    assert services.conversations.pending_deletions() == [gone.id]


def test_delete_then_undo_keeps_it_and_delete_then_wait_removes_it(
    qtbot, main_window, services: AppServices
) -> None:
    services.conversations.undo_window_ms = 150
    ids = bulk(services.store, [(f"chat {i}", NOW - 60 * (i + 1), False, False) for i in range(3)])
    w = main_window(active=True)
    w.open_conversation(ids[1])
    w.conversation_list.setFocus()
    qtbot.keyClick(w.conversation_list, Qt.Key.Key_Delete)
    assert w.conversation_model.row_of(ids[1]) is None
    assert w.current_conversation_id() == ids[2]  # the next one down opened
    bar = w.sidebar.undo_bar
    assert bar.isVisible()
    assert bar.label.full_text() == "Deleted “chat 1”."
    assert services.store.repo.get_conversation(ids[1]).title == "chat 1"  # not yet gone
    qtbot.keyClick(w.conversation_list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert titles(w.conversation_model) == ["chat 0", "chat 1", "chat 2"]
    assert w.current_conversation_id() == ids[1]  # it was open: open again
    assert not bar.isVisible()
    qtbot.wait(300)  # past the undo window: the undone deletion never happens
    assert services.store.repo.get_conversation(ids[1]).title == "chat 1"

    w.open_conversation(ids[2])
    w.sidebar.delete_conversation(ids[2])
    assert w.current_conversation_id() == ids[1]  # the last row: the one above opened
    qtbot.waitUntil(lambda: services.store.repo.conversation_summary(ids[2]) is None, timeout=3000)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=3000)
    assert titles(w.conversation_model) == ["chat 0", "chat 1"]

    w.sidebar.delete_conversation(ids[0])
    qtbot.mouseClick(bar.undo_button, Qt.MouseButton.LeftButton)
    assert services.store.repo.conversation_summary(ids[0]) is not None
    assert titles(w.conversation_model) == ["chat 0", "chat 1"]
    assert w.current_conversation_id() == ids[1]  # it was not open: the open one stays


def test_deleting_every_conversation_shows_the_welcome(qtbot, main_window, services: AppServices) -> None:
    conv = new_conversation(services, "only one")
    w = main_window(active=True)
    w.sidebar.delete_conversation(conv.id)
    assert w.current_conversation_id() is None
    assert w.pages.currentWidget() is w.empty_label
    w.sidebar.undo_delete()
    assert w.current_conversation_id() == conv.id


def test_pin_and_archive_move_rows_and_persist(qtbot, main_window, services: AppServices) -> None:
    ids = bulk(services.store, [(f"chat {i}", NOW - 60 * (i + 1), False, False) for i in range(4)])
    w = main_window(active=True)
    w.open_conversation(ids[0])
    menu = w.sidebar.context_menu(w.conversation_list.visualRect(w.conversation_model.index(3, 0)).center())
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Rename",
        "Pin",
        "Archive",
        "Delete",
        "New chat",
        "Show archived",
    ]
    pin = next(a for a in menu.actions() if a.text() == "Pin")
    pin.trigger()
    stored(services)
    assert titles(w.conversation_model)[0] == "chat 3"
    assert headers(w.conversation_model)[0] == (0, "Pinned")
    assert services.store.repo.get_conversation(ids[3]).pinned
    assert w.current_conversation_id() == ids[0]

    w.sidebar.toggle_archived(ids[0])  # the open one: hidden, the list moves on
    stored(services)
    assert services.store.repo.get_conversation(ids[0]).archived
    assert "chat 0" not in titles(w.conversation_model)
    assert w.current_conversation_id() == ids[1]
    assert w.sidebar.archived_toggle.isVisible()
    assert w.sidebar.archived_toggle.text() == "Show archived (1)"
    w.sidebar.archived_toggle.click()
    assert "chat 0" in titles(w.conversation_model)
    w.sidebar.toggle_archived(ids[0])
    stored(services)
    assert not services.store.repo.get_conversation(ids[0]).archived
    w.sidebar.toggle_pinned(ids[3])
    stored(services)
    assert titles(w.conversation_model) == ["chat 0", "chat 1", "chat 2", "chat 3"]
    assert not services.store.repo.get_conversation(ids[3]).pinned
    empty_menu = w.sidebar.context_menu(QPoint(5, w.conversation_list.viewport().height() - 2))
    assert [a.text() for a in empty_menu.actions()] == ["New chat", "Show archived"]


def test_ctrl_shift_k_focuses_the_filter_and_ctrl_n_clears_it_for_the_new_chat(
    aloop, qtbot, main_window, services: AppServices
) -> None:
    bulk(services.store, [("about cats", NOW - 60, False, False), ("about dogs", NOW - 120, False, False)])
    w = main_window(active=True)
    qtbot.keyClick(w, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.sidebar.filter_edit.hasFocus()
    qtbot.keyClicks(w.sidebar.filter_edit, "dogs")
    assert titles(w.conversation_model) == ["about dogs"]
    before = w.current_conversation_id()
    qtbot.keyClick(w.sidebar.filter_edit, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert w.sidebar.filter_edit.text() == ""
    new_id = run(
        aloop, soon(lambda: w.current_conversation_id() if w.current_conversation_id() != before else None)
    )
    assert titles(w.conversation_model)[0] == "New chat"
    assert w.conversation_list.current_id() == new_id


class CountingDelegate(ConversationDelegate):
    painted: list[int]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        self.painted.append(int(index.data(ID_ROLE)))
        super().paint(painter, option, index)


def test_streaming_dots_repaint_only_streaming_rows(qtbot, shown, services: AppServices) -> None:
    ids = bulk(services.store, [(f"chat {i}", NOW - 60 * (i + 1), False, False) for i in range(20)])
    sidebar = _sidebar(shown, services, clock=NOW)
    view = sidebar.view
    counting = CountingDelegate(view)
    counting.painted = []
    view.delegate = counting
    view.setItemDelegate(counting)
    assert not view.animation_active()
    sidebar.source_model.set_streaming(ids[2], True)
    assert view.animation_active()
    assert view.ANIMATION_MS >= 200  # at most 5 frames a second
    rects = view.streaming_rects()
    assert len(rects) == 1
    assert rects[0] == view.visualRect(sidebar.model.index(2, 0))
    qtbot.wait(100)  # let showing, activation and focus repaints pass
    counting.painted.clear()
    qtbot.wait(view.ANIMATION_MS * 2 + 100)
    assert counting.painted, "the dots were not animated"
    assert set(counting.painted) == {ids[2]}  # one row repainted per frame, never the whole list
    sidebar.source_model.set_streaming(ids[2], False)
    assert not view.animation_active()


def test_streaming_indicator_follows_the_chat_service(
    aloop, qtbot, main_window, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue(text_script("Streaming in the list.", pieces=4))
    conv = new_conversation(services)
    other = new_conversation(services, "another")
    w = main_window(active=True)
    w.open_conversation(conv.id)
    services.chat.send(conv.id, "Hello list")
    run(aloop, services.chat.started(conv.id))  # the list shows it once the message is stored
    model = w.sidebar.source_model
    row = model.row_of(conv.id)
    assert row == 0  # the conversation with the new message is on top
    assert model.index(row).data(STREAMING_ROLE) is True
    assert model.index(model.row_of(other.id) or 0).data(STREAMING_ROLE) is False
    assert w.conversation_list.animation_active()
    assert "Answering" in str(model.index(row).data(Qt.ItemDataRole.ToolTipRole))
    run(aloop, services.chat.wait(conv.id))
    assert model.index(model.row_of(conv.id) or 0).data(STREAMING_ROLE) is False
    assert not w.conversation_list.animation_active()
    assert titles(w.conversation_model)[0] == "Hello list"


def test_deleting_a_streaming_conversation_stops_its_answer(
    aloop, qtbot, services: AppServices, llm_server: LLMServer
) -> None:
    use_server(services, llm_server)
    llm_server.enqueue([*text_script("never finished", pieces=2, done=False)[:1], {"hang": True}])
    conv = new_conversation(services)
    patched: list[object] = []
    services.chat.response_patched.connect(patched.append)
    services.chat.send(conv.id, "Hello")
    assert services.chat.is_streaming(conv.id)

    async def first_text() -> None:
        while not patched:
            await asyncio.sleep(0.005)

    run(aloop, first_text(), timeout=10)  # the answer is under way
    services.conversations.delete(conv.id)
    run(aloop, services.chat.wait(conv.id), timeout=10)
    assert not services.chat.is_streaming(conv.id)
    services.conversations.undo_delete(conv.id)
    answer = services.conversations.transcript(conv.id)[-1].response
    assert answer is not None
    assert answer.status.value == "cancelled"


# ---- 10,000 conversations --------------------------------------------------------------------------------


def test_ten_thousand_conversations_load_filter_and_scroll_fast(qtbot, shown, services: AppServices) -> None:
    words = ["python", "recipe", "travel", "budget", "garden", "rust", "poem", "physics", "café", "docker"]
    rows = [
        (f"{words[i % 10]} question {i} about {words[(i * 7) % 10]}", NOW - 97 * i, i % 997 == 0, i % 41 == 0)
        for i in range(10_000)
    ]
    bulk(services.store, rows)

    loads = []
    for _ in range(3):
        start = time.perf_counter()
        model = ConversationListModel(services.conversations, clock=lambda: NOW)
        loads.append((time.perf_counter() - start) * 1000)
        assert model.rowCount() == 10_000
        shiboken6.delete(model)

    sidebar = _sidebar(shown, services, clock=NOW)
    sidebar.resize(280, 900)
    view = sidebar.view
    qtbot.wait(20)
    keystrokes = []
    for text in ("r", "re", "rec", "reci", "recip", "recipe", "recipe ", "recipe 1", "recipe 12", ""):
        start = time.perf_counter()
        sidebar.set_filter_text(text)
        view.viewport().repaint()
        keystrokes.append((time.perf_counter() - start) * 1000)
    assert sidebar.model.rowCount() == 10_000 - len([r for r in rows if r[3]])

    paints = []
    bar = view.verticalScrollBar()
    for step in range(30):
        bar.setValue(step * bar.maximum() // 30)
        start = time.perf_counter()
        view.viewport().repaint()
        paints.append((time.perf_counter() - start) * 1000)

    load_ms = statistics.median(loads)
    filter_p95 = sorted(keystrokes)[int(len(keystrokes) * 0.95) - 1]
    paint_p95 = sorted(paints)[int(len(paints) * 0.95) - 1]
    print(
        f"\n10,000 conversations: load {load_ms:.1f} ms (median of 3), filter keystroke p95 "
        f"{filter_p95:.1f} ms (max {max(keystrokes):.1f}), scroll paint p95 {paint_p95:.1f} ms"
    )
    # Generous bounds: catch a return to O(n) Python per paint or a quadratic load, not noise.
    assert load_ms < 500
    assert filter_p95 < 400
    assert paint_p95 < 100


def test_model_rows_are_skipped_not_fatal(qtbot, services: AppServices) -> None:
    repo = services.store.repo
    repo.create_conversation("fine one")
    bad = repo.create_conversation("broken one")
    services.store.db.execute_sql("UPDATE conversation SET params = '[]' WHERE id = ?", (bad.id,))
    notes: list[str] = []
    services.conversations.rows_skipped.connect(lambda skipped: notes.append(skipped.note))
    model = ConversationListModel(services.conversations)
    assert titles(model) == ["fine one"]
    assert notes
    assert "could not be read" in notes[0]
    assert model.data(QModelIndex()) is None
