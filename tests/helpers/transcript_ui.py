"""Helpers for transcript tests: conversations with a given shape, and where to click on a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

from desktop_chat.domain import ResponsePatch, ResponseStatus, ToolCall, ToolStatus, Usage
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.transcript.layout import Hit, MessageLayout
from desktop_chat.ui.transcript.model import TranscriptModel
from desktop_chat.ui.transcript.view import TranscriptView

if TYPE_CHECKING:
    from tests.helpers.qt_fixtures import Show


def add_exchange(
    services: AppServices,
    conversation_id: int,
    question: str,
    answer: str,
    *,
    parent_id: int | None = None,
    status: ResponseStatus = ResponseStatus.DONE,
    error: str | None = None,
    reasoning: str = "",
    finish_reason: str | None = "stop",
    tool: tuple[str, str, str] | None = None,  # name, arguments, result
) -> tuple[int, int]:
    """A question and its finished answer after `parent_id` (default: the current leaf); their ids."""
    repo = services.store.repo
    if parent_id is None:
        parent_id = repo.get_conversation(conversation_id).active_leaf_id
    q = repo.add_message(conversation_id, question, parent_id=parent_id)
    a = add_answer(
        services,
        conversation_id,
        q.id,
        answer,
        status=status,
        error=error,
        reasoning=reasoning,
        finish_reason=finish_reason,
        tool=tool,
    )
    return q.id, a


def add_answer(
    services: AppServices,
    conversation_id: int,
    parent_id: int,
    text: str,
    *,
    status: ResponseStatus = ResponseStatus.DONE,
    error: str | None = None,
    reasoning: str = "",
    finish_reason: str | None = "stop",
    tool: tuple[str, str, str] | None = None,
) -> int:
    """A finished answer to `parent_id` (a sibling when it already has one); its message id."""
    repo = services.store.repo
    a = repo.start_response(conversation_id, parent_id, model="test-model", provider="Test")
    calls: tuple[ToolCall, ...] = ()
    statuses: dict[str, ToolStatus] = {}
    if tool is not None:
        name, arguments, result = tool
        calls = (ToolCall("call_1", name, arguments, 0, 0),)
        statuses = {"call_1": ToolStatus.SUCCEEDED}
        execution = repo.add_tool_execution(a.response_id, "call_1", name, arguments)
        repo.update_tool_execution(execution.id, ToolStatus.RUNNING)
        repo.update_tool_execution(execution.id, ToolStatus.SUCCEEDED, result=result)
    repo.finish_response(
        a.response_id,
        status,
        finish_reason=finish_reason,
        usage=Usage(12, 34, 46),
        error=error,
        tool_calls=calls,
        tool_status=statuses,
        pending=[ResponsePatch(a.response_id, text, reasoning_delta=reasoning)],
    )
    repo.update_conversation(conversation_id, active_leaf_id=a.id)
    return a.id


def transcript_view(
    shown: Show, services: AppServices, conversation_id: int, height: int = 600
) -> TranscriptView:
    """A transcript view over the services (700 px wide), shown, with the conversation loaded and laid out."""
    model = TranscriptModel(conversations=services.conversations, chat=services.chat)
    view = shown(TranscriptView(model), size=(700, height))
    model.show_conversation(conversation_id)
    settle(view)
    return view


def hit_point(view: TranscriptView, message_id: int, action: str, arg: object = None) -> QPoint:
    """The centre of a message's button/expander (viewport coordinates), laid out as shown now."""
    layout, row_rect = _layout(view, message_id)
    for hit in layout.hits:
        if hit.action == action and (arg is None or hit.arg == arg):
            return row_rect.topLeft() + hit.rect.center()
    raise LookupError(f"no {action} on message {message_id}: {[h.action for h in layout.hits]}")


def find_point(view: TranscriptView, message_id: int, wanted: Callable[[Hit], bool]) -> QPoint:
    """A point on the message whose hit test satisfies `wanted` (a link, a code block's Copy...)."""
    layout, row_rect = _layout(view, message_id)
    for y in range(0, layout.height, 3):
        for x in range(0, row_rect.width(), 4):
            hit = layout.hit_at(QPoint(x, y))
            if hit is not None and wanted(hit):
                return row_rect.topLeft() + QPoint(x, y)
    raise LookupError("nothing like that on the message")


def _layout(view: TranscriptView, message_id: int) -> tuple[MessageLayout, QRect]:
    model = view.transcript_model
    row = model.row_of(message_id)
    assert row is not None, f"message {message_id} is not loaded"
    index = model.index(row, 0)
    view.scrollTo(index)
    settle(view)
    layout = view.delegate.layout_for(index)
    assert layout is not None
    return layout, view.visualRect(index)


def settle(view: TranscriptView, rounds: int = 3) -> None:
    """Let delayed layouts and paints run."""
    for _ in range(rounds):
        QApplication.processEvents()
        view.executeDelayedItemsLayout()
