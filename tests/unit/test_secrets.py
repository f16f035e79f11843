"""API keys in the keychain: a real Secret Service (gnome-keyring), no keychain at all, and redaction."""

from __future__ import annotations

import io
import logging
import traceback
import uuid
from collections.abc import Iterator
from contextlib import closing

import keyring.backends.fail
import keyring.errors
import pytest

from desktop_chat.secrets import (
    REDACTED,
    SERVICE,
    KeychainError,
    KeychainUnavailable,
    Redactor,
    SecretStore,
)
from tests.helpers.secret_service import SecretService

_APP_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"  # as app.setup_logging


def _key() -> str:
    return f"sk-test-{uuid.uuid4().hex}"


def _profile() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def profiles(secret_service: SecretService) -> Iterator[list[str]]:
    """Profile refs a test may use; their keys are removed from the keychain afterwards."""
    refs: list[str] = []
    yield refs
    cleanup = SecretStore(backend=secret_service.backend())
    for ref in refs:
        cleanup.delete(ref)


def _new_profile(refs: list[str]) -> str:
    ref = _profile()
    refs.append(ref)
    return ref


RedactedLog = tuple[logging.Logger, io.StringIO, Redactor]
"""The `redacted_log` fixture: the logger, what its handler wrote, and the handler's redactor."""


@pytest.fixture
def redacted_log() -> Iterator[RedactedLog]:
    """A logger whose handler formats like the app's and passes through a `Redactor`."""
    redactor = Redactor()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(_APP_FORMAT))
    handler.addFilter(redactor)
    logger = logging.getLogger(f"tests.secrets.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, out, redactor
    logger.removeHandler(handler)
    handler.close()


# ---- a real Secret Service ---------------------------------------------------------------------


@pytest.mark.keyring
class TestRealSecretService:
    def test_backend_is_gnome_keyring_on_the_private_bus(self, secret_service: SecretService) -> None:
        store = SecretStore(backend=secret_service.backend())
        assert store.available()
        assert "SecretService" in store.backend_name()
        assert secret_service.startup_seconds < 10

    def test_set_get_replace_delete(self, secret_service: SecretService, profiles: list[str]) -> None:
        store = SecretStore(backend=secret_service.backend())
        ref = _new_profile(profiles)
        first, second = _key(), _key()
        assert store.get(ref) is None
        store.set(ref, first)
        assert store.get(ref) == first
        store.set(ref, second)
        assert store.get(ref) == second
        store.delete(ref)
        assert store.get(ref) is None

    def test_a_new_store_reads_what_another_saved(
        self, secret_service: SecretService, profiles: list[str]
    ) -> None:
        ref, key = _new_profile(profiles), _key()
        SecretStore(backend=secret_service.backend()).set(ref, key)
        assert SecretStore(backend=secret_service.backend()).get(ref) == key

    def test_one_keychain_item_per_profile(self, secret_service: SecretService, profiles: list[str]) -> None:
        import secretstorage

        store = SecretStore(backend=secret_service.backend())
        ref, key = _new_profile(profiles), _key()
        store.set(ref, key)
        store.set(ref, _key())
        store.set(ref, key)  # replacing never adds a second item
        with closing(secretstorage.dbus_init()) as conn:
            collection = secretstorage.get_default_collection(conn)
            items = list(collection.search_items({"service": SERVICE, "username": f"profile:{ref}"}))
            assert len(items) == 1
            assert items[0].get_secret() == key.encode()

    def test_two_profiles_do_not_collide(self, secret_service: SecretService, profiles: list[str]) -> None:
        store = SecretStore(backend=secret_service.backend())
        a, b = _new_profile(profiles), _new_profile(profiles)
        key_a, key_b = _key(), _key()
        store.set(a, key_a)
        store.set(b, key_b)
        assert (store.get(a), store.get(b)) == (key_a, key_b)
        store.delete(a)
        assert store.get(a) is None
        assert store.get(b) == key_b

    def test_services_are_separate(self, secret_service: SecretService, profiles: list[str]) -> None:
        ref, key = _new_profile(profiles), _key()
        other = SecretStore(backend=secret_service.backend(), service=f"other-{uuid.uuid4().hex}")
        other.set(ref, key)
        try:
            assert SecretStore(backend=secret_service.backend()).get(ref) is None
            assert other.get(ref) == key
        finally:
            other.delete(ref)

    def test_deleting_a_missing_key_is_not_an_error(self, secret_service: SecretService) -> None:
        store = SecretStore(backend=secret_service.backend())
        ref = _profile()
        store.delete(ref)
        store.delete(ref)
        assert store.get(ref) is None

    def test_unknown_profile_has_no_key(self, secret_service: SecretService) -> None:
        assert SecretStore(backend=secret_service.backend()).get(_profile()) is None

    def test_a_profile_reference_is_required(self, secret_service: SecretService) -> None:
        store = SecretStore(backend=secret_service.backend())
        with pytest.raises(ValueError, match="profile"):
            store.set("", _key())
        with pytest.raises(ValueError, match="profile"):
            store.get("")

    def test_saved_key_never_reaches_the_log(
        self, secret_service: SecretService, profiles: list[str], redacted_log: RedactedLog
    ) -> None:
        logger, out, redactor = redacted_log
        ref, key = _new_profile(profiles), _key()
        SecretStore(backend=secret_service.backend(), redactor=redactor).set(ref, key)
        _log_carelessly(logger, key)
        text = out.getvalue()
        assert key not in text
        assert text.count(REDACTED) >= 6, text
        assert "request failed" in text
        assert "Traceback" in text  # the exception was logged, only the key is blanked

    def test_a_key_read_back_is_redacted_too(
        self, secret_service: SecretService, profiles: list[str], redacted_log: RedactedLog
    ) -> None:
        logger, out, redactor = redacted_log
        ref, key = _new_profile(profiles), _key()
        SecretStore(backend=secret_service.backend()).set(ref, key)  # another store, no redactor
        logger.info("before: %s", key)
        assert key in out.getvalue(), "an unknown key cannot be redacted (or this test proves nothing)"
        out.truncate(0)
        out.seek(0)
        assert SecretStore(backend=secret_service.backend(), redactor=redactor).get(ref) == key
        _log_carelessly(logger, key)
        assert key not in out.getvalue()
        assert REDACTED in out.getvalue()

    def test_app_logger_records_are_redacted(
        self, secret_service: SecretService, profiles: list[str], caplog: pytest.LogCaptureFixture
    ) -> None:
        """The module's own log lines (e.g. "Saved the API key ...") pass the filter like any other."""
        redactor = Redactor()
        caplog.handler.addFilter(redactor)
        try:
            with caplog.at_level(logging.DEBUG):
                ref, key = _new_profile(profiles), _key()
                SecretStore(backend=secret_service.backend(), redactor=redactor).set(ref, key)
                logging.getLogger("desktop_chat.secrets").info("echo %s", key)
        finally:
            caplog.handler.removeFilter(redactor)
        assert any("Saved the API key" in r.getMessage() for r in caplog.records)
        assert key not in caplog.text
        assert f"echo {REDACTED}" in caplog.text


def _log_carelessly(logger: logging.Logger, key: str) -> None:
    """Every way a careless line could carry the key."""
    logger.info("the key is %s", key)
    logger.info(f"the key is {key}")  # deliberately careless
    logger.debug("headers %r", {"Authorization": f"Bearer {key}"})
    logger.info("%(key)s in a mapping", {"key": key})
    logger.warning(ValueError(key))
    try:
        raise RuntimeError(f"401 for key {key}")
    except RuntimeError:
        logger.exception("request failed")
    logger.info("where: %s", key, stack_info=True)


# ---- no keychain -------------------------------------------------------------------------------


class TestNoKeychain:
    def test_every_call_raises_keychain_unavailable(self) -> None:
        store = SecretStore(backend=keyring.backends.fail.Keyring())
        for call in (lambda: store.get("p"), lambda: store.set("p", _key()), lambda: store.delete("p")):
            with pytest.raises(KeychainUnavailable) as info:
                call()
            message = str(info.value)
            assert "keychain" in message.lower()
            assert "GNOME Keyring" in message  # tells a person what to install
            assert "local servers need no key" in message
            assert "keyring.backends" not in message
            assert "Error" not in message  # no exception class names

    def test_available_is_false_and_does_not_raise(self) -> None:
        store = SecretStore(backend=keyring.backends.fail.Keyring())
        assert store.available() is False
        assert store.backend_name() == "none"

    def test_it_is_a_keychain_error(self) -> None:
        assert issubclass(KeychainUnavailable, KeychainError)

    def test_the_key_is_redacted_even_when_it_could_not_be_saved(self, redacted_log: RedactedLog) -> None:
        logger, out, redactor = redacted_log
        key = _key()
        with pytest.raises(KeychainUnavailable):
            SecretStore(backend=keyring.backends.fail.Keyring(), redactor=redactor).set("p", key)
        logger.error("could not save %s", key)
        assert key not in out.getvalue()

    def test_a_disabled_keychain_is_unavailable(self) -> None:
        """keyring's null backend silently drops keys: saving must not pretend to work."""
        import keyring.backends.null

        store = SecretStore(backend=keyring.backends.null.Keyring())
        assert store.available() is False
        with pytest.raises(KeychainUnavailable, match="turned off"):
            store.set("p", _key())


# ---- a keychain that fails -----------------------------------------------------------------------


class _FailingBackend:
    """A keychain whose every call raises `error(secret-bearing text)`."""

    name = "failing test keychain"

    def __init__(self, error: type[Exception]) -> None:
        self.error = error

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error(f"cannot read {service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error(f"D-Bus refused item with secret {password!r} for {username}")

    def delete_password(self, service: str, username: str) -> None:
        raise self.error(f"cannot delete {service}/{username}")


class TestFailingKeychain:
    def test_arbitrary_errors_do_not_echo_the_key(self, caplog: pytest.LogCaptureFixture) -> None:
        key = _key()
        store = SecretStore(backend=_FailingBackend(OSError))
        with caplog.at_level(logging.DEBUG), pytest.raises(KeychainError) as info:
            store.set("p", key)
        assert type(info.value) is KeychainError
        assert key not in str(info.value)
        assert "could not save the API key" in str(info.value)
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__
        assert key not in "".join(traceback.format_exception(info.value))
        assert key not in caplog.text  # even without a Redactor
        assert "Keychain save the API key failed" in caplog.text

    @pytest.mark.parametrize("call", ["get", "delete"])
    def test_other_calls_fail_as_keychain_error(self, call: str) -> None:
        store = SecretStore(backend=_FailingBackend(ConnectionError))
        with pytest.raises(KeychainError, match="ConnectionError"):
            getattr(store, call)("p")

    def test_locked_keychain_says_unlock(self) -> None:
        store = SecretStore(backend=_FailingBackend(keyring.errors.KeyringLocked))
        with pytest.raises(KeychainError, match="locked; unlock it"):
            store.get("p")

    def test_no_keyring_error_is_unavailable(self) -> None:
        store = SecretStore(backend=_FailingBackend(keyring.errors.NoKeyringError))
        with pytest.raises(KeychainUnavailable):
            store.set("p", _key())

    def test_a_vanished_secret_service_is_unavailable(self) -> None:
        from secretstorage.exceptions import SecretServiceNotAvailableException

        store = SecretStore(backend=_FailingBackend(SecretServiceNotAvailableException))
        with pytest.raises(KeychainUnavailable, match="stopped answering"):
            store.get("p")

    def test_a_failed_delete_of_an_existing_key_is_an_error(self) -> None:
        class _Undeletable(_FailingBackend):
            def get_password(self, service: str, username: str) -> str | None:
                return "sk-present-0123456789"

        store = SecretStore(backend=_Undeletable(keyring.errors.PasswordDeleteError))
        with pytest.raises(KeychainError, match="could not delete"):
            store.delete("p")


# ---- the redactor ------------------------------------------------------------------------------


class TestRedactor:
    def test_redacts_exception_text(self) -> None:
        redactor, key = Redactor(), _key()
        redactor.add(key)
        with pytest.raises(PermissionError) as info:
            raise PermissionError(f"Incorrect API key provided: {key}")
        assert redactor.redact(str(info.value)) == f"Incorrect API key provided: {REDACTED}"
        formatted = redactor.redact("".join(traceback.format_exception(info.value)))
        assert key in "".join(traceback.format_exception(info.value))
        assert key not in formatted
        assert "PermissionError" in formatted

    def test_longest_secret_first(self) -> None:
        redactor = Redactor()
        redactor.add("abcd1234")
        redactor.add("abcd1234efgh")
        assert redactor.redact("x abcd1234efgh y abcd1234 z") == f"x {REDACTED} y {REDACTED} z"

    def test_very_short_strings_are_not_secrets(self) -> None:
        redactor = Redactor()
        redactor.add("abc")
        redactor.add("")
        assert redactor.redact("abc abcabc") == "abc abcabc"

    def test_unknown_text_is_untouched(self) -> None:
        redactor = Redactor()
        redactor.add(_key())
        assert redactor.redact("nothing to see") == "nothing to see"

    def test_filter_rewrites_records_in_place(self) -> None:
        redactor, key = Redactor(), _key()
        redactor.add(key)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "key=%s n=%d", (key, 3), None)
        assert redactor.filter(record) is True  # never drops a record
        assert record.getMessage() == f"key={REDACTED} n=3"
        assert record.args is None

    def test_filter_redacts_an_already_formatted_exception(self) -> None:
        redactor, key = Redactor(), _key()
        redactor.add(key)
        try:
            raise ValueError(key)
        except ValueError as exc:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, (ValueError, exc, None))
        record.exc_text = logging.Formatter().formatException(record.exc_info)  # type: ignore[arg-type]
        assert key in record.exc_text
        redactor.filter(record)
        assert key not in logging.Formatter().format(record)
