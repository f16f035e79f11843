"""Fixtures for widget and model tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import Settings
from desktop_chat.storage import Store


@pytest.fixture
def services(store: Store, tmp_path: Path, qapp) -> Iterator[AppServices]:
    """Services over a real store and a real settings file."""
    s = AppServices(store, Settings(tmp_path / "config" / "settings.json"), SecretStore())
    yield s
    s.shutdown()
