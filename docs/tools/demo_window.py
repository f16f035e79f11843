"""What the screenshot scripts that chat share: the app's services over a throw-away data dir pointed at the
local test server, the real window shown, a message sent as a person would, and the qasync loop."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import Setting
from desktop_chat.ui.main_window import MainWindow
from tests.helpers.llm_server import LLMServer


def offscreen_without_display() -> None:
    """Qt through PySide6, and offscreen when there is no X display (call before the QApplication)."""
    os.environ.setdefault("QT_API", "pyside6")
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def shots_command(
    doc: str,
    prefix: str,
    shoot: Callable[[argparse.Namespace, Path, QApplication], Awaitable[None]],
    *,
    dark: bool = False,
) -> int:
    """A screenshot script's command line: OUT_DIR (made if missing) and `--dark` if it has one; then
    `shoot(args, data_dir, app)` over a throw-away data dir."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("out", type=Path, help="directory for the PNG files")
    if dark:
        parser.add_argument("--dark", action="store_true", help="the dark theme")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        return run_shots(lambda app: shoot(args, Path(tmp), app))


def run_shots(shoot: Callable[[QApplication], Awaitable[None]]) -> int:
    """Run `shoot(app)` on a qasync loop over a (new) QApplication; the exit code."""
    offscreen_without_display()
    from desktop_chat.event_loop import QtEventLoop

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    loop = QtEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(shoot(app))
    return 0


def chat_services(
    data: Path, model: str, settings: Iterable[tuple[Setting[Any], Any]] = ()
) -> tuple[AppServices, LLMServer]:
    """Services over `data` with these (setting, value) pairs (model titles off), in the app's theme, and a
    started test server they send to with `model`."""
    from desktop_chat.secrets import SecretStore
    from desktop_chat.settings import AUTO_TITLE, Settings
    from desktop_chat.storage import open_store
    from desktop_chat.ui.common.theme import ThemeManager

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    store = open_store(data / "demo.sqlite3")
    values = Settings(data / "settings.json")
    values.set(AUTO_TITLE, False)
    for key, value in settings:
        values.set(key, value)
    services = AppServices(store, values, SecretStore())
    ThemeManager(app, values)
    server = LLMServer().start()
    profile = services.providers.ensure_for_url(server.url, model, needs_key=False)
    services.providers.use(profile, model)
    return services, server


async def chat_window(services: AppServices, width: int, height: int) -> MainWindow:
    """The main window, ready to stream as in the app, shown and settled."""
    from desktop_chat.app import prepare_for_streaming

    prepare_for_streaming()
    window = MainWindow(services)
    window.resize(width, height)
    window.show()
    await asyncio.sleep(0.5)
    return window


def send(window: MainWindow, text: str) -> int:
    """Type `text` into the composer and send it; the conversation it went to."""
    window.composer.setPlainText(text)
    window.send_message()
    conversation = window.current_conversation_id()
    assert conversation is not None
    return conversation


async def shoot_running(
    window: MainWindow, services: AppServices, text: str, seconds: float, path: Path
) -> None:
    """Send `text`, save a screenshot to `path` `seconds` later, then stop the answer."""
    conversation = send(window, text)
    await asyncio.sleep(seconds)
    window.grab().save(str(path))
    services.chat.stop(conversation)
    await services.chat.wait(conversation)


async def close(window: MainWindow, services: AppServices, server: LLMServer) -> None:
    """Close the window, the services and the test server."""
    window.close()
    await services.aclose()
    services.shutdown()
    server.stop()
