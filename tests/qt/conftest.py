"""Fixtures for widget, model and service tests: real store, real settings, and an asyncio loop on Qt.

`qtbot.waitSignal` spins a nested Qt loop in which no asyncio loop runs, so async service code is driven
with `aloop.run_until_complete(...)` instead (see DESIGN.md section 3).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from desktop_chat.app import prepare_for_streaming
from desktop_chat.event_loop import QtEventLoop
from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import AUTO_TITLE, READ_TIMEOUT, RETRY_ATTEMPTS, Settings
from desktop_chat.storage import Store
from desktop_chat.ui.common.gc_guard import GuiThreadCollector
from tests.helpers.llm_server import LLMServer

T = TypeVar("T")


@pytest.fixture
def aloop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop over the test's QApplication (run coroutines with run_until_complete)."""
    loop = QtEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


def run(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T], timeout: float = 30) -> T:
    """Run an awaitable on the qasync loop, failing the test after `timeout` seconds."""

    async def bounded() -> T:
        return await asyncio.wait_for(awaitable, timeout)

    return loop.run_until_complete(bounded())


@pytest.fixture
def services(store: Store, tmp_path: Path, qapp, request: pytest.FixtureRequest) -> Iterator[AppServices]:
    """Services over a real store and a real settings file (model titles off: one request per answer).

    With `aloop` in the test, answers still streaming are stopped and HTTP clients closed on teardown.
    """
    loop: asyncio.AbstractEventLoop | None = (
        request.getfixturevalue("aloop") if "aloop" in request.fixturenames else None
    )
    settings = Settings(tmp_path / "config" / "settings.json")
    settings.set(AUTO_TITLE, False)
    settings.set(RETRY_ATTEMPTS, 3)
    settings.set(READ_TIMEOUT, 20.0)
    s = AppServices(store, settings, SecretStore())
    yield s
    if loop is not None and not loop.is_closed():
        loop.run_until_complete(s.aclose())
    s.shutdown()


def use_server(services: AppServices, server: LLMServer, model: str = "test-model") -> int:
    """Point new conversations at the test server; returns the profile id."""
    profile = services.providers.ensure_for_url(server.url, model, needs_key=False)
    services.providers.use(profile, model)
    return profile.id


@pytest.fixture(scope="session", autouse=True)
def _gui_thread_gc(qapp) -> Iterator[None]:
    """As in the app: no garbage collection outside the GUI thread (see desktop_chat/ui/common/gc_guard.py),
    and the imported heap frozen out of collections, so each test's collection only walks its own."""
    prepare_for_streaming()
    gc.collect()
    gc.freeze()
    collector = GuiThreadCollector()
    yield
    collector.stop()


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """Each test's cyclic garbage goes here, on the GUI thread, before the next test starts."""
    yield
    gc.collect()
