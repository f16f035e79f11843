"""A conversation branch in the chat completions message format.

An answer that called tools becomes, per round, an assistant message with its text so far and its
`tool_calls`, then one `tool` message per call with the result; the text after the last round closes it.
Assistant messages with tool calls carry `content: ""`, never null (llama.cpp's server answers 500 to
null). Reasoning is never sent back (DeepSeek refuses requests that include it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from desktop_chat.domain import Message, Response, Role, ToolCall, ToolExecution, ToolStatus

NOT_RUN = "The tool did not run: the answer was stopped before it finished."
MAX_RESULT_CHARS = 20_000  # of a tool's result sent to the model (the database keeps it whole)


def truncate_for_model(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """`text`, or its first `limit` characters and a note saying how much was left out."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return (
        f"{cut}\n\n[Truncated: the result has {len(text):,} characters; these are the first {limit:,}. "
        "The full result is kept in the app.]"
    )


def tool_result_text(execution: ToolExecution | None) -> str:
    """What the model is told a tool call returned (long results truncated, with a note)."""
    if execution is None:
        return NOT_RUN
    if execution.status is ToolStatus.SUCCEEDED:
        return truncate_for_model(execution.result or "")
    if execution.status is ToolStatus.CANCELLED:
        return truncate_for_model(execution.error or "The tool call was cancelled.")
    if execution.status is ToolStatus.FAILED:
        return truncate_for_model(f"Error: {execution.error or 'the tool failed'}")
    return NOT_RUN


def _call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments or "{}"},
    }


def answer_messages(response: Response, executions: Sequence[ToolExecution]) -> list[dict[str, Any]]:
    """One answer (all its tool rounds) as assistant and tool messages."""
    by_call = {e.call_id: e for e in executions}  # a later execution of the same call id wins
    rounds: dict[int, list[ToolCall]] = {}
    for call in response.tool_calls:
        rounds.setdefault(call.round, []).append(call)
    out: list[dict[str, Any]] = []
    text = response.text
    pos = 0
    for round_no in sorted(rounds):
        calls = rounds[round_no]
        offset = min(max(pos, calls[0].text_offset), len(text))
        out.append(
            {"role": "assistant", "content": text[pos:offset], "tool_calls": [_call(c) for c in calls]}
        )
        out.extend(
            {"role": "tool", "tool_call_id": c.id, "content": tool_result_text(by_call.get(c.id))}
            for c in calls
        )
        pos = offset
    rest = text[pos:]
    if rest or not out:
        out.append({"role": "assistant", "content": rest})
    return out


def to_api_messages(
    path: Sequence[Message],
    executions: Mapping[int, Sequence[ToolExecution]],
    *,
    system_prompt: str | None = None,
) -> list[dict[str, Any]]:
    """The branch `path` (root first) as request messages. `executions` maps response ids to their tool runs.

    Empty assistant answers (failed before any text) are left out: they say nothing to the model.
    """
    out: list[dict[str, Any]] = []
    if system_prompt and system_prompt.strip():
        out.append({"role": "system", "content": system_prompt})
    for message in path:
        if message.role is Role.ASSISTANT:
            response = message.response
            if response is None or (not response.text and not response.tool_calls):
                continue
            out.extend(answer_messages(response, executions.get(response.id, ())))
        elif message.role is Role.TOOL:
            continue  # tool results live with the answer that called them
        else:
            out.append({"role": message.role.value, "content": message.content})
    return out
