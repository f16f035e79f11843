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
from desktop_chat.llm.errors import LLMError, MalformedStreamError, ProviderStreamError, StreamCutError
from desktop_chat.llm.events import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)

__all__ = ["ChunkParser", "end_of_stream_error", "normalise_finish_reason"]

_FINISH_ALIASES: Final = {
    "stop": "stop",
    "eos": "stop",
    "eos_token": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "max_output_tokens": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "safety": "content_filter",
}

# Opening tag -> closing tag of a reasoning block at the start of the answer text.
_THINK_TAGS: Final = {"<think>": "</think>", "<thinking>": "</thinking>"}
_THINK_OPENERS: Final = tuple(_THINK_TAGS)

# Where the answer text is with respect to a leading <think> block.
_PENDING: Final = 0  # no answer text yet: a <think> may still open
_INSIDE: Final = 1  # inside <think>: content is reasoning until the closing tag
_AFTER: Final = 2  # just after </think>: leading whitespace is dropped
_OFF: Final = 3  # ordinary text from here on

_EXCERPT_MAX = 80


def normalise_finish_reason(reason: str) -> str:
    """A provider's finish reason in the common vocabulary; unknown reasons pass through unchanged."""
    return _FINISH_ALIASES.get(reason) or _FINISH_ALIASES.get(reason.lower()) or reason


class _ToolCall:
    __slots__ = ("id", "id_sent", "name", "object_args_sent")

    def __init__(self, call_id: str | None) -> None:
        self.id = call_id
        self.id_sent = False
        self.name: str | None = None
        self.object_args_sent = False


class ChunkParser:
    """Turns each SSE event's data into stream events; keeps the little state a message needs."""

    __slots__ = (
        "_by_id",
        "_by_index",
        "_calls",
        "_close_tag",
        "_done",
        "_finish_emitted",
        "_finish_reason",
        "_function_call",
        "_held",
        "_hi_reasoning",
        "_hi_text",
        "_last_usage",
        "_saw_content",
        "_think",
        "_timings",
        "_usage_seen",
        "events_before_error",
    )

    def __init__(self) -> None:
        self._done = False
        self._finish_reason: str | None = None
        self._finish_emitted: str | None = None
        self._saw_content = False
        self._think = _PENDING
        self._close_tag = ""
        self._held = ""  # text held back: leading whitespace or a partial <think>/</think> tag
        self._hi_text = ""  # a high surrogate that ended the last text delta
        self._hi_reasoning = ""
        self._calls: list[_ToolCall] = []
        self._by_index: dict[int, int] = {}  # provider's tool call index -> ours
        self._by_id: dict[str, int] = {}
        self._function_call: int | None = None  # our index of the legacy function_call
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
                raise _stream_error(_loads_lenient(data), data)
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
                raise _malformed(data, "not JSON")
            data = stripped
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise _malformed(data, str(exc)) from None
        if type(chunk) is dict:
            self._chunk(chunk, out)
        elif type(chunk) is list and all(type(c) is dict for c in chunk):
            for item in chunk:
                self._chunk(item, out)
        else:
            raise _malformed(data, "not a chat completion chunk")
        return out

    def finish(self) -> list[StreamEvent]:
        """At the end of the stream: what is still held back, and llama.cpp timings if no usage came."""
        out: list[StreamEvent] = []
        held, self._held = self._held, ""
        if held:
            if self._think == _INSIDE:
                self._emit_reasoning(held, out)
            elif self._think != _AFTER or held.strip():
                self._think = _OFF
                self._emit_text(held, out)
        if self._hi_text:
            self._hi_text = ""
            out.append(TextDelta("\ufffd"))
        if self._hi_reasoning:
            self._hi_reasoning = ""
            out.append(ReasoningDelta("\ufffd"))
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
                choice = _choice_zero(choices)
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
            self._timings = _timings_usage(chunk["timings"])
        if error:
            self.events_before_error = out[:]
            raise _stream_error(error, None)

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
        # One reasoning field per delta: providers that send two (`reasoning` and `reasoning_content` in
        # vLLM, `reasoning` and `reasoning_details` in OpenRouter) send the same text twice.
        reasoning = delta.get("reasoning_content")
        if not reasoning or type(reasoning) is not str:
            reasoning = delta.get("reasoning")
            if not reasoning or type(reasoning) is not str:
                reasoning = delta.get("thinking")
        if reasoning and type(reasoning) is str:
            self._saw_content = True
            self._emit_reasoning(reasoning, out)
        else:
            details = delta.get("reasoning_details")
            if details and type(details) is list:
                self._reasoning_details(details, out)
        content = delta.get("content")
        if content:
            if type(content) is str:
                self._on_text(content, out)
            else:
                self._content_parts(content, out)
        tool_calls = delta.get("tool_calls")
        if tool_calls and type(tool_calls) is list:
            for item in tool_calls:
                if type(item) is dict:
                    self._tool_piece(item, out)
        function_call = delta.get("function_call")
        if function_call and type(function_call) is dict:
            self._legacy_function_call(function_call, out)
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
            if kind in {"thinking", "reasoning"}:
                text = _text_of(part.get("thinking") or part.get("reasoning") or part.get("text"))
                if text:
                    self._saw_content = True
                    self._emit_reasoning(text, out)
            elif kind in (None, "text", "output_text"):
                answer = part.get("text")
                if answer and type(answer) is str:
                    self._on_text(answer, out)

    def _reasoning_details(self, details: list[Any], out: list[StreamEvent]) -> None:
        for item in details:
            if type(item) is not dict:
                continue
            text = item.get("text")
            if not text or type(text) is not str:
                text = item.get("summary")
            if text and type(text) is str:
                self._saw_content = True
                self._emit_reasoning(text, out)

    # -- tool calls ------------------------------------------------------------------------------------

    def _tool_piece(self, item: dict[str, Any], out: list[StreamEvent]) -> None:
        call_id = item.get("id") or None
        if call_id is not None and type(call_id) is not str:
            call_id = str(call_id)
        function = item.get("function")
        if type(function) is not dict:
            function = item  # some servers flatten name/arguments into the item
        name = function.get("name") or None
        arguments = function.get("arguments")
        if call_id is None and name is None and (arguments is None or arguments == ""):
            return  # nothing to add (e.g. Gemini's metadata-only `extra_content` piece)
        position = item.get("index")
        if type(position) is int:
            ours = self._by_index.get(position)
            if ours is None:
                ours = self._by_id.get(call_id, -1) if call_id is not None else -1
                if ours < 0:
                    ours = self._new_call(call_id)
                self._by_index[position] = ours
            elif call_id is not None and self._calls[ours].id not in (None, call_id):
                # Same index, another id: a new parallel call (Ollama sends index 0 for every call),
                # unless that id is a call we already know (an id re-announced at another position).
                known = self._by_id.get(call_id)
                ours = known if known is not None else self._new_call(call_id)
                self._by_index[position] = ours
        elif call_id is not None:  # no index (Gemini, old Ollama): the id says which call
            known = self._by_id.get(call_id)
            ours = known if known is not None else self._new_call(call_id)
        elif self._calls and not (
            type(name) is str and self._calls[-1].name not in (None, name)
        ):  # neither: a continuation of the last call, unless it names another function
            ours = len(self._calls) - 1
        else:
            ours = self._new_call(None)
        self._emit_tool(ours, call_id, name, arguments, out)

    def _legacy_function_call(self, piece: dict[str, Any], out: list[StreamEvent]) -> None:
        ours = self._function_call
        if ours is None:
            ours = self._function_call = self._new_call(None)
            self._calls[ours].id = f"call_{ours}"
        self._emit_tool(ours, None, piece.get("name") or None, piece.get("arguments"), out)

    def _new_call(self, call_id: str | None) -> int:
        ours = len(self._calls)
        self._calls.append(_ToolCall(call_id))
        if call_id is not None:
            self._by_id[call_id] = ours
        return ours

    def _emit_tool(
        self, ours: int, call_id: str | None, name: object, arguments: object, out: list[StreamEvent]
    ) -> None:
        call = self._calls[ours]
        if call_id is not None and call.id is None:
            call.id = call_id
            self._by_id[call_id] = ours
        new_id = None
        if not call.id_sent and call.id is not None:
            new_id = call.id
            call.id_sent = True
        new_name = None
        if call.name is None and name and type(name) is str:
            new_name = call.name = name
        if type(arguments) is str:
            args = arguments
        elif arguments is None or call.object_args_sent:
            args = ""
        else:
            args = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
            call.object_args_sent = True
        if new_id is not None or new_name is not None or args:
            self._saw_content = True
            out.append(ToolCallDelta(ours, new_id, new_name, args))

    # -- finish reason and usage -----------------------------------------------------------------------

    def _finish(
        self, raw: str, choice: dict[str, Any], chunk: dict[str, Any], out: list[StreamEvent]
    ) -> None:
        if raw == "error":  # OpenRouter: the error object is on the chunk (or on the choice)
            self.events_before_error = out[:]
            raise _stream_error(chunk.get("error") or choice.get("error"), None)
        reason = normalise_finish_reason(raw)
        if reason == "stop" and self._calls:
            reason = "tool_calls"
        self._finish_reason = reason
        if reason != self._finish_emitted:
            self._finish_emitted = reason
            out.append(Finished(reason))

    def _usage(self, raw: object, out: list[StreamEvent]) -> None:
        if type(raw) is not dict:
            return
        usage = _usage_from(raw)
        if usage is None:
            return
        self._usage_seen = True
        if usage != self._last_usage:
            self._last_usage = usage
            out.append(UsageReport(usage))

    # -- text, reasoning and <think> -------------------------------------------------------------------

    def _on_text(self, text: str, out: list[StreamEvent]) -> None:
        self._saw_content = True
        if self._think == _OFF:
            self._emit_text(text, out)
        else:
            self._think_text(text, out)

    def _think_text(self, text: str, out: list[StreamEvent]) -> None:
        """Content while a leading <think> block may open, is open, or just closed."""
        state = self._think
        if state == _PENDING:
            buf = self._held + text
            start = buf.lstrip()
            if not start:
                self._held = buf  # only whitespace so far: wait for the first real character
                return
            for opener in _THINK_OPENERS:
                if start.startswith(opener):
                    self._held = ""
                    self._think = _INSIDE
                    self._close_tag = _THINK_TAGS[opener]
                    rest = start[len(opener) :]
                    if rest:
                        self._think_text(rest, out)
                    return
                if opener.startswith(start):  # a tag still arriving: `<thi` + `nk>`
                    self._held = buf
                    return
            self._held = ""
            self._think = _OFF
            self._emit_text(buf, out)
        elif state == _INSIDE:
            buf = self._held + text
            self._held = ""
            close = self._close_tag
            end = buf.find(close)
            if end >= 0:
                if end:
                    self._emit_reasoning(buf[:end], out)
                self._think = _AFTER
                rest = buf[end + len(close) :]
                if rest:
                    self._think_text(rest, out)
                return
            cut = buf.rfind("<", max(0, len(buf) - len(close) + 1))
            if cut >= 0 and close.startswith(buf[cut:]):
                self._held = buf[cut:]
                buf = buf[:cut]
            if buf:
                self._emit_reasoning(buf, out)
        else:  # _AFTER: the answer starts at the first non-whitespace character
            answer = text.lstrip()
            if answer:
                self._think = _OFF
                self._emit_text(answer, out)

    def _emit_text(self, text: str, out: list[StreamEvent]) -> None:
        held = self._hi_text
        self._hi_text = ""
        if "\ud800" <= text[-1] <= "\udbff":  # half of a surrogate pair: wait for the other half
            self._hi_text = text[-1]
            text = text[:-1]
        if held:
            text = _pair(held, text)
        if text:
            out.append(TextDelta(text))

    def _emit_reasoning(self, text: str, out: list[StreamEvent]) -> None:
        held = self._hi_reasoning
        self._hi_reasoning = ""
        if "\ud800" <= text[-1] <= "\udbff":
            self._hi_reasoning = text[-1]
            text = text[:-1]
        if held:
            text = _pair(held, text)
        if text:
            out.append(ReasoningDelta(text))


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


# -- helpers -------------------------------------------------------------------------------------------


def _choice_zero(choices: list[Any]) -> dict[str, Any] | None:
    for choice in choices:
        if type(choice) is dict and (choice.get("index") or 0) == 0:
            return choice
    return None


def _text_of(value: object) -> str:
    """Text from a string, a {"text": ...} part, or a list of either (Mistral's thinking parts)."""
    if type(value) is str:
        return value
    if type(value) is dict:
        text = value.get("text") or value.get("thinking")
        return text if type(text) is str else ""
    if type(value) is list:
        return "".join(_text_of(item) for item in value)
    return ""


def _count(value: object) -> int:
    if type(value) is int:
        return value
    if type(value) is float:
        return int(value)
    return 0


def _usage_from(raw: dict[str, Any]) -> Usage | None:
    """Token counts from an OpenAI-style usage object (None values tolerated); None if it has none."""
    prompt = _count(raw.get("prompt_tokens", raw.get("input_tokens")))
    completion = _count(raw.get("completion_tokens", raw.get("output_tokens")))
    total = _count(raw.get("total_tokens"))
    details = raw.get("completion_tokens_details") or raw.get("output_tokens_details")
    reasoning = _count(details.get("reasoning_tokens")) if type(details) is dict else 0
    if not reasoning:
        reasoning = _count(raw.get("reasoning_tokens"))
    if not (prompt or completion or total or reasoning) and not any(
        key in raw for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    ):
        return None
    return Usage(prompt, completion, total or prompt + completion, reasoning)


def _timings_usage(raw: object) -> Usage | None:
    """llama.cpp's `timings` as usage: prompt_n prompt tokens, predicted_n completion tokens."""
    if type(raw) is not dict or ("prompt_n" not in raw and "predicted_n" not in raw):
        return None
    prompt = _count(raw.get("prompt_n"))
    completion = _count(raw.get("predicted_n"))
    return Usage(prompt, completion, prompt + completion)


def _pair(high: str, text: str) -> str:
    """A held high surrogate joined with the low one that starts `text` (U+FFFD if there is none)."""
    if text and "\udc00" <= text[0] <= "\udfff":
        return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(text[0]) - 0xDC00)) + text[1:]
    return "\ufffd" + text


def _loads_lenient(data: str) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return data


def _excerpt(data: str) -> str:
    text = " ".join(data.split())
    return text if len(text) <= _EXCERPT_MAX else text[: _EXCERPT_MAX - 1] + "…"


def _malformed(data: str, why: str) -> MalformedStreamError:
    return MalformedStreamError(
        f"The provider sent something that is not part of a chat answer: “{_excerpt(data)}”.", detail=why
    )


def _stream_error(error: object, raw: str | None) -> ProviderStreamError:
    """A ProviderStreamError from an error object or event (OpenAI, OpenRouter, vLLM, llama.cpp shapes)."""
    message: object = None
    code: object = None
    if type(error) is dict:
        inner = error.get("error")
        source = inner if type(inner) is dict else error
        message = source.get("message") or source.get("detail") or (inner if type(inner) is str else None)
        code = source.get("code") or source.get("status")
        if not message:
            message = source.get("type")
    elif type(error) is str:
        message = error
    if not message and raw:
        message = raw
    status = code if type(code) is int and 400 <= code <= 599 else None
    return ProviderStreamError(
        "The provider reported an error in the middle of the answer; the text received so far is kept.",
        detail=str(message) if message else None,
        status=status,
    )
