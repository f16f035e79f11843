"""Plain data shared by every layer: no Qt, no Peewee, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")

# Markers that storage puts around highlighted words in search snippets (never typed by people).
HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"


class Role(StrEnum):
    """Who wrote a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"

    @property
    def label(self) -> str:
        """Who wrote it, for people ("You", "Assistant", ...): the one wording every view and export uses."""
        return _ROLE_LABELS[self]


_ROLE_LABELS = {Role.USER: "You", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System", Role.TOOL: "Tool"}


def role_label(role: str) -> str:
    """`Role.label` for a stored or imported role name; an unknown one title-cased."""
    try:
        return Role(role).label
    except ValueError:
        return role.title()


class ResponseStatus(StrEnum):
    """Life cycle of one streamed answer."""

    PENDING = "pending"
    STREAMING = "streaming"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        """True once the answer will not change any more by itself."""
        return self not in (ResponseStatus.PENDING, ResponseStatus.STREAMING)


class ToolStatus(StrEnum):
    """Life cycle of one tool execution."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ApprovalDecision(StrEnum):
    """The person's answer to a tool call that asks first (or what became of the question)."""

    ONCE = "once"  # run this call
    CONVERSATION = "conversation"  # this tool, for the rest of this conversation
    ALWAYS = "always"  # this tool, from now on (saved)
    DENY = "deny"  # do not run it; the model is told the person declined
    CANCELLED = "cancelled"  # the answer stopped while the question was open (never chosen by a person)

    @property
    def allows(self) -> bool:
        """True for the decisions that run the call."""
        return self in (ApprovalDecision.ONCE, ApprovalDecision.CONVERSATION, ApprovalDecision.ALWAYS)


def from_timestamp(ts: float) -> datetime:
    """A stored epoch timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """An OpenAI-compatible endpoint. Its API key lives in the keychain under `key_ref`, never here."""

    id: int
    key_ref: str
    name: str
    base_url: str
    default_model: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    needs_key: bool = True


@dataclass(frozen=True, slots=True)
class Conversation:
    """One chat, as listed and opened."""

    id: int
    uuid: str
    title: str
    created_at: datetime
    updated_at: datetime
    pinned: bool = False
    archived: bool = False
    profile_id: int | None = None
    model: str = ""
    system_prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    active_leaf_id: int | None = None


class ConversationSummary(NamedTuple):
    """What the conversation list shows of a conversation: light enough to load 10,000 at once.

    Timestamps are epoch seconds (no datetime per row). A NamedTuple, not a dataclass: built straight
    from result rows, about three times cheaper per row.
    """

    id: int
    title: str
    updated_at: float
    created_at: float
    pinned: bool
    archived: bool


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for (arguments as the raw JSON text the model sent).

    One answer can call tools in several rounds: `round` numbers them from 0, and `text_offset` is how
    much of the answer's text had been written when the round's calls were made.
    """

    id: str
    name: str
    arguments: str = ""
    round: int = 0
    text_offset: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the provider."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0

    def to_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        """Parse the stored form, ignoring unknown keys."""
        return cls(**{k: int(data.get(k) or 0) for k in cls.__slots__})


@dataclass(frozen=True, slots=True)
class Response:
    """The document of one assistant answer: everything streamed into it, and how it ended."""

    id: int
    message_id: int
    status: ResponseStatus
    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_status: dict[str, ToolStatus] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    provider: str = ""
    error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def can_continue(self) -> bool:
        """An ended answer that was interrupted, stopped, failed or cut at the length limit."""
        if not self.status.is_final:
            return False
        return self.status in _CONTINUABLE or self.finish_reason == "length"


_CONTINUABLE = (ResponseStatus.ERROR, ResponseStatus.CANCELLED, ResponseStatus.INTERRUPTED)


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation. Assistant messages carry their text in `response`."""

    id: int
    uuid: str
    conversation_id: int
    parent_id: int | None
    role: Role
    content: str
    created_at: datetime
    response: Response | None = None

    @property
    def text(self) -> str:
        """What the message says, whoever wrote it."""
        return self.response.text if self.response is not None else self.content

    @property
    def response_id(self) -> int:
        """The id of this assistant message's response document."""
        if self.response is None:
            raise ValueError(f"message {self.id} ({self.role}) has no response document")
        return self.response.id

    @property
    def can_continue(self) -> bool:
        """An answer that can be continued in place (see `Response.can_continue`)."""
        return self.response is not None and self.response.can_continue


@dataclass(frozen=True, slots=True)
class ToolExecution:
    """One run of a tool for a tool call in an answer."""

    id: int
    response_id: int
    call_id: str
    name: str
    arguments: str
    status: ToolStatus
    result: str | None = None
    error: str | None = None
    round: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ResponsePatch:
    """What one flush adds to a response document (deltas are appended, the rest replaced)."""

    response_id: int
    text_delta: str = ""
    reasoning_delta: str = ""
    tool_calls: tuple[ToolCall, ...] | None = None
    tool_status: dict[str, ToolStatus] | None = None
    status: ResponseStatus | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message that matches a search, with a snippet whose hits sit between the highlight markers."""

    message_id: int
    conversation_id: int
    conversation_title: str
    role: Role
    snippet: str
    created_at: datetime
    rank: float = 0.0

    def snippet_parts(self) -> list[tuple[str, bool]]:
        """The snippet as (text, highlighted) pieces, ready for any renderer to escape and style."""
        parts: list[tuple[str, bool]] = []
        rest = self.snippet
        while rest:
            start = rest.find(HIGHLIGHT_START)
            if start < 0:
                parts.append((rest, False))
                break
            if start:
                parts.append((rest[:start], False))
            end = rest.find(HIGHLIGHT_END, start + 1)
            end = len(rest) if end < 0 else end
            parts.append((rest[start + 1 : end], True))
            rest = rest[end + 1 :]
        return [p for p in parts if p[0]]


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A stored row that could not be read: the rest of the list is still shown."""

    table: str
    row_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Rows read from the store, plus any that had to be skipped."""

    items: list[T]
    skipped: list[SkippedRow] = field(default_factory=list)
