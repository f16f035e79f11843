"""The HTTP clients answers are streamed with: one per endpoint, key, proxy and timeouts, reused."""

from __future__ import annotations

import contextlib

from desktop_chat.domain import ProviderProfile
from desktop_chat.llm.client import ChatClient
from desktop_chat.llm.endpoint import Endpoint, Timeouts
from desktop_chat.llm.retry import RetryPolicy
from desktop_chat.secrets import KeychainError, SecretStore
from desktop_chat.settings import CONNECT_TIMEOUT, PROXY_URL, READ_TIMEOUT, RETRY_ATTEMPTS, Settings


class ClientError(Exception):
    """No client can be made for a profile (its key is missing or unreadable); the text is for a person."""


class ChatClients:
    """Clients by everything that makes them differ; a key given for this run only is never stored."""

    def __init__(self, settings: Settings, secrets: SecretStore) -> None:
        self._settings = settings
        self._secrets = secrets
        self._session_keys: dict[int, str] = {}  # profile id -> key for this run only (never stored)
        self._clients: dict[tuple[object, ...], ChatClient] = {}

    def set_session_key(self, profile_id: int, key: str) -> None:
        """Use `key` for a profile during this run only (from OPENAI_API_KEY; never written anywhere)."""
        self._secrets.remember_for_redaction(key)
        self._session_keys[profile_id] = key

    def client(self, profile: ProviderProfile) -> ChatClient:
        """The client for a profile as it is set up now. Raises ClientError."""
        key = self._session_keys.get(profile.id)
        if key is None and profile.needs_key:
            try:
                key = self._secrets.get(profile.key_ref)
            except KeychainError as exc:
                raise ClientError(f"The API key of {profile.name} cannot be read: {exc}") from None
            if not key:
                raise ClientError(f"{profile.name} needs an API key: add it in Settings.")
        timeouts = Timeouts(self._settings.get(CONNECT_TIMEOUT), self._settings.get(READ_TIMEOUT))
        proxy = self._settings.get(PROXY_URL) or None
        headers = tuple(sorted(profile.headers.items()))
        cache_key = (profile.id, profile.base_url, headers, key, proxy, timeouts)
        client = self._clients.get(cache_key)
        if client is None:
            endpoint = Endpoint(profile.base_url, key, dict(profile.headers), proxy=proxy, timeouts=timeouts)
            client = ChatClient(endpoint, retry=RetryPolicy(max_attempts=self._settings.get(RETRY_ATTEMPTS)))
            self._clients[cache_key] = client
        return client

    async def aclose(self) -> None:
        """Close every client (their connections)."""
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()
