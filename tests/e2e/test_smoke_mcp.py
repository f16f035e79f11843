"""Scripted runs with real MCP servers: `--mcp-config FILE` with `--smoke --approve-tools all|none`."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.llm_server import LLMServer, text_script, tool_round
from tests.helpers.proc import app_env, run_app
from tests.helpers.services import MCP_TEST_SERVER

pytestmark = pytest.mark.e2e


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "mcp.json"
    servers = {
        "time": {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]},
        "testtools": MCP_TEST_SERVER,
    }
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


def _smoke(llm_server: LLMServer, config: Path, approve: str) -> dict[str, Any]:
    proc = run_app(
        [
            "--smoke",
            "--temp-basedir",
            "--base-url",
            llm_server.url,
            "--model",
            "test-model",
            "--prompt",
            "What time is it in Tokyo, and what is your pid?",
            "--mcp-config",
            str(config),
            "--approve-tools",
            approve,
        ],
        env=app_env(),
        timeout=90,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, f"no output (exit {proc.returncode}): {proc.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    result["exit"] = proc.returncode
    return result


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True  # exited; its parent (the app) is gone too, init reaps it
        time.sleep(0.05)
    return False


def test_smoke_with_approve_all_calls_real_mcp_servers_and_leaves_no_process(
    tmp_path: Path, llm_server: LLMServer
) -> None:
    llm_server.enqueue(
        tool_round(
            ("c1", "time__get_current_time", {"timezone": "Asia/Tokyo"}), ("c2", "testtools__pid", {})
        ),
        text_script("Morning in Tokyo."),
    )
    result = _smoke(llm_server, _config(tmp_path), "all")
    assert result["exit"] == 0, result
    assert result["status"] == "done"
    tokyo, pid = result["tool_executions"]
    assert tokyo["name"] == "time__get_current_time"
    assert tokyo["status"] == "succeeded"
    assert "+09:00" in json.loads(tokyo["result"])["datetime"]
    assert pid["status"] == "succeeded"
    assert _gone(int(pid["result"])), "the MCP server stopped with the app"


def test_smoke_with_approve_none_declines_and_the_model_is_told(
    tmp_path: Path, llm_server: LLMServer
) -> None:
    llm_server.enqueue(
        tool_round(("c1", "time__get_current_time", {"timezone": "Asia/Tokyo"})),
        text_script("I could not check."),
    )
    result = _smoke(llm_server, _config(tmp_path), "none")
    assert result["exit"] == 0, result
    (call,) = result["tool_executions"]
    assert call["status"] == "cancelled"
    assert call["result"] == "The user declined to run this tool call."
    told = [m["content"] for m in llm_server.requests[-1].body["messages"] if m["role"] == "tool"]
    assert told == ["The user declined to run this tool call."]


def test_a_bad_mcp_config_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = run_app(["--temp-basedir", "--mcp-config", str(bad)], env=app_env())
    assert proc.returncode == 2
    assert "is not valid JSON" in proc.stderr
