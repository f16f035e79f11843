"""Scripted runs for checks and support: `--smoke` chats once through the real window, as a person would.

The smoke run types the prompt into the real composer, presses Enter, waits for the whole answer (tool
rounds included), and prints one JSON object as the last line of stdout.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from desktop_chat.domain import ResponseStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def _result(services: AppServices, conversation_id: int | None, error: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "conversation_id": conversation_id,
        "status": ResponseStatus.ERROR.value,
        "text": "",
        "reasoning": "",
        "tool_executions": [],
        "usage": None,
        "error": error,
    }
    if conversation_id is None:
        return result
    branch = services.conversations.transcript(conversation_id)
    answer = next((m for m in reversed(branch) if m.response is not None), None)
    if answer is None or answer.response is None:
        return result
    response = answer.response
    executions = services.conversations.tool_executions([response.id]).get(response.id, [])
    result.update(
        status=response.status.value,
        text=response.text,
        reasoning=response.reasoning,
        tool_executions=[
            {
                "name": e.name,
                "arguments": e.arguments,
                "status": e.status.value,
                "result": e.result if e.result is not None else e.error,
            }
            for e in executions
        ],
        usage=response.usage.to_dict() if response.usage else None,
        error=response.error or error,
    )
    return result


def type_text(widget: QWidget, text: str) -> None:
    """Type `text` into `widget` key by key, as a person would: Shift+Enter between lines (Enter sends).

    `QTest.keyClicks` takes ASCII only (any other character aborts the process in Qt's asciiToKey), so
    every other character is sent as a key event carrying that text, as an input method does.
    """
    for i, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if i:
            QTest.keyClick(widget, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        run = ""
        for char in line:
            if " " <= char <= "~":
                run += char
                continue
            if run:
                QTest.keyClicks(widget, run)
                run = ""
            QTest.sendKeyEvent(
                QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, char, Qt.KeyboardModifier.NoModifier
            )
        if run:
            QTest.keyClicks(widget, run)


async def smoke(window: MainWindow, services: AppServices, prompt: str) -> int:
    """Send `prompt` through the window, wait for the answer, print the JSON result; 0 when it finished."""
    chat = services.chat
    chat.auto_title = False  # one request per prompt: nothing else talks to the endpoint
    conversation_id: int | None = None
    error: str | None = None
    try:
        conversation_id = await window.create_conversation()
        composer = window.composer
        if not composer.isEnabled():
            error = composer.placeholderText()
        else:
            composer.setFocus()
            type_text(composer, prompt)
            QTest.keyClick(composer, Qt.Key.Key_Return)
            if conversation_id is None or not chat.is_streaming(conversation_id):
                error = window.statusBar().currentMessage() or "The message was not sent."
            else:
                await chat.wait(conversation_id)
    except Exception as exc:  # the JSON line must come out whatever happened
        log.exception("Smoke run failed")
        error = f"{type(exc).__name__}: {exc}"
    result = _result(services, conversation_id, error)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    sys.stdout.flush()
    return 0 if result["status"] == ResponseStatus.DONE.value else 1
