"""The in-memory document of an answer while it streams: patched per delta in O(1), flushed in batches.

Per delta this only appends to lists (the hot path touches no disk, no widget, no signal). `take_patch()`
hands the store everything queued since the last flush as one `ResponsePatch`; `snapshot()` gives the
views a `Response` with the whole text so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from desktop_chat.domain import Response, ResponsePatch, ResponseStatus, ToolCall, ToolStatus, Usage
from desktop_chat.llm.events import ToolCallDelta


@dataclass(slots=True)
class _CallParts:
    """A tool call being assembled from deltas."""

    id: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)


class LiveResponse:
    """One streaming answer: what has arrived, and what the store has not seen yet."""

    def __init__(self, conversation_id: int, message_id: int, base: Response) -> None:
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.response_id = base.id
        self.model = base.model
        self.provider = base.provider
        self.created_at = base.created_at
        self.status = base.status
        self._text: list[str] = [base.text] if base.text else []
        self._text_len = len(base.text)
        self._reasoning: list[str] = [base.reasoning] if base.reasoning else []
        self.tool_calls: list[ToolCall] = list(base.tool_calls)  # calls of finished rounds
        self.tool_status: dict[str, ToolStatus] = dict(base.tool_status)
        self.round = 1 + max((c.round for c in base.tool_calls), default=-1)
        self._calls: dict[int, _CallParts] = {}  # calls of the round now streaming, by index
        self._usage_before: Usage | None = base.usage  # rounds already finished (and earlier runs)
        self._usage_round: Usage | None = None  # the round streaming now (each report replaces the last)
        self.finish_reason: str | None = None
        self.error: str | None = None
        self.note: str | None = None  # transient state for people: "rate limited, retrying in 5 s"
        # queued for the next flush
        self._q_text: list[str] = []
        self._q_reasoning: list[str] = []
        self._q_status: ResponseStatus | None = None
        self._q_calls = False
        self._q_tool_status = False
        self.dirty = False
        self.ending = False  # its end is on the way to the store: flushes leave it alone

    # ---- the hot path ----------------------------------------------------------------------------

    def add_text(self, text: str) -> None:
        """Append answer text."""
        self._text.append(text)
        self._text_len += len(text)
        self._q_text.append(text)
        self.dirty = True

    def add_reasoning(self, text: str) -> None:
        """Append reasoning text."""
        self._reasoning.append(text)
        self._q_reasoning.append(text)
        self.dirty = True

    def add_tool_delta(self, delta: ToolCallDelta) -> None:
        """Merge a piece of a tool call of the current round."""
        parts = self._calls.get(delta.index)
        if parts is None:
            parts = self._calls[delta.index] = _CallParts()
        if delta.id and not parts.id:
            parts.id = delta.id
        if delta.name and not parts.name:
            parts.name = delta.name
        if delta.arguments:
            parts.arguments.append(delta.arguments)
        self._q_calls = True
        self.dirty = True

    def set_status(self, status: ResponseStatus) -> None:
        """Move between pending and streaming (queued for the store)."""
        if status is not self.status:
            self.status = status
            self._q_status = status
            self.dirty = True

    def report_usage(self, usage: Usage) -> None:
        """The provider's token counts for the round streaming now."""
        self._usage_round = usage

    def end_usage_round(self) -> None:
        """A request ended: its tokens join the answer's total (every round is billed)."""
        self._usage_before = self.usage
        self._usage_round = None

    @property
    def usage(self) -> Usage | None:
        """Tokens of the whole answer: every round's request added up."""
        before, now = self._usage_before, self._usage_round
        if before is None or now is None:
            return now or before
        return Usage(
            before.prompt_tokens + now.prompt_tokens,
            before.completion_tokens + now.completion_tokens,
            before.total_tokens + now.total_tokens,
            before.reasoning_tokens + now.reasoning_tokens,
        )

    # ---- reading ---------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The answer text so far (joined once, then kept joined)."""
        if len(self._text) > 1:
            self._text[:] = ["".join(self._text)]
        return self._text[0] if self._text else ""

    @property
    def text_length(self) -> int:
        """Characters of answer text so far, without joining."""
        return self._text_len

    @property
    def reasoning(self) -> str:
        """The reasoning so far."""
        if len(self._reasoning) > 1:
            self._reasoning[:] = ["".join(self._reasoning)]
        return self._reasoning[0] if self._reasoning else ""

    def round_calls(self) -> list[ToolCall]:
        """The calls of the round now streaming, as far as they have arrived (ids made up if missing)."""
        return [
            ToolCall(
                parts.id or f"call_{self.round}_{index}",
                parts.name or "",
                "".join(parts.arguments),
                self.round,
                self._text_len,
            )
            for index, parts in sorted(self._calls.items())
        ]

    def all_calls(self) -> tuple[ToolCall, ...]:
        """Calls of finished rounds and of the round now streaming."""
        return (*self.tool_calls, *self.round_calls())

    def close_round(self) -> list[ToolCall]:
        """End the current round of tool calls: they join the document; returns them."""
        calls = self.round_calls()
        self.tool_calls.extend(calls)
        self._calls.clear()
        self.round += 1
        for call in calls:
            self.tool_status.setdefault(call.id, ToolStatus.QUEUED)
        self._q_calls = self._q_tool_status = True
        self.dirty = True
        return calls

    def set_tool_status(self, call_id: str, status: ToolStatus) -> None:
        """A tool call moved on."""
        self.tool_status[call_id] = status
        self._q_tool_status = True
        self.dirty = True

    def snapshot(self) -> Response:
        """The document as it stands, for views."""
        now = datetime.now(UTC)
        return Response(
            id=self.response_id,
            message_id=self.message_id,
            status=self.status,
            text=self.text,
            reasoning=self.reasoning,
            tool_calls=self.all_calls(),
            tool_status=dict(self.tool_status),
            finish_reason=self.finish_reason,
            usage=self.usage,
            model=self.model,
            provider=self.provider,
            error=self.error,
            created_at=self.created_at,
            updated_at=now,
        )

    # ---- flushing ----------------------------------------------------------------------------------

    def take_patch(self) -> ResponsePatch | None:
        """Everything queued since the last flush, as one patch (None when nothing is)."""
        if not self.dirty:
            return None
        patch = ResponsePatch(
            self.response_id,
            text_delta="".join(self._q_text),
            reasoning_delta="".join(self._q_reasoning),
            tool_calls=self.all_calls() if self._q_calls else None,
            tool_status=dict(self.tool_status) if self._q_tool_status else None,
            status=self._q_status,
        )
        self._q_text.clear()
        self._q_reasoning.clear()
        self._q_status = None
        self._q_calls = self._q_tool_status = False
        self.dirty = False
        return patch
