"""The transcript's words: headings, status notes, tool lines, token usage, what a screen reader says.

Plain functions over domain objects and rows (no widgets, no painting): the model, the layout and the
painter take their text from here, and tests check it without a QApplication.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import datetime

from desktop_chat.domain import Message, ResponseStatus, ToolCall, ToolExecution, ToolStatus
from desktop_chat.ui.transcript.row import TranscriptRow

DETAIL_LIMIT = 20_000  # characters of a tool's arguments or result shown when expanded

_STATUS_NOTE = {
    ResponseStatus.PENDING: "waiting for the model",
    ResponseStatus.STREAMING: "answering",
    ResponseStatus.ERROR: "failed",
    ResponseStatus.CANCELLED: "stopped",
    ResponseStatus.INTERRUPTED: "interrupted",
}
STATUS_GLYPH = {
    ToolStatus.QUEUED: "○",
    ToolStatus.RUNNING: "◔",
    ToolStatus.SUCCEEDED: "✓",
    ToolStatus.FAILED: "✗",
    ToolStatus.CANCELLED: "⊘",
}


def status_note(message: Message) -> str:
    """`failed`, `stopped`... for an answer that is not simply done ("" otherwise)."""
    return _STATUS_NOTE.get(message.response.status, "") if message.response is not None else ""


def heading(message: Message) -> str:
    """`Assistant · model · interrupted`-style line above a message."""
    detail = heading_detail(message)
    return f"{message.role.label} · {detail}" if detail else message.role.label


def heading_detail(message: Message) -> str:
    """What the heading says after the speaker: `model · interrupted` ("" for a question)."""
    response = message.response
    return " · ".join(p for p in ((response.model if response else ""), status_note(message)) if p)


def text_and_tools(text: str, calls: Sequence[ToolCall]) -> list[str | ToolCall]:
    """The text cut where each call (in the order given) was made: text, call, text, ..., text."""
    pieces: list[str | ToolCall] = []
    pos = 0
    for call in calls:
        offset = min(max(pos, call.text_offset), len(text))
        pieces += [text[pos:offset], call]
        pos = offset
    pieces.append(text[pos:])
    return pieces


def body_with_tools(message: Message) -> str:
    """The message text with a line for each tool call where the call was made."""
    response = message.response
    if response is None or not response.tool_calls:
        return message.text
    parts: list[str] = []
    for piece in text_and_tools(response.text, sorted(response.tool_calls, key=lambda c: c.text_offset)):
        if isinstance(piece, ToolCall):
            status = response.tool_status.get(piece.id, "queued")
            parts.append(f"[tool] {piece.name} · {status}")
        elif piece.strip():
            parts.append(piece.strip("\n"))
    return "\n".join(parts)


def display_text(row: TranscriptRow) -> str:
    """A row as plain text: heading, body with its tool lines, the transient note and the error."""
    m = row.message
    lines = [heading(m), body_with_tools(m) or "…"]
    if row.note:
        lines.append(f"⏳ {row.note}")
    if m.response is not None and m.response.error:
        lines.append(f"\n⚠ {m.response.error}")
    return "\n".join(lines)


def accessible_text(row: TranscriptRow) -> str:
    """What a screen reader says for a row."""
    m = row.message
    parts = [heading(m) + ":", m.text or "(no text yet)"]
    response = m.response
    if response is not None:
        for call in response.tool_calls:
            parts.append(f"Tool {call.name}: {row.tool_status(call.id).value}.")
        if response.error:
            parts.append(f"Error: {response.error}")
        if response.usage is not None:
            u = response.usage
            parts.append(f"{u.prompt_tokens} prompt, {u.completion_tokens} completion tokens.")
    if row.siblings is not None:
        parts.append(f"Version {row.siblings.index} of {row.siblings.count}.")
    return " ".join(parts)


def short_arguments(arguments: str, limit: int = 80) -> str:
    """A tool call's arguments in one short line: `timezone="Europe/Paris", n=3`."""
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        text = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in parsed.items())
    else:
        text = " ".join(arguments.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty_arguments(arguments: str) -> str:
    """A tool call's JSON arguments indented (as they are when they are not JSON)."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return arguments


def approval_html(name: str, arguments: str) -> str:
    """The question asked before a tool runs, with its full arguments."""
    return (
        f"<b>Allow {html.escape(name or 'this tool')} to run?</b> "
        "It will be called with these arguments:<br><br>"
        f"{html.escape(pretty_arguments(arguments)[:DETAIL_LIMIT])}"
    )


def tool_details_html(arguments: str, result: str | None, error: str | None) -> str:
    """An expanded tool call: its arguments, and its result or error (or that there is none yet)."""
    parts = [f"<b>Arguments</b><br>{html.escape(pretty_arguments(arguments)[:DETAIL_LIMIT])}"]
    if result is not None:
        parts.append(f"<b>Result</b><br>{html.escape(result[:DETAIL_LIMIT])}")
    if error is not None:
        parts.append(f"<b>Error</b><br>{html.escape(error[:DETAIL_LIMIT])}")
    if result is None and error is None:
        parts.append("<i>No result yet.</i>")
    return "<br><br>".join(parts)


def elapsed_text(seconds: float) -> str:
    """1.2 s, 14 s, 2 min 5 s."""
    if seconds < 10:
        return f"{max(0.0, seconds):.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def tool_status_text(status: ToolStatus, execution: ToolExecution | None, now: datetime) -> str:
    """`running 1.2 s`, `succeeded · 0.3 s`, `queued`..."""
    started = execution.started_at if execution is not None else None
    if status is ToolStatus.RUNNING:
        return f"running {elapsed_text((now - started).total_seconds())}" if started else "running"
    finished = execution.finished_at if execution is not None else None
    if started and finished and status is not ToolStatus.QUEUED:
        return f"{status.value} · {elapsed_text((finished - started).total_seconds())}"
    return status.value


def usage_text(message: Message) -> str:
    """`model · 12 prompt + 345 completion = 357 tokens`, shown under an answer."""
    response = message.response
    if response is None:
        return ""
    parts = [response.model] if response.model else []
    usage = response.usage
    if usage is not None:
        parts.append(
            f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion = "
            f"{usage.total_tokens:,} tokens"
        )
    return " · ".join(parts)


def stop_note(message: Message) -> str:
    """Why a finished answer is not complete (stopped, interrupted, cut at the length limit), or ""."""
    response = message.response
    if response is None or not response.status.is_final:
        return ""
    if response.status in (ResponseStatus.CANCELLED, ResponseStatus.INTERRUPTED):
        return response.error or (
            "Stopped." if response.status is ResponseStatus.CANCELLED else "Interrupted."
        )
    if response.finish_reason == "length" and response.status is ResponseStatus.DONE:
        return "The answer was cut at the model's length limit."
    return ""
