"""Hosted providers and gateways that speak the OpenAI format their own way: Mistral, Gemini, OpenRouter,
Groq, Azure, Together, LiteLLM and other proxies."""

from __future__ import annotations

from functools import partial

from desktop_chat.domain import Usage
from desktop_chat.llm.errors import ProviderStreamError
from tests.helpers.shapes.build import (
    DONE,
    TIME_ARGS,
    WEATHER_ARGS,
    chunk,
    each,
    sse,
    texts,
    tool_call,
    usage_only,
)
from tests.helpers.shapes.model import Shape

_openrouter_r1 = partial(chunk, model="deepseek/deepseek-r1", cid="gen-1741569952-abc", provider="Together")

SHAPES: list[Shape] = [
    Shape(
        "mistral_whole_tool_call",
        source="Mistral: the whole tool call in one chunk with finish_reason tool_calls and usage on the "
        "same chunk (docs.mistral.ai function calling; vercel/ai mistral provider tests)",
        lines=[
            *sse(chunk({"role": "assistant", "content": ""}, model="mistral-large-latest", cid="a1b2")),
            *sse(
                chunk(
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
        "ids_and_names_repeated_every_piece",
        source="Servers that repeat id, type and function.name on every piece (some vLLM tool parsers, "
        "proxies); LiteLLM sends id '' and type '' on continuation pieces (AstrBot#6661 log)",
        lines=[
            *sse(chunk({"role": "assistant", "content": None})),
            *sse(chunk({"tool_calls": [tool_call(0, "chatcmpl-tool-9f1", "get_weather", '{"location":')]})),
            *sse(
                chunk({"tool_calls": [tool_call(0, "chatcmpl-tool-9f1", "get_weather", '"Paris, France",')]})
            ),
            *sse(
                chunk(
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
            *sse(chunk({"tool_calls": [tool_call(0, "chatcmpl-tool-9f1", "get_weather", '"celsius"}')]})),
            *sse(chunk({}, "tool_calls")),
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
            *sse(
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
            *sse(
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
            *sse(
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
            *sse(
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
            *sse(
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
            *sse(chunk({"role": "assistant", "tool_calls": [tool_call(None, "call_x", "get_weather", "")]})),
            *sse(chunk({"tool_calls": [tool_call(None, "call_x", None, '{"location":"Paris, France",')]})),
            *sse(chunk({"tool_calls": [tool_call(None, "call_x", "get_weather", '"unit":"celsius"}')]})),
            *sse(chunk({}, "tool_calls")),
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
            *sse(
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            tool_call(
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
            *sse(
                chunk(
                    {
                        "tool_calls": [
                            tool_call(
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
            *each(
                ["The user wants", " a haiku."],
                lambda piece: _openrouter_r1(
                    {
                        "role": "assistant",
                        "content": "",
                        "reasoning": piece,
                        "reasoning_details": [
                            {"type": "reasoning.text", "text": piece, "format": "unknown", "index": 0}
                        ],
                    },
                    choice_extra={"native_finish_reason": None},
                ),
            ),
            *sse(_openrouter_r1({"role": "assistant", "content": "Autumn moonlight—", "reasoning": None})),
            *sse(
                _openrouter_r1({"role": "assistant", "content": "\na worm digs silently", "reasoning": None})
            ),
            *sse(
                _openrouter_r1(
                    {"role": "assistant", "content": ""},
                    "stop",
                    choice_extra={"native_finish_reason": "stop"},
                )
            ),
            *sse(
                usage_only(
                    {
                        "prompt_tokens": 9,
                        "completion_tokens": 40,
                        "total_tokens": 49,
                        "cost": 0.0000958,
                        "completion_tokens_details": {"reasoning_tokens": 28},
                    },
                    model="deepseek/deepseek-r1",
                    cid="gen-1741569952-abc",
                )
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
            *sse(
                chunk(
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
            *sse(
                chunk(
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
            *texts(["9.8 is larger."], model="openai/o4-mini"),
            *sse(chunk({}, "stop", model="openai/o4-mini")),
            *DONE,
        ],
        expected_text="9.8 is larger.",
        expected_reasoning="Compare decimals.",
        expected_finish="stop",
    ),
    Shape(
        "groq_x_groq_usage",
        source="Groq: usage inside x_groq on the finish chunk (vercel/ai groq provider tests)",
        lines=[
            *sse(
                chunk(
                    {"role": "assistant", "content": ""},
                    model="llama-3.3-70b-versatile",
                    x_groq={"id": "req_01jadadp0femyae9kav1gpkhe8"},
                )
            ),
            *texts(["Fast", " answer."], model="llama-3.3-70b-versatile"),
            *sse(
                chunk(
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
        "azure_prompt_filter_first",
        source="Azure OpenAI: first chunk with choices [] and prompt_filter_results, content_filter_results "
        "on "
        "choices, a choice without delta in content-filter streaming mode (AbanteAI mentat#429, "
        "microsoft/autogen#6465, langchain#18977)",
        lines=[
            *sse(
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
            *sse(
                chunk(
                    {"role": "assistant", "content": ""},
                    model="gpt-4o-2024-11-20",
                    choice_extra={"content_filter_results": {}},
                )
            ),
            *sse(
                chunk(
                    {"content": "Hi"},
                    model="gpt-4o-2024-11-20",
                    choice_extra={
                        "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}
                    },
                )
            ),
            *sse(
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
            *sse(chunk({}, "stop", model="gpt-4o-2024-11-20", choice_extra={"content_filter_results": {}})),
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
            *texts(["The first", " half of"], model="anthropic/claude-sonnet-4", cid="gen-17"),
            *sse(
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
            *texts(["Working", " on it"]),
            "event: error",
            'data: {"type":"error","error":{"details":null,"type":"overloaded_error",'
            '"message":"Overloaded"}}',
            "",
        ],
        expected_text="Working on it",
        expected_error=ProviderStreamError,
    ),
    Shape(
        "null_delta_and_choices",
        source="Gateways that send delta: null, choices: null, a choice {} or an empty tool_calls [] in "
        "deltas (vercel/ai#20203, aiavatarkit#124)",
        lines=[
            *sse({"id": "x", "object": "chat.completion.chunk", "choices": None}),
            *sse(chunk(None)),
            *sse({"id": "x", "object": "chat.completion.chunk", "choices": [{}]}),
            *sse(chunk({"role": "assistant", "content": None, "tool_calls": []})),
            *sse(chunk({"content": "Still", "tool_calls": []})),
            *sse(chunk({"content": " fine.", "tool_calls": None, "function_call": None})),
            *sse(chunk(None, "stop")),
            *DONE,
        ],
        expected_text="Still fine.",
        expected_finish="stop",
    ),
    Shape(
        "finish_stop_on_every_chunk",
        source="Gemini through one-api style proxies: finish_reason 'stop' on every chunk (one-api#1408, "
        "new-api#378): the text keeps coming, Finished is emitted once",
        lines=[
            *sse(chunk({"content": "你好"}, "stop", model="gemini")),
            *sse(chunk({"content": "！很高兴认识你。"}, "stop", model="gemini")),  # noqa: RUF001
            *sse(chunk({"content": "有什么可以帮你？"}, "stop", model="gemini")),  # noqa: RUF001
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
                for line in sse(
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
            *sse(
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
            *texts(["Let me check."], model="claude-sonnet-4-5"),
            *sse(
                chunk(
                    {"tool_calls": [tool_call(0, "toolu_01A09q90qw90lq917835lq9", "get_weather", "")]},
                    model="claude-sonnet-4-5",
                )
            ),
            *sse(chunk({"tool_calls": [tool_call(0, arguments=WEATHER_ARGS)]}, model="claude-sonnet-4-5")),
            *sse(
                chunk(
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
            *texts(["Kimi", " here."], model="moonshot-v1-8k"),
            *sse(
                chunk(
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
]
