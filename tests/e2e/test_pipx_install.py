"""`pipx install .` gives a working `desktop-chat`: its version, its desktop entry, and a chat.

Slow and online: it installs pipx into a new virtual environment, then the app with its whole dependency set
from the package index (PySide6 alone is over 100 MB). Runs only with DESKTOP_CHAT_SLOW_TESTS=1:

    DESKTOP_CHAT_SLOW_TESTS=1 .venv/bin/python -m pytest -p no:randomly tests/e2e/test_pipx_install.py

Downloads go through pip's usual cache (PIP_CACHE_DIR, else ~/.cache/pip), so a second run is faster.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from desktop_chat import version
from tests.helpers.llm_server import LLMServerProcess

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("DESKTOP_CHAT_SLOW_TESTS") != "1",
        reason="slow and online (installs every dependency): set DESKTOP_CHAT_SLOW_TESTS=1",
    ),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths (bin/, XDG)"),
]


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
    )
    assert proc.returncode == 0, (
        f"{cmd} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


@pytest.mark.timeout(1800)
def test_pipx_install_runs_installs_its_entry_and_chats(tmp_path: Path) -> None:
    env = dict(os.environ)
    for var in ("PYTHONPATH", "VIRTUAL_ENV", "OPENAI_API_KEY", "DISPLAY", "WAYLAND_DISPLAY", "PIP_USER"):
        env.pop(var, None)
    pipx_home, bin_dir = tmp_path / "pipx", tmp_path / "bin"
    env.update(
        PIPX_HOME=str(pipx_home),
        PIPX_BIN_DIR=str(bin_dir),
        PIPX_MAN_DIR=str(tmp_path / "man"),
        PIP_CACHE_DIR=env.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip"),  # not the test sandbox
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        USE_EMOJI="0",
    )

    # pipx itself, in a venv of its own
    tools = tmp_path / "tools"
    venv.EnvBuilder(with_pip=True).create(tools)
    _run([str(tools / "bin" / "python"), "-m", "pip", "install", "-q", "pipx"], env, timeout=300)

    # the app, from this checkout, with its dependencies from the index
    _run([str(tools / "bin" / "pipx"), "install", str(ROOT)], env, timeout=1200)
    launcher = bin_dir / "desktop-chat"
    assert launcher.exists(), sorted(p.name for p in bin_dir.iterdir())

    proc = _run([str(launcher), "--version"], env, timeout=60)
    assert proc.stdout.strip() == f"desktop_chat {version()}"

    # the desktop entry, headless, pointing at the pipx venv's own launcher
    data_home = tmp_path / "xdg-data"
    entry_env = {**env, "XDG_DATA_HOME": str(data_home)}
    entry_env.pop("QT_QPA_PLATFORM", None)
    proc = _run([str(launcher), "--install-desktop-entry"], entry_env, timeout=60)
    desktop = data_home / "applications" / "desktop-chat.desktop"
    assert str(desktop) in proc.stdout
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(desktop, encoding="utf-8")
    exec_path = Path(parser["Desktop Entry"]["Exec"])
    assert exec_path == pipx_home / "venvs" / "desktop-chat" / "bin" / "desktop-chat"
    assert exec_path.is_file()
    assert os.access(exec_path, os.X_OK)
    assert list((data_home / "icons" / "hicolor").glob("*/apps/desktop-chat.*"))
    _run([str(launcher), "--uninstall-desktop-entry"], entry_env, timeout=60)
    assert not desktop.exists()

    # one chat through the real window, offscreen, against the local test server
    log = tmp_path / "requests.json"
    with LLMServerProcess(log=log) as server:
        smoke_env = {**env, "QT_QPA_PLATFORM": "offscreen"}
        cmd = [str(launcher), "--smoke", "--base-url", server.url, "--model", "test-model"]
        proc = _run([*cmd, "--prompt", "hi", "--temp-basedir", "--quit-after", "120"], smoke_env, timeout=180)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == "done", result
    assert result["text"] == "Hello from the test server."
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    chats = [r for r in server.requests() if r.path == "/v1/chat/completions"]
    assert chats, "the app sent no chat request"
    assert chats[-1].body["model"] == "test-model"
    assert chats[-1].body["messages"][-1]["content"] == "hi"
