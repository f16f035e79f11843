"""Conversations written straight into a store, for the tests that read them back (search, tools)."""

from __future__ import annotations

from desktop_chat.domain import ResponsePatch, ResponseStatus
from desktop_chat.storage import Store


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
