"""Running the real app (or a helper script) as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

from tests.conftest import app_env


def run_app(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m desktop_chat ARGS`, offscreen, waited for, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "desktop_chat", *args],
        env=env or app_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
