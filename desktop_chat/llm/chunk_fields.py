"""Values read out of a chat completion chunk: the finish reason, choice 0, text parts, usage counts.

Each helper takes what a provider sent as it is (any JSON) and never raises on an odd shape.
"""

from __future__ import annotations

import math
from typing import Any, Final

from desktop_chat.domain import Usage

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


def normalise_finish_reason(reason: str) -> str:
    """A provider's finish reason in the common vocabulary; unknown reasons pass through unchanged."""
    return _FINISH_ALIASES.get(reason) or _FINISH_ALIASES.get(reason.lower()) or reason


def first_text(mapping: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The first of `keys` whose value is a non-empty string (providers name the same field differently)."""
    for key in keys:
        value = mapping.get(key)
        if value and type(value) is str:
            return value
    return None


def choice_zero(choices: list[Any]) -> dict[str, Any] | None:
    """The choice with index 0 (or none) among choices that came in another order."""
    for choice in choices:
        if type(choice) is dict and (choice.get("index") or 0) == 0:
            return choice
    return None


def text_of(value: object) -> str:
    """Text from a string, a {"text": ...} part, or a list of either (Mistral's thinking parts)."""
    if type(value) is str:
        return value
    if type(value) is dict:
        text = value.get("text") or value.get("thinking")
        return text if type(text) is str else ""
    if type(value) is list:
        return "".join(text_of(item) for item in value)
    return ""


def _count(value: object) -> int:
    """A token count: ints as they are, finite floats cut, anything else (NaN, infinities) 0."""
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return int(value)
    return 0


def usage_from(raw: dict[str, Any]) -> Usage | None:
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


def timings_usage(raw: object) -> Usage | None:
    """llama.cpp's `timings` as usage: prompt_n prompt tokens, predicted_n completion tokens."""
    if type(raw) is not dict or ("prompt_n" not in raw and "predicted_n" not in raw):
        return None
    prompt = _count(raw.get("prompt_n"))
    completion = _count(raw.get("predicted_n"))
    return Usage(prompt, completion, prompt + completion)
