"""Search everything (Ctrl+K) and find in the conversation (Ctrl+F), through the window."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_chat.domain import Role
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.search.panel import SearchPanel
from tests.helpers.history import new_conversation, stored


def _history(services: AppServices) -> dict[str, int]:
    """Three conversations; the second has two branches, the hit on the one not shown."""
    repo = services.store.repo
    ids: dict[str, int] = {}
    c1 = new_conversation(services, "Sourdough")
    ids["bread"] = repo.add_messages_bulk(
        c1.id,
        [
            (Role.USER, "How do I feed a sourdough starter?", 1.7e9),
            (Role.ASSISTANT, "Flour and water.", 1.7e9 + 1),
        ],
    )[0]
    c2 = new_conversation(services, "Trip")
    first = repo.add_message(c2.id, "Plan a trip to Lisbon in spring")
    ids["old_branch"] = first.id
    edited = repo.add_message(c2.id, "Plan a trip to Porto instead")
    repo.update_conversation(c2.id, active_leaf_id=edited.id)
    ids["trip"] = c2.id
    c3 = new_conversation(services, "Rust")
    parent = repo.add_message(c3.id, "Explain lifetimes in Rust structs")
    ids["rust"] = parent.id
    for n in range(60):
        parent = repo.add_message(c3.id, f"filler message number {n}", parent_id=parent.id)
    repo.update_conversation(c3.id, active_leaf_id=parent.id)
    ids["rust_conv"] = c3.id
    return ids


def _results(qtbot, panel: SearchPanel, query: str) -> None:
    panel.field.setText("")
    QTest.keyClicks(panel.field, query)
    qtbot.waitUntil(lambda: panel.status.text() not in ("", "Searching…"), timeout=5000)


def test_ctrl_k_searches_everything_and_enter_opens_the_hit_on_its_branch(
    qtbot, main_window, services: AppServices
) -> None:
    ids = _history(services)
    w = main_window(size=(1000, 700), active=True)
    qtbot.keyClick(w.sidebar.view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    panel = w.findChild(SearchPanel)
    assert panel is not None
    assert panel.isVisible()
    _results(qtbot, panel, "lisbon")
    assert panel.status.text() == "1 result"
    shown = str(panel.model.data(panel.model.index(0)))
    assert "<b style" in shown, "the hit is highlighted in the snippet"
    assert "Trip" in shown
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    stored(services)  # the hit's branch is the conversation's branch from now on
    assert w.current_conversation_id() == ids["trip"]
    row = w.transcript_model.row_of(ids["old_branch"])
    assert row is not None, "the branch holding the hit is shown"
    state = w.transcript_model.row_at(row)
    assert state is not None
    assert state.highlighted
    assert state.highlight_terms == ("lisbon",), "the words of the hit are marked in the message"
    assert w.transcript.currentIndex().row() == row


def test_the_hit_is_scrolled_to_even_far_up_a_long_conversation(
    qtbot, main_window, services: AppServices
) -> None:
    ids = _history(services)
    w = main_window(size=(1000, 700), active=True)
    panel = w.open_search()
    assert isinstance(panel, SearchPanel)
    _results(qtbot, panel, '"lifetimes in rust"')
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    assert w.current_conversation_id() == ids["rust_conv"]
    row = w.transcript_model.row_of(ids["rust"])
    assert row is not None, "older pages were loaded up to the hit"
    rect = w.transcript.visualRect(w.transcript_model.index(row))
    assert w.transcript.viewport().rect().intersects(rect), "the hit is on screen"


def test_prefix_exclude_and_order(qtbot, main_window, services: AppServices) -> None:
    _history(services)
    w = main_window(size=(1000, 700), active=True)
    panel = w.open_search()
    assert isinstance(panel, SearchPanel)
    _results(qtbot, panel, "plan -porto")
    assert panel.status.text() == "1 result"
    _results(qtbot, panel, "sourd*")
    assert panel.status.text() == "1 result"
    panel.order.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.status.text() == "1 result", timeout=5000)
    _results(qtbot, panel, "nothingmatchesthis")
    assert panel.status.text() == "No results"


def test_stale_queries_are_dropped_not_queued(qtbot, services: AppServices) -> None:
    _history(services)
    search = services.search
    delivered: list[str] = []
    search.results.connect(lambda results: delivered.append(results.query))
    before = search.ran
    for n in range(1, 30):
        search.search("filler message number"[: 5 + n % 17])
    last = search.search("lisbon")
    deadline = time.monotonic() + 5
    while not delivered and time.monotonic() < deadline:
        qtbot.wait(10)
    qtbot.wait(100)
    assert delivered == ["lisbon"], "only the newest query's results arrive"
    assert search.latest == last
    assert search.ran - before < 30, "queries overtaken before they started never ran"


def test_ctrl_f_finds_in_the_open_conversation(qtbot, main_window, services: AppServices) -> None:
    ids = _history(services)
    w = main_window(size=(1000, 700), active=True)
    w.open_conversation(ids["rust_conv"])
    qtbot.keyClick(w.transcript, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.find_bar.isVisible()
    QTest.keyClicks(w.find_bar.field, "message number 5")
    matches = w.find_bar.matches
    assert len(matches) == 11  # 5 and 50-59
    assert w.find_bar.count.text() == "1 of 11"
    newest = w.transcript_model.row_at(w.transcript_model.row_of(matches[-1]) or 0)
    assert newest is not None
    assert newest.highlighted
    qtbot.keyClick(w.find_bar.field, Qt.Key.Key_Return)
    assert w.find_bar.count.text() == "2 of 11"
    qtbot.keyClick(w.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert w.find_bar.count.text() == "1 of 11"
    for _ in range(10):
        qtbot.keyClick(w.find_bar.field, Qt.Key.Key_Return)
    assert w.find_bar.count.text() == "11 of 11"
    assert w.transcript_model.row_of(matches[0]) is not None, "the oldest match was loaded and shown"
    qtbot.keyClick(w.find_bar.field, Qt.Key.Key_Escape)
    assert not w.find_bar.isVisible()
    assert not any(
        r.highlighted
        for r in (w.transcript_model.row_at(i) for i in range(w.transcript_model.rowCount()))
        if r
    )


def test_query_terms_and_their_marks_in_a_rendered_message() -> None:
    from PySide6.QtGui import QTextDocument

    from desktop_chat.services.search import SearchService
    from desktop_chat.ui.transcript.paint import term_selections as _term_selections

    terms = SearchService.highlight_terms
    assert terms('"spring trip" lisbon -porto sourd* a') == ("spring trip", "lisbon", "sourd")
    assert terms('e-mail -"not this" "unclosed phrase') == ("e-mail", "unclosed phrase")
    doc = QTextDocument()
    doc.setPlainText("A Spring trip to Lisbon; lisbon again, and Porto.")
    marks = _term_selections(doc, ("spring trip", "lisbon"))
    assert [m.cursor.selectedText() for m in marks] == ["Spring trip", "Lisbon", "lisbon"]
