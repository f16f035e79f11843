"""What a request sends: the instructions, the branch before the answer, and the answer so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_chat.llm.messages import answer_messages, to_api_messages
from desktop_chat.services.live import LiveResponse
from desktop_chat.storage import Repo

HISTORY_LIMIT = 100_000  # messages sent as history at most (the path is read in one recursive query)
ApiMessages = list[dict[str, Any]]


def history(message_id: int, system_prompt: str | None) -> Callable[[Repo], ApiMessages]:
    """A read job: the instructions and the branch before the answer `message_id`, root first, as API
    messages (run it off the GUI thread: a long conversation takes a while to read and convert)."""

    def read(repo: Repo) -> ApiMessages:
        parent_id = repo.get_message(message_id).parent_id
        if parent_id is None:
            return to_api_messages([], {}, system_prompt=system_prompt)
        ids, _ = repo.branch_ids(parent_id, limit=HISTORY_LIMIT)
        path = repo.messages_by_id(ids).items
        response_ids = [m.response.id for m in path if m.response is not None]
        return to_api_messages(path, repo.tool_executions_for(response_ids), system_prompt=system_prompt)

    return read


def answer_so_far(repo: Repo, live: LiveResponse) -> ApiMessages:
    """The answer's earlier rounds (or the text to continue), as assistant and tool messages."""
    if not live.text_length and not live.tool_calls:
        return []
    executions = repo.tool_executions_for([live.response_id]).get(live.response_id, [])
    return answer_messages(live.snapshot(), executions)
