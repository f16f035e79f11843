"""Recorded-style SSE transcripts of how real providers and local servers stream chat completions.

Each `Shape` holds the raw lines a server sends (`data: ` prefixes, comments, blank lines, `[DONE]` or
not) and what a careful client must end up with. `replay()` runs the lines through `SSEDecoder` and
`ChunkParser` the way the transport does; `to_lines()` gives the text a test server sends verbatim;
`assemble()` folds events into the answer a chat service would store.

The shapes follow captures published in docs, issues and fixtures (cited on each); ids, timestamps and
texts are shortened, the structure is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from desktop_chat.domain import Usage
from desktop_chat.llm.chunks import ChunkParser, end_of_stream_error
from desktop_chat.llm.errors import LLMError, MalformedStreamError, ProviderStreamError, StreamCutError
from desktop_chat.llm.events import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from desktop_chat.llm.sse import SSEDecoder

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


# -- builders ------------------------------------------------------------------------------------------

DONE = ["data: [DONE]", ""]


def _dumps(obj: object, *, ascii_only: bool = False) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)


def _sse(obj: object, *, ascii_only: bool = False) -> list[str]:
    """One `data:` event and its blank line."""
    return [f"data: {_dumps(obj, ascii_only=ascii_only)}", ""]


def _chunk(
    delta: dict[str, Any] | None,
    finish: str | None = None,
    *,
    model: str = "gpt-4o-2024-08-06",
    cid: str = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    choice_extra: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """An OpenAI-style chat.completion.chunk with one choice (index 0)."""
    choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    if choice_extra:
        choice.update(choice_extra)
    chunk: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": model,
        "system_fingerprint": "fp_eb9dce56a8",
        "choices": [choice],
    }
    chunk.update(top)
    return chunk


def _texts(pieces: list[str], **kwargs: Any) -> list[str]:
    lines: list[str] = []
    for piece in pieces:
        lines += _sse(_chunk({"content": piece}, **kwargs))
    return lines


def _tool(
    index: int | None, call_id: str | None = None, name: str | None = None, arguments: Any = None
) -> dict[str, Any]:
    """One tool call piece; fields left None are omitted (as servers do)."""
    piece: dict[str, Any] = {}
    if index is not None:
        piece["index"] = index
    if call_id is not None:
        piece["id"] = call_id
        piece["type"] = "function"
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    piece["function"] = function
    return piece


def _split(text: str, sizes: list[int]) -> list[str]:
    """Cut text into pieces of the given sizes (the rest is the last piece)."""
    pieces: list[str] = []
    for size in sizes:
        pieces.append(text[:size])
        text = text[size:]
    if text:
        pieces.append(text)
    return pieces


WEATHER_ARGS = '{"location":"Paris, France","unit":"celsius"}'
TIME_ARGS = '{"timezone":"Europe/Paris"}'


# -- the shapes ----------------------------------------------------------------------------------------

_OPENAI_USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}

_SHAPES: list[Shape] = [
    Shape(
        "openai_text_usage_last",
        source="OpenAI chat streaming with stream_options.include_usage: role chunk with content '' and "
        "refusal null, usage null on every chunk, a last chunk with choices [] and usage "
        "(platform.openai.com API reference; capture in pydantic-ai#797)",
        lines=[
            *_sse(_chunk({"role": "assistant", "content": "", "refusal": None}, usage=None)),
            *_sse(_chunk({"content": "Hello"}, usage=None)),
            *_sse(_chunk({"content": "! How"}, usage=None)),
            *_sse(_chunk({"content": " can I help?"}, usage=None)),
            *_sse(_chunk({}, "stop", usage=None)),
            *_sse({**_chunk(None), "choices": [], "usage": _OPENAI_USAGE}),
            *DONE,
        ],
        expected_text="Hello! How can I help?",
        expected_usage=Usage(19, 10, 29, 0),
        expected_finish="stop",
    ),
    Shape(
        "openai_tool_call_split",
        source="OpenAI function calling, streaming: id/name on the first piece, arguments in fragments, "
        "finish tool_calls (platform.openai.com function-calling guide)",
        lines=[
            *_sse(
                _chunk(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [_tool(0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", "")],
                        "refusal": None,
                    }
                )
            ),
            *[
                line
                for piece in _split(WEATHER_ARGS, [2, 8, 3, 1, 10, 4, 4])
                for line in _sse(_chunk({"tool_calls": [_tool(0, arguments=piece)]}))
            ],
            *_sse(_chunk({}, "tool_calls")),
            *DONE,
        ],
        expected_tool_calls=[("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", WEATHER_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "openai_parallel_tool_calls_interleaved",
        source="OpenAI parallel tool calls: pieces keyed by index; here interleaved, which the index "
        "contract allows (openai-python accumulates by index)",
        lines=[
            *_sse(_chunk({"role": "assistant", "content": None})),
            *_sse(_chunk({"tool_calls": [_tool(0, "call_A1", "get_weather", "")]})),
            *_sse(_chunk({"tool_calls": [_tool(1, "call_B2", "get_time", "")]})),
            *_sse(_chunk({"tool_calls": [_tool(0, arguments=WEATHER_ARGS[:20])]})),
            *_sse(_chunk({"tool_calls": [_tool(1, arguments=TIME_ARGS[:9])]})),
            *_sse(_chunk({"tool_calls": [_tool(0, arguments=WEATHER_ARGS[20:])]})),
            *_sse(_chunk({"tool_calls": [_tool(1, arguments=TIME_ARGS[9:])]})),
            *_sse(_chunk({}, "tool_calls")),
            *DONE,
        ],
        expected_tool_calls=[("call_A1", "get_weather", WEATHER_ARGS), ("call_B2", "get_time", TIME_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "mistral_whole_tool_call",
        source="Mistral: the whole tool call in one chunk with finish_reason tool_calls and usage on the "
        "same chunk (docs.mistral.ai function calling; vercel/ai mistral provider tests)",
        lines=[
            *_sse(_chunk({"role": "assistant", "content": ""}, model="mistral-large-latest", cid="a1b2")),
            *_sse(
                _chunk(
                    {
                        "tool_calls": [
                            {
                                "id": "D681PevKs",
                                "function": {"name": "get_weather", "arguments": WEATHER_ARGS},
                                "index": 0,
                            }
                        ]
                    },
                    "tool_calls",
                    model="mistral-large-latest",
                    cid="a1b2",
                    usage={"prompt_tokens": 90, "total_tokens": 117, "completion_tokens": 27},
                )
            ),
            *DONE,
        ],
        expected_tool_calls=[("D681PevKs", "get_weather", WEATHER_ARGS)],
        expected_usage=Usage(90, 27, 117),
        expected_finish="tool_calls",
    ),
    Shape(
        "ollama_parallel_tool_calls_index_zero",
        source="Ollama openai.go: role and content '' on every delta, each tool call whole, every parallel "
        "call with index 0 but its own id (ollama#15457), finish tool_calls, usage chunk with choices []",
        lines=[
            *_sse(
                _chunk(
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [_tool(0, "call_wteop8bt", "run_command", '{"command":"ls"}')],
                    },
                    model="qwen2.5-coder:7b",
                    cid="chatcmpl-18",
                    system_fingerprint="fp_ollama",
                )
            ),
            *_sse(
                _chunk(
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [_tool(0, "call_rk2xye1l", "run_command", '{"command":"ls -l"}')],
                    },
                    model="qwen2.5-coder:7b",
                    cid="chatcmpl-18",
                    system_fingerprint="fp_ollama",
                )
            ),
            *_sse(
                _chunk(
                    {"role": "assistant", "content": ""},
                    "tool_calls",
                    model="qwen2.5-coder:7b",
                    cid="chatcmpl-18",
                    system_fingerprint="fp_ollama",
                )
            ),
            *_sse(
                {
                    **_chunk(None, model="qwen2.5-coder:7b", cid="chatcmpl-18"),
                    "choices": [],
                    "usage": {"prompt_tokens": 120, "completion_tokens": 38, "total_tokens": 158},
                }
            ),
            *DONE,
        ],
        expected_tool_calls=[
            ("call_wteop8bt", "run_command", '{"command":"ls"}'),
            ("call_rk2xye1l", "run_command", '{"command":"ls -l"}'),
        ],
        expected_usage=Usage(120, 38, 158),
        expected_finish="tool_calls",
    ),
    Shape(
        "ids_and_names_repeated_every_piece",
        source="Servers that repeat id, type and function.name on every piece (some vLLM tool parsers, "
        "proxies); LiteLLM sends id '' and type '' on continuation pieces (AstrBot#6661 log)",
        lines=[
            *_sse(_chunk({"role": "assistant", "content": None})),
            *_sse(_chunk({"tool_calls": [_tool(0, "chatcmpl-tool-9f1", "get_weather", '{"location":')]})),
            *_sse(_chunk({"tool_calls": [_tool(0, "chatcmpl-tool-9f1", "get_weather", '"Paris, France",')]})),
            *_sse(
                _chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "",
                                "type": "",
                                "function": {"name": "", "arguments": '"unit":'},
                            }
                        ]
                    }
                )
            ),
            *_sse(_chunk({"tool_calls": [_tool(0, "chatcmpl-tool-9f1", "get_weather", '"celsius"}')]})),
            *_sse(_chunk({}, "tool_calls")),
            *DONE,
        ],
        expected_tool_calls=[("chatcmpl-tool-9f1", "get_weather", WEATHER_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "gemini_tool_calls_without_index",
        source="Gemini OpenAI-compat: tool calls without index (openai-python#2806, AstrBot#6661), "
        "extra_content.google.thought_signature, id-less argument pieces and a metadata-only piece "
        "(open-webui/computer#224), finish 'stop' for a tool call (python-genai#2868)",
        lines=[
            *_sse(
                {
                    "choices": [
                        {
                            "delta": {
                                "role": "assistant",
                                "tool_calls": [
                                    {
                                        "extra_content": {"google": {"thought_signature": "EjQKMgEMOdbH"}},
                                        "function": {
                                            "arguments": '{"location":"Paris, ',
                                            "name": "get_weather",
                                        },
                                        "id": "function-call-1",
                                        "type": "function",
                                    }
                                ],
                            },
                            "index": 0,
                        }
                    ],
                    "created": 1757000000,
                    "id": "5ExfaJ2kKqOvz7IP1aXK8Ak",
                    "model": "gemini-2.5-flash",
                    "object": "chat.completion.chunk",
                }
            ),
            *_sse(
                {
                    "choices": [
                        {
                            "delta": {
                                "tool_calls": [{"function": {"arguments": 'France","unit":"celsius"}'}}]
                            },
                            "index": 0,
                        }
                    ],
                    "model": "gemini-2.5-flash",
                    "object": "chat.completion.chunk",
                }
            ),
            *_sse(
                {
                    "choices": [
                        {
                            "delta": {
                                "tool_calls": [
                                    {
                                        "function": {"arguments": TIME_ARGS, "name": "get_time"},
                                        "id": "function-call-2",
                                        "type": "function",
                                    }
                                ]
                            },
                            "index": 0,
                        }
                    ],
                    "model": "gemini-2.5-flash",
                    "object": "chat.completion.chunk",
                }
            ),
            *_sse(
                {
                    "choices": [
                        {
                            "delta": {
                                "tool_calls": [{"extra_content": {"google": {"thought_signature": "Aa9"}}}]
                            },
                            "index": 0,
                        }
                    ],
                    "model": "gemini-2.5-flash",
                    "object": "chat.completion.chunk",
                }
            ),
            *_sse(
                {
                    "choices": [{"delta": {"role": "assistant"}, "finish_reason": "stop", "index": 0}],
                    "model": "gemini-2.5-flash",
                    "object": "chat.completion.chunk",
                    "usage": {"completion_tokens": 31, "prompt_tokens": 66, "total_tokens": 97},
                }
            ),
            *DONE,
        ],
        expected_tool_calls=[
            ("function-call-1", "get_weather", WEATHER_ARGS),
            ("function-call-2", "get_time", TIME_ARGS),
        ],
        expected_usage=Usage(66, 31, 97),
        expected_finish="tool_calls",
    ),
    Shape(
        "gemini_repeated_ids_without_index",
        source="Gemini/proxies that repeat the same id (no index) on each piece of one call",
        lines=[
            *_sse(_chunk({"role": "assistant", "tool_calls": [_tool(None, "call_x", "get_weather", "")]})),
            *_sse(_chunk({"tool_calls": [_tool(None, "call_x", None, '{"location":"Paris, France",')]})),
            *_sse(_chunk({"tool_calls": [_tool(None, "call_x", "get_weather", '"unit":"celsius"}')]})),
            *_sse(_chunk({}, "tool_calls")),
            *DONE,
        ],
        expected_tool_calls=[("call_x", "get_weather", WEATHER_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "arguments_as_object",
        source="Arguments sent as a JSON object, not a string, repeated on the done chunk "
        "(LiteLLM ollama_chat streaming, litellm#37792)",
        lines=[
            *_sse(
                _chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            _tool(
                                0,
                                "call_5d3b",
                                "get_weather",
                                {"location": "Paris, France", "unit": "celsius"},
                            )
                        ],
                    },
                    model="ollama_chat/llama3.1",
                )
            ),
            *_sse(
                _chunk(
                    {
                        "tool_calls": [
                            _tool(
                                0,
                                "call_5d3b",
                                "get_weather",
                                {"location": "Paris, France", "unit": "celsius"},
                            )
                        ]
                    },
                    "tool_calls",
                    model="ollama_chat/llama3.1",
                )
            ),
            *DONE,
        ],
        expected_tool_calls=[("call_5d3b", "get_weather", WEATHER_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "legacy_function_call",
        source="Legacy `functions` API: delta.function_call {name, arguments}, finish 'function_call' "
        "(openai-python ChoiceDeltaFunctionCall, deprecated)",
        lines=[
            *_sse(
                _chunk(
                    {
                        "role": "assistant",
                        "content": None,
                        "function_call": {"name": "get_weather", "arguments": ""},
                    },
                    model="gpt-3.5-turbo-0613",
                )
            ),
            *[
                line
                for piece in _split(WEATHER_ARGS, [5, 12, 9])
                for line in _sse(_chunk({"function_call": {"arguments": piece}}, model="gpt-3.5-turbo-0613"))
            ],
            *_sse(_chunk({}, "function_call", model="gpt-3.5-turbo-0613")),
            *DONE,
        ],
        expected_tool_calls=[("call_0", "get_weather", WEATHER_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "deepseek_reasoning_content",
        source="DeepSeek deepseek-reasoner: ': keep-alive' comments, reasoning_content then content (the "
        "other one null), usage on the finish chunk with prompt_cache_hit_tokens and reasoning_tokens "
        "(api-docs.deepseek.com reasoning_model, chat completion)",
        lines=[
            ": keep-alive",
            "",
            *_sse(
                _chunk(
                    {"role": "assistant", "content": None, "reasoning_content": ""},
                    model="deepseek-reasoner",
                    cid="3a8e1f2c",
                    usage=None,
                )
            ),
            *[
                line
                for piece in ["Okay, the user", " asks 9.11 vs 9.8.", " 9.8 is larger."]
                for line in _sse(
                    _chunk(
                        {"content": None, "reasoning_content": piece},
                        model="deepseek-reasoner",
                        cid="3a8e1f2c",
                        usage=None,
                    )
                )
            ],
            ": keep-alive",
            "",
            *[
                line
                for piece in ["9.8 is", " greater than 9.11."]
                for line in _sse(
                    _chunk(
                        {"content": piece, "reasoning_content": None},
                        model="deepseek-reasoner",
                        cid="3a8e1f2c",
                        usage=None,
                    )
                )
            ],
            *_sse(
                _chunk(
                    {"content": "", "reasoning_content": None},
                    "stop",
                    model="deepseek-reasoner",
                    cid="3a8e1f2c",
                    usage={
                        "prompt_tokens": 18,
                        "completion_tokens": 45,
                        "total_tokens": 63,
                        "prompt_tokens_details": {"cached_tokens": 0},
                        "completion_tokens_details": {"reasoning_tokens": 33},
                        "prompt_cache_hit_tokens": 0,
                        "prompt_cache_miss_tokens": 18,
                    },
                )
            ),
            *DONE,
        ],
        expected_text="9.8 is greater than 9.11.",
        expected_reasoning="Okay, the user asks 9.11 vs 9.8. 9.8 is larger.",
        expected_usage=Usage(18, 45, 63, 33),
        expected_finish="stop",
    ),
    Shape(
        "llamacpp_reasoning_and_timings",
        source="llama.cpp server (tools/server): role-only first delta with content null, reasoning_content, "
        "a finish chunk with delta {} carrying usage and timings (llama.cpp#15443; ask-openai.nvim notes)",
        lines=[
            *_sse(
                {
                    "choices": [
                        {"finish_reason": None, "index": 0, "delta": {"role": "assistant", "content": None}}
                    ],
                    "created": 1762593253,
                    "id": "chatcmpl-DHvcEyFobkuV4Xu1QSYo4bqNv18TDqaA",
                    "model": "gpt-oss:120b",
                    "system_fingerprint": "b6881-8b11deea4",
                    "object": "chat.completion.chunk",
                }
            ),
            *[
                line
                for piece in ["User wrote", ' "test". Respond', " politely."]
                for line in _sse(
                    {
                        "choices": [
                            {"finish_reason": None, "index": 0, "delta": {"reasoning_content": piece}}
                        ],
                        "object": "chat.completion.chunk",
                    }
                )
            ],
            *[
                line
                for piece in ["Hello!", " 👋 How can I", " assist you today?"]
                for line in _sse(
                    {
                        "choices": [{"finish_reason": None, "index": 0, "delta": {"content": piece}}],
                        "object": "chat.completion.chunk",
                    }
                )
            ],
            *_sse(
                {
                    "choices": [{"finish_reason": "stop", "index": 0, "delta": {}}],
                    "created": 1754524122,
                    "id": "chatcmpl-yPk7z9nC22CofOlh100qQdHVEDMNYCb1",
                    "model": "gpt-oss:20b",
                    "object": "chat.completion.chunk",
                    "usage": {"completion_tokens": 247, "prompt_tokens": 1085, "total_tokens": 1332},
                    "timings": {
                        "prompt_n": 1085,
                        "prompt_ms": 203.378,
                        "predicted_n": 247,
                        "predicted_ms": 933.63,
                        "predicted_per_second": 264.5587652496171,
                    },
                }
            ),
            *DONE,
        ],
        expected_text="Hello! 👋 How can I assist you today?",
        expected_reasoning='User wrote "test". Respond politely.',
        expected_usage=Usage(1085, 247, 1332),
        expected_finish="stop",
    ),
    Shape(
        "llamacpp_timings_without_usage",
        source="llama.cpp server builds that send timings but no usage object: timings prompt_n/predicted_n "
        "stand in for usage",
        lines=[
            *_sse(
                {
                    "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}],
                    "object": "chat.completion.chunk",
                }
            ),
            *_sse(
                {"choices": [{"index": 0, "delta": {"content": "Four."}}], "object": "chat.completion.chunk"}
            ),
            *_sse(
                {
                    "choices": [{"finish_reason": "stop", "index": 0, "delta": {}}],
                    "object": "chat.completion.chunk",
                    "timings": {"prompt_n": 12, "prompt_ms": 40.1, "predicted_n": 3, "predicted_ms": 30.5},
                }
            ),
            *DONE,
        ],
        expected_text="Four.",
        expected_usage=Usage(12, 3, 15),
        expected_finish="stop",
    ),
    Shape(
        "llamacpp_tool_call",
        source="llama.cpp server tool call diffs: id/name with arguments '' first, then argument pieces "
        "keyed by index only (tools/server chat diffs)",
        lines=[
            *_sse(
                {
                    "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}],
                    "object": "chat.completion.chunk",
                }
            ),
            *_sse(
                {
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [
                                    _tool(0, "rjKq8FvyyRsa0UPCpGKAhOSi0Ga6B8iH", "get_weather", "")
                                ]
                            },
                        }
                    ],
                    "object": "chat.completion.chunk",
                }
            ),
            *[
                line
                for piece in _split(WEATHER_ARGS, [13, 14])
                for line in _sse(
                    {
                        "choices": [{"index": 0, "delta": {"tool_calls": [_tool(0, arguments=piece)]}}],
                        "object": "chat.completion.chunk",
                    }
                )
            ],
            *_sse(
                {
                    "choices": [{"finish_reason": "tool_calls", "index": 0, "delta": {}}],
                    "object": "chat.completion.chunk",
                }
            ),
            *DONE,
        ],
        expected_tool_calls=[("rjKq8FvyyRsa0UPCpGKAhOSi0Ga6B8iH", "get_weather", WEATHER_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "llamacpp_error_field",
        source="llama.cpp server sends a stream error as an `error:` SSE field, then data: [DONE] "
        '(tools/server/server.cpp: server_sent_event(sink, "error", ...))',
        lines=[
            *_sse(
                {
                    "choices": [{"index": 0, "delta": {"content": "Partial"}}],
                    "object": "chat.completion.chunk",
                }
            ),
            *_sse(
                {
                    "choices": [{"index": 0, "delta": {"content": " answer"}}],
                    "object": "chat.completion.chunk",
                }
            ),
            'error: {"code":500,"message":"llama_decode failed: out of memory","type":"server_error"}',
            "",
            *DONE,
        ],
        expected_text="Partial answer",
        expected_error=ProviderStreamError,
    ),
    Shape(
        "openrouter_reasoning_and_details",
        source="OpenRouter: ': OPENROUTER PROCESSING' comments, `reasoning` plus `reasoning_details` with "
        "the "
        "same text (not to be doubled), native_finish_reason, usage with cost (openrouter.ai docs: "
        "streaming, reasoning tokens)",
        lines=[
            ": OPENROUTER PROCESSING",
            "",
            ": OPENROUTER PROCESSING",
            "",
            *[
                line
                for piece in ["The user wants", " a haiku."]
                for line in _sse(
                    _chunk(
                        {
                            "role": "assistant",
                            "content": "",
                            "reasoning": piece,
                            "reasoning_details": [
                                {"type": "reasoning.text", "text": piece, "format": "unknown", "index": 0}
                            ],
                        },
                        model="deepseek/deepseek-r1",
                        cid="gen-1741569952-abc",
                        provider="Together",
                        choice_extra={"native_finish_reason": None},
                    )
                )
            ],
            *_sse(
                _chunk(
                    {"role": "assistant", "content": "Autumn moonlight—", "reasoning": None},
                    model="deepseek/deepseek-r1",
                    cid="gen-1741569952-abc",
                    provider="Together",
                )
            ),
            *_sse(
                _chunk(
                    {"role": "assistant", "content": "\na worm digs silently", "reasoning": None},
                    model="deepseek/deepseek-r1",
                    cid="gen-1741569952-abc",
                    provider="Together",
                )
            ),
            *_sse(
                _chunk(
                    {"role": "assistant", "content": ""},
                    "stop",
                    model="deepseek/deepseek-r1",
                    cid="gen-1741569952-abc",
                    provider="Together",
                    choice_extra={"native_finish_reason": "stop"},
                )
            ),
            *_sse(
                {
                    **_chunk(None, model="deepseek/deepseek-r1", cid="gen-1741569952-abc"),
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 9,
                        "completion_tokens": 40,
                        "total_tokens": 49,
                        "cost": 0.0000958,
                        "completion_tokens_details": {"reasoning_tokens": 28},
                    },
                }
            ),
            *DONE,
        ],
        expected_text="Autumn moonlight—\na worm digs silently",
        expected_reasoning="The user wants a haiku.",
        expected_usage=Usage(9, 40, 49, 28),
        expected_finish="stop",
    ),
    Shape(
        "openrouter_reasoning_details_only",
        source="OpenRouter reasoning_details without a `reasoning` string: reasoning.summary items, and "
        "reasoning.encrypted items that carry no text (openrouter.ai docs: reasoning tokens)",
        lines=[
            *_sse(
                _chunk(
                    {
                        "role": "assistant",
                        "content": "",
                        "reasoning": None,
                        "reasoning_details": [
                            {
                                "type": "reasoning.summary",
                                "summary": "Compare decimals.",
                                "format": "openai-responses-v1",
                            }
                        ],
                    },
                    model="openai/o4-mini",
                )
            ),
            *_sse(
                _chunk(
                    {
                        "role": "assistant",
                        "content": "",
                        "reasoning_details": [
                            {
                                "type": "reasoning.encrypted",
                                "data": "gAAAAABo...",
                                "format": "openai-responses-v1",
                            }
                        ],
                    },
                    model="openai/o4-mini",
                )
            ),
            *_texts(["9.8 is larger."], model="openai/o4-mini"),
            *_sse(_chunk({}, "stop", model="openai/o4-mini")),
            *DONE,
        ],
        expected_text="9.8 is larger.",
        expected_reasoning="Compare decimals.",
        expected_finish="stop",
    ),
    Shape(
        "ollama_reasoning_field",
        source="Ollama openai.go: `reasoning` (from message.thinking), role and content '' on every delta, "
        "usage chunk with choices [] when include_usage",
        lines=[
            *[
                line
                for piece in ["Let me", " think."]
                for line in _sse(
                    _chunk(
                        {"role": "assistant", "content": "", "reasoning": piece},
                        model="qwen3:8b",
                        cid="chatcmpl-420",
                        system_fingerprint="fp_ollama",
                    )
                )
            ],
            *[
                line
                for piece in ["Hi", " there."]
                for line in _sse(
                    _chunk(
                        {"role": "assistant", "content": piece},
                        model="qwen3:8b",
                        cid="chatcmpl-420",
                        system_fingerprint="fp_ollama",
                    )
                )
            ],
            *_sse(
                _chunk(
                    {"role": "assistant", "content": ""},
                    "stop",
                    model="qwen3:8b",
                    cid="chatcmpl-420",
                    system_fingerprint="fp_ollama",
                )
            ),
            *_sse(
                {
                    **_chunk(None, model="qwen3:8b", cid="chatcmpl-420"),
                    "choices": [],
                    "usage": {"prompt_tokens": 11, "completion_tokens": 9, "total_tokens": 20},
                }
            ),
            *DONE,
        ],
        expected_text="Hi there.",
        expected_reasoning="Let me think.",
        expected_usage=Usage(11, 9, 20),
        expected_finish="stop",
    ),
    Shape(
        "vllm_reasoning_in_two_fields",
        source="vLLM during the reasoning_content -> reasoning rename sends both fields with the same text "
        "(vLLM reasoning outputs docs)",
        lines=[
            *_sse(_chunk({"role": "assistant", "content": ""}, model="Qwen/Qwen3-8B")),
            *[
                line
                for piece in ["Short", " thought."]
                for line in _sse(
                    _chunk({"reasoning": piece, "reasoning_content": piece}, model="Qwen/Qwen3-8B")
                )
            ],
            *_texts(["Answer."], model="Qwen/Qwen3-8B"),
            *_sse(_chunk({"content": ""}, "stop", model="Qwen/Qwen3-8B")),
            *DONE,
        ],
        expected_text="Answer.",
        expected_reasoning="Short thought.",
        expected_finish="stop",
    ),
    Shape(
        "think_tags_in_content",
        source="DeepSeek-R1 / QwQ through a server without a reasoning parser: <think>...</think> at the "
        "start of content, then the answer after blank lines (vLLM docs: reasoning outputs)",
        lines=[
            *_sse(_chunk({"role": "assistant", "content": ""}, model="deepseek-r1-distill-qwen-7b")),
            *_texts(
                [
                    "<think>",
                    "\nThe user",
                    " greets me.",
                    "\n",
                    "</think>",
                    "\n\n",
                    "Hello!",
                    " Nice to meet you.",
                ],
                model="deepseek-r1-distill-qwen-7b",
            ),
            *_sse(_chunk({}, "stop", model="deepseek-r1-distill-qwen-7b")),
            *DONE,
        ],
        expected_text="Hello! Nice to meet you.",
        expected_reasoning="\nThe user greets me.\n",
        expected_finish="stop",
    ),
    Shape(
        "think_tags_split_across_chunks",
        source="Tags split by tokenisation: '<th' + 'ink>' and '</thi' + 'nk>' (Qwen3 via LM Studio sends "
        "<think> as a chunk of its own, lmstudio-bug-tracker#649; here split further); leading newline",
        lines=[
            *_texts(
                ["\n", "<th", "ink", ">Plan", ": be brief.", "<", "/thi", "nk>\n", "\nSure", " — done."],
                model="qwq-32b",
            ),
            *_sse(_chunk({}, "stop", model="qwq-32b")),
            *DONE,
        ],
        expected_text="Sure — done.",
        expected_reasoning="Plan: be brief.",
        expected_finish="stop",
    ),
    Shape(
        "think_tag_later_is_text",
        source="A <think> that is not at the start of the answer is ordinary text (e.g. an answer about "
        "the tag itself)",
        lines=[
            *_texts(["Use the ", "<think>", " tag to wrap ", "reasoning; close it with </think>."]),
            *_sse(_chunk({}, "stop")),
            *DONE,
        ],
        expected_text="Use the <think> tag to wrap reasoning; close it with </think>.",
        expected_finish="stop",
    ),
    Shape(
        "think_unclosed_at_length",
        source="A reasoning model cut by max_tokens inside its <think> block: the reasoning stays reasoning "
        "and a partial closing tag held back at the end is reasoning too",
        lines=[
            *_texts(["<think>", "Long reasoning", " that never ends </th"], model="qwen3-32b"),
            *_sse(_chunk({}, "length", model="qwen3-32b")),
            *DONE,
        ],
        expected_reasoning="Long reasoning that never ends </th",
        expected_finish="length",
    ),
    Shape(
        "mistral_thinking_content_parts",
        source="Mistral Magistral: delta.content as a list of parts, thinking parts (with text sub-parts) "
        "then text parts (litellm#16272, vercel/ai#8072)",
        lines=[
            *_sse(
                _chunk({"role": "assistant", "content": ""}, model="magistral-medium-2509", cid="c3c77283")
            ),
            *[
                line
                for piece in ["Okay, it", "'s a greeting."]
                for line in _sse(
                    _chunk(
                        {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": piece}]}]},
                        model="magistral-medium-2509",
                        cid="c3c77283",
                    )
                )
            ],
            *_sse(
                _chunk(
                    {"content": [{"type": "text", "text": "Hello"}]},
                    model="magistral-medium-2509",
                    cid="c3c77283",
                )
            ),
            *_sse(_chunk({"content": "! How can I help?"}, model="magistral-medium-2509", cid="c3c77283")),
            *_sse(
                _chunk(
                    {"content": ""},
                    "stop",
                    model="magistral-medium-2509",
                    cid="c3c77283",
                    usage={"prompt_tokens": 5, "total_tokens": 40, "completion_tokens": 35},
                )
            ),
            *DONE,
        ],
        expected_text="Hello! How can I help?",
        expected_reasoning="Okay, it's a greeting.",
        expected_usage=Usage(5, 35, 40),
        expected_finish="stop",
    ),
    Shape(
        "groq_x_groq_usage",
        source="Groq: usage inside x_groq on the finish chunk (vercel/ai groq provider tests)",
        lines=[
            *_sse(
                _chunk(
                    {"role": "assistant", "content": ""},
                    model="llama-3.3-70b-versatile",
                    x_groq={"id": "req_01jadadp0femyae9kav1gpkhe8"},
                )
            ),
            *_texts(["Fast", " answer."], model="llama-3.3-70b-versatile"),
            *_sse(
                _chunk(
                    {},
                    "stop",
                    model="llama-3.3-70b-versatile",
                    x_groq={
                        "id": "req_01jadadp0femyae9kav1gpkhe8",
                        "usage": {
                            "queue_time": 0.061348671,
                            "prompt_tokens": 18,
                            "prompt_time": 0.000211569,
                            "completion_tokens": 439,
                            "completion_time": 0.798181818,
                            "total_tokens": 457,
                            "total_time": 0.798393387,
                        },
                    },
                )
            ),
            *DONE,
        ],
        expected_text="Fast answer.",
        expected_usage=Usage(18, 439, 457),
        expected_finish="stop",
    ),
    Shape(
        "vllm_continuous_usage",
        source="vLLM stream_options continuous_usage_stats: usage on every chunk, a later one replaces, then "
        "a usage-only chunk (vLLM OpenAI-compatible server docs)",
        lines=[
            *_sse(
                _chunk(
                    {"role": "assistant", "content": ""},
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 21, "completion_tokens": 0},
                )
            ),
            *_sse(
                _chunk(
                    {"content": "One"},
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 22, "completion_tokens": 1},
                )
            ),
            *_sse(
                _chunk(
                    {"content": " two"},
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 23, "completion_tokens": 2},
                )
            ),
            *_sse(
                _chunk(
                    {"content": ""},
                    "stop",
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 24, "completion_tokens": 3},
                )
            ),
            *_sse(
                {
                    **_chunk(None, model="meta-llama/Llama-3.1-8B-Instruct"),
                    "choices": [],
                    "usage": {"prompt_tokens": 21, "total_tokens": 24, "completion_tokens": 3},
                }
            ),
            *DONE,
        ],
        expected_text="One two",
        expected_usage=Usage(21, 3, 24),
        expected_finish="stop",
    ),
    Shape(
        "azure_prompt_filter_first",
        source="Azure OpenAI: first chunk with choices [] and prompt_filter_results, content_filter_results "
        "on "
        "choices, a choice without delta in content-filter streaming mode (AbanteAI mentat#429, "
        "microsoft/autogen#6465, langchain#18977)",
        lines=[
            *_sse(
                {
                    "choices": [],
                    "created": 0,
                    "id": "",
                    "model": "",
                    "object": "",
                    "prompt_filter_results": [
                        {
                            "prompt_index": 0,
                            "content_filter_results": {
                                "hate": {"filtered": False, "severity": "safe"},
                                "self_harm": {"filtered": False, "severity": "safe"},
                            },
                        }
                    ],
                }
            ),
            *_sse(
                _chunk(
                    {"role": "assistant", "content": ""},
                    model="gpt-4o-2024-11-20",
                    choice_extra={"content_filter_results": {}},
                )
            ),
            *_sse(
                _chunk(
                    {"content": "Hi"},
                    model="gpt-4o-2024-11-20",
                    choice_extra={
                        "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}
                    },
                )
            ),
            *_sse(
                {
                    "id": "",
                    "object": "",
                    "created": 0,
                    "model": "",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": None,
                            "content_filter_results": {"violence": {"filtered": False, "severity": "safe"}},
                            "content_filter_offsets": {
                                "check_offset": 44,
                                "start_offset": 44,
                                "end_offset": 198,
                            },
                        }
                    ],
                    "usage": None,
                }
            ),
            *_sse(_chunk({}, "stop", model="gpt-4o-2024-11-20", choice_extra={"content_filter_results": {}})),
            *DONE,
        ],
        expected_text="Hi",
        expected_finish="stop",
    ),
    Shape(
        "openrouter_midstream_error",
        source="OpenRouter: an error during generation arrives as a chunk with a top-level error object and "
        "finish_reason 'error' (openrouter.ai docs: errors, streaming error formats)",
        lines=[
            ": OPENROUTER PROCESSING",
            "",
            *_texts(["The first", " half of"], model="anthropic/claude-sonnet-4", cid="gen-17"),
            *_sse(
                {
                    "id": "gen-17",
                    "object": "chat.completion.chunk",
                    "created": 1741569952,
                    "model": "anthropic/claude-sonnet-4",
                    "provider": "Anthropic",
                    "error": {"code": "server_error", "message": "Provider disconnected unexpectedly"},
                    "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
                }
            ),
            *DONE,
        ],
        expected_text="The first half of",
        expected_error=ProviderStreamError,
    ),
    Shape(
        "sse_event_error",
        source="An `event: error` SSE event with an error object (Anthropic-style stream errors, "
        "litellm#4562; openai-python raises on event 'error')",
        lines=[
            *_texts(["Working", " on it"]),
            "event: error",
            'data: {"type":"error","error":{"details":null,"type":"overloaded_error",'
            '"message":"Overloaded"}}',
            "",
        ],
        expected_text="Working on it",
        expected_error=ProviderStreamError,
    ),
    Shape(
        "top_level_error_line",
        source="OpenAI mid-stream failure: a data line holding only an error object, then the stream closes "
        "(coder aibridge fixture stream_error.txtar; goose#8031)",
        lines=[
            *_sse(
                _chunk(
                    {"role": "assistant", "content": "", "refusal": None},
                    model="gpt-4.1-2025-04-14",
                    usage=None,
                )
            ),
            *_texts(["The", " question", ' "'], model="gpt-4.1-2025-04-14", usage=None),
            'data: {"error": {"message": "The server had an error while processing your request. '
            'Sorry about that!", "type": "server_error"}}',
            "",
        ],
        expected_text='The question "',
        expected_error=ProviderStreamError,
    ),
    Shape(
        "vllm_error_object",
        source="vLLM: an error chunk {object: 'error', message, type, code} mid-stream, then [DONE] "
        "(goose#8031 handles this vLLM shape)",
        lines=[
            *_texts(["Par"], model="Qwen/Qwen3-8B"),
            'data: {"object":"error","message":"The model encountered an internal error.",'
            '"type":"InternalServerError","param":null,"code":500}',
            "",
            *DONE,
        ],
        expected_text="Par",
        expected_error=ProviderStreamError,
    ),
    Shape(
        "finish_length",
        source="max_tokens reached: finish_reason 'length'",
        lines=[*_texts(["A long", " answer cut"]), *_sse(_chunk({}, "length")), *DONE],
        expected_text="A long answer cut",
        expected_finish="length",
    ),
    Shape(
        "finish_content_filter",
        source="Azure/OpenAI content filter stopping the answer: finish_reason 'content_filter'",
        lines=[
            *_texts(["Here is how"], model="gpt-4o-2024-11-20"),
            *_sse(
                _chunk(
                    {},
                    "content_filter",
                    model="gpt-4o-2024-11-20",
                    choice_extra={
                        "content_filter_results": {"violence": {"filtered": True, "severity": "high"}}
                    },
                )
            ),
            *DONE,
        ],
        expected_text="Here is how",
        expected_finish="content_filter",
    ),
    Shape(
        "null_delta_and_choices",
        source="Gateways that send delta: null, choices: null, a choice {} or an empty tool_calls [] in "
        "deltas (vercel/ai#20203, aiavatarkit#124)",
        lines=[
            *_sse({"id": "x", "object": "chat.completion.chunk", "choices": None}),
            *_sse(_chunk(None)),
            *_sse({"id": "x", "object": "chat.completion.chunk", "choices": [{}]}),
            *_sse(_chunk({"role": "assistant", "content": None, "tool_calls": []})),
            *_sse(_chunk({"content": "Still", "tool_calls": []})),
            *_sse(_chunk({"content": " fine.", "tool_calls": None, "function_call": None})),
            *_sse(_chunk(None, "stop")),
            *DONE,
        ],
        expected_text="Still fine.",
        expected_finish="stop",
    ),
    Shape(
        "finish_without_done",
        source="Servers that close after the finish chunk without data: [DONE] (ik_llama.cpp#467)",
        lines=[*_texts(["Complete", " answer."]), *_sse(_chunk({}, "stop"))],
        expected_text="Complete answer.",
        expected_finish="stop",
    ),
    Shape(
        "done_without_finish_reason",
        source="Local servers that send [DONE] after content but never a finish_reason (open-agent-sdk notes "
        "on llama.cpp/vLLM gateways): complete, reason unknown",
        lines=[*_texts(["Complete", " anyway."]), *DONE],
        expected_text="Complete anyway.",
    ),
    Shape(
        "stream_cut_midway",
        source="The connection drops mid-answer: no finish_reason, no [DONE] (opencode#40061; vaadin "
        "flow-components#9195, LM Studio over its context length)",
        lines=[*_texts(["The answer", " is forty"])],
        expected_text="The answer is forty",
        expected_error=StreamCutError,
    ),
    Shape(
        "malformed_json_line",
        source="A truncated JSON document (a proxy that cut a line): the text before it is kept",
        lines=[
            *_texts(["Before"]),
            'data: {"id":"chatcmpl-1","object":"chat.completion.chunk",'
            '"choices":[{"index":0,"delta":{"content":" af',
            "",
            *_texts([" after"]),
            *DONE,
        ],
        expected_text="Before",
        expected_error=MalformedStreamError,
    ),
    Shape(
        "events_without_blank_lines",
        source="Proxies that write data lines back to back without the blank line between events, and "
        "[DONE] right after",
        lines=[
            f"data: {_dumps(_chunk({'role': 'assistant', 'content': 'No'}))}",
            f"data: {_dumps(_chunk({'content': ' blank'}))}",
            f"data: {_dumps(_chunk({'content': ' lines.'}))}",
            f"data: {_dumps(_chunk({}, 'stop'))}",
            "data: [DONE]",
        ],
        expected_text="No blank lines.",
        expected_finish="stop",
    ),
    Shape(
        "crlf_line_endings",
        source="CRLF line endings (a Windows proxy); the lines keep their \\r when split on \\n only",
        lines=[
            f"data: {_dumps(_chunk({'role': 'assistant', 'content': 'Windows'}))}\r",
            "\r",
            ": ping\r",
            "\r",
            f"data: {_dumps(_chunk({'content': ' line endings.'}))}\r",
            "\r",
            f"data: {_dumps(_chunk({}, 'stop'))}\r",
            "\r",
            "data: [DONE]\r",
            "\r",
        ],
        expected_text="Windows line endings.",
        expected_finish="stop",
    ),
    Shape(
        "ndjson_bare_lines",
        source="A misconfigured server or proxy that writes bare JSON lines (NDJSON) without `data:`",
        lines=[
            _dumps(_chunk({"role": "assistant", "content": "Bare"})),
            _dumps(_chunk({"content": " JSON"})),
            _dumps(_chunk({"content": " lines."})),
            _dumps(_chunk({}, "stop")),
        ],
        expected_text="Bare JSON lines.",
        expected_finish="stop",
    ),
    Shape(
        "data_without_space_bom_and_fields",
        source="SSE spec details: a BOM before the first line, `data:` without the optional space, `id:`, "
        "`retry:`, `event: message` and unknown fields (html.spec.whatwg.org server-sent events)",
        lines=[
            "\ufeffretry: 3000",
            "",
            "id: 1",
            "event: message",
            f"data:{_dumps(_chunk({'role': 'assistant', 'content': 'Spec'}))}",
            "",
            "id: 2",
            "x-unknown-field: ignored",
            f"data:{_dumps(_chunk({'content': ' compliant.'}))}",
            "",
            f"data:{_dumps(_chunk({}, 'stop'))}",
            "",
            "data:[DONE]",
            "",
        ],
        expected_text="Spec compliant.",
        expected_finish="stop",
    ),
    Shape(
        "multi_line_data",
        source="One pretty-printed JSON document over several data: lines (joined with \\n, per the SSE "
        "spec)",
        lines=[
            "data: {",
            'data:   "choices": [{"index": 0, "delta": {"content": "Multi"}}],',
            'data:   "object": "chat.completion.chunk"',
            "data: }",
            "",
            *_texts(["-line."]),
            *_sse(_chunk({}, "stop")),
            *DONE,
        ],
        expected_text="Multi-line.",
        expected_finish="stop",
    ),
    Shape(
        "unicode_split_across_deltas",
        source="Emoji (with ZWJ and skin tone), CJK and combining marks split between deltas as tokenisers "
        "do; raw UTF-8 in the JSON",
        lines=[
            *_texts(
                [
                    "Caf",
                    "e\u0301 ",
                    "👩",
                    "\u200d",
                    "💻",
                    " 日本",
                    "語の",
                    "テキスト ",
                    "👍",
                    "\U0001f3fd",
                    " ñ",
                ]
            ),
            *_sse(_chunk({}, "stop")),
            *DONE,
        ],
        expected_text="Cafe\u0301 👩\u200d💻 日本語のテキスト 👍\U0001f3fd ñ",
        expected_finish="stop",
    ),
    Shape(
        "line_separators_in_text",
        source="Raw U+2028/U+2029/U+0085 inside JSON strings (llama.cpp, pydantic-based servers do not "
        "escape them): lines must be split on \\r and \\n only; LineSplitter does, httpx's iter_lines() and "
        "str.splitlines() do not",
        lines=[
            *_texts(["Line\u2028separator", " and\u2029paragraph", " and\x85NEL."]),
            *_sse(_chunk({}, "stop")),
            *DONE,
        ],
        expected_text="Line\u2028separator and\u2029paragraph and\x85NEL.",
        expected_finish="stop",
    ),
    Shape(
        "utf16_surrogates_split",
        source="A proxy that slices JS strings by UTF-16 code units and escapes them: one emoji's surrogate "
        "pair arrives as \\ud83d in one delta and \\ude00 in the next",
        lines=[
            'data: {"choices":[{"index":0,"delta":{"content":"smile \\ud83d"}}]}',
            "",
            'data: {"choices":[{"index":0,"delta":{"content":"\\ude00 ok"}}]}',
            "",
            *_sse(_chunk({}, "stop")),
            *DONE,
        ],
        expected_text="smile 😀 ok",
        expected_finish="stop",
    ),
    Shape(
        "empty_stream_done_at_once",
        source="A server that answers with data: [DONE] and nothing else (vLLM swallowing an error before "
        "the first token, vllm#40986): no answer, so it counts as cut",
        lines=[*DONE],
        expected_error=StreamCutError,
    ),
    Shape(
        "n2_choices",
        source="n=2: two choices interleaved in separate chunks (OpenAI); only choice 0 is kept",
        lines=[
            *_sse(
                {
                    **_chunk(None),
                    "choices": [
                        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                    ],
                }
            ),
            *_sse(
                {
                    **_chunk(None),
                    "choices": [
                        {"index": 1, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                    ],
                }
            ),
            *_sse(
                {
                    **_chunk(None),
                    "choices": [{"index": 1, "delta": {"content": "Second"}, "finish_reason": None}],
                }
            ),
            *_sse(
                {
                    **_chunk(None),
                    "choices": [{"index": 0, "delta": {"content": "First"}, "finish_reason": None}],
                }
            ),
            *_sse(
                {
                    **_chunk(None),
                    "choices": [{"index": 0, "delta": {"content": " choice."}, "finish_reason": None}],
                }
            ),
            *_sse({**_chunk(None), "choices": [{"index": 1, "delta": {}, "finish_reason": "length"}]}),
            *_sse({**_chunk(None), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            *DONE,
        ],
        expected_text="First choice.",
        expected_finish="stop",
    ),
    Shape(
        "finish_stop_on_every_chunk",
        source="Gemini through one-api style proxies: finish_reason 'stop' on every chunk (one-api#1408, "
        "new-api#378): the text keeps coming, Finished is emitted once",
        lines=[
            *_sse(_chunk({"content": "你好"}, "stop", model="gemini")),
            *_sse(_chunk({"content": "！很高兴认识你。"}, "stop", model="gemini")),  # noqa: RUF001
            *_sse(_chunk({"content": "有什么可以帮你？"}, "stop", model="gemini")),  # noqa: RUF001
            *DONE,
        ],
        expected_text="你好！很高兴认识你。有什么可以帮你？",  # noqa: RUF001
        expected_finish="stop",
    ),
    Shape(
        "together_eos_with_text_field",
        source="Together: `text` next to `delta.content` (the same text), token_id in delta, finish 'eos', "
        "usage on the last chunk (mlflow#11557 capture)",
        lines=[
            *[
                line
                for piece, token in [("Hello", 9906), (" world", 1917)]
                for line in _sse(
                    {
                        "id": "86d8d6e06df86f61-ATH",
                        "object": "chat.completion.chunk",
                        "created": 1711977238,
                        "choices": [
                            {
                                "index": 0,
                                "text": piece,
                                "logprobs": None,
                                "finish_reason": None,
                                "seed": None,
                                "delta": {
                                    "token_id": token,
                                    "role": "assistant",
                                    "content": piece,
                                    "tool_calls": None,
                                },
                            }
                        ],
                        "model": "mistralai/Mixtral-8x7B-Instruct-v0.1",
                        "usage": None,
                    }
                )
            ],
            *_sse(
                {
                    "id": "86d8d6e06df86f61-ATH",
                    "object": "chat.completion.chunk",
                    "created": 1711977238,
                    "choices": [
                        {
                            "index": 0,
                            "text": "",
                            "logprobs": None,
                            "finish_reason": "eos",
                            "seed": 7,
                            "delta": {"token_id": 2, "role": "assistant", "content": ""},
                        }
                    ],
                    "model": "mistralai/Mixtral-8x7B-Instruct-v0.1",
                    "usage": {"prompt_tokens": 17, "completion_tokens": 3, "total_tokens": 20},
                }
            ),
            *DONE,
        ],
        expected_text="Hello world",
        expected_usage=Usage(17, 3, 20),
        expected_finish="stop",
    ),
    Shape(
        "anthropic_stop_reasons_via_gateway",
        source="Gateways passing Anthropic's stop_reason through: tool call then finish 'tool_use'; "
        "usage with input_tokens/output_tokens names",
        lines=[
            *_texts(["Let me check."], model="claude-sonnet-4-5"),
            *_sse(
                _chunk(
                    {"tool_calls": [_tool(0, "toolu_01A09q90qw90lq917835lq9", "get_weather", "")]},
                    model="claude-sonnet-4-5",
                )
            ),
            *_sse(_chunk({"tool_calls": [_tool(0, arguments=WEATHER_ARGS)]}, model="claude-sonnet-4-5")),
            *_sse(
                _chunk(
                    {},
                    "tool_use",
                    model="claude-sonnet-4-5",
                    usage={"input_tokens": 472, "output_tokens": 89},
                )
            ),
            *DONE,
        ],
        expected_text="Let me check.",
        expected_tool_calls=[("toolu_01A09q90qw90lq917835lq9", "get_weather", WEATHER_ARGS)],
        expected_usage=Usage(472, 89, 561),
        expected_finish="tool_calls",
    ),
    Shape(
        "usage_inside_choice",
        source="Providers that put usage inside the last choice (Moonshot/Kimi streaming)",
        lines=[
            *_texts(["Kimi", " here."], model="moonshot-v1-8k"),
            *_sse(
                _chunk(
                    {},
                    "stop",
                    model="moonshot-v1-8k",
                    choice_extra={
                        "usage": {"prompt_tokens": 19, "completion_tokens": 13, "total_tokens": 32}
                    },
                )
            ),
            *DONE,
        ],
        expected_text="Kimi here.",
        expected_usage=Usage(19, 13, 32),
        expected_finish="stop",
    ),
    Shape(
        "openai_refusal",
        source="OpenAI structured outputs: the refusal arrives in delta.refusal with content null; shown as "
        "the answer (openai-python ChoiceDelta.refusal)",
        lines=[
            *_sse(_chunk({"role": "assistant", "content": None, "refusal": ""})),
            *_sse(_chunk({"content": None, "refusal": "I'm sorry,"})),
            *_sse(_chunk({"content": None, "refusal": " I can't help with that."})),
            *_sse(_chunk({}, "stop")),
            *DONE,
        ],
        expected_text="I'm sorry, I can't help with that.",
        expected_finish="stop",
    ),
    Shape(
        "text_then_tool_call",
        source="Models that say something, then call a tool in the same message (OpenAI, Anthropic compat)",
        lines=[
            *_texts(["I'll look", " that up."]),
            *_sse(_chunk({"tool_calls": [_tool(0, "call_9", "search", "")]})),
            *_sse(_chunk({"tool_calls": [_tool(0, arguments='{"q":"weather"}')]})),
            *_sse(_chunk({}, "tool_calls")),
            *DONE,
        ],
        expected_text="I'll look that up.",
        expected_tool_calls=[("call_9", "search", '{"q":"weather"}')],
        expected_finish="tool_calls",
    ),
    Shape(
        "error_before_any_content",
        source="llama.cpp rejecting the prompt inside the stream: the error is the first event "
        "(exceed_context_size_error)",
        lines=[
            'error: {"code":400,"message":"the request exceeds the available context size, '
            'try increasing it","type":"exceed_context_size_error"}',
            "",
            *DONE,
        ],
        expected_error=ProviderStreamError,
    ),
]

SHAPES: dict[str, Shape] = {shape.name: shape for shape in _SHAPES}
assert len(SHAPES) == len(_SHAPES), "shape names must be unique"
