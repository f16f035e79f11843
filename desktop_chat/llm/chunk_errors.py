"""What a chunk can raise: `MalformedStreamError` for what is no chat answer, `ProviderStreamError` for a
provider's error object or event (OpenAI, OpenRouter, vLLM and llama.cpp shapes)."""

from __future__ import annotations

import json

from desktop_chat.llm.errors import MalformedStreamError, ProviderStreamError

_EXCERPT_MAX = 80


def loads_lenient(data: str) -> object:
    """The JSON in an error event's data, or the text itself when it is not JSON."""
    try:
        return json.loads(data)
    except ValueError:
        return data


def _excerpt(data: str) -> str:
    text = " ".join(data.split())
    return text if len(text) <= _EXCERPT_MAX else text[: _EXCERPT_MAX - 1] + "…"


def malformed(data: str, why: str) -> MalformedStreamError:
    """The error for data that is not part of a chat answer (an excerpt for people, `why` as detail)."""
    return MalformedStreamError(
        f"The provider sent something that is not part of a chat answer: “{_excerpt(data)}”.", detail=why
    )


def stream_error(error: object, raw: str | None) -> ProviderStreamError:
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
