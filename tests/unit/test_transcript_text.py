"""The transcript's words (ui/transcript/text.py), checked without a QApplication."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desktop_chat.domain import (
    Message,
    Response,
    ResponseStatus,
    Role,
    ToolCall,
    ToolExecution,
    ToolStatus,
    Usage,
)
from desktop_chat.services.conversations import Siblings
from desktop_chat.ui.transcript import text as text_module
from desktop_chat.ui.transcript.row import TranscriptRow
from desktop_chat.ui.transcript.text import (
    accessible_text,
    body_with_tools,
    display_text,
    elapsed_text,
    heading,
    heading_detail,
    short_arguments,
    stop_note,
    text_and_tools,
    tool_details_html,
    tool_status_text,
    usage_text,
)

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _answer(text: str, **response: object) -> Message:
    return Message(2, "u2", 1, 1, Role.ASSISTANT, "", NOW, Response(20, 2, text=text, **response))  # type: ignore[arg-type]


def test_text_needs_no_widgets_or_painting() -> None:
    tree = ast.parse(Path(text_module.__file__).read_text())
    imported = [
        getattr(node, "module", None) or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name.startswith("PySide6")]


def test_headings_and_status_notes() -> None:
    question = Message(1, "u1", 1, None, Role.USER, "Hi?", NOW)
    assert heading(question) == question.role.label
    assert heading_detail(question) == ""
    failed = _answer("x", status=ResponseStatus.ERROR, model="m1")
    assert heading_detail(failed) == "m1 · failed"
    assert heading(failed) == f"{Role.ASSISTANT.label} · m1 · failed"
    assert heading(_answer("x", status=ResponseStatus.DONE)) == Role.ASSISTANT.label


def test_text_is_cut_at_the_tool_calls() -> None:
    calls = (ToolCall("a", "clock", "{}", 0, 5), ToolCall("b", "search", "{}", 0, 99))
    assert text_and_tools("Hello world", calls) == ["Hello", calls[0], " world", calls[1], ""]
    message = _answer(
        "Hello\n\nworld",
        status=ResponseStatus.DONE,
        tool_calls=calls,
        tool_status={"a": ToolStatus.SUCCEEDED},
    )
    assert body_with_tools(message) == "Hello\n[tool] clock · succeeded\nworld\n[tool] search · queued"
    row = TranscriptRow(message, siblings=Siblings(2, 3, (5, 2, 7)), note="Retrying")
    assert display_text(row).endswith("⏳ Retrying")
    assert accessible_text(row).endswith("Tool search: cancelled. Version 2 of 3.")  # the answer ended


def test_tool_lines() -> None:
    assert short_arguments('{"timezone": "Europe/Paris", "n": 3}') == 'timezone="Europe/Paris", n=3'
    assert short_arguments("not   json") == "not json"
    assert len(short_arguments('{"q": "' + "x" * 200 + '"}')) == 80
    assert [elapsed_text(s) for s in (1.234, 14.2, 125)] == ["1.2 s", "14 s", "2 min 5 s"]
    run = ToolExecution(1, 20, "a", "clock", "{}", ToolStatus.RUNNING, started_at=NOW - timedelta(seconds=2))
    assert tool_status_text(ToolStatus.RUNNING, run, NOW) == "running 2.0 s"
    assert tool_status_text(ToolStatus.QUEUED, None, NOW) == "queued"
    details = tool_details_html('{"a": 1}', None, "<boom>")
    assert "&lt;boom&gt;" in details
    assert "No result yet" not in details


def test_usage_and_stop_notes() -> None:
    done = _answer("x", status=ResponseStatus.DONE, model="m1", usage=Usage(1200, 34, 1234))
    assert usage_text(done) == "m1 · 1,200 prompt + 34 completion = 1,234 tokens"
    assert stop_note(done) == ""
    assert stop_note(_answer("x", status=ResponseStatus.CANCELLED)) == "Stopped."
    assert stop_note(_answer("x", status=ResponseStatus.DONE, finish_reason="length")).startswith(
        "The answer was cut"
    )
    assert stop_note(_answer("x", status=ResponseStatus.STREAMING)) == ""
