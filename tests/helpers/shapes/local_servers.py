"""Servers on the person's own computer: Ollama, llama.cpp, vLLM and the like."""

from __future__ import annotations

from functools import partial
from typing import Any

from desktop_chat.domain import Usage
from desktop_chat.llm.errors import ProviderStreamError, StreamCutError
from tests.helpers.shapes.build import (
    DONE,
    WEATHER_ARGS,
    argument_pieces,
    chunk,
    each,
    sse,
    texts,
    tool_call,
    usage_only,
)
from tests.helpers.shapes.model import Shape

_ollama_coder = partial(chunk, model="qwen2.5-coder:7b", cid="chatcmpl-18", system_fingerprint="fp_ollama")
_ollama_qwen3 = partial(chunk, model="qwen3:8b", cid="chatcmpl-420", system_fingerprint="fp_ollama")


def _llamacpp(delta: dict[str, Any], *finish: str | None, **top: Any) -> dict[str, Any]:
    """llama.cpp's smallest chunk: no id, model or logprobs; `finish_reason` first when given."""
    first = {"finish_reason": finish[0]} if finish else {}
    return {"choices": [{**first, "index": 0, "delta": delta}], "object": "chat.completion.chunk", **top}


SHAPES: list[Shape] = [
    Shape(
        "ollama_parallel_tool_calls_index_zero",
        source="Ollama openai.go: role and content '' on every delta, each tool call whole, every parallel "
        "call with index 0 but its own id (ollama#15457), finish tool_calls, usage chunk with choices []",
        lines=[
            *sse(
                _ollama_coder(
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [tool_call(0, "call_wteop8bt", "run_command", '{"command":"ls"}')],
                    }
                )
            ),
            *sse(
                _ollama_coder(
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [tool_call(0, "call_rk2xye1l", "run_command", '{"command":"ls -l"}')],
                    }
                )
            ),
            *sse(_ollama_coder({"role": "assistant", "content": ""}, "tool_calls")),
            *sse(
                usage_only(
                    {"prompt_tokens": 120, "completion_tokens": 38, "total_tokens": 158},
                    model="qwen2.5-coder:7b",
                    cid="chatcmpl-18",
                )
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
        "llamacpp_reasoning_and_timings",
        source="llama.cpp server (tools/server): role-only first delta with content null, reasoning_content, "
        "a finish chunk with delta {} carrying usage and timings (llama.cpp#15443; ask-openai.nvim notes)",
        lines=[
            *sse(
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
            *each(
                ["User wrote", ' "test". Respond', " politely."],
                lambda piece: _llamacpp({"reasoning_content": piece}, None),
            ),
            *each(
                ["Hello!", " 👋 How can I", " assist you today?"],
                lambda piece: _llamacpp({"content": piece}, None),
            ),
            *sse(
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
            *sse(_llamacpp({"role": "assistant", "content": None})),
            *sse(_llamacpp({"content": "Four."})),
            *sse(
                _llamacpp(
                    {},
                    "stop",
                    timings={"prompt_n": 12, "prompt_ms": 40.1, "predicted_n": 3, "predicted_ms": 30.5},
                )
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
            *sse(_llamacpp({"role": "assistant", "content": None})),
            *sse(
                _llamacpp(
                    {"tool_calls": [tool_call(0, "rjKq8FvyyRsa0UPCpGKAhOSi0Ga6B8iH", "get_weather", "")]}
                )
            ),
            *argument_pieces([13, 14], _llamacpp),
            *sse(_llamacpp({}, "tool_calls")),
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
            *sse(_llamacpp({"content": "Partial"})),
            *sse(_llamacpp({"content": " answer"})),
            'error: {"code":500,"message":"llama_decode failed: out of memory","type":"server_error"}',
            "",
            *DONE,
        ],
        expected_text="Partial answer",
        expected_error=ProviderStreamError,
    ),
    Shape(
        "ollama_reasoning_field",
        source="Ollama openai.go: `reasoning` (from message.thinking), role and content '' on every delta, "
        "usage chunk with choices [] when include_usage",
        lines=[
            *each(
                ["Let me", " think."],
                lambda piece: _ollama_qwen3({"role": "assistant", "content": "", "reasoning": piece}),
            ),
            *each(
                ["Hi", " there."],
                lambda piece: _ollama_qwen3({"role": "assistant", "content": piece}),
            ),
            *sse(_ollama_qwen3({"role": "assistant", "content": ""}, "stop")),
            *sse(
                usage_only(
                    {"prompt_tokens": 11, "completion_tokens": 9, "total_tokens": 20},
                    model="qwen3:8b",
                    cid="chatcmpl-420",
                )
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
            *sse(chunk({"role": "assistant", "content": ""}, model="Qwen/Qwen3-8B")),
            *each(
                ["Short", " thought."],
                lambda piece: chunk({"reasoning": piece, "reasoning_content": piece}, model="Qwen/Qwen3-8B"),
            ),
            *texts(["Answer."], model="Qwen/Qwen3-8B"),
            *sse(chunk({"content": ""}, "stop", model="Qwen/Qwen3-8B")),
            *DONE,
        ],
        expected_text="Answer.",
        expected_reasoning="Short thought.",
        expected_finish="stop",
    ),
    Shape(
        "vllm_continuous_usage",
        source="vLLM stream_options continuous_usage_stats: usage on every chunk, a later one replaces, then "
        "a usage-only chunk (vLLM OpenAI-compatible server docs)",
        lines=[
            *sse(
                chunk(
                    {"role": "assistant", "content": ""},
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 21, "completion_tokens": 0},
                )
            ),
            *sse(
                chunk(
                    {"content": "One"},
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 22, "completion_tokens": 1},
                )
            ),
            *sse(
                chunk(
                    {"content": " two"},
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 23, "completion_tokens": 2},
                )
            ),
            *sse(
                chunk(
                    {"content": ""},
                    "stop",
                    model="meta-llama/Llama-3.1-8B-Instruct",
                    usage={"prompt_tokens": 21, "total_tokens": 24, "completion_tokens": 3},
                )
            ),
            *sse(
                usage_only(
                    {"prompt_tokens": 21, "total_tokens": 24, "completion_tokens": 3},
                    model="meta-llama/Llama-3.1-8B-Instruct",
                )
            ),
            *DONE,
        ],
        expected_text="One two",
        expected_usage=Usage(21, 3, 24),
        expected_finish="stop",
    ),
    Shape(
        "vllm_error_object",
        source="vLLM: an error chunk {object: 'error', message, type, code} mid-stream, then [DONE] "
        "(goose#8031 handles this vLLM shape)",
        lines=[
            *texts(["Par"], model="Qwen/Qwen3-8B"),
            'data: {"object":"error","message":"The model encountered an internal error.",'
            '"type":"InternalServerError","param":null,"code":500}',
            "",
            *DONE,
        ],
        expected_text="Par",
        expected_error=ProviderStreamError,
    ),
    Shape(
        "finish_without_done",
        source="Servers that close after the finish chunk without data: [DONE] (ik_llama.cpp#467)",
        lines=[*texts(["Complete", " answer."]), *sse(chunk({}, "stop"))],
        expected_text="Complete answer.",
        expected_finish="stop",
    ),
    Shape(
        "done_without_finish_reason",
        source="Local servers that send [DONE] after content but never a finish_reason (open-agent-sdk notes "
        "on llama.cpp/vLLM gateways): complete, reason unknown",
        lines=[*texts(["Complete", " anyway."]), *DONE],
        expected_text="Complete anyway.",
    ),
    Shape(
        "empty_stream_done_at_once",
        source="A server that answers with data: [DONE] and nothing else (vLLM swallowing an error before "
        "the first token, vllm#40986): no answer, so it counts as cut",
        lines=[*DONE],
        expected_error=StreamCutError,
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
