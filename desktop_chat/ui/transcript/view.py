"""The transcript view: a virtualized list of messages (no widget per message), painted by the delegate.

- Rows never shown report an estimated height; the rows in (and half a screen around) the viewport are
  laid out for real right before they are shown, and the layout is redone when their height differs.
- The content stays put while heights change or older pages are prepended: an anchor (the message at the
  bottom of the viewport and its offset) is kept across every relayout. A reader at the bottom stays at
  the bottom (the view follows a stream only then).
- Scrolling near the top loads the branch's previous page.
- Keyboard: Up/Down move between messages, Page Up/Down scroll, Home/End go to the ends, Ctrl+C copies,
  Ctrl+R regenerates, Ctrl+E edits, Alt+Left/Right switch branches, Enter continues an interrupted answer.
  Every action is also a button on the message.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QFocusEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPaintEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from desktop_chat.domain import ApprovalDecision, Message, Role
from desktop_chat.markdown_parser import is_safe_url
from desktop_chat.ui.transcript.delegate import TranscriptDelegate
from desktop_chat.ui.transcript.highlight import warm_up_in_background
from desktop_chat.ui.transcript.model import TranscriptModel

Index = QModelIndex | QPersistentModelIndex
BOTTOM_SLACK = 4  # pixels from the end that still count as "at the bottom"
MAX_LAYOUT_PASSES = 4


class TranscriptView(QListView):
    """Shows a TranscriptModel; actions on messages come out as signals (the window calls the services)."""

    edit_requested = Signal(object)  # Message: put it in the composer to edit and resend
    regenerate_requested = Signal(int)  # assistant message id
    continue_requested = Signal(int)  # answer to continue (interrupted, stopped, failed, cut)
    retry_requested = Signal(int)  # failed answer to try again
    switch_requested = Signal(int)  # sibling message id to show instead
    copied = Signal(str)  # text put on the clipboard
    approval_decided = Signal(int, ApprovalDecision)  # tool execution id, the person's decision
    tool_cancel_requested = Signal(int)  # tool execution id of a running call

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Transcript")
        self._model = model
        self._anchor: tuple[int, int] | None = None  # message id, its top in the viewport
        self._at_bottom = True
        self._in_layout = False
        self._adjusting = False
        self._loading_older = False
        self._switching: tuple[int, int | None] | None = None  # the sibling asked for, its old top
        model.reloaded.connect(self._on_reloaded)
        self.paint_ms: list[float] | None = None  # paint durations, when a benchmark asks
        self.layout_ms: list[float] | None = None
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setUniformItemSizes(False)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # no width flip-flop
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.verticalScrollBar().setSingleStep(24)
        self.setModel(model)
        self.delegate = TranscriptDelegate(self)
        self.setItemDelegate(self.delegate)
        self.delegate.action_triggered.connect(self.trigger)
        model.modelReset.connect(self.follow_bottom)
        self._older_timer = QTimer(self)  # member timers, not QTimer.singleShot(0, ...) functors
        self._older_timer.setSingleShot(True)
        self._older_timer.setInterval(0)
        self._older_timer.timeout.connect(self._load_older)
        self._warm_up_timer = QTimer(self)
        self._warm_up_timer.setSingleShot(True)
        self._warm_up_timer.setInterval(200)
        self._warm_up_timer.timeout.connect(warm_up_in_background)  # lexers, off the first open
        self._warm_up_timer.start()
        model.rowsAboutToBeInserted.connect(self._capture_anchor)
        model.rowsAboutToBeRemoved.connect(self._capture_anchor)

    @property
    def transcript_model(self) -> TranscriptModel:
        """The model shown."""
        return self._model

    # ---- scrolling and the anchor ------------------------------------------------------------------

    def at_bottom(self) -> bool:
        """True while the view follows the newest text."""
        return self._at_bottom

    def follow_bottom(self) -> None:
        """Show the end of the transcript and keep following it."""
        self._at_bottom = True
        self._anchor = None
        self.scheduleDelayedItemsLayout()

    def _capture_anchor(self, *_: object) -> None:
        if self._adjusting or self._in_layout:
            return
        bar = self.verticalScrollBar()
        self._at_bottom = bar.value() >= bar.maximum() - BOTTOM_SLACK
        index = self.indexAt(QPoint(1, self.viewport().height() - 1))
        if not index.isValid() and self._model.rowCount():
            index = self._model.index(self._model.rowCount() - 1)
        message = self._model.message_at(index.row()) if index.isValid() else None
        self._anchor = (message.id, self.visualRect(index).top()) if message is not None else None

    def anchor_on(self, message_id: int, top: int | None = None) -> None:
        """Keep a message where it is (or at `top`) through the next relayouts."""
        row = self._model.row_of(message_id)
        if top is None and row is not None:
            top = self.visualRect(self._model.index(row)).top()
        if top is not None:
            self._anchor = (message_id, top)
            self._at_bottom = False

    def _restore_anchor(self) -> None:
        bar = self.verticalScrollBar()
        self._adjusting = True
        try:
            if self._at_bottom:
                bar.setValue(bar.maximum())
            elif self._anchor is not None:
                row = self._model.row_of(self._anchor[0])
                if row is not None:
                    delta = self.visualRect(self._model.index(row)).top() - self._anchor[1]
                    if delta:
                        bar.setValue(bar.value() + delta)
        finally:
            self._adjusting = False

    def _measure_visible(self) -> bool:
        """Lay out for real the rows in and around the viewport; True when a height changed."""
        count = self._model.rowCount()
        if not count:
            return False
        height = self.viewport().height()
        margin = height // 2
        first = self.indexAt(QPoint(1, 0))
        start = first.row() if first.isValid() else 0
        changed = False
        for row in range(start, count):
            index = self._model.index(row)
            if self.visualRect(index).top() > height + margin:
                break
            changed |= self.delegate.measure(index)
        for row in range(start - 1, -1, -1):
            index = self._model.index(row)
            if self.visualRect(index).bottom() < -margin:
                break
            changed |= self.delegate.measure(index)
        return changed

    def doItemsLayout(self) -> None:
        """Lay the rows out, measure the ones in view, and keep the anchor (or the bottom) in place."""
        if self._in_layout:
            super().doItemsLayout()
            return
        started = time.perf_counter()
        self._in_layout = True
        try:
            for _ in range(MAX_LAYOUT_PASSES):
                super().doItemsLayout()
                self._restore_anchor()
                if not self._measure_visible():
                    break
        finally:
            self._in_layout = False
        self._capture_anchor()
        self._maybe_load_older()
        if self.layout_ms is not None:
            self.layout_ms.append((time.perf_counter() - started) * 1000)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        """A scroll by the reader: new anchor; rows coming into view are measured; older pages load."""
        super().scrollContentsBy(dx, dy)
        if self._in_layout or self._adjusting:
            return
        self._capture_anchor()
        if self._measure_visible():
            self.doItemsLayout()
        self._maybe_load_older()

    def _maybe_load_older(self) -> None:
        if self._loading_older or not self._model.has_older:
            return
        if self.verticalScrollBar().value() < self.viewport().height() // 2:
            self._loading_older = True
            self._older_timer.start()

    def _load_older(self) -> None:
        self._loading_older = False
        if not self._at_bottom:
            self._capture_anchor()
        self._model.load_older()

    def dataChanged(self, top_left: Index, bottom_right: Index, roles: Sequence[int] = ()) -> None:
        """A changed row in view is laid out at once; a new height relayouts (once, on the next turn)."""
        super().dataChanged(top_left, bottom_right, roles)
        if self._in_layout:
            return
        viewport = self.viewport().rect()
        for row in range(top_left.row(), bottom_right.row() + 1):
            index = self._model.index(row)
            if self.visualRect(index).intersects(viewport) and self.delegate.measure(index):
                self.scheduleDelayedItemsLayout()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the rows in view (timed when a benchmark asks)."""
        started = time.perf_counter()
        super().paintEvent(event)
        if self.paint_ms is not None:
            self.paint_ms.append((time.perf_counter() - started) * 1000)

    # ---- theme and font ----------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        """A new palette (light/dark) or font (the text size setting, applied to the whole app by
        ui/theme.py) renders everything again."""
        super().changeEvent(event)
        if (
            event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange)
            and self.delegate.refresh_style()
        ):
            self.scheduleDelayedItemsLayout()
            self.viewport().update()

    # ---- actions -----------------------------------------------------------------------------------

    def current_message(self) -> Message | None:
        """The message with the keyboard focus (the newest one when none has it)."""
        index = self.currentIndex()
        row = index.row() if index.isValid() else self._model.rowCount() - 1
        return self._model.message_at(row)

    def trigger(self, action: str, message_id: int, arg: object = None) -> None:
        """Do what a button (or key) on a message asks."""
        row = self._model.row_of(message_id)
        message = self._model.message_at(row) if row is not None else None
        if message is None:
            return
        if action == "copy":
            self.copy_text(message.text)
        elif action == "code":
            self.copy_text(str(arg))
        elif action == "link":
            url = str(arg)
            if is_safe_url(url):
                QDesktopServices.openUrl(QUrl(url))
        elif action == "edit" and message.role is Role.USER:
            self.edit_requested.emit(message)
        elif action == "regenerate" and message.role is Role.ASSISTANT:
            self.follow_bottom()
            self.regenerate_requested.emit(message_id)
        elif action == "continue" and message.can_continue:
            self.follow_bottom()
            self.continue_requested.emit(message_id)
        elif action == "retry":
            self.follow_bottom()
            self.retry_requested.emit(message_id)
        elif action == "switch" and isinstance(arg, int):
            self._switch(message_id, arg)
        elif action == "approve" and isinstance(arg, tuple):
            execution_id, decision = arg
            self.approval_decided.emit(int(execution_id), ApprovalDecision(decision))
        elif action == "cancel_tool" and isinstance(arg, int):
            self.tool_cancel_requested.emit(arg)
        elif action in ("reasoning", "tool"):
            part = "reasoning" if action == "reasoning" else f"tool:{arg}"
            self.anchor_on(message_id)
            self._model.set_expanded(message_id, part, not self._model.is_expanded(message_id, part))

    def reveal(self, message_id: int, *, highlight: bool = True, terms: tuple[str, ...] = ()) -> bool:
        """Scroll to a message of the branch (loading older pages as needed), select and tint it."""
        while self._model.row_of(message_id) is None and self._model.load_older():
            pass
        row = self._model.row_of(message_id)
        if row is None:
            return False
        index = self._model.index(row)
        self._at_bottom = False
        self.executeDelayedItemsLayout()
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        self.setCurrentIndex(index)
        if highlight:
            self._model.set_highlight(message_id, terms)
        return True

    def _switch(self, message_id: int, sibling_id: int) -> None:
        row = self._model.row_of(message_id)
        top = self.visualRect(self._model.index(row)).top() if row is not None else None
        self._switching = (sibling_id, top)  # anchored once the model shows the other branch
        self.switch_requested.emit(sibling_id)

    def _on_reloaded(self) -> None:
        if self._switching is None:
            return
        (sibling_id, top), self._switching = self._switching, None
        while self._model.row_of(sibling_id) is None and self._model.load_older():
            pass  # the switched message sits above the newest page of the new branch
        self.anchor_on(sibling_id, top)
        new_row = self._model.row_of(sibling_id)
        if new_row is not None:
            self.setCurrentIndex(self._model.index(new_row))
        self.scheduleDelayedItemsLayout()

    def copy_text(self, text: str) -> None:
        """Put `text` on the clipboard (and say so)."""
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Keyboard actions on the current message."""
        key, mods = event.key(), event.modifiers()
        if self._scroll_key(key, mods):
            event.accept()
            return
        message = self.current_message()
        ctrl = mods == Qt.KeyboardModifier.ControlModifier
        alt = mods == Qt.KeyboardModifier.AltModifier
        action: tuple[str, object] | None = None
        if message is not None:
            row = self._model.row_at(self._model.row_of(message.id) or 0)
            siblings = row.siblings if row is not None else None
            waiting = self._model.pending_approval(message.id)
            if waiting is not None and not mods and key in (Qt.Key.Key_Y, Qt.Key.Key_N):
                event.accept()
                self.approval_decided.emit(
                    waiting.execution_id,
                    ApprovalDecision.ONCE if key == Qt.Key.Key_Y else ApprovalDecision.DENY,
                )
                return
            if event.matches(QKeySequence.StandardKey.Copy):
                action = ("copy", None)
            elif ctrl and key == Qt.Key.Key_R:
                action = ("regenerate", None)
            elif ctrl and key == Qt.Key.Key_E:
                action = ("edit", None)
            elif alt and key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and siblings is not None:
                target = siblings.neighbour(-1 if key == Qt.Key.Key_Left else 1)
                action = ("switch", target) if target is not None else ("none", None)
            elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods and message.can_continue:
                action = ("continue", None)
        if action is None:
            super().keyPressEvent(event)
            return
        event.accept()
        if message is not None and action[0] != "none":
            self.trigger(action[0], message.id, action[1])

    def _scroll_key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        """Page Up/Down scroll a page (long answers are read, not jumped over); Home/End go to the ends."""
        bar = self.verticalScrollBar()
        if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier):
            return False
        if key == Qt.Key.Key_PageUp:
            bar.triggerAction(bar.SliderAction.SliderPageStepSub)
        elif key == Qt.Key.Key_PageDown:
            bar.triggerAction(bar.SliderAction.SliderPageStepAdd)
        elif key == Qt.Key.Key_Home:
            bar.setValue(0)
        elif key == Qt.Key.Key_End:
            self.follow_bottom()
        else:
            return False
        return True

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Focus lands on the newest message (not the first row, which would scroll to the top)."""
        if not self.currentIndex().isValid() and self._model.rowCount():
            auto = self.hasAutoScroll()
            self.setAutoScroll(False)
            self.selectionModel().setCurrentIndex(
                self._model.index(self._model.rowCount() - 1), self.selectionModel().SelectionFlag.NoUpdate
            )
            self.setAutoScroll(auto)
        super().focusInEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        """The mouse left: no hover highlight."""
        self.delegate.set_hover(None, None)
        super().leaveEvent(event)
