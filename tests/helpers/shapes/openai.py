"""OpenAI's own streams: text with usage last, tool calls in fragments and in parallel, the legacy
function call, refusals, finish reasons, a mid-stream error and n=2."""

from __future__ import annotations

from desktop_chat.domain import Usage
from desktop_chat.llm.errors import ProviderStreamError
from tests.helpers.shapes.build import (
    DONE,
    TIME_ARGS,
    WEATHER_ARGS,
    argument_pieces,
    chunk,
    each,
    split,
    sse,
    texts,
    tool_call,
    usage_only,
)
from tests.helpers.shapes.model import Shape

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

SHAPES: list[Shape] = [
    Shape(
        "openai_text_usage_last",
        source="OpenAI chat streaming with stream_options.include_usage: role chunk with content '' and "
        "refusal null, usage null on every chunk, a last chunk with choices [] and usage "
        "(platform.openai.com API reference; capture in pydantic-ai#797)",
        lines=[
            *sse(chunk({"role": "assistant", "content": "", "refusal": None}, usage=None)),
            *sse(chunk({"content": "Hello"}, usage=None)),
            *sse(chunk({"content": "! How"}, usage=None)),
            *sse(chunk({"content": " can I help?"}, usage=None)),
            *sse(chunk({}, "stop", usage=None)),
            *sse(usage_only(_OPENAI_USAGE)),
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
            *sse(
                chunk(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [tool_call(0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", "")],
                        "refusal": None,
                    }
                )
            ),
            *argument_pieces([2, 8, 3, 1, 10, 4, 4]),
            *sse(chunk({}, "tool_calls")),
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
            *sse(chunk({"role": "assistant", "content": None})),
            *sse(chunk({"tool_calls": [tool_call(0, "call_A1", "get_weather", "")]})),
            *sse(chunk({"tool_calls": [tool_call(1, "call_B2", "get_time", "")]})),
            *sse(chunk({"tool_calls": [tool_call(0, arguments=WEATHER_ARGS[:20])]})),
            *sse(chunk({"tool_calls": [tool_call(1, arguments=TIME_ARGS[:9])]})),
            *sse(chunk({"tool_calls": [tool_call(0, arguments=WEATHER_ARGS[20:])]})),
            *sse(chunk({"tool_calls": [tool_call(1, arguments=TIME_ARGS[9:])]})),
            *sse(chunk({}, "tool_calls")),
            *DONE,
        ],
        expected_tool_calls=[("call_A1", "get_weather", WEATHER_ARGS), ("call_B2", "get_time", TIME_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "legacy_function_call",
        source="Legacy `functions` API: delta.function_call {name, arguments}, finish 'function_call' "
        "(openai-python ChoiceDeltaFunctionCall, deprecated)",
        lines=[
            *sse(
                chunk(
                    {
                        "role": "assistant",
                        "content": None,
                        "function_call": {"name": "get_weather", "arguments": ""},
                    },
                    model="gpt-3.5-turbo-0613",
                )
            ),
            *each(
                split(WEATHER_ARGS, [5, 12, 9]),
                lambda piece: chunk({"function_call": {"arguments": piece}}, model="gpt-3.5-turbo-0613"),
            ),
            *sse(chunk({}, "function_call", model="gpt-3.5-turbo-0613")),
            *DONE,
        ],
        expected_tool_calls=[("call_0", "get_weather", WEATHER_ARGS)],
        expected_finish="tool_calls",
    ),
    Shape(
        "top_level_error_line",
        source="OpenAI mid-stream failure: a data line holding only an error object, then the stream closes "
        "(coder aibridge fixture stream_error.txtar; goose#8031)",
        lines=[
            *sse(
                chunk(
                    {"role": "assistant", "content": "", "refusal": None},
                    model="gpt-4.1-2025-04-14",
                    usage=None,
                )
            ),
            *texts(["The", " question", ' "'], model="gpt-4.1-2025-04-14", usage=None),
            'data: {"error": {"message": "The server had an error while processing your request. '
            'Sorry about that!", "type": "server_error"}}',
            "",
        ],
        expected_text='The question "',
        expected_error=ProviderStreamError,
    ),
    Shape(
        "finish_length",
        source="max_tokens reached: finish_reason 'length'",
        lines=[*texts(["A long", " answer cut"]), *sse(chunk({}, "length")), *DONE],
        expected_text="A long answer cut",
        expected_finish="length",
    ),
    Shape(
        "finish_content_filter",
        source="Azure/OpenAI content filter stopping the answer: finish_reason 'content_filter'",
        lines=[
            *texts(["Here is how"], model="gpt-4o-2024-11-20"),
            *sse(
                chunk(
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
        "n2_choices",
        source="n=2: two choices interleaved in separate chunks (OpenAI); only choice 0 is kept",
        lines=[
            *sse(
                {
                    **chunk(None),
                    "choices": [
                        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                    ],
                }
            ),
            *sse(
                {
                    **chunk(None),
                    "choices": [
                        {"index": 1, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                    ],
                }
            ),
            *sse(
                {
                    **chunk(None),
                    "choices": [{"index": 1, "delta": {"content": "Second"}, "finish_reason": None}],
                }
            ),
            *sse(
                {
                    **chunk(None),
                    "choices": [{"index": 0, "delta": {"content": "First"}, "finish_reason": None}],
                }
            ),
            *sse(
                {
                    **chunk(None),
                    "choices": [{"index": 0, "delta": {"content": " choice."}, "finish_reason": None}],
                }
            ),
            *sse({**chunk(None), "choices": [{"index": 1, "delta": {}, "finish_reason": "length"}]}),
            *sse({**chunk(None), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            *DONE,
        ],
        expected_text="First choice.",
        expected_finish="stop",
    ),
    Shape(
        "openai_refusal",
        source="OpenAI structured outputs: the refusal arrives in delta.refusal with content null; shown as "
        "the answer (openai-python ChoiceDelta.refusal)",
        lines=[
            *sse(chunk({"role": "assistant", "content": None, "refusal": ""})),
            *sse(chunk({"content": None, "refusal": "I'm sorry,"})),
            *sse(chunk({"content": None, "refusal": " I can't help with that."})),
            *sse(chunk({}, "stop")),
            *DONE,
        ],
        expected_text="I'm sorry, I can't help with that.",
        expected_finish="stop",
    ),
    Shape(
        "text_then_tool_call",
        source="Models that say something, then call a tool in the same message (OpenAI, Anthropic compat)",
        lines=[
            *texts(["I'll look", " that up."]),
            *sse(chunk({"tool_calls": [tool_call(0, "call_9", "search", "")]})),
            *sse(chunk({"tool_calls": [tool_call(0, arguments='{"q":"weather"}')]})),
            *sse(chunk({}, "tool_calls")),
            *DONE,
        ],
        expected_text="I'll look that up.",
        expected_tool_calls=[("call_9", "search", '{"q":"weather"}')],
        expected_finish="tool_calls",
    ),
]
