"""What a streamed chat completion turns into: small, immutable events (no Qt, no openai types)."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_chat.domain import Usage


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """More reasoning ("thinking") text, shown apart from the answer and never sent back."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of tool call number `index` of this message: `id` and `name` usually come only with the
    first piece, `arguments` is a fragment of the JSON arguments text to append."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Token counts (a later report replaces an earlier one)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Finished:
    """The model ended its message: `reason` is `stop`, `length`, `tool_calls`, `content_filter`, or what
    the provider sent when it is something else."""

    reason: str


@dataclass(frozen=True, slots=True)
class Retrying:
    """The request failed before any content arrived and will be sent again after `delay` seconds."""

    attempt: int
    delay: float
    reason: str


StreamEvent = TextDelta | ReasoningDelta | ToolCallDelta | UsageReport | Finished | Retrying
