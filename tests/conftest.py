"""Test-wide set-up that must come first: never touch the real user dirs, run Qt offscreen, register the
fixture plugins (tests/helpers/fixtures.py, qt_fixtures.py, secret_service.py) and Hypothesis's profiles."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Before anything imports Qt or platformdirs: an isolated home for every XDG dir, and offscreen Qt.
_SANDBOX = Path(tempfile.mkdtemp(prefix="desktop_chat-tests-"))
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)
for _var, _sub in (
    ("XDG_DATA_HOME", "data"),
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_CACHE_HOME", "cache"),
    ("XDG_STATE_HOME", "state"),
):
    os.environ[_var] = str(_SANDBOX / _sub)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"

from hypothesis import HealthCheck, settings  # noqa: E402

pytest_plugins = ["tests.helpers.secret_service", "tests.helpers.fixtures", "tests.helpers.qt_fixtures"]

# Property tests: the same examples on every run (derandomized, no example database), bounded so the whole
# suite stays within minutes; HYPOTHESIS_PROFILE=explore looks further, with fresh random examples.
settings.register_profile(
    "repeatable",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", settings.get_profile("repeatable"), max_examples=5000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
