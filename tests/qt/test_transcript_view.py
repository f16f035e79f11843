"""The transcript view: virtualization, paging with the content kept in place, following the bottom,
hover and clicks (links open only on a click), keyboard actions, and the theme."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop_chat.domain import ResponseStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.transcript.documents import SafeDocument
from desktop_chat.ui.transcript.view import TranscriptView
from tests.helpers.history import new_conversation
from tests.helpers.markdown_samples import fill_conversation
from tests.helpers.transcript_ui import add_exchange, find_point, hit_point, settle, transcript_view

LINKS = "See [the docs](https://example.org/docs) and [bad](javascript:alert(1)).\n\n![img](https://example.org/i.png)"


def _dark(view: TranscriptView) -> bool:
    return view.delegate.style.dark


def _top_row(view: TranscriptView) -> tuple[int, int]:
    """The message at the top of the viewport and its y."""
    index = view.indexAt(QPoint(5, 5))
    message = view.transcript_model.message_at(index.row())
    assert message is not None
    return message.id, view.visualRect(index).top()


def test_a_long_conversation_renders_only_rows_near_the_viewport(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "2,000 messages")
    ids = fill_conversation(services.store.repo, conv.id, 2000)
    view = transcript_view(shown, services, conv.id)
    model = view.transcript_model
    assert model.rowCount() == 50  # the newest page only
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0  # opened at the bottom
    laid_out = view.delegate.laid_out
    assert ids[-1] in laid_out
    assert 1 <= len(laid_out) <= 12, len(laid_out)
    loaded = [model.message_at(r).id for r in range(model.rowCount())]  # type: ignore[union-attr]
    assert all(loaded.index(i) >= 30 for i in laid_out)  # nothing far from the bottom was rendered
    assert view.delegate.docs.renders < 200


def test_scrolling_up_loads_older_pages_and_keeps_the_content_in_place(
    qtbot, shown, services: AppServices
) -> None:
    conv = new_conversation(services, "long")
    fill_conversation(services.store.repo, conv.id, 180)
    view = transcript_view(shown, services, conv.id)
    model = view.transcript_model
    bar = view.verticalScrollBar()
    seen = None
    for _ in range(400):  # scroll up by wheel-sized steps, as a reader does
        bar.setValue(bar.value() - 120)
        seen = _top_row(view)  # what the reader sees before the older page arrives
        settle(view, 1)
        if model.rowCount() > 50:
            break
    assert model.rowCount() == 100
    assert seen is not None
    settle(view)
    row = model.row_of(seen[0])
    assert row is not None
    assert row >= 50
    assert view.visualRect(model.index(row)).top() == seen[1]  # the page above did not move it
    assert bar.value() > view.viewport().height() // 2
    assert not view.at_bottom()


def test_prepending_a_page_keeps_the_visible_message_still(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "long")
    fill_conversation(services.store.repo, conv.id, 120)
    view = transcript_view(shown, services, conv.id)
    model = view.transcript_model
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    settle(view)
    anchor = view.indexAt(QPoint(5, view.viewport().height() - 1))
    message = model.message_at(anchor.row())
    assert message is not None
    top = view.visualRect(anchor).top()
    assert model.load_older() == 50
    settle(view)
    row = model.row_of(message.id)
    assert row is not None
    assert row >= 50
    assert view.visualRect(model.index(row)).top() == top


def test_the_view_follows_new_messages_only_from_the_bottom(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "c")
    fill_conversation(services.store.repo, conv.id, 40)
    view = transcript_view(shown, services, conv.id)
    bar = view.verticalScrollBar()
    assert view.at_bottom()
    add_exchange(services, conv.id, "Follow me?", "Yes: you were at the bottom.")
    services.chat.messages_changed.emit(conv.id)
    settle(view)
    assert bar.value() == bar.maximum()
    bar.setValue(bar.maximum() - 400)  # the reader scrolls up
    settle(view)
    assert not view.at_bottom()
    message_id, y = _top_row(view)
    add_exchange(services, conv.id, "Still there?", "The reader is reading older text: stay put.\n\n" * 5)
    services.chat.messages_changed.emit(conv.id)
    settle(view)
    assert bar.value() < bar.maximum()
    assert _top_row(view) == (message_id, y)


def test_links_open_in_the_browser_only_on_a_click(qtbot, shown, services: AppServices, monkeypatch) -> None:
    opened: list[str] = []

    def open_url(url: QUrl) -> bool:
        opened.append(QUrl(url).toString())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    SafeDocument.requested.clear()
    conv = new_conversation(services, "links")
    _, answer = add_exchange(services, conv.id, "Links?", LINKS)
    view = transcript_view(shown, services, conv.id)
    point = find_point(view, answer, lambda h: h.action == "link" and h.arg == "https://example.org/docs")
    qtbot.mouseMove(view.viewport(), point)
    qtbot.mouseMove(view.viewport(), point + QPoint(1, 0))
    view.viewport().repaint()
    assert opened == []  # hovering and painting never open anything
    assert view.viewport().cursor().shape() == Qt.CursorShape.PointingHandCursor
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert opened == ["https://example.org/docs"]
    image = find_point(view, answer, lambda h: h.action == "link" and "i.png" in str(h.arg))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=image)
    assert opened[-1] == "https://example.org/i.png"  # an image is a link to click, never fetched
    assert [r for r in SafeDocument.requested if "://" in r] == []  # no document asked for a remote URL
    plain = hit_point(view, answer, "copy") + QPoint(0, -40)
    qtbot.mouseMove(view.viewport(), plain)
    assert view.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor


def test_code_block_copy_button_and_message_copy(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "code")
    _, answer = add_exchange(services, conv.id, "Code?", "Here:\n\n```python\nprint('hi')\n```\n\nDone.")
    view = transcript_view(shown, services, conv.id)
    copied: list[str] = []
    view.copied.connect(copied.append)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=find_point(view, answer, lambda h: h.action == "code")
    )
    assert QGuiApplication.clipboard().text() == "print('hi')\n"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=hit_point(view, answer, "copy"))
    assert QGuiApplication.clipboard().text().startswith("Here:")
    assert copied == ["print('hi')\n", QGuiApplication.clipboard().text()]


def test_reasoning_expands_in_place(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "r")
    _, answer = add_exchange(
        services, conv.id, "Think", "Answer.", reasoning="Step one.\n\nStep two.\n\nStep three."
    )
    view = transcript_view(shown, services, conv.id)
    model = view.transcript_model
    index = model.index(model.row_of(answer) or 0)
    height = view.visualRect(index).height()
    point = hit_point(view, answer, "reasoning")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    settle(view)
    assert model.is_expanded(answer, "reasoning")
    assert view.visualRect(index).height() > height + 30
    assert hit_point(view, answer, "reasoning") == point  # the line clicked did not move
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    settle(view)
    assert not model.is_expanded(answer, "reasoning")
    assert view.visualRect(index).height() == height


def test_keyboard_moves_between_messages_and_triggers_actions(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "k")
    question, _ = add_exchange(services, conv.id, "First?", "First answer.")
    _, cut = add_exchange(
        services, conv.id, "Second?", "Cut short", status=ResponseStatus.INTERRUPTED, error="Closed."
    )
    view = transcript_view(shown, services, conv.id)
    model = view.transcript_model
    signals: list[tuple[str, object]] = []
    view.regenerate_requested.connect(lambda i: signals.append(("regenerate", i)))
    view.continue_requested.connect(lambda i: signals.append(("continue", i)))
    view.edit_requested.connect(lambda m: signals.append(("edit", m.id)))
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    assert view.currentIndex().row() == 3  # focus lands on the newest message
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "Cut short"
    for _ in range(3):
        qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 0
    qtbot.keyClick(view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert model.message_at(view.currentIndex().row()).text == "First answer."  # type: ignore[union-attr]
    qtbot.keyClick(view, Qt.Key.Key_Return)  # a complete answer: Enter does nothing
    assert signals == [("continue", cut), ("regenerate", cut), ("edit", question)]


def test_dark_palette_renders_again_with_dark_colours(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "t")
    _, _answer = add_exchange(
        services, conv.id, "Colours?", "Some `code` and a table:\n\n| a |\n|---|\n| 1 |"
    )
    view = transcript_view(shown, services, conv.id)
    assert not _dark(view)
    renders = view.delegate.docs.renders
    dark = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.Base, "#17181a"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
    ):
        dark.setColor(role, QColor(colour))
    original = QApplication.palette()
    QApplication.setPalette(dark)
    try:
        settle(view)
        view.viewport().repaint()
        assert _dark(view)
        assert view.delegate.docs.renders > renders  # visible blocks rendered again in dark colours
        image = view.viewport().grab().toImage()
        assert image.pixelColor(3, 3).lightness() < 80  # the background follows the palette
    finally:
        QApplication.setPalette(original)
    settle(view)
    assert not _dark(view)


def test_a_bigger_application_font_lays_the_rows_out_again(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "f")
    add_exchange(services, conv.id, "Big?", "Bigger text.")
    view = transcript_view(shown, services, conv.id)
    model = view.transcript_model
    height = view.visualRect(model.index(1)).height()
    original = QApplication.font()
    bigger = QFont(original)
    bigger.setPointSize(original.pointSize() + 8)
    QApplication.setFont(bigger)  # what the text size setting does (ui/theme.py)
    try:
        settle(view)
        assert view.visualRect(model.index(1)).height() > height
    finally:
        QApplication.setFont(original)
    settle(view)
    assert view.visualRect(model.index(1)).height() == height


def test_page_keys_scroll_and_end_follows_the_bottom_again(qtbot, shown, services: AppServices) -> None:
    conv = new_conversation(services, "pages")
    fill_conversation(services.store.repo, conv.id, 30)
    view = transcript_view(shown, services, conv.id)
    bar = view.verticalScrollBar()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    bottom = bar.value()
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert bar.value() <= bottom - bar.pageStep() // 2  # (rows coming into view are measured on the way)
    assert not view.at_bottom()
    qtbot.keyClick(view, Qt.Key.Key_End)
    settle(view)
    assert view.at_bottom()
    assert bar.value() == bar.maximum()


def test_a_segment_renders_new_blocks_only_and_long_streaming_code_is_highlighted_once_final(qapp) -> None:
    from PySide6.QtWidgets import QWidget

    from desktop_chat.ui.transcript.documents import TAIL_HIGHLIGHT_LIMIT, BlockDocs
    from desktop_chat.ui.transcript.segment import Segment
    from desktop_chat.ui.transcript.style import TranscriptStyle

    style = TranscriptStyle.from_widget(QWidget())
    docs = BlockDocs()
    segment = Segment()
    code = "```python\n" + "x = 1  # a line of code\n" * (TAIL_HIGHLIGHT_LIMIT // 20)
    text = "Intro paragraph.\n\nSecond paragraph.\n\n" + code
    segment.update(text[:60], 500, style, docs)
    renders = docs.renders
    segment.update(text, 500, style, docs)
    assert [rb.block.kind for rb in segment.final] == ["paragraph_open", "paragraph_open"]
    assert docs.renders - renders <= 2  # the second paragraph (final now) and the tail; not the first again
    tail = segment.tail[0]
    assert tail.is_code
    assert tail.plain  # too long to highlight on every update while it streams
    segment.update(text, 500, style, docs)  # the text stopped growing (or the answer ended)
    assert not segment.tail[0].plain
    assert segment.tail[0].doc.toHtml().count("color:") > 5  # highlighted
    top = segment.height
    segment.update(text + "y = 2\n```\n", 500, style, docs)
    assert segment.height > top


def test_rendered_documents_are_kept_within_their_memory_budget(qapp) -> None:
    from PySide6.QtWidgets import QWidget

    from desktop_chat.ui.transcript.documents import BlockDocs, doc_cost
    from desktop_chat.ui.transcript.markdown import BlockSplitter
    from desktop_chat.ui.transcript.style import TranscriptStyle

    style = TranscriptStyle.from_widget(QWidget())
    capacity = 10 * doc_cost(300)
    docs = BlockDocs(capacity)
    blocks = []
    for i in range(40):
        splitter = BlockSplitter()
        splitter.update(f"paragraph {i} " + "word " * 58 + "\n\n")
        blocks += splitter.blocks()
    for block in blocks:
        docs.get(block, 500, style)
    assert 0 < docs.bytes <= capacity
    assert docs.cached(blocks[-1], 500, style) is not None
    assert docs.cached(blocks[0], 500, style) is None  # the least recently used went first
    renders = docs.renders
    docs.get(blocks[-2], 500, style)
    assert docs.renders == renders  # still cached


def test_scrolling_a_long_conversation_keeps_laid_out_messages_within_budget(
    qtbot, shown, services: AppServices, monkeypatch
) -> None:
    from desktop_chat.ui.transcript import delegate as delegate_module

    monkeypatch.setattr(delegate_module, "LAYOUT_CACHE_BYTES", 2 * 1024 * 1024)
    monkeypatch.setattr(delegate_module, "LAYOUT_CACHE_MIN", 8)
    conv = new_conversation(services, "long")
    fill_conversation(services.store.repo, conv.id, 180)
    view = transcript_view(shown, services, conv.id)
    bar = view.verticalScrollBar()
    for _ in range(600):  # up through every page
        bar.setValue(bar.value() - 300)
        settle(view, 1)
        if bar.value() == 0 and view.transcript_model.rowCount() == 180:
            break
    delegate = view.delegate
    assert len(delegate.laid_out) > 60  # many messages were laid out on the way
    kept = delegate._layouts
    assert 8 <= len(kept) < 60
    assert delegate._layout_bytes == sum(layout.cost for layout in kept.values())
    assert delegate._layout_bytes <= 2 * 1024 * 1024 or len(kept) == 8
    top = view.transcript_model.index(0)
    assert delegate.layout_for(top) is kept[next(reversed(kept))]  # what is on screen stays laid out
