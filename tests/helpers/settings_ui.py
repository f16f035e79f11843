"""Helpers for the settings, welcome and model picker tests: services over a chosen keychain, waiting
on the qasync loop, and looking for a key in every file a test's app could have written."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import AUTO_TITLE, READ_TIMEOUT, RETRY_ATTEMPTS, Settings
from desktop_chat.storage import Store


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the loop run until `predicate()` is true (TimeoutError after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.005)


@contextmanager
def app_services(store: Store, tmp_path: Path, backend: Any) -> Iterator[AppServices]:
    """Services over `store`, a fresh settings file, and the keychain `backend`."""
    settings = Settings(tmp_path / "config" / "settings.json")
    settings.set(AUTO_TITLE, False)
    settings.set(RETRY_ATTEMPTS, 1)
    settings.set(READ_TIMEOUT, 20.0)
    services = AppServices(store, settings, SecretStore(backend=backend))
    try:
        yield services
    finally:
        services.shutdown()


def files_containing(root: Path, secret: str) -> list[Path]:
    """Every file under `root` whose bytes hold `secret` (UTF-8 or UTF-16)."""
    needles = (secret.encode(), secret.encode("utf-16-le"))
    return [
        path for path in root.rglob("*") if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]


def message_box(parent: QWidget, name: str) -> QMessageBox:
    """The visible message box called `name` under `parent`."""
    shown = [box for box in parent.findChildren(QMessageBox, name) if box.isVisible()]
    assert len(shown) == 1, f"{len(shown)} {name} shown"
    return shown[0]


def click_box_button(box: QMessageBox, button: QMessageBox.StandardButton | str) -> None:
    """Press a standard button, or the custom button with that object name."""
    if isinstance(button, str):
        found = box.findChild(QWidget, button)
        assert found is not None, button
        found.click()  # type: ignore[attr-defined]
    else:
        std = box.button(button)
        assert std is not None
        std.click()
    QApplication.processEvents()
