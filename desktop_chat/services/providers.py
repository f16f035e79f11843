"""Provider profiles as the app uses them: stored in the database, their keys in the keychain."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal

from desktop_chat.domain import ProviderProfile
from desktop_chat.llm.client import ChatClient, Endpoint
from desktop_chat.llm.errors import LLMError
from desktop_chat.llm.providers import PRESETS, LocalServer, Preset, detect_local_servers
from desktop_chat.secrets import SecretStore
from desktop_chat.settings import DEFAULT_MODEL, DEFAULT_PROFILE, Settings
from desktop_chat.storage import Repo

log = logging.getLogger(__name__)


def normalize_base_url(url: str) -> str:
    """`http://host:port/v1` without a trailing slash (and with a scheme)."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


class ProviderService(QObject):
    """Add, change and remove provider profiles; list their models; find local servers."""

    profiles_changed = Signal()

    def __init__(
        self, repo: Repo, settings: Settings, secrets: SecretStore, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._repo = repo
        self._settings = settings
        self._secrets = secrets

    @staticmethod
    def presets() -> tuple[Preset, ...]:
        """The known providers."""
        return PRESETS

    def profiles(self) -> list[ProviderProfile]:
        """Every profile, by name (unreadable ones are skipped and logged)."""
        return self._repo.list_profiles().items

    def add(
        self,
        name: str,
        base_url: str,
        *,
        default_model: str = "",
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
        needs_key: bool | None = None,
    ) -> ProviderProfile:
        """A new profile; its key (if any) goes to the keychain, nowhere else."""
        profile = self._repo.add_profile(
            self._unique_name(name),
            normalize_base_url(base_url),
            default_model,
            headers,
            needs_key=bool(api_key) if needs_key is None else needs_key,
        )
        if api_key:
            self._secrets.set(profile.key_ref, api_key)
        self.profiles_changed.emit()
        return profile

    def _unique_name(self, name: str) -> str:
        taken = {p.name for p in self.profiles()}
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name} ({n})"
        return candidate

    def find_by_url(self, base_url: str) -> ProviderProfile | None:
        """The profile for this base URL, if there is one."""
        wanted = normalize_base_url(base_url)
        return next((p for p in self.profiles() if normalize_base_url(p.base_url) == wanted), None)

    def ensure_for_url(self, base_url: str, model: str, *, needs_key: bool) -> ProviderProfile:
        """The profile for a base URL (made if missing), with `model` as its default model."""
        profile = self.find_by_url(base_url)
        if profile is None:
            url = normalize_base_url(base_url)
            preset = next((p for p in PRESETS if normalize_base_url(p.base_url) == url), None)
            name = preset.name if preset else (urlsplit(url).netloc or url)
            profile = self.add(name, url, default_model=model, needs_key=needs_key)
        elif profile.default_model != model or profile.needs_key != needs_key:
            profile = self._repo.update_profile(profile.id, default_model=model, needs_key=needs_key)
            self.profiles_changed.emit()
        return profile

    def use(self, profile: ProviderProfile, model: str) -> None:
        """Make a profile and model the default for new conversations."""
        self._settings.set(DEFAULT_PROFILE, profile.id)
        self._settings.set(DEFAULT_MODEL, model)

    async def use_endpoint(
        self, base_url: str, model: str | None, api_key: str | None, *, session_keys: dict[int, str]
    ) -> ProviderProfile | None:
        """Select (creating if needed) the profile for `base_url` and `model` (the endpoint's first listed
        model when None). The key goes into `session_keys` for this run only, never to disk.
        Returns the profile, or None when no model is known."""
        if not model:
            client = ChatClient(Endpoint(normalize_base_url(base_url), api_key))
            try:
                models = await client.list_models()
            except LLMError as exc:
                log.warning("Could not list the models of %s: %s", base_url, exc)
                models = []
            finally:
                await client.aclose()
            model = models[0] if models else None
        profile = self.ensure_for_url(base_url, model or "", needs_key=api_key is not None)
        if api_key:
            session_keys[profile.id] = api_key
        if not model:
            return None
        self.use(profile, model)
        return profile

    def delete(self, profile_id: int) -> None:
        """Remove a profile and its key."""
        key_ref = self._repo.delete_profile(profile_id)
        try:
            self._secrets.delete(key_ref)
        except Exception as exc:  # the profile is gone either way; say why the key may linger
            log.warning("Could not remove the key of profile %d from the keychain: %s", profile_id, exc)
        self.profiles_changed.emit()

    async def list_models(self, profile: ProviderProfile) -> list[str]:
        """The models the profile's endpoint lists (raises LLMError)."""
        key = self._secrets.get(profile.key_ref) if profile.needs_key else None
        client = ChatClient(Endpoint(profile.base_url, key, dict(profile.headers)))
        try:
            return await client.list_models()
        finally:
            await client.aclose()

    @staticmethod
    async def local_servers() -> list[LocalServer]:
        """Local servers answering on this machine's usual ports."""
        return await detect_local_servers()
