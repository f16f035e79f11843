"""Pytest plugin: a real Secret Service (gnome-keyring on a private D-Bus) for keyring tests.

The session fixture `secret_service` starts, once per test run:

1. a private `dbus-daemon` (its own config: no service activation, so nothing else is started behind our
   back) listening on a socket in a fresh temporary dir;
2. `gnome-keyring-daemon --foreground --unlock --components=secrets` on that bus, with the unlock password
   on stdin and a private HOME / XDG dirs, so no real keyring file is read or written.

It waits until `org.freedesktop.secrets` has an owner (about 0.1 s; 10 s at most, then the test fails with
the daemon's output), and stops both daemons when the session ends. Both also get SIGTERM if pytest itself
dies (`setpriv --pdeathsig`), so a killed run leaves no daemons behind.

`DBUS_SESSION_BUS_ADDRESS` points at the private bus only while a test that requests `secret_service` runs
(keyring and secretstorage read it from `os.environ` on every connection); other tests, and the apps they
start through `app_env()`, never see it, whatever the test order. Subprocesses get the bus via
`secret_service.env`. keyring's cached default backend is restored after each such test.

Missing `dbus-daemon` or `gnome-keyring-daemon` fails the tests (never skips): `bash .ci/run` installs the
Debian packages `dbus` and `gnome-keyring`. `keyrings.alt` is never used.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SECRETS_BUS_NAME = "org.freedesktop.secrets"
BUS_ENV = "DBUS_SESSION_BUS_ADDRESS"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
_UNLOCK_PASSWORD = b"desktop-chat-test-keyring"

# Debian package of each program the fixture runs.
_PROGRAMS = {"dbus-daemon": "dbus", "gnome-keyring-daemon": "gnome-keyring"}

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass
class SecretService:
    """A running gnome-keyring Secret Service on a private session bus."""

    bus_address: str
    keyring_dir: Path
    """Where gnome-keyring keeps its (encrypted) keyring files: the one place a stored key may be."""
    startup_seconds: float
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables a subprocess needs to use this Secret Service (merge into its env)."""

    def backend(self) -> Any:
        """A `keyring.backends.SecretService.Keyring` talking to this service.

        It connects through `DBUS_SESSION_BUS_ADDRESS` on every call, so use it inside a test that
        requests `secret_service` (or within `activated()`).
        """
        if os.environ.get(BUS_ENV) != self.bus_address:
            pytest.fail(
                f"{BUS_ENV} does not point at the test Secret Service: use backend() in a test that "
                "requests the `secret_service` fixture, or inside `secret_service.activated()`."
            )
        from keyring.backends import SecretService as secret_service_backend

        return secret_service_backend.Keyring()

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """Point `DBUS_SESSION_BUS_ADDRESS` at the private bus; restore it and keyring's default after."""
        import keyring.core

        saved_env = os.environ.get(BUS_ENV)
        saved_default = getattr(keyring.core, "_keyring_backend", None)
        os.environ[BUS_ENV] = self.bus_address
        try:
            yield
        finally:
            if saved_env is None:
                os.environ.pop(BUS_ENV, None)
            else:
                os.environ[BUS_ENV] = saved_env
            keyring.core._keyring_backend = saved_default


def _require_programs() -> dict[str, str]:
    found = {name: shutil.which(name) for name in _PROGRAMS}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        packages = " ".join(_PROGRAMS[name] for name in missing)
        pytest.fail(
            f"The keyring tests need a real Secret Service, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed. "
            f"Install the Debian package(s) `{packages}` (`apt-get install {packages}`; `bash .ci/run` "
            "installs everything the tests need).",
            pytrace=False,
        )
    return {name: str(path) for name, path in found.items()}


def _with_pdeathsig(argv: list[str]) -> list[str]:
    """`argv` prefixed so the daemon gets SIGTERM when pytest dies without tearing down."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *argv] if setpriv else argv


def _socket_dir() -> Path:
    """A short private dir for the bus socket (unix socket paths are limited to 107 bytes)."""
    base = tempfile.gettempdir()
    if len(base) > 60 and Path("/tmp").is_dir():
        base = "/tmp"  # a private mkdtemp dir (mode 0700) inside it
    return Path(tempfile.mkdtemp(prefix="dc-dbus-", dir=base))


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def _shutdown(
    daemon: subprocess.Popen[bytes] | None, bus: subprocess.Popen[bytes] | None, socket_dir: Path
) -> None:
    """Stop the keyring daemon, then its bus, and remove the socket dir."""
    _stop(daemon)
    _stop(bus)
    if bus is not None and bus.stdout is not None:
        bus.stdout.close()
    shutil.rmtree(socket_dir, ignore_errors=True)


def _read_address(bus: subprocess.Popen[bytes], deadline: float) -> str:
    """The address dbus-daemon prints on stdout once it listens."""
    assert bus.stdout is not None
    data = b""
    with selectors.DefaultSelector() as sel:
        sel.register(bus.stdout, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                raise TimeoutError("dbus-daemon printed no address")
            chunk = os.read(bus.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"dbus-daemon exited (status {bus.wait()})")
            data += chunk
    return data.split(b"\n", 1)[0].decode().strip()


def _wait_for_owner(address: str, daemon: subprocess.Popen[bytes], deadline: float) -> None:
    """Poll the bus until `org.freedesktop.secrets` has an owner."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with contextlib.closing(open_dbus_connection(bus=address)) as conn:
        while True:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(SECRETS_BUS_NAME), timeout=2)
            if reply.body[0]:
                pid_reply = conn.send_and_get_reply(
                    message_bus.GetConnectionUnixProcessID(SECRETS_BUS_NAME), timeout=2
                )
                if pid_reply.body[0] != daemon.pid:  # e.g. a copy that forked away from us
                    raise RuntimeError(
                        f"{SECRETS_BUS_NAME} is owned by pid {pid_reply.body[0]}, "
                        f"not by the gnome-keyring-daemon started here (pid {daemon.pid})"
                    )
                return
            if daemon.poll() is not None:
                raise RuntimeError(f"gnome-keyring-daemon exited (status {daemon.returncode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{SECRETS_BUS_NAME} got no owner within {START_TIMEOUT:.0f} s")
            time.sleep(0.01)


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return ""


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretService]:
    """A real gnome-keyring Secret Service on a private D-Bus, for the whole test run."""
    programs = _require_programs()
    root = tmp_path_factory.mktemp("secret-service")
    home, data, config, cache, runtime = (root / d for d in ("home", "data", "config", "cache", "runtime"))
    for d in (home, data, config, cache, runtime):
        d.mkdir(mode=0o700)
    socket_dir = _socket_dir()
    (root / "bus.conf").write_text(_BUS_CONFIG.format(socket_dir=socket_dir), encoding="utf-8")
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "XDG_DATA_HOME": str(data),
        "XDG_CONFIG_HOME": str(config),
        "XDG_CACHE_HOME": str(cache),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    bus_log, keyring_log = root / "dbus-daemon.log", root / "gnome-keyring-daemon.log"
    bus: subprocess.Popen[bytes] | None = None
    daemon: subprocess.Popen[bytes] | None = None
    started = time.monotonic()
    deadline = started + START_TIMEOUT
    failure = ""
    try:
        with bus_log.open("wb") as err:
            bus = subprocess.Popen(
                _with_pdeathsig(
                    [
                        programs["dbus-daemon"],
                        f"--config-file={root / 'bus.conf'}",
                        "--nofork",
                        "--nopidfile",
                        "--print-address=1",
                    ]
                ),
                env=base_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        address = _read_address(bus, deadline)
        with keyring_log.open("wb") as out:
            daemon = subprocess.Popen(
                _with_pdeathsig(
                    [
                        programs["gnome-keyring-daemon"],
                        "--foreground",
                        "--unlock",
                        "--components=secrets",
                        f"--control-directory={runtime / 'keyring'}",
                    ]
                ),
                env={**base_env, BUS_ENV: address},
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        assert daemon.stdin is not None
        daemon.stdin.write(_UNLOCK_PASSWORD)
        daemon.stdin.close()
        _wait_for_owner(address, daemon, deadline)
    except BaseException as exc:  # never leave a daemon behind, whatever went wrong
        _shutdown(daemon, bus, socket_dir)
        if not isinstance(exc, Exception):
            raise
        failure = (
            f"Could not start the test Secret Service: {exc}\n"
            f"--- dbus-daemon:\n{_tail(bus_log)}\n--- gnome-keyring-daemon:\n{_tail(keyring_log)}"
        )
    if failure:
        pytest.fail(failure, pytrace=False)
    service = SecretService(
        bus_address=address,
        keyring_dir=data / "keyrings",
        startup_seconds=time.monotonic() - started,
        env={BUS_ENV: address},
    )
    try:
        yield service
    finally:
        _shutdown(daemon, bus, socket_dir)


@pytest.fixture(autouse=True)
def _secret_service_bus(request: pytest.FixtureRequest) -> Iterator[None]:
    """Point `DBUS_SESSION_BUS_ADDRESS` at the test Secret Service during tests that request it."""
    if "secret_service" in request.fixturenames:
        service: SecretService = request.getfixturevalue("secret_service")
        with service.activated():
            yield
    else:
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the Secret Service carries the `keyring` marker (for `-m keyring`)."""
    for item in items:
        if "secret_service" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("keyring"):
            item.add_marker(pytest.mark.keyring)
