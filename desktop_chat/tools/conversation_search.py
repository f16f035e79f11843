"""A tool that searches the person's own past conversations (full text, on this machine only).

The tool never touches storage itself: it is given a search callable, which the services layer builds from
the repository (`hits_from_repo` adapts anything with the repository's `search` method).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desktop_chat.domain import HIGHLIGHT_END, HIGHLIGHT_START
from desktop_chat.tools.registry import ToolResult, ToolSpec, text_argument

DEFAULT_LIMIT = 8
MAX_LIMIT = 20
MAX_QUERY = 500  # characters


@dataclass(frozen=True, slots=True)
class Hit:
    """One message that matches, with a snippet whose hits sit between the domain's highlight markers."""

    conversation_title: str
    conversation_id: int
    when: float  # unix time of the message
    snippet: str


SearchFn = Callable[[str, int], Sequence[Hit]]


def hits_from_repo(repo: Any) -> Callable[[str, int], list[Hit]]:
    """A search callable over a repository (duck-typed: `repo.search(query, limit=n).items` of SearchHit)."""

    def search(query: str, limit: int) -> list[Hit]:
        page = repo.search(query, limit=limit)
        return [
            Hit(
                conversation_title=str(h.conversation_title),
                conversation_id=int(h.conversation_id),
                when=float(h.created_at.timestamp()),
                snippet=str(h.snippet),
            )
            for h in page.items
        ]

    return search


def markdown_snippet(snippet: str) -> str:
    """The snippet on one line, its highlighted words in **bold**."""
    text = " ".join(snippet.split())
    return text.replace(HIGHLIGHT_START, "**").replace(HIGHLIGHT_END, "**")


def _limit(value: object) -> int | None:
    """The requested number of results, clamped to 1..MAX_LIMIT (None if it is not a number)."""
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        return None
    return max(1, min(MAX_LIMIT, value))


class ConversationSearchTool:
    """Full-text search over the person's conversation history."""

    spec = ToolSpec(
        name="search_conversations",
        description=(
            "Search the user's past conversations with you (stored locally) and get matching excerpts with "
            "the conversation title and date, newest first. Query syntax: plain words (all must match), "
            '"exact phrases" in double quotes, -word to exclude, prefix* for word beginnings.'
        ),
        parameters={
            "type": "object",
            "properties": {
                "query": {
                    "type": "string",
                    "description": 'Words to find, e.g. sourdough "baking time" -pizza or gradient*',
                },
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT,
                    "description": "How many matches to return",
                },
            },
            "required": ["query"],
        },
    )

    def __init__(self, search: SearchFn) -> None:
        self._search = search

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        """A numbered list of matches: title, date and snippet."""
        query = text_argument(arguments, "query")
        if query is None:
            return ToolResult("Pass the words to search for as a non-empty string in 'query'.", True)
        if len(query) > MAX_QUERY:
            return ToolResult(
                f"The query is too long ({len(query)} characters; the limit is {MAX_QUERY}).", True
            )
        limit = _limit(arguments.get("limit"))
        if limit is None:
            return ToolResult(f"'limit' must be a whole number from 1 to {MAX_LIMIT}.", True)
        try:
            hits = list(self._search(query, limit))[:limit]
        except Exception as exc:  # the store's problem is the model's error message
            return ToolResult(f"The search failed: {type(exc).__name__}: {exc}", True)
        if not hits:
            return ToolResult(f"No conversation mentions {query}.")
        lines = [f"{len(hits)} match(es) for {query}:"]
        for number, hit in enumerate(hits, 1):
            day = datetime.fromtimestamp(hit.when).date().isoformat()
            title = " ".join(hit.conversation_title.split()) or "Untitled"
            lines.append(f"{number}. {title} ({day}): {markdown_snippet(hit.snippet)}")
        return ToolResult("\n".join(lines))
