"""Screenshots of MCP tools in the real window, against the local test server (demo only).

    xvfb-run -a -s "-screen 0 1280x900x24" python -m docs.tools.tool_screenshots OUT_DIR

Writes `approval-prompt.png` (a call of the published `mcp-server-time` waiting for the person, its full
arguments shown) and `mcp-tool-running.png` (a call of the test MCP server running, with its elapsed time
and Cancel).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_API", "pyside6")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from tests.helpers.llm_server import LLMServer, chunk, text_script, tool_call

ROOT = Path(__file__).resolve().parents[2]


def _tool_round(text: str, call_id: str, name: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"chunk": chunk(role="assistant", content=text)},
        {"chunk": chunk(tool_calls=[tool_call(0, call_id, name, json.dumps(arguments))])},
        {"chunk": chunk(finish_reason="tool_calls")},
        {"done": True},
    ]


async def _shoot(out: Path, data: Path) -> None:
    from desktop_chat.app import prepare_for_streaming
    from desktop_chat.secrets import SecretStore
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, AUTO_TITLE, MCP_SERVERS, Settings
    from desktop_chat.storage import open_store
    from desktop_chat.ui.common.theme import ThemeManager
    from desktop_chat.ui.main_window import MainWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    store = open_store(data / "demo.sqlite3")
    settings = Settings(data / "settings.json")
    settings.set(AUTO_TITLE, False)
    settings.set(
        MCP_SERVERS,
        {
            "time": {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]},
            "files": {
                "command": sys.executable,
                "args": ["-m", "tests.helpers.mcp_test_server"],
                "cwd": str(ROOT),
            },
        },
    )
    settings.set(ALWAYS_ALLOWED_TOOLS, ["files__hang"])
    services = AppServices(store, settings, SecretStore())
    ThemeManager(app, settings)
    server = LLMServer().start()
    profile = services.providers.ensure_for_url(server.url, "qwen3:14b", needs_key=False)
    services.providers.use(profile, "qwen3:14b")
    prepare_for_streaming()
    window = MainWindow(services)
    window.resize(1180, 760)
    window.show()
    await asyncio.sleep(0.5)

    async def send(text: str) -> int:
        window.composer.setPlainText(text)
        window.send_message()
        conversation = window.current_conversation_id()
        assert conversation is not None
        return conversation

    server.enqueue(
        _tool_round(
            "I'll ask the time server for the current time in Tokyo. ",
            "call_1",
            "time__get_current_time",
            {"timezone": "Asia/Tokyo"},
        ),
        text_script("It is a little past nine in the morning in Tokyo (UTC+9).", pieces=8),
    )
    first = await send("What time is it in Tokyo right now?")
    deadline = time.monotonic() + 30
    while not services.chat.pending_approvals(first) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.4)
    window.grab().save(str(out / "approval-prompt.png"))
    (pending,) = services.chat.pending_approvals(first)
    services.chat.approve(pending.execution_id, "once")
    await services.chat.wait(first)

    window.new_conversation()
    server.enqueue(
        _tool_round("Let me wait for the build to finish. ", "call_2", "files__hang", {"seconds": 30}),
        text_script("Stopped."),
    )
    second = await send("Wait for the nightly build, then tell me if it passed.")
    started = time.monotonic()
    while time.monotonic() - started < 2.6:
        await asyncio.sleep(0.05)
    window.grab().save(str(out / "mcp-tool-running.png"))
    services.chat.stop(second)
    await services.chat.wait(second)
    window.close()
    await services.aclose()
    services.shutdown()
    server.stop()


def main() -> int:
    """Command line."""
    import qasync

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="tool-shots-") as tmp:
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(_shoot(args.out, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
