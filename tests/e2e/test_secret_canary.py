"""A canary API key set through `secrets` appears in no file under the data and config dirs, and in no log.

The key goes into a real Secret Service (gnome-keyring on the test run's private D-Bus) from a separate
process, is read back by another process that logs it carelessly through the app's own logging set-up, and
then the real app runs over the same dirs. Afterwards every file the app and those processes could write
(the data dir with its config, cache and logs; the XDG dirs and HOME they were given) is searched for the
key in several encodings. gnome-keyring's own storage is the one place the key belongs: it is elsewhere
and not searched.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from desktop_chat.secrets import REDACTED, SecretStore
from tests.helpers.proc import app_env, run_app
from tests.helpers.secret_service import SecretService

pytestmark = [pytest.mark.e2e, pytest.mark.keyring]

_SET_KEY = """
import sys
from desktop_chat.secrets import SecretStore

store = SecretStore()  # keyring's own choice of keychain, as the app makes it
print(store.backend_name())
store.set(sys.argv[1], sys.stdin.read())
"""

_CARELESS_READER = """
import hashlib, logging, sys, warnings
from desktop_chat.crash import setup_logging
from desktop_chat.paths import resolve_paths
from desktop_chat.secrets import Redactor, SecretStore

paths = resolve_paths(sys.argv[1])
paths.ensure()
redactor = Redactor()
setup_logging(paths, debug=True, redactor=redactor)
key = SecretStore(redactor=redactor).get(sys.argv[2])
assert key, "no key in the keychain"
log = logging.getLogger("desktop_chat.careless")
log.info("the key is %s", key)
log.info(f"the key is {key}")
log.debug("headers %r", {"Authorization": f"Bearer {key}"})
log.warning(ValueError(key))
try:
    raise RuntimeError(f"401 Unauthorized for key {key}")
except RuntimeError:
    log.exception("request failed")
warnings.warn(f"deprecated key {key}", stacklevel=1)
print(hashlib.sha256(key.encode()).hexdigest())
logging.shutdown()
"""


def _needles(secret: str) -> dict[str, bytes]:
    """`secret` as it could appear in a file: plain, UTF-16, hex, and base64 at every alignment."""
    raw = secret.encode()
    found = {
        "utf-8": raw,
        "utf-16-le": secret.encode("utf-16-le"),
        "utf-16-be": secret.encode("utf-16-be"),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
    }
    for shift in range(3):  # the key may start at any byte offset of a base64 stream
        start, end = (4 if shift else 0), (shift + len(raw)) // 3 * 4
        found[f"base64+{shift}"] = base64.b64encode(b"\0" * shift + raw)[start:end]
        found[f"urlsafe-base64+{shift}"] = base64.urlsafe_b64encode(b"\0" * shift + raw)[start:end]
    return found


def _files(roots: list[Path]) -> list[Path]:
    return sorted({p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()})


def _run_python(
    code: str, *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_canary_key_is_only_in_the_keychain(secret_service: SecretService, tmp_path: Path) -> None:
    canary = f"sk-canary-{uuid.uuid4().hex}"
    profile = str(uuid.uuid4())
    data_dir = tmp_path / "profile"
    xdg = {name: tmp_path / "xdg" / name for name in ("data", "config", "cache", "state", "runtime")}
    home = tmp_path / "home"
    for d in (*xdg.values(), home):
        d.mkdir(parents=True, mode=0o700)
    env = app_env(
        **secret_service.env,
        HOME=str(home),
        XDG_DATA_HOME=str(xdg["data"]),
        XDG_CONFIG_HOME=str(xdg["config"]),
        XDG_CACHE_HOME=str(xdg["cache"]),
        XDG_STATE_HOME=str(xdg["state"]),
        XDG_RUNTIME_DIR=str(xdg["runtime"]),
    )
    env.pop("PYTHON_KEYRING_BACKEND", None)  # keyring must find the Secret Service by itself
    searched = [data_dir, *xdg.values(), home]
    assert not any(
        secret_service.keyring_dir == root or root in secret_service.keyring_dir.parents for root in searched
    ), "gnome-keyring's storage must not be among the searched dirs"
    outputs: dict[str, str] = {}

    try:
        # 1. Save the key the way the app does, in its own process (key on stdin, not in argv).
        saved = _run_python(_SET_KEY, profile, env=env, stdin=canary)
        outputs["set: stdout"], outputs["set: stderr"] = saved.stdout, saved.stderr
        assert saved.returncode == 0, saved.stderr[-3000:]
        assert "SecretService" in saved.stdout, f"keyring did not pick the Secret Service: {saved.stdout}"

        # 2. It really is in the keychain (so the searches below can fail).
        assert SecretStore(backend=secret_service.backend()).get(profile) == canary

        # 3. Read it back with the app's logging set-up and log it carelessly, into the data dir's log.
        read = _run_python(_CARELESS_READER, str(data_dir), profile, env=env)
        outputs["reader: stdout"], outputs["reader: stderr"] = read.stdout, read.stderr
        assert read.returncode == 0, read.stderr[-3000:]
        assert read.stdout.strip() == hashlib.sha256(canary.encode()).hexdigest(), "read a different key"
        log_text = (data_dir / "logs" / "desktop_chat.log").read_text(encoding="utf-8")
        assert log_text.count(REDACTED) >= 6, log_text[-3000:]
        assert "request failed" in log_text
        assert "deprecated key" in log_text  # captured warnings pass the redactor too
        assert REDACTED in read.stderr  # --debug also logs to stderr

        # 4. The real app over the same dirs, with the same keychain.
        app = run_app(["--data-dir", str(data_dir), "--debug", "--quit-after", "1"], env=env)
        outputs["app: stdout"], outputs["app: stderr"] = app.stdout, app.stderr
        assert app.returncode == 0, app.stderr[-3000:]
        assert "quit cleanly" in app.stderr

        # 5. The key is in no output and no file.
        needles = _needles(canary)
        for where, text in outputs.items():
            for encoding, needle in needles.items():
                assert needle.decode("latin-1") not in text, f"the canary key ({encoding}) is in {where}"
        files = _files(searched)
        assert data_dir / "desktop_chat.sqlite3" in files
        assert data_dir / "logs" / "desktop_chat.log" in files
        assert data_dir / "config" / "settings.json" in files
        leaks = [
            f"{path.relative_to(tmp_path)} ({encoding})"
            for path in files
            for encoding, needle in needles.items()
            if needle in path.read_bytes()
        ]
        assert not leaks, f"the canary key was written to: {leaks}"
    finally:
        SecretStore(backend=secret_service.backend()).delete(profile)
    assert SecretStore(backend=secret_service.backend()).get(profile) is None


def test_needles_find_the_key_in_every_encoding() -> None:
    """The search itself works: each needle is found where that encoding of the key is embedded."""
    canary = f"sk-canary-{uuid.uuid4().hex}"
    raw = canary.encode()
    blobs = [
        b"x" + raw + b"y",
        b"\xff\xfe" + canary.encode("utf-16-le"),
        canary.encode("utf-16-be"),
        raw.hex().encode(),
        *(base64.b64encode(b"p" * shift + raw + b"tail") for shift in range(3)),
        *(base64.urlsafe_b64encode(b"\xfb" * shift + raw + b"\xff") for shift in range(3)),
    ]
    needles = list(_needles(canary).values())
    for blob in blobs:
        assert any(n in blob for n in needles), blob
    other = _needles(f"sk-canary-{uuid.uuid4().hex}").values()
    assert not any(n in blob for blob in blobs for n in other), "another key must not match"
