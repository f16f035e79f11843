"""The only code that queries the database: `Repo`, which takes and returns domain objects.

`Repo` is put together from one part per table or job, each with its reads first and then its writes
(every method that writes says so on its docstring's first line): profiles, conversations, messages and
branches, responses and streaming patches, tool executions, search, and whole conversation trees for
export and import.
"""

from __future__ import annotations

from desktop_chat.storage.repo.base import INTERRUPTED_ERROR, TOOL_STOPPED_ERROR, NotFoundError
from desktop_chat.storage.repo.conversations import ConversationQueries
from desktop_chat.storage.repo.messages import MessageQueries
from desktop_chat.storage.repo.profiles import ProfileQueries
from desktop_chat.storage.repo.responses import ResponseQueries
from desktop_chat.storage.repo.search_index import SearchQueries
from desktop_chat.storage.repo.tool_executions import ToolExecutionQueries
from desktop_chat.storage.repo.trees import TreeQueries

__all__ = ["INTERRUPTED_ERROR", "TOOL_STOPPED_ERROR", "NotFoundError", "Repo"]


class Repo(
    ProfileQueries,
    ConversationQueries,
    MessageQueries,
    ResponseQueries,
    ToolExecutionQueries,
    SearchQueries,
    TreeQueries,
):
    """Queries over one open database: every read and write of the app is one of these methods.

    In the app the writes run on the store's writer thread (`storage/writer.py`); opening the store
    (migrations, crash recovery), `--review` and provider profiles still write on the caller's thread."""
