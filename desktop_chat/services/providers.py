"""Provider profiles as the app uses them: stored in the database, their keys in the keychain.

Widgets never touch the keychain or an HTTP client: they ask this service to save or remove a key (a key
is never read back out of the keychain into a widget), to test a connection, and to list models. Model
lists are cached per profile (`cached_models`, `refresh_models`, announced by `models_listed`), so a
picker can show them at once and refresh them in the background.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal

from desktop_chat.domain import ProviderProfile
from desktop_chat.llm.client import ChatClient, ChatRequest
from desktop_chat.llm.endpoint import Endpoint, Timeouts
from desktop_chat.llm.errors import AuthError, LLMError
from desktop_chat.llm.providers import PRESETS, LocalServer, Preset, detect_local_servers
from desktop_chat.llm.retry import RetryPolicy
from desktop_chat.llm.transport import is_loopback
from desktop_chat.secrets import KeychainError, KeychainUnavailable, SecretStore
from desktop_chat.settings import CONNECT_TIMEOUT, DEFAULT_MODEL, DEFAULT_PROFILE, PROXY_URL, Settings
from desktop_chat.storage import NotFoundError, Repo

__all__ = [
    "ConnectionCheck",
    "KeychainError",
    "KeychainUnavailable",
    "LocalServer",
    "ModelList",
    "Preset",
    "ProviderService",
    "format_headers",
    "normalize_base_url",
    "parse_headers",
]

log = logging.getLogger(__name__)

MODELS_FRESH_S = 600.0  # a model list is refreshed in the background when older than this
MODELS_RETRY_S = 15.0  # a failed listing is asked again after this
TEST_READ_TIMEOUT_S = 30.0  # a local server may load a model before answering a test request
LIST_READ_TIMEOUT_S = 15.0
NO_LIST = "This server has no model list: type a model id."
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SECRET_HEADERS = ("authorization", "api-key", "x-api-key", "proxy-authorization")


def normalize_base_url(url: str) -> str:
    """`http://host:port/v1` without a trailing slash (and with a scheme)."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


def check_base_url(url: str) -> str | None:
    """Why `url` cannot be a base URL (a message for a person), or None when it can."""
    if not url.strip():
        return "Enter the base URL of the endpoint, such as http://localhost:11434/v1."
    parts = urlsplit(normalize_base_url(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"“{url.strip()}” is not an http:// or https:// address."
    return None


def parse_headers(text: str) -> dict[str, str]:
    """`Name: value` lines (blank lines ignored) as a dict; raises ValueError naming the bad line."""
    headers: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _HEADER_NAME.match(name):
            raise ValueError(f"Header line {n} is not “Name: value”.")
        headers[name] = value
    return headers


def format_headers(headers: dict[str, str]) -> str:
    """The editable text of a header dict (one `Name: value` per line)."""
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def secret_looking_headers(headers: dict[str, str]) -> list[str]:
    """Header names that usually carry a key (stored in the database, unlike the API key field)."""
    return [name for name in headers if name.lower() in _SECRET_HEADERS]


@dataclass(frozen=True, slots=True)
class ModelList:
    """What a profile's endpoint listed, or why it listed nothing (`error`, for a person)."""

    models: tuple[str, ...]
    error: str | None
    expires: float  # time.monotonic() after which it is asked again

    @property
    def fresh(self) -> bool:
        """False once it should be asked again."""
        return time.monotonic() < self.expires


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The result of testing an endpoint: `message` is for a person."""

    ok: bool
    message: str
    models: tuple[str, ...] = ()
    key_refused: bool = False  # the endpoint refused the key (HTTP 401/403)


class ProviderService(QObject):
    """Add, change and remove provider profiles and their keys; test them; list models; find local servers.

    Signals:
        profiles_changed(): a profile was added, changed or deleted (or the default one changed).
        models_listed(int): profile id: its cached model list changed (`cached_models`).
    """

    profiles_changed = Signal()
    models_listed = Signal(int)

    def __init__(
        self, repo: Repo, settings: Settings, secrets: SecretStore, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._repo = repo
        self._settings = settings
        self._secrets = secrets
        self._models: dict[int, ModelList] = {}
        self._listing: dict[int, asyncio.Task[ModelList]] = {}
        self._generation: dict[int, int] = {}  # bumped when a profile changes: late lists are dropped

    @staticmethod
    def presets() -> tuple[Preset, ...]:
        """The known providers."""
        return PRESETS

    @staticmethod
    def preset_for_url(base_url: str) -> Preset | None:
        """The preset whose base URL this is, if any."""
        url = normalize_base_url(base_url)
        return next((p for p in PRESETS if normalize_base_url(p.base_url) == url), None)

    @staticmethod
    def is_local(base_url: str) -> bool:
        """True for an endpoint on this computer (it needs no key and never goes through a proxy).

        A URL typed without a scheme ("localhost:8080/v1") counts as http.
        """
        return is_loopback(base_url if "://" in base_url else "http://" + base_url)

    def profiles(self) -> list[ProviderProfile]:
        """Every profile, by name (unreadable ones are skipped and logged)."""
        return self._repo.list_profiles().items

    def get(self, profile_id: int) -> ProviderProfile | None:
        """One profile, or None when it is gone."""
        try:
            return self._repo.get_profile(profile_id)
        except (NotFoundError, ValueError):
            return None

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
        """A new profile; its key (if any) goes to the keychain, nowhere else.

        Raises KeychainError when the key could not be saved (the profile exists by then, without key).
        """
        profile = self._repo.add_profile(
            self._unique_name(name.strip() or "Provider"),
            normalize_base_url(base_url),
            default_model.strip(),
            headers,
            needs_key=bool(api_key) if needs_key is None else needs_key,
        )
        try:
            if api_key:
                self._secrets.set(profile.key_ref, api_key.strip())
        finally:
            self.profiles_changed.emit()
        return profile

    def _unique_name(self, name: str, *, ignore: int | None = None) -> str:
        taken = {p.name for p in self.profiles() if p.id != ignore}
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name} ({n})"
        return candidate

    def update(
        self,
        profile_id: int,
        *,
        name: str | None = None,
        base_url: str | None = None,
        default_model: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ProviderProfile:
        """Change a profile's name, base URL, default model or extra headers (None: unchanged)."""
        old = self._repo.get_profile(profile_id)
        fields: dict[str, object] = {}
        if name is not None and name.strip() and name.strip() != old.name:
            fields["name"] = self._unique_name(name.strip(), ignore=profile_id)
        if base_url is not None and normalize_base_url(base_url) != old.base_url:
            fields["base_url"] = normalize_base_url(base_url)
        if default_model is not None and default_model.strip() != old.default_model:
            fields["default_model"] = default_model.strip()
        if headers is not None and headers != old.headers:
            fields["headers"] = headers
        if not fields:
            return old
        profile = self._repo.update_profile(profile_id, **fields)
        if "base_url" in fields or "headers" in fields:
            self._forget_models(profile_id)
        self.profiles_changed.emit()
        return profile

    def find_by_url(self, base_url: str) -> ProviderProfile | None:
        """The profile for this base URL, if there is one."""
        wanted = normalize_base_url(base_url)
        return next((p for p in self.profiles() if normalize_base_url(p.base_url) == wanted), None)

    def ensure_for_url(self, base_url: str, model: str, *, needs_key: bool) -> ProviderProfile:
        """The profile for a base URL (made if missing), with `model` as its default model."""
        profile = self.find_by_url(base_url)
        if profile is None:
            url = normalize_base_url(base_url)
            preset = self.preset_for_url(url)
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

    def use_if_unset(self, profile: ProviderProfile) -> None:
        """Make `profile` the default for new conversations when no usable default is set."""
        current = self._settings.get(DEFAULT_PROFILE)
        if not current or self.get(current) is None:
            self.use(profile, profile.default_model)

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
        """Remove a profile and its key; if it was the default, another profile (if any) becomes it."""
        key_ref = self._repo.delete_profile(profile_id)
        self._forget_models(profile_id)
        try:
            self._secrets.delete(key_ref)
        except Exception as exc:  # the profile is gone either way; say why the key may linger
            log.warning("Could not remove the key of profile %d from the keychain: %s", profile_id, exc)
        if self._settings.get(DEFAULT_PROFILE) == profile_id:
            rest = self.profiles()
            if rest:
                self.use(rest[0], rest[0].default_model)
            else:
                self._settings.reset(DEFAULT_PROFILE)
                self._settings.reset(DEFAULT_MODEL)
        self.profiles_changed.emit()

    # ---- keys (in the keychain only; a key is never handed back to a caller) -------------------

    def keychain_problem(self) -> str | None:
        """Why keys cannot be saved on this system (a message for a person), or None."""
        return self._secrets.problem()

    def keychain_name(self) -> str:
        """The keychain keys are saved in, as a person knows it."""
        return self._secrets.display_name()

    def has_key(self, profile_id: int) -> bool:
        """True when the keychain holds a key for this profile (raises KeychainError)."""
        profile = self._repo.get_profile(profile_id)
        return self._secrets.get(profile.key_ref) is not None

    def set_key(self, profile_id: int, api_key: str) -> None:
        """Save (or replace) a profile's key in the keychain; requests of the profile then send it."""
        api_key = api_key.strip()
        if not api_key:
            raise ValueError("The key is empty.")
        profile = self._repo.get_profile(profile_id)
        self._secrets.set(profile.key_ref, api_key)
        if not profile.needs_key:
            self._repo.update_profile(profile_id, needs_key=True)
        self._forget_models(profile_id)
        self.profiles_changed.emit()

    def remove_key(self, profile_id: int) -> None:
        """Delete a profile's key from the keychain. A known cloud provider still asks for one."""
        profile = self._repo.get_profile(profile_id)
        self._secrets.delete(profile.key_ref)
        preset = self.preset_for_url(profile.base_url)
        needs_key = preset.needs_key if preset is not None else False
        if profile.needs_key != needs_key:
            self._repo.update_profile(profile_id, needs_key=needs_key)
        self._forget_models(profile_id)
        self.profiles_changed.emit()

    def _key_for(self, profile: ProviderProfile) -> str | None:
        return self._secrets.get(profile.key_ref) if profile.needs_key else None

    def _endpoint(self, base_url: str, key: str | None, headers: dict[str, str], read: float) -> Endpoint:
        timeouts = Timeouts(connect=self._settings.get(CONNECT_TIMEOUT), read=read)
        proxy = self._settings.get(PROXY_URL) or None
        return Endpoint(normalize_base_url(base_url), key, dict(headers), proxy=proxy, timeouts=timeouts)

    # ---- models ---------------------------------------------------------------------------------

    async def list_models(self, profile: ProviderProfile) -> list[str]:
        """The models the profile's endpoint lists (raises LLMError, KeychainError)."""
        endpoint = self._endpoint(
            profile.base_url, self._key_for(profile), profile.headers, LIST_READ_TIMEOUT_S
        )
        client = ChatClient(endpoint, retry=RetryPolicy(max_attempts=1))
        try:
            return await client.list_models()
        finally:
            await client.aclose()

    def cached_models(self, profile_id: int) -> ModelList | None:
        """The last list of a profile's models (possibly stale), or None when never listed."""
        return self._models.get(profile_id)

    def _forget_models(self, profile_id: int) -> None:
        self._models.pop(profile_id, None)
        self._generation[profile_id] = self._generation.get(profile_id, 0) + 1

    async def refresh_models(self, profile_id: int) -> ModelList:
        """The profile's models, from the cache while fresh, else asked of the endpoint (one request at a
        time per profile, shared by every caller); announced by `models_listed`. Never raises LLMError."""
        cached = self._models.get(profile_id)
        if cached is not None and cached.fresh:
            return cached
        task = self._listing.get(profile_id)
        if task is None:
            task = asyncio.ensure_future(self._fetch_models(profile_id))
            self._listing[profile_id] = task
            task.add_done_callback(
                lambda t: self._listing.pop(profile_id, None) if self._listing.get(profile_id) is t else None
            )
        return await asyncio.shield(task)

    async def _fetch_models(self, profile_id: int) -> ModelList:
        generation = self._generation.get(profile_id, 0)
        profile = self.get(profile_id)
        if profile is None:
            return ModelList((), "This provider was removed.", 0.0)
        try:
            models = await self.list_models(profile)
        except KeychainError as exc:
            result = ModelList((), f"The API key cannot be read: {exc}", time.monotonic() + MODELS_RETRY_S)
        except LLMError as exc:
            if exc.status in (404, 405):
                result = ModelList((), NO_LIST, time.monotonic() + MODELS_FRESH_S)
            else:
                result = ModelList((), str(exc), time.monotonic() + MODELS_RETRY_S)
        else:
            result = ModelList(tuple(models), None, time.monotonic() + MODELS_FRESH_S)
        if self._generation.get(profile_id, 0) == generation and self.get(profile_id) is not None:
            self._models[profile_id] = result
            self.models_listed.emit(profile_id)
        return result

    async def test_connection(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
        profile_id: int | None = None,
        model: str = "",
    ) -> ConnectionCheck:
        """Try an endpoint as a form describes it: list its models, or (when it has no list) send `model` a
        one-token request. The key is `api_key`, else the saved key of `profile_id`. Never raises."""
        problem = check_base_url(base_url)
        if problem:
            return ConnectionCheck(False, problem)
        key = api_key.strip() if api_key else None
        if key:
            self._secrets.remember_for_redaction(key)
        elif profile_id is not None:
            profile = self.get(profile_id)
            try:
                key = self._key_for(profile) if profile is not None else None
            except KeychainError as exc:
                return ConnectionCheck(False, f"The saved API key cannot be read: {exc}")
        endpoint = self._endpoint(base_url, key, headers or {}, TEST_READ_TIMEOUT_S)
        client = ChatClient(endpoint, retry=RetryPolicy(max_attempts=1))
        try:
            return await self._check(client, model.strip())
        finally:
            await client.aclose()

    @staticmethod
    async def _check(client: ChatClient, model: str) -> ConnectionCheck:
        host = client.endpoint.host
        try:
            models = await client.list_models()
        except AuthError as exc:
            return ConnectionCheck(False, str(exc), key_refused=True)
        except LLMError as exc:
            if exc.status is None or exc.status >= 500:
                return ConnectionCheck(False, str(exc))
            listing_error: LLMError | None = exc
        else:
            if models:
                n = len(models)
                return ConnectionCheck(
                    True, f"Connected to {host}: {n} model{'s' if n != 1 else ''}.", tuple(models)
                )
            listing_error = None
        if not model:
            if listing_error is None:
                return ConnectionCheck(True, f"Connected to {host}, but it lists no models: type a model id.")
            return ConnectionCheck(
                False,
                f"{host} answers but has no model list. Type a model id, then test again to send it a tiny "
                "request.",
            )
        request = ChatRequest(model, [{"role": "user", "content": "Say OK."}], params={"max_tokens": 1})
        try:
            await client.complete(request)
        except LLMError as exc:
            return ConnectionCheck(False, str(exc), key_refused=isinstance(exc, AuthError))
        return ConnectionCheck(True, f"Connected to {host}: “{model}” answered.")

    # ---- local servers --------------------------------------------------------------------------

    @staticmethod
    async def local_servers(
        presets: tuple[Preset, ...] | None = None, *, timeout: float = 0.8
    ) -> list[LocalServer]:
        """Local servers answering on this machine's usual ports (or those of `presets`)."""
        if presets is None:
            return await detect_local_servers(timeout=timeout)
        return await detect_local_servers(presets, timeout=timeout)
