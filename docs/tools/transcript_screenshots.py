"""Screenshots of the transcript in the real window, against the local test server (demo only).

    xvfb-run -a -s "-screen 0 1280x900x24" python -m docs.tools.transcript_screenshots OUT_DIR [--dark]

Writes `conversation-code-table-tool.png` (a finished answer with a tool call, code and a table) and
`stream-running-tool.png` (an answer streaming, its tool still running). The slow tool registered here is
for the screenshot only (the built-in tool is instant); it is not part of the app.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from desktop_chat.tools.registry import ToolResult, ToolSpec
from docs.tools.demo_window import chat_services, chat_window, close, send, shoot_running, shots_command
from tests.helpers.llm_server import chunk, text_script, tool_call, usage

ANSWER = """It is **14:05** in Paris (CET, UTC+1). Here is how to get the same answer in Python, and the \
offsets of a few cities for comparison.

```python
from datetime import datetime
from zoneinfo import ZoneInfo

def local_time(zone: str) -> str:
    \"\"\"The wall-clock time in an IANA time zone.\"\"\"
    return datetime.now(ZoneInfo(zone)).strftime("%H:%M")

print(local_time("Europe/Paris"))  # 14:05
```

| City | Time zone | Offset | Local time |
|:--|:--|--:|--:|
| Paris | Europe/Paris | +1 | 14:05 |
| New York | America/New_York | -5 | 08:05 |
| Tokyo | Asia/Tokyo | +9 | 22:05 |

Daylight saving time starts on the **last Sunday of March** in the EU, so the offset becomes +2 then. \
See the [IANA time zone database](https://www.iana.org/time-zones) for details.
"""

STREAMING = """I'll check the latest release notes first, then summarise what changed.

"""


class DemoSearch:
    """A slow pretend search (screenshots only)."""

    def __init__(self) -> None:
        self.spec = ToolSpec(
            "web_search",
            "Search the web.",
            {"type": "object", "properties": {"query": {"type": "string"}}},
        )

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        await asyncio.sleep(60)
        return ToolResult("no results")


def _tool_round(text: str, call_id: str, name: str, arguments: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{"chunk": chunk(role="assistant", content="")}]
    steps += [{"chunk": chunk(content=text[i : i + 12])} for i in range(0, len(text), 12)]
    steps += [
        {"chunk": chunk(tool_calls=[tool_call(0, call_id, name, arguments)])},
        {"chunk": chunk(finish_reason="tool_calls")},
        {"chunk": chunk(choices=[], usage=usage(412, 38))},
        {"done": True},
    ]
    return steps


async def _shoot(out: Path, data: Path, *, dark: bool) -> None:
    from desktop_chat.settings import THEME

    services, server = chat_services(data, "llama3.1:8b", [(THEME, "dark" if dark else "light")])
    services.tools.register(DemoSearch())
    window = await chat_window(services, 1180, 860)

    server.enqueue(_tool_round("", "call_1", "current_datetime", '{"timezone": "Europe/Paris"}'))
    server.enqueue(text_script(ANSWER, pieces=40, usage={"prompt_tokens": 468, "completion_tokens": 231}))
    first = send(
        window, "What time is it in Paris? Show me how to get it in Python, and compare a few cities."
    )
    await services.chat.wait(first)
    await asyncio.sleep(0.6)
    window.grab().save(str(out / "conversation-code-table-tool.png"))

    window.new_conversation()
    server.enqueue(_tool_round(STREAMING, "call_2", "web_search", '{"query": "Qt 6.11 release notes"}'))
    await shoot_running(
        window, services, "What's new in Qt 6.11? Keep it short.", 2.4, out / "stream-running-tool.png"
    )
    await close(window, services, server)


def main() -> int:
    """Command line."""
    return shots_command(
        __doc__ or "",
        "transcript-shots-",
        lambda args, data, _app: _shoot(args.out, data, dark=args.dark),
        dark=True,
    )


if __name__ == "__main__":
    sys.exit(main())
