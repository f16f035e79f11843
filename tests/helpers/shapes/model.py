"""A recorded-style stream (`Shape`), the answer folded from its events (`Outcome`, `assemble`), and the
two ways a test uses it: `replay()` through the real decoder and parser, `to_lines()` for a test server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop_chat.domain import Usage
from desktop_chat.llm.chunks import ChunkParser, end_of_stream_error
from desktop_chat.llm.errors import LLMError
from desktop_chat.llm.events import Finished, ReasoningDelta, TextDelta, ToolCallDelta, UsageReport
from desktop_chat.llm.sse import SSEDecoder

if TYPE_CHECKING:
    from desktop_chat.llm.events import StreamEvent

ToolCallTuple = tuple[str | None, str, str]


@dataclass(frozen=True)
class Shape:
    """One stream as a server sends it, and the answer a careful client keeps from it."""

    name: str
    lines: list[str]
    expected_text: str = ""
    expected_reasoning: str = ""
    expected_tool_calls: list[ToolCallTuple] = field(default_factory=list)
    expected_usage: Usage | None = None
    expected_finish: str | None = None
    expected_error: type[LLMError] | None = None
    source: str = ""


@dataclass
class Outcome:
    """Events folded into an answer: what the chat service would store."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallTuple] = field(default_factory=list)
    usage: Usage | None = None
    finish: str | None = None


def assemble(events: list[StreamEvent]) -> Outcome:
    """Fold events: text and reasoning appended, tool calls by index (id and name first non-None,
    arguments concatenated), the last usage and the last finish reason."""
    text: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, list[Any]] = {}
    outcome = Outcome()
    for event in events:
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            reasoning.append(event.text)
        elif isinstance(event, ToolCallDelta):
            call = calls.setdefault(event.index, [None, None, []])
            if call[0] is None:
                call[0] = event.id
            if call[1] is None:
                call[1] = event.name
            call[2].append(event.arguments)
        elif isinstance(event, UsageReport):
            outcome.usage = event.usage
        elif isinstance(event, Finished):
            outcome.finish = event.reason
    outcome.text = "".join(text)
    outcome.reasoning = "".join(reasoning)
    outcome.tool_calls = [(c[0], c[1] or "", "".join(c[2])) for _, c in sorted(calls.items())]
    return outcome


def replay(shape: Shape) -> tuple[list[StreamEvent], LLMError | None]:
    """Run a shape's lines through the decoder and the parser as the transport does; stop at [DONE]."""
    decoder = SSEDecoder()
    parser = ChunkParser()
    events: list[StreamEvent] = []
    try:
        for line in shape.lines:
            sse = decoder.feed_line(line)
            if sse is not None:
                events.extend(parser.feed(sse.data, sse.event))
                if parser.done:
                    break
        else:
            sse = decoder.flush()
            if sse is not None:
                events.extend(parser.feed(sse.data, sse.event))
        events.extend(parser.finish())
    except LLMError as exc:
        events.extend(parser.events_before_error)
        events.extend(parser.finish())
        return events, exc
    return events, end_of_stream_error(parser)


def to_lines(shape: Shape) -> str:
    """The text a test server sends for this shape, verbatim ("\\n" after every line)."""
    return "".join(line + "\n" for line in shape.lines)
