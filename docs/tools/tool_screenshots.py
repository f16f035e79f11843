"""Screenshots of MCP tools in the real window, against the local test server (demo only).

    xvfb-run -a -s "-screen 0 1280x900x24" python -m docs.tools.tool_screenshots OUT_DIR

Writes `approval-prompt.png` (a call of the published `mcp-server-time` waiting for the person, its full
arguments shown) and `mcp-tool-running.png` (a call of the test MCP server running, with its elapsed time
and Cancel).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from docs.tools.demo_window import chat_services, chat_window, close, send, shoot_running, shots_command
from tests.helpers.llm_server import text_script, tool_round
from tests.helpers.services import MCP_TEST_SERVER


async def _shoot(out: Path, data: Path) -> None:
    from desktop_chat.domain import ApprovalDecision
    from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, MCP_SERVERS

    time_server = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
    services, server = chat_services(
        data,
        "qwen3:14b",
        [
            (MCP_SERVERS, {"time": time_server, "files": MCP_TEST_SERVER}),
            (ALWAYS_ALLOWED_TOOLS, ["files__hang"]),
        ],
    )
    window = await chat_window(services, 1180, 760)

    server.enqueue(
        tool_round(
            ("call_1", "time__get_current_time", {"timezone": "Asia/Tokyo"}),
            content="I'll ask the time server for the current time in Tokyo. ",
        ),
        text_script("It is a little past nine in the morning in Tokyo (UTC+9).", pieces=8),
    )
    first = send(window, "What time is it in Tokyo right now?")
    deadline = time.monotonic() + 30
    while not services.chat.pending_approvals(first) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.4)
    window.grab().save(str(out / "approval-prompt.png"))
    (pending,) = services.chat.pending_approvals(first)
    services.chat.approve(pending.execution_id, ApprovalDecision.ONCE)
    await services.chat.wait(first)

    window.new_conversation()
    server.enqueue(
        tool_round(
            ("call_2", "files__hang", {"seconds": 30}), content="Let me wait for the build to finish. "
        ),
        text_script("Stopped."),
    )
    await shoot_running(
        window,
        services,
        "Wait for the nightly build, then tell me if it passed.",
        2.6,
        out / "mcp-tool-running.png",
    )
    await close(window, services, server)


def main() -> int:
    """Command line."""
    return shots_command(__doc__ or "", "tool-shots-", lambda args, data, _app: _shoot(args.out, data))


if __name__ == "__main__":
    sys.exit(main())
