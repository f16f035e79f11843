"""Chat completion chunks (the `data:` of each SSE event) -> stream events, for every provider's dialect.

`ChunkParser.feed()` runs once per chunk on the hot path: one `json.loads`, a few dict lookups, no regex.
The dialects it understands, with where each was seen:

- OpenAI: text in `delta.content`; `delta.refusal`; a usage-only last chunk with `choices: []`
  (stream_options.include_usage); `"usage": null` on the other chunks; tool calls as pieces keyed by
  `index`, `id` and `function.name` on the first piece only; legacy `delta.function_call`; a mid-stream
  `{"error": {...}}` data line (openai-python `_streaming.py` raises on it).
- Azure OpenAI: a first chunk with `choices: []` and `prompt_filter_results`; choices without `delta`
  carrying only `content_filter_results` (microsoft/autogen#6465, langchain#18977).
- llama.cpp server: a role-only first delta with `"content": null`; `reasoning_content`; `timings`
  (used as usage only when no usage comes); usage on the finish chunk (llama.cpp#15443); errors sent as
  an `error:` SSE field (see sse.py).
- Ollama (openai/openai.go): `role` on every delta, `"content": ""`, `reasoning`, whole tool calls in one
  piece, finish `tool_calls` on the done chunk; every parallel call with `index: 0` but its own `id`
  (ollama#15457), or no `index` at all in old versions (ollama#7881).
- vLLM: `reasoning_content`, later `reasoning`; usage on every chunk with continuous_usage_stats; errors as
  `{"error": {...}}` or, in older versions, `{"object": "error", "message": ...}`.
- OpenRouter: `: OPENROUTER PROCESSING` comments; `reasoning` plus `reasoning_details` carrying the same text;
  a mid-stream error as a chunk with a top-level `error` and `finish_reason: "error"` (docs: errors).
- Groq: usage in `x_groq.usage` on the finish chunk.
- DeepSeek: `reasoning_content`; usage with `prompt_cache_hit_tokens` and
  `completion_tokens_details.reasoning_tokens`; `: keep-alive` comments; finish
  `insufficient_system_resource` (passed through).
- Mistral (Magistral): `delta.content` as a list of parts, `{"type": "thinking", "thinking": [{"type":
  "text", ...}]}` then `{"type": "text", ...}` (litellm#16272); whole tool calls with finish `tool_calls`.
- Gemini OpenAI-compat: tool calls without `index` (openai-python#2806, AstrBot#6661), sometimes as
  id-less argument pieces; finish `stop` for a tool call (python-genai#2868); `extra_content` ignored.
- Gemini via one-api style proxies: `finish_reason: "stop"` on every chunk (one-api#1408).
- Together: `finish_reason: "eos"`, `text` next to `delta` (we read `delta` only), usage on the last chunk.
- `<think>...</think>` at the start of `content` (DeepSeek-R1, QwQ, Qwen3 through servers without a
  reasoning parser; LM Studio sends `<think>` as a chunk of its own, lmstudio-bug-tracker#649).
- Gateways that put `"tool_calls": []` in every delta (vercel/ai#20203); tool call ids `""` (LiteLLM).

Decisions:
- Only choice 0 is read (n>1 streams interleave choices; they are alternatives, not parts).
- `refusal`: OpenAI sends the refusal text instead of content when the model declines; a chat client must
  show it, so a non-empty refusal is answer text.
- finish_reason: normalised (`eos`/`end_turn`/`stop_sequence` -> stop, `max_tokens` -> length,
  `function_call`/`tool_use` -> tool_calls); `stop` after tool calls in the same message becomes
  `tool_calls` (Gemini, Ollama). `Finished` is emitted when a reason first appears and again only when the
  normalised reason changes, so the last `Finished` is the one that counts; a repeated reason is emitted
  once. `Finished` is not the last event: usage and (on some proxies) more text can follow it.
- `finish_reason: "error"` and error objects raise `ProviderStreamError`; events of that same chunk that
  came before the error are kept in `events_before_error` for the caller to apply first.
- Tool calls that arrive without any id keep `id=None` (the chat service names them); only the legacy
  `function_call` gets a synthetic `call_<n>` id here, as it never has one.
- Text split in the middle of a UTF-16 surrogate pair (a proxy slicing JS strings) is rejoined; a lone
  surrogate left at the end becomes U+FFFD (it could not be stored as UTF-8).
"""

from __future__ import annotations

import json
from typing import Any, Final

from desktop_chat.domain import Usage
from desktop_chat.llm.chunk_errors import loads_lenient, malformed, stream_error
from desktop_chat.llm.chunk_fields import (
    choice_zero,
    first_text,
    normalise_finish_reason,
    text_of,
    timings_usage,
    usage_from,
)
from desktop_chat.llm.chunk_text import AnswerText
from desktop_chat.llm.chunk_tool_calls import ToolCalls
from desktop_chat.llm.errors import LLMError, StreamCutError
from desktop_chat.llm.events import Finished, StreamEvent, UsageReport

__all__ = ["ChunkParser", "end_of_stream_error"]

# One reasoning field per delta: providers that send two (`reasoning` and `reasoning_content` in vLLM,
# `reasoning` and `reasoning_details` in OpenRouter) send the same text twice.
_REASONING_KEYS: Final = ("reasoning_content", "reasoning", "thinking")
_REASONING_DETAIL_KEYS: Final = ("text", "summary")


class ChunkParser:
    """Turns each SSE event's data into stream events; keeps the little state a message needs."""

    __slots__ = (
        "_done",
        "_finish_emitted",
        "_finish_reason",
        "_last_usage",
        "_saw_content",
        "_text",
        "_timings",
        "_tools",
        "_usage_seen",
        "events_before_error",
    )

    def __init__(self) -> None:
        self._done = False
        self._finish_reason: str | None = None
        self._finish_emitted: str | None = None
        self._saw_content = False
        self._text = AnswerText()
        self._tools = ToolCalls()
        self._usage_seen = False
        self._last_usage: Usage | None = None
        self._timings: Usage | None = None
        self.events_before_error: list[StreamEvent] = []
        """Events the last `feed()` produced before it raised: apply them, then report the error."""

    @property
    def done(self) -> bool:
        """True once `[DONE]` arrived."""
        return self._done

    @property
    def finish_reason(self) -> str | None:
        """The last finish reason seen, normalised (see `normalise_finish_reason`)."""
        return self._finish_reason

    @property
    def saw_content(self) -> bool:
        """True once any text, reasoning or tool call piece arrived."""
        return self._saw_content

    def feed(self, data: str, event: str | None = None) -> list[StreamEvent]:
        """The events in one SSE event's data. Raises `MalformedStreamError` or `ProviderStreamError`."""
        out: list[StreamEvent] = []
        if event is not None and event != "message":
            if event == "error":
                self.events_before_error = []
                raise stream_error(loads_lenient(data), data)
            if event in ("ping", "keepalive", "keep-alive"):
                return out
        if not data or data[0] != "{":
            stripped = data.strip()
            if not stripped:
                return out
            if stripped == "[DONE]":
                self._done = True
                return out
            if stripped[0] != "{" and stripped[0] != "[":
                raise malformed(data, "not JSON")
            data = stripped
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise malformed(data, str(exc)) from None
        if type(chunk) is dict:
            self._chunk(chunk, out)
        elif type(chunk) is list and all(type(c) is dict for c in chunk):
            for item in chunk:
                self._chunk(item, out)
        else:
            raise malformed(data, "not a chat completion chunk")
        return out

    def finish(self) -> list[StreamEvent]:
        """At the end of the stream: what is still held back, and llama.cpp timings if no usage came."""
        out: list[StreamEvent] = []
        self._text.finish(out)
        if not self._usage_seen and self._timings is not None:
            self._usage_seen = True
            out.append(UsageReport(self._timings))
        return out

    # -- one chunk -------------------------------------------------------------------------------------

    def _chunk(self, chunk: dict[str, Any], out: list[StreamEvent]) -> None:
        error = chunk.get("error")
        choices = chunk.get("choices")
        if choices and type(choices) is list:
            choice = choices[0]
            if type(choice) is not dict or (choice.get("index") or 0) != 0:
                choice = choice_zero(choices)
            if choice is not None:
                self._choice(choice, chunk, out)
        elif error is None and chunk.get("object") == "error":  # older vLLM: the error is the chunk
            error = chunk
        usage = chunk.get("usage")
        if usage:
            self._usage(usage, out)
        else:
            groq = chunk.get("x_groq")
            if groq and type(groq) is dict and groq.get("usage"):
                self._usage(groq["usage"], out)
        if "timings" in chunk and not self._usage_seen:
            self._timings = timings_usage(chunk["timings"])
        if error:
            self.events_before_error = out[:]
            raise stream_error(error, None)

    def _choice(self, choice: dict[str, Any], chunk: dict[str, Any], out: list[StreamEvent]) -> None:
        delta = choice.get("delta")
        if delta is None and "delta" not in choice:
            delta = choice.get("message")  # a non-streamed completion sent to a streaming request
        if delta and type(delta) is dict:
            self._delta(delta, out)
        usage = choice.get("usage")
        if usage:
            self._usage(usage, out)
        reason = choice.get("finish_reason")
        if reason:
            self._finish(str(reason), choice, chunk, out)

    def _delta(self, delta: dict[str, Any], out: list[StreamEvent]) -> None:
        # The hot path: this runs for every chunk. first_text(delta, _REASONING_KEYS) is written out here,
        # as are _on_reasoning and _on_text below (each call would cost ~0.1 µs more per chunk).
        reasoning = delta.get("reasoning_content")
        if not reasoning or type(reasoning) is not str:
            reasoning = delta.get("reasoning")
            if not reasoning or type(reasoning) is not str:
                reasoning = delta.get("thinking")
        if reasoning and type(reasoning) is str:
            self._saw_content = True
            self._text.reasoning(reasoning, out)
        else:
            details = delta.get("reasoning_details")
            if details and type(details) is list:
                self._reasoning_details(details, out)
        content = delta.get("content")
        if content:
            if type(content) is str:
                self._saw_content = True
                self._text.text(content, out)
            else:
                self._content_parts(content, out)
        tool_calls = delta.get("tool_calls")
        if tool_calls and type(tool_calls) is list:
            for item in tool_calls:
                if type(item) is dict and self._tools.piece(item, out):
                    self._saw_content = True
        function_call = delta.get("function_call")
        if (
            function_call
            and type(function_call) is dict
            and self._tools.legacy_function_call(function_call, out)
        ):
            self._saw_content = True
        refusal = delta.get("refusal")
        if refusal and type(refusal) is str:
            self._on_text(refusal, out)

    def _content_parts(self, content: object, out: list[StreamEvent]) -> None:
        parts = content if type(content) is list else [content]
        for part in parts:
            if type(part) is str:
                if part:
                    self._on_text(part, out)
                continue
            if type(part) is not dict:
                continue
            kind = part.get("type")
            if kind is not None and type(kind) is not str:
                continue  # a part whose type is a list or an object is not one we know
            if kind in {"thinking", "reasoning"}:
                text = text_of(part.get("thinking") or part.get("reasoning") or part.get("text"))
                if text:
                    self._on_reasoning(text, out)
            elif kind in (None, "text", "output_text"):
                answer = part.get("text")
                if answer and type(answer) is str:
                    self._on_text(answer, out)

    def _reasoning_details(self, details: list[Any], out: list[StreamEvent]) -> None:
        for item in details:
            if type(item) is dict:
                text = first_text(item, _REASONING_DETAIL_KEYS)
                if text is not None:
                    self._on_reasoning(text, out)

    # -- finish reason and usage -----------------------------------------------------------------------

    def _finish(
        self, raw: str, choice: dict[str, Any], chunk: dict[str, Any], out: list[StreamEvent]
    ) -> None:
        if raw == "error":  # OpenRouter: the error object is on the chunk (or on the choice)
            self.events_before_error = out[:]
            raise stream_error(chunk.get("error") or choice.get("error"), None)
        reason = normalise_finish_reason(raw)
        if reason == "stop" and self._tools:
            reason = "tool_calls"
        self._finish_reason = reason
        if reason != self._finish_emitted:
            self._finish_emitted = reason
            out.append(Finished(reason))

    def _usage(self, raw: object, out: list[StreamEvent]) -> None:
        if type(raw) is not dict:
            return
        usage = usage_from(raw)
        if usage is None:
            return
        self._usage_seen = True
        if usage != self._last_usage:
            self._last_usage = usage
            out.append(UsageReport(usage))

    # -- text and reasoning ----------------------------------------------------------------------------

    def _on_text(self, text: str, out: list[StreamEvent]) -> None:
        self._saw_content = True
        self._text.text(text, out)

    def _on_reasoning(self, text: str, out: list[StreamEvent]) -> None:
        self._saw_content = True
        self._text.reasoning(text, out)


def end_of_stream_error(parser: ChunkParser) -> LLMError | None:
    """How a stream that just ended went: None if the answer is complete, else a `StreamCutError`.

    A finish reason means the model finished (with or without `[DONE]`). `[DONE]` after some content
    without a finish reason is accepted too (some local servers never send one). Anything else was cut.
    """
    if parser.finish_reason is not None:
        return None
    if parser.saw_content:
        if parser.done:
            return None
        return StreamCutError(
            "The connection closed before the answer finished; the text received so far is kept."
        )
    return StreamCutError("The provider ended the stream without sending any answer.")
