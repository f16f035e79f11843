"""Reasoning models: DeepSeek's reasoning_content, <think> tags in the content, Mistral's thinking parts."""

from __future__ import annotations

from functools import partial

from desktop_chat.domain import Usage
from tests.helpers.shapes.build import DONE, chunk, each, sse, texts
from tests.helpers.shapes.model import Shape

_magistral = partial(chunk, model="magistral-medium-2509", cid="c3c77283")
_reasoner = partial(chunk, model="deepseek-reasoner", cid="3a8e1f2c")

SHAPES: list[Shape] = [
    Shape(
        "deepseek_reasoning_content",
        source="DeepSeek deepseek-reasoner: ': keep-alive' comments, reasoning_content then content (the "
        "other one null), usage on the finish chunk with prompt_cache_hit_tokens and reasoning_tokens "
        "(api-docs.deepseek.com reasoning_model, chat completion)",
        lines=[
            ": keep-alive",
            "",
            *sse(_reasoner({"role": "assistant", "content": None, "reasoning_content": ""}, usage=None)),
            *each(
                ["Okay, the user", " asks 9.11 vs 9.8.", " 9.8 is larger."],
                lambda piece: _reasoner({"content": None, "reasoning_content": piece}, usage=None),
            ),
            ": keep-alive",
            "",
            *each(
                ["9.8 is", " greater than 9.11."],
                lambda piece: _reasoner({"content": piece, "reasoning_content": None}, usage=None),
            ),
            *sse(
                _reasoner(
                    {"content": "", "reasoning_content": None},
                    "stop",
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
        "think_tags_in_content",
        source="DeepSeek-R1 / QwQ through a server without a reasoning parser: <think>...</think> at the "
        "start of content, then the answer after blank lines (vLLM docs: reasoning outputs)",
        lines=[
            *sse(chunk({"role": "assistant", "content": ""}, model="deepseek-r1-distill-qwen-7b")),
            *texts(
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
            *sse(chunk({}, "stop", model="deepseek-r1-distill-qwen-7b")),
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
            *texts(
                ["\n", "<th", "ink", ">Plan", ": be brief.", "<", "/thi", "nk>\n", "\nSure", " — done."],
                model="qwq-32b",
            ),
            *sse(chunk({}, "stop", model="qwq-32b")),
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
            *texts(["Use the ", "<think>", " tag to wrap ", "reasoning; close it with </think>."]),
            *sse(chunk({}, "stop")),
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
            *texts(["<think>", "Long reasoning", " that never ends </th"], model="qwen3-32b"),
            *sse(chunk({}, "length", model="qwen3-32b")),
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
            *sse(_magistral({"role": "assistant", "content": ""})),
            *each(
                ["Okay, it", "'s a greeting."],
                lambda piece: _magistral(
                    {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": piece}]}]}
                ),
            ),
            *sse(_magistral({"content": [{"type": "text", "text": "Hello"}]})),
            *sse(_magistral({"content": "! How can I help?"})),
            *sse(
                _magistral(
                    {"content": ""},
                    "stop",
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
]
