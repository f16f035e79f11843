"""App services for widget and service tests: over a real store, a real settings file and a chosen keychain,
pointed at the local test server; and the MCP test server's configuration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import AUTO_TITLE, READ_TIMEOUT, RETRY_ATTEMPTS, Settings
from desktop_chat.storage import Store
from tests.helpers.llm_server import LLMServer

ROOT = Path(__file__).resolve().parents[2]

# The MCP server written for the tests (tests/helpers/mcp_test_server.py), as MCP_SERVERS holds it.
MCP_TEST_SERVER: dict[str, Any] = {
    "command": sys.executable,
    "args": ["-m", "tests.helpers.mcp_test_server"],
    "cwd": str(ROOT),
}


def make_services(
    store: Store, tmp_path: Path, backend: Any = None, *, retry_attempts: int = 3
) -> AppServices:
    """Services over `store`, a fresh settings file and the keychain `backend` (None: the system's).

    Model titles are off, so an answer is one request; the caller shuts the services down.
    """
    settings = Settings(tmp_path / "config" / "settings.json")
    settings.set(AUTO_TITLE, False)
    settings.set(RETRY_ATTEMPTS, retry_attempts)
    settings.set(READ_TIMEOUT, 20.0)
    return AppServices(store, settings, SecretStore(backend=backend))


def use_server(services: AppServices, server: LLMServer, model: str = "test-model") -> int:
    """Point new conversations at the test server; returns the profile id."""
    profile = services.providers.ensure_for_url(server.url, model, needs_key=False)
    services.providers.use(profile, model)
    return profile.id
