"""Pytest plugin: fixtures for widget, model and service tests (an asyncio loop on Qt, app services over
a real store and settings file, the main window and other widgets shown as a person sees them).

Registered in tests/conftest.py (`pytest_plugins`); tests never import it. Drive async code with
`run(aloop, coro)` and `until(...)` from tests/helpers/loop.py.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QWidget

from desktop_chat.app import prepare_for_streaming
from desktop_chat.event_loop import QtEventLoop
from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.storage import Store
from desktop_chat.ui.common.gc_guard import GuiThreadCollector
from desktop_chat.ui.main_window import MainWindow
from tests.helpers import loop as test_loop
from tests.helpers.llm_server import LLMServer
from tests.helpers.secret_service import SecretService
from tests.helpers.services import make_services, use_server

W = TypeVar("W", bound=QWidget)


@pytest.fixture
def aloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop over the test's QApplication (run coroutines with `run(aloop, coro)`).

    As in the app, closing the last window does not quit the application: that would stop the loop
    under a running test (it did, in a benchmark, about one run in three)."""
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    loop = QtEventLoop(qapp)
    asyncio.set_event_loop(loop)
    test_loop.current = loop
    try:
        yield loop
    finally:
        test_loop.current = None
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
        qapp.setQuitOnLastWindowClosed(quits)


@pytest.fixture
def services(
    store: Store, tmp_path: Path, qapp: Any, request: pytest.FixtureRequest
) -> Iterator[AppServices]:
    """Services over a real store and a real settings file (model titles off: one request per answer).

    With `aloop` in the test, answers still streaming are stopped and HTTP clients closed on teardown.
    """
    loop: asyncio.AbstractEventLoop | None = (
        request.getfixturevalue("aloop") if "aloop" in request.fixturenames else None
    )
    s = make_services(store, tmp_path)
    yield s
    if loop is not None and not loop.is_closed():
        loop.run_until_complete(s.aclose())
    s.shutdown()


@pytest.fixture
def keyring_services(store: Store, tmp_path: Path, secret_service: SecretService) -> Iterator[AppServices]:
    """Services whose keys go to the test run's real Secret Service (the profiles' keys removed after)."""
    backend = secret_service.backend()
    services = make_services(store, tmp_path, backend, retry_attempts=1)
    try:
        yield services
        cleanup = SecretStore(backend=backend)
        for profile in services.providers.profiles():
            cleanup.delete(profile.key_ref)
    finally:
        services.shutdown()


@pytest.fixture
def no_keychain_services(store: Store, tmp_path: Path) -> Iterator[AppServices]:
    """Services on a system without any keychain."""
    services = make_services(store, tmp_path, keyring.backends.fail.Keyring(), retry_attempts=1)
    try:
        yield services
    finally:
        services.shutdown()


@pytest.fixture
def mcp_services(services: AppServices) -> Iterator[AppServices]:
    """`services` whose MCP server processes are stopped at the end of the test."""
    yield services
    services.mcp.close()


class Show(Protocol):
    """The `shown` fixture's function."""

    def __call__(self, widget: W, *, size: tuple[int, int] | None = None, active: bool = False) -> W: ...


@pytest.fixture
def shown(qtbot: Any) -> Show:
    """Show a widget as a person sees it: closed after the test, resized, exposed (and the active window)."""

    def show(widget: W, *, size: tuple[int, int] | None = None, active: bool = False) -> W:
        qtbot.addWidget(widget)
        if size is not None:
            widget.resize(*size)
        widget.show()
        qtbot.waitExposed(widget)
        if active:  # shortcuts go to the active window
            widget.activateWindow()
            qtbot.waitUntil(widget.isActiveWindow)
        return widget

    return show


class MakeMainWindow(Protocol):
    """The `main_window` fixture's function."""

    def __call__(
        self, *, size: tuple[int, int] | None = None, active: bool = False, review: str | None = None
    ) -> MainWindow: ...


@pytest.fixture
def main_window(services: AppServices, shown: Show) -> MakeMainWindow:
    """Makes the main window over `services`, shown: `main_window(size=(w, h), active=True, review=path)`.

    A factory, so that a test first sets up the store, the server and the settings the window reads.
    """

    def make(
        *, size: tuple[int, int] | None = None, active: bool = False, review: str | None = None
    ) -> MainWindow:
        return shown(MainWindow(services, review=review), size=size, active=active)

    return make


@pytest.fixture
def on_test_server(services: AppServices, llm_server: LLMServer) -> None:
    """New conversations of `services` go to `llm_server` (model test-model), set before the test runs;
    for a module: `pytestmark = pytest.mark.usefixtures("on_test_server")`."""
    use_server(services, llm_server)


@pytest.fixture(scope="session")
def gui_thread_gc(qapp: Any) -> Iterator[None]:
    """As in the app: no garbage collection outside the GUI thread (see desktop_chat/ui/common/gc_guard.py),
    and the imported heap frozen out of collections, so each test's collection only walks its own."""
    prepare_for_streaming()
    gc.collect()
    gc.freeze()
    collector = GuiThreadCollector()
    yield
    collector.stop()


@pytest.fixture
def garbage_collected_after() -> Iterator[None]:
    """The test's cyclic garbage goes here, on the GUI thread, before the next test starts."""
    yield
    gc.collect()
