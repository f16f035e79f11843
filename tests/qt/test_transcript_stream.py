"""A streaming answer in the transcript: blocks rendered once, the view following only from the bottom,
and tool rows with a live status (queued, running with elapsed time, succeeded) that never stays running."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop_chat.domain import ResponseStatus, ToolStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.tools.registry import ToolResult, ToolSpec
from desktop_chat.ui.transcript.markdown import split_blocks
from desktop_chat.ui.transcript.model import ROW_ROLE
from desktop_chat.ui.transcript.row import TranscriptRow
from desktop_chat.ui.transcript.text import tool_status_text
from desktop_chat.ui.transcript.view import TranscriptView
from tests.helpers.history import new_conversation
from tests.helpers.llm_server import LLMServer, chunk, text_script, tool_round
from tests.helpers.loop import run, until
from tests.helpers.markdown_samples import answer, fill_conversation
from tests.helpers.transcript_ui import hit_point, settle, transcript_view

pytestmark = pytest.mark.usefixtures("on_test_server")


class SlowTool:
    """A tool that runs until the test lets it finish."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.spec = ToolSpec("slow_lookup", "Looks something up, slowly.")

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        await self.release.wait()
        return ToolResult(f"found {arguments.get('q', '')}")


def _tool_round(call_id: str, name: str, arguments: str) -> list[dict[str, Any]]:
    return tool_round((call_id, name, arguments), content="Let me look that up.")


def _paced(text: str, per_delta: int = 20, pause: float = 0.004) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{"chunk": chunk(role="assistant", content="")}]
    for i in range(0, len(text), per_delta):
        steps += [{"chunk": chunk(content=text[i : i + per_delta])}, {"sleep": pause}]
    return [*steps, {"chunk": chunk(finish_reason="stop")}, {"done": True}]


def _last(view: TranscriptView) -> TranscriptRow:
    model = view.transcript_model
    row: TranscriptRow = model.data(model.index(model.rowCount() - 1), ROW_ROLE)
    return row


def test_streamed_blocks_are_rendered_once_and_the_view_follows_the_bottom(
    aloop, qtbot, shown, services: AppServices, llm_server: LLMServer
) -> None:
    conv = new_conversation(services, "stream")
    fill_conversation(services.store.repo, conv.id, 6)
    text = answer(1234, 6000)  # no block of it is in the history already (the cache would hit)
    llm_server.enqueue(_paced(text))
    view = transcript_view(shown, services, conv.id)
    docs = view.delegate.docs
    docs.record = True
    bar = view.verticalScrollBar()
    followed: list[bool] = []
    services.chat.send(conv.id, "Write a lot.")

    async def watch() -> None:
        while services.chat.is_streaming(conv.id):
            await asyncio.sleep(0.01)
            followed.append(bar.value() == bar.maximum())

    run(aloop, watch())
    run(aloop, until(lambda: _last(view).message.response.status is ResponseStatus.DONE))  # type: ignore[union-attr]
    settle(view)
    assert _last(view).message.text == text
    final = [b.source for b in split_blocks(text)][:-1]
    counts = Counter(docs.rendered_sources)
    assert len(final) > 5
    assert all(counts[source] <= 1 for source in final)  # once (or never: the same block was cached)
    assert sum(counts[source] for source in final) > len(final) // 2
    assert len(followed) > 10
    assert all(followed)


def test_a_reader_scrolled_up_is_not_moved_by_the_stream(
    aloop, qtbot, shown, services: AppServices, llm_server: LLMServer
) -> None:
    conv = new_conversation(services, "stream")
    fill_conversation(services.store.repo, conv.id, 30)
    llm_server.enqueue(_paced(answer(9, 3000)))
    view = transcript_view(shown, services, conv.id)
    bar = view.verticalScrollBar()
    services.chat.send(conv.id, "Go on.")

    async def scroll_up_while_it_streams() -> tuple[Any, int]:
        # All of it on the running loop: the stream's task never resumes outside it.
        await until(lambda: len(_last(view).message.text) > 300)
        view.executeDelayedItemsLayout()
        bar.setValue(bar.maximum() - 900)
        index = view.indexAt(view.viewport().rect().topLeft())
        shown = view.transcript_model.message_at(index.row())
        at = view.visualRect(index).top()
        await services.chat.wait(conv.id)
        await until(lambda: _last(view).message.response.status is ResponseStatus.DONE)  # type: ignore[union-attr]
        return shown, at

    message, top = run(aloop, scroll_up_while_it_streams())
    settle(view)
    assert message is not None
    row = view.transcript_model.row_of(message.id)
    assert row is not None
    assert view.visualRect(view.transcript_model.index(row)).top() == top
    assert bar.value() < bar.maximum()


def test_a_running_tool_shows_its_elapsed_time_then_succeeds(
    aloop, qtbot, shown, services: AppServices, llm_server: LLMServer
) -> None:
    slow = SlowTool()
    services.tools.register(slow)
    llm_server.enqueue(_tool_round("call_1", "slow_lookup", '{"q": "otters"}'))
    llm_server.enqueue(text_script("Otters hold hands while sleeping.", pieces=3))
    conv = new_conversation(services, "tools")
    view = transcript_view(shown, services, conv.id)
    model = view.transcript_model
    services.chat.send(conv.id, "Tell me about otters")
    run(
        aloop, until(lambda: (r := _last(view)) is not None and r.tool_status("call_1") is ToolStatus.RUNNING)
    )
    row = _last(view)
    ticks: list[float] = []
    model.dataChanged.connect(
        lambda tl, _br, _roles: ticks.append(time.monotonic()) if tl.row() == 1 else None
    )
    run(aloop, asyncio.sleep(0.65))
    execution = row.executions["call_1"]
    assert execution.status is ToolStatus.RUNNING
    assert execution.started_at is not None
    shown = tool_status_text(row.tool_status("call_1"), execution, datetime.now(UTC))
    assert shown.startswith("running ")
    assert shown.endswith(" s")
    assert 3 <= len(ticks) <= 8  # the elapsed time ticks, at most 10 times a second
    view.viewport().repaint()  # paints the running row (no error, nothing opened)
    slow.release.set()
    run(aloop, services.chat.wait(conv.id))
    run(aloop, until(lambda: _last(view).message.response.status is ResponseStatus.DONE))  # type: ignore[union-attr]
    row = _last(view)
    assert row.tool_status("call_1") is ToolStatus.SUCCEEDED
    assert row.executions["call_1"].result == "found otters"
    assert tool_status_text(ToolStatus.SUCCEEDED, row.executions["call_1"], datetime.now(UTC)).startswith(
        "succeeded · "
    )
    assert row.message.text == "Let me look that up.Otters hold hands while sleeping."
    ticks.clear()
    run(aloop, asyncio.sleep(0.3))
    assert ticks == []  # nothing runs: no more ticks
    settle(view)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=hit_point(view, row.message.id, "tool", "call_1")
    )
    settle(view)
    assert model.is_expanded(row.message.id, "tool:call_1")
    layout = view.delegate.layout_for(model.index(1))
    assert layout is not None
    details = layout.tool_details("call_1")
    assert details is not None
    assert '"q": "otters"' in details
    assert "found otters" in details


def test_the_date_tool_round_ends_succeeded_and_stop_never_leaves_a_tool_running(
    aloop, qtbot, shown, services: AppServices, llm_server: LLMServer
) -> None:
    llm_server.enqueue(_tool_round("call_1", "current_datetime", '{"timezone": "UTC"}'))
    llm_server.enqueue(text_script("It is noon.", pieces=2))
    conv = new_conversation(services, "tools")
    view = transcript_view(shown, services, conv.id)
    services.chat.send(conv.id, "Time?")
    run(aloop, services.chat.wait(conv.id))
    run(aloop, until(lambda: _last(view).message.response.status is ResponseStatus.DONE))  # type: ignore[union-attr]
    assert _last(view).tool_status("call_1") is ToolStatus.SUCCEEDED
    assert "UTC" in (_last(view).executions["call_1"].result or "")

    slow = SlowTool()
    services.tools.register(slow)
    llm_server.enqueue(_tool_round("call_2", "slow_lookup", "{}"))
    services.chat.send(conv.id, "Look it up")
    run(aloop, until(lambda: _last(view).tool_status("call_2") is ToolStatus.RUNNING))
    services.chat.stop(conv.id)
    run(aloop, services.chat.wait(conv.id))
    run(aloop, until(lambda: _last(view).message.response.status is ResponseStatus.CANCELLED))  # type: ignore[union-attr]
    assert _last(view).tool_status("call_2") is ToolStatus.CANCELLED
    assert _last(view).executions["call_2"].status is ToolStatus.CANCELLED
