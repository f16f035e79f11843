"""Conversations for tests: written straight into a store (search, tools), or made through the service."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from desktop_chat.domain import Conversation, ResponsePatch, ResponseStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.storage import Store

T = TypeVar("T")


def conversation_with(store: Store, title: str, *texts: str) -> list[int]:
    """A conversation of alternating user/assistant messages, all complete; returns the message ids."""
    repo = store.repo
    conv = repo.create_conversation(title)
    ids: list[int] = []
    parent: int | None = None
    for i, text in enumerate(texts):
        if i % 2 == 0:
            mid = repo.add_message(conv.id, text, parent_id=parent).id
        else:
            msg = repo.start_response(conv.id, parent)
            repo.finish_response(
                msg.response_id, ResponseStatus.DONE, pending=[ResponsePatch(msg.response_id, text)]
            )
            mid = msg.id
        ids.append(mid)
        parent = mid
    return ids


def new_conversation(services: AppServices, title: str = "") -> Conversation:
    """A new conversation made through the service, as the window makes one: stored by the writer
    thread, then announced. Runs the test's loop (`aloop`) until then, or a short-lived one."""
    return complete(services.conversations.create(title))


def complete(awaitable: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from a test's top level: on the test's loop when it has one."""
    from PySide6.QtWidgets import QApplication

    from desktop_chat.event_loop import QtEventLoop
    from tests.helpers import loop as test_loop

    loop = test_loop.current
    if loop is not None and not loop.is_closed():
        return loop.run_until_complete(awaitable)
    own = QtEventLoop(QApplication.instance())
    try:
        return own.run_until_complete(awaitable)
    finally:
        own.close()


def stored(services: AppServices) -> None:
    """Until every write queued so far is stored and announced (the writer thread works on its own)."""
    complete(services.writes.idle())
