"""Running the real app (or a helper script) as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

PYTHON = sys.executable


def app_env(**extra: str) -> dict[str, str]:
    """Environment for running the app as a subprocess: offscreen, isolated dirs, no user keychain."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_app(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m desktop_chat ARGS`, offscreen, waited for, output captured."""
    return subprocess.run(
        [PYTHON, "-m", "desktop_chat", *args],
        env=env or app_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def start(
    argv: Sequence[str], *, env: dict[str, str] | None = None, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """ARGV started in the background, offscreen unless `env` says otherwise: stderr (and stdout when
    asked: `subprocess.PIPE`) read as text, stdin closed."""
    return subprocess.Popen(
        list(argv),
        env=env or app_env(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def start_app(
    args: Sequence[str], *, env: dict[str, str] | None = None, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """`python -m desktop_chat ARGS` started in the background (as `start`)."""
    return start([PYTHON, "-m", "desktop_chat", *args], env=env, stdout=stdout)
