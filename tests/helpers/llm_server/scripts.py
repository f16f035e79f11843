"""Scripts: what the test server plays for a chat request, as JSON-serialisable steps (see the package
docstring), and builders for the usual ones: a streamed text answer, a tool-call round, an HTTP error,
a paced bulk stream. `validate_script` checks a script, `write_script_file` writes scripts for the CLI."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from tests.helpers.llm_server.chunks import DEFAULT_MODEL, chunk, error_body, tool_call, usage

Step = dict[str, Any]
Script = list[Step]

DEFAULT_TEXT: Final = "Hello from the test server."
FIELDS: Final = ("content", "reasoning_content", "reasoning")
PRE_HEAD: Final = frozenset({"http_error", "delay_headers", "framing", "headers"})
_KINDS: Final = PRE_HEAD | {
    "chunk",
    "raw",
    "done",
    "sleep",
    "wait_for_request_close",
    "hang",
    "end",
    "cut",
    "fast",
}
_FAST_KEYS: Final = frozenset({"count", "rate", "text", "per_chunk", "done", "field"})


def http_error(
    status: int,
    message: str | None = None,
    *,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
    body: dict[str, Any] | str | None = None,
) -> Step:
    """An `http_error` step; without `body`, an OpenAI-shaped error with `message` (or a default)."""
    step: Step = {"http_error": status}
    all_headers = dict(headers or {})
    if retry_after is not None:
        all_headers["Retry-After"] = f"{retry_after:g}"
    if all_headers:
        step["headers"] = all_headers
    if body is None and message is not None:
        type_, code = ERROR_KINDS.get(status, ("api_error", None))
        body = error_body(message, type_, code)
    if body is not None:
        step["body"] = body
    return step


def split_text(text: str, pieces: int | None = None) -> list[str]:
    """`text` as deltas: words with their leading space (None), or `pieces` near-equal parts."""
    if not text:
        return [""]
    if pieces is None:
        out: list[str] = []
        for i, word in enumerate(text.split(" ")):
            piece = word if i == 0 else " " + word
            if out and not word:
                out[-1] += piece
            else:
                out.append(piece)
        return out
    n = max(1, min(pieces, len(text)))
    return [text[i * len(text) // n : (i + 1) * len(text) // n] for i in range(n)]


def text_script(
    text: str | Sequence[str] = DEFAULT_TEXT,
    pieces: int | None = None,
    usage: Mapping[str, Any] | bool = True,
    finish_reason: str | None = "stop",
    done: bool = True,
    model: str = DEFAULT_MODEL,
) -> Script:
    """A streamed answer: role + first delta, the other deltas, a finish chunk, a usage chunk, [DONE].

    `text` is split by `split_text(text, pieces)`, or taken as the list of deltas; `usage=True` counts one
    completion token per delta, False sends no usage chunk.
    """
    deltas = split_text(text, pieces) if isinstance(text, str) else list(text)
    steps: Script = []
    for i, delta in enumerate(deltas):
        steps.append({"chunk": chunk(content=delta, role="assistant" if i == 0 else None, model=model)})
    if finish_reason is not None:
        steps.append({"chunk": chunk(finish_reason=finish_reason, model=model)})
    if usage is not False:
        counts = usage_for(len(deltas)) if usage is True else dict(usage)
        steps.append({"chunk": chunk(choices=[], usage=counts, model=model)})
    if done:
        steps.append({"done": True})
    return steps


def tool_round(*calls: tuple[str, str, str | Mapping[str, Any]], content: str | None = None) -> Script:
    """A round that asks for tools: role (+ `content`), one chunk per (call id, name, arguments) call
    (arguments as a JSON string, or a dict to dump), finish `tool_calls`, [DONE]."""
    steps: Script = [{"chunk": chunk(role="assistant", content=content)}]
    for i, (call_id, name, args) in enumerate(calls):
        arguments = args if isinstance(args, str) else json.dumps(args)
        steps.append({"chunk": chunk(tool_calls=[tool_call(i, call_id, name, arguments)])})
    return [*steps, {"chunk": chunk(finish_reason="tool_calls")}, {"done": True}]


def fast(
    count: int,
    rate: float | None = None,
    text: str | None = None,
    per_chunk: int = 1,
    done: bool = True,
    field: str = "content",
) -> Step:
    """A fast-mode step: `count` chunks paced at `rate` chunks/s (None: as fast as the socket takes them).

    Chunk i's delta (in `field`) joins `per_chunk` units `fast_unit(j, text)`; the whole text is
    `fast_text(count, text, per_chunk)`. Due chunks go out in one write; each write is logged in
    `RecordedRequest.send_log` as (time, chunks sent so far). With `done`, a stop chunk, a usage chunk
    and [DONE] follow; without, the script's next steps do.
    """
    spec: dict[str, Any] = {"count": count, "rate": rate, "per_chunk": per_chunk, "done": done}
    if text is not None:
        spec["text"] = text
    if field != "content":
        spec["field"] = field
    return {"fast": spec}


def fast_unit(j: int, text: str | None = None) -> str:
    """The j-th unit of fast-mode text: `text`, or by default the index as "%06d " (unique, checkable)."""
    return "%06d " % j if text is None else text  # noqa: UP031


def fast_text(count: int, text: str | None = None, per_chunk: int = 1) -> str:
    """Everything a fast step with these settings streams."""
    return "".join(fast_unit(j, text) for j in range(count * per_chunk))


def validate_script(script: Sequence[Mapping[str, Any]]) -> Script:
    """A checked deep copy (through JSON, so it is serialisable); ValueError says which step is wrong."""
    try:
        steps: Any = json.loads(json.dumps(list(script)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"script is not JSON-serialisable: {exc}") from exc
    head_phase = True
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ValueError(f"step {i}: not a dict: {step!r}")
        kind = step_kind(step)
        value = step[kind]
        if kind in PRE_HEAD:
            if not head_phase:
                raise ValueError(f"step {i}: {kind!r} must come before any step that sends the body")
            if kind == "http_error" and i != len(steps) - 1:
                raise ValueError(f"step {i}: http_error must be the last step")
        else:
            head_phase = False
        _check_value(i, kind, value, step)
    return list(steps)


def step_kind(step: Mapping[str, Any]) -> str:
    """Which kind of step this is; ValueError if none or ambiguous."""
    if "http_error" in step:
        extra = set(step) - {"http_error", "headers", "body"}
        if extra:
            raise ValueError(f"unexpected keys in http_error step: {sorted(extra)}")
        return "http_error"
    keys = list(step)
    if len(keys) != 1 or keys[0] not in _KINDS:
        raise ValueError(f"a step needs exactly one of {sorted(_KINDS)}: {dict(step)!r}")
    return str(keys[0])


def _check_value(i: int, kind: str, value: Any, step: Mapping[str, Any]) -> None:
    ok = True
    if kind in ("sleep", "delay_headers", "wait_for_request_close"):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    elif kind in ("done", "end", "hang"):
        ok = value is True
    elif kind == "cut":
        ok = value is True or value in ("reset", "fin")
    elif kind == "framing":
        ok = value in ("chunked", "close")
    elif kind == "raw":
        ok = isinstance(value, str)
    elif kind in ("chunk", "headers"):
        ok = isinstance(value, dict)
    elif kind == "http_error":
        ok = isinstance(value, int) and 100 <= value <= 599
        ok = ok and isinstance(step.get("headers", {}), dict)
        ok = ok and isinstance(step.get("body", ""), dict | str)
    elif kind == "fast":
        ok = isinstance(value, dict) and not set(value) - _FAST_KEYS
        if ok:
            rate = value.get("rate")
            ok = (
                isinstance(value.get("count", 0), int)
                and value.get("count", 0) >= 0
                and (rate is None or (isinstance(rate, int | float) and rate > 0))
                and isinstance(value.get("per_chunk", 1), int)
                and value.get("per_chunk", 1) >= 1
                and isinstance(value.get("text", ""), str)
                and value.get("field", "content") in FIELDS
            )
    if not ok:
        raise ValueError(f"step {i}: bad value for {kind!r}: {dict(step)!r}")


ERROR_KINDS: Final[dict[int, tuple[str, str | None]]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


def usage_for(completion_tokens: int) -> dict[str, Any]:
    """The usage the server reports for an answer of `completion_tokens` deltas."""
    return usage(5, completion_tokens)


def write_script_file(
    path: Path,
    script: Sequence[Step] | None = None,
    *,
    queue: Sequence[Sequence[Step]] = (),
    by_model: Mapping[str, Sequence[Step]] | None = None,
) -> Path:
    """Write scripts for the CLI's `--script`: `script` for every request, after the `queue` is used up."""
    data: dict[str, Any] = {"queue": [validate_script(s) for s in queue]}
    if script is not None:
        data["default"] = validate_script(script)
    if by_model:
        data["by_model"] = {model: validate_script(s) for model, s in by_model.items()}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
