"""API keys in the OS keychain (through `keyring`), one entry per provider profile.

A key is never written anywhere else and never logged: every key this module sees is added to a
`Redactor`, a logging filter that blanks it out of any log record that would contain it.
When no keychain is available the calls raise `KeychainUnavailable`, whose message tells a person
what to do; the app keeps working (local servers need no key).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "desktop_chat"
_MIN_REDACT_LEN = 4
REDACTED = "[REDACTED]"
_DISPLAY_NAMES = {  # keyring backend module -> what people call that keychain
    "SecretService": "the Secret Service keyring",
    "libsecret": "the Secret Service keyring",
    "kwallet": "KWallet",
    "macOS": "the macOS Keychain",
    "Windows": "Windows Credential Manager",
}


class KeychainError(RuntimeError):
    """The keychain refused or failed an operation; the message is for a person."""


class KeychainUnavailable(KeychainError):
    """There is no usable keychain on this system."""


def _account(profile: str) -> str:
    if not profile:
        raise ValueError("a provider profile reference is required")
    return f"profile:{profile}"


class Redactor(logging.Filter):
    """Removes known secrets from log records (message, arguments and exception text)."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        """Start hiding `secret` (very short strings are ignored: they would blank normal text)."""
        if len(secret) >= _MIN_REDACT_LEN:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        """`text` with every known secret replaced."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if not self._secrets:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


class SecretStore:
    """Get, set and delete provider API keys in the keychain."""

    def __init__(
        self, *, service: str = SERVICE, backend: Any = None, redactor: Redactor | None = None
    ) -> None:
        self._service = service
        self._backend = backend
        self._redactor = redactor

    def _keyring(self) -> Any:
        import keyring  # ~25 ms: only when a key is needed, never before the first paint

        backend = keyring.get_keyring() if self._backend is None else self._backend
        name = type(backend).__module__ + "." + type(backend).__name__
        if name.startswith("keyring.backends.fail.") or (
            name.startswith("keyring.backends.chainer.") and not getattr(backend, "backends", None)
        ):
            raise KeychainUnavailable(
                "No keychain is available, so API keys cannot be saved or read. On Linux, install and "
                "unlock a Secret Service keyring (GNOME Keyring or KWallet); local servers need no key."
            )
        if name.startswith("keyring.backends.null."):  # keyring.disable(): saves nothing, reads nothing
            raise KeychainUnavailable(
                "The keychain is turned off for Python programs (keyring's null backend), so API keys "
                "cannot be saved. Run `python -m keyring diagnose` to see the setting; local servers need "
                "no key."
            )
        return backend

    def remember_for_redaction(self, secret: str) -> None:
        """Hide a key that did not come from the keychain (such as OPENAI_API_KEY) from logs too."""
        if self._redactor is not None:
            self._redactor.add(secret)

    def backend_name(self) -> str:
        """A readable name of the keychain in use (or why there is none)."""
        try:
            backend = self._keyring()
        except KeychainUnavailable:
            return "none"
        return str(getattr(backend, "name", type(backend).__name__))

    def display_name(self) -> str:
        """The keychain's name as a person knows it ("the Secret Service keyring", "the macOS Keychain")."""
        try:
            backend = self._keyring()
        except KeychainUnavailable:
            return "no keychain"
        chained = getattr(backend, "backends", None)
        if chained:
            backend = chained[0]
        module = type(backend).__module__.rsplit(".", 1)[-1]
        return _DISPLAY_NAMES.get(module, str(getattr(backend, "name", type(backend).__name__)))

    def available(self) -> bool:
        """True when a keychain can be used."""
        return self.problem() is None

    def problem(self) -> str | None:
        """Why no keychain can be used (a message for a person), or None when one can."""
        try:
            self._keyring()
        except KeychainUnavailable as exc:
            return str(exc)
        return None

    def _call(self, what: str, profile: str, fn: Any, *args: Any) -> Any:
        import keyring.errors

        backend = self._keyring()
        try:
            return fn(backend, *args)
        except keyring.errors.NoKeyringError as exc:
            raise KeychainUnavailable(f"No keychain is available to {what} ({type(exc).__name__}).") from None
        except keyring.errors.KeyringLocked:
            raise KeychainError(f"The keychain is locked; unlock it to {what}.") from None
        except Exception as exc:  # a backend may raise anything (D-Bus errors ...); never echo args
            if type(exc).__name__ == "SecretServiceNotAvailableException":  # the service went away
                raise KeychainUnavailable(
                    f"The keychain service stopped answering, so desktop_chat cannot {what}. Unlock or "
                    "restart your keyring (GNOME Keyring or KWallet) and try again."
                ) from None
            log.warning("Keychain %s failed for profile %s: %s", what, profile, type(exc).__name__)
            raise KeychainError(f"The keychain could not {what}: {type(exc).__name__}.") from None

    def get(self, profile: str) -> str | None:
        """The key of a profile, or None when it has none."""
        value = self._call(
            "read the API key",
            profile,
            lambda b, s, a: b.get_password(s, a),
            self._service,
            _account(profile),
        )
        if value and self._redactor is not None:
            self._redactor.add(value)
        return value if value else None

    def set(self, profile: str, secret: str) -> None:
        """Save (or replace) the key of a profile."""
        if self._redactor is not None:
            self._redactor.add(secret)
        self._call(
            "save the API key",
            profile,
            lambda b, s, a, p: b.set_password(s, a, p),
            self._service,
            _account(profile),
            secret,
        )
        log.info("Saved the API key of profile %s in %s", profile, self.backend_name())

    def delete(self, profile: str) -> None:
        """Remove the key of a profile (no error when there is none)."""
        if self.get(profile) is None:
            return
        self._call(
            "delete the API key",
            profile,
            lambda b, s, a: b.delete_password(s, a),
            self._service,
            _account(profile),
        )


def get_api_key(profile: str) -> str | None:
    """The keychain's key for `profile` (a provider profile's `key_ref` or name)."""
    return SecretStore().get(profile)


def set_api_key(profile: str, secret: str) -> None:
    """Save `secret` as the key of `profile` in the keychain."""
    SecretStore().set(profile, secret)


def delete_api_key(profile: str) -> None:
    """Remove the key of `profile` from the keychain."""
    SecretStore().delete(profile)
