"""MCP servers through the real protocol: a stdio server written here with the `mcp` server API and the
published `mcp-server-time`, called by a model (the local test server) through the chat service."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from desktop_chat.domain import ApprovalDecision, ResponseStatus, ToolStatus
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.chat import CANCELLED_BY_USER, DECLINED
from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, MCP_SERVERS
from desktop_chat.tools.mcp_config import load_mcp_config, parse_mcp_servers
from desktop_chat.tools.mcp_host import tool_api_name
from desktop_chat.tools.mcp_server import ServerState
from tests.helpers.history import new_conversation
from tests.helpers.llm_server import LLMServer, text_script, tool_round
from tests.helpers.loop import run
from tests.helpers.services import MCP_TEST_SERVER, use_server

ROOT = Path(__file__).resolve().parents[2]
TIME_SERVER = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def _serve(
    services: AppServices, llm_server: LLMServer, *, approval: str = "all", **servers: Any
) -> AppServices:
    """Point the services at the test server, with these MCP servers and this approval mode; returns them."""
    use_server(services, llm_server)
    services.settings.set(MCP_SERVERS, servers)
    services.chat.approval_mode = approval
    return services


def _answer(services: AppServices, conversation_id: int) -> Any:
    branch = services.conversations.transcript(conversation_id)
    return next(m for m in reversed(branch) if m.response is not None).response


def _executions(services: AppServices, conversation_id: int) -> list[Any]:
    return services.store.repo.list_tool_executions(_answer(services, conversation_id).id).items


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():  # a zombie is gone for our purposes only once reaped; say so
        return stat.read_text().split()[2] != "Z"
    return True


def test_a_model_calls_a_test_server_and_mcp_server_time_and_the_database_keeps_each_call(
    aloop, mcp_services: AppServices, llm_server: LLMServer
) -> None:
    services = _serve(mcp_services, llm_server, testtools=MCP_TEST_SERVER, time=TIME_SERVER)
    add, now = tool_api_name("testtools", "add"), tool_api_name("time", "get_current_time")
    llm_server.enqueue(
        tool_round(("c1", add, {"a": 2, "b": 40}), ("c2", now, {"timezone": "Asia/Tokyo"})),
        text_script("42, and it is morning in Tokyo."),
    )
    conv = new_conversation(services)
    services.chat.send(conv.id, "Add 2 and 40, and what time is it in Tokyo?")
    run(aloop, services.chat.wait(conv.id), timeout=60)

    response = _answer(services, conv.id)
    assert response.status is ResponseStatus.DONE, response.error
    first, second = (r.body for r in llm_server.requests)
    offered = {t["function"]["name"] for t in first["tools"]}
    assert {add, now, tool_api_name("testtools", "hang")} <= offered
    by_name = {e.name: e for e in _executions(services, conv.id)}
    assert by_name[add].status is ToolStatus.SUCCEEDED
    assert by_name[add].arguments == '{"a": 2, "b": 40}'
    assert by_name[add].result == "42.0"
    tokyo = json.loads(by_name[now].result)
    assert tokyo["timezone"] == "Asia/Tokyo"
    assert "+09:00" in tokyo["datetime"]
    for execution in by_name.values():
        assert execution.started_at is not None
        assert execution.finished_at is not None
        assert execution.finished_at >= execution.started_at
    results = [m["content"] for m in second["messages"] if m["role"] == "tool"]
    assert results == ["42.0", by_name[now].result]
    states = {s.name: s for s in services.mcp.host.statuses()}
    assert states["testtools"].state is ServerState.READY
    assert states["time"].summary() == "ready with 2 tools"


def test_a_hanging_tool_is_cut_off_at_its_timeout_and_marked_failed(
    aloop, mcp_services: AppServices, llm_server: LLMServer
) -> None:
    services = _serve(mcp_services, llm_server, testtools={**MCP_TEST_SERVER, "timeout": 1.5})
    llm_server.enqueue(
        tool_round(("c1", tool_api_name("testtools", "hang"), {"seconds": 600})), text_script("It hung.")
    )
    conv = new_conversation(services)
    started = time.monotonic()
    services.chat.send(conv.id, "Wait forever")
    run(aloop, services.chat.wait(conv.id), timeout=60)
    assert time.monotonic() - started < 20
    (execution,) = _executions(services, conv.id)
    assert execution.status is ToolStatus.FAILED
    assert "did not answer within 1.5 s" in (execution.error or "")
    assert _answer(services, conv.id).status is ResponseStatus.DONE


def test_a_server_that_crashes_mid_call_fails_the_call_with_its_stderr_and_comes_back(
    aloop, mcp_services: AppServices, llm_server: LLMServer
) -> None:
    services = _serve(mcp_services, llm_server, testtools=MCP_TEST_SERVER)
    crash, echo = tool_api_name("testtools", "crash"), tool_api_name("testtools", "echo")
    llm_server.enqueue(
        tool_round(("c1", crash, {"message": "disk on fire"})),
        tool_round(("c2", echo, {"text": "still here"})),
        text_script("Recovered."),
    )
    conv = new_conversation(services)
    services.chat.send(conv.id, "Crash, then echo")
    run(aloop, services.chat.wait(conv.id), timeout=60)
    crashed, echoed = _executions(services, conv.id)
    assert crashed.status is ToolStatus.FAILED
    assert "crashed during the call" in (crashed.error or "")
    assert "fatal: disk on fire" in (crashed.error or ""), "the server's stderr tail is kept"
    assert echoed.status is ToolStatus.SUCCEEDED
    assert echoed.result == "still here"
    assert _answer(services, conv.id).text == "Recovered."


def test_quitting_leaves_no_server_process(aloop, services: AppServices, llm_server: LLMServer) -> None:
    _serve(services, llm_server, testtools=MCP_TEST_SERVER, time=TIME_SERVER)
    llm_server.enqueue(tool_round(("c1", tool_api_name("testtools", "pid"), {})), text_script("ok"))
    conv = new_conversation(services)
    services.chat.send(conv.id, "Your pid?")
    run(aloop, services.chat.wait(conv.id), timeout=60)
    (execution,) = _executions(services, conv.id)
    pid = int(execution.result or "0")
    assert pid > 0
    assert _alive(pid)
    children = _child_pids()
    assert pid in children
    assert len(children) >= 2, "both servers run as children of the app"
    run(aloop, services.aclose())
    services.shutdown()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in children):
        time.sleep(0.05)
    assert not [p for p in children if _alive(p)], "every server process has exited"
    assert not _child_pids()


def _child_pids() -> list[int]:
    """Our direct children in the process table (servers are started by the app's process)."""
    me = str(os.getpid())
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return [p for p in out if "mcp" in _cmdline(p) or "mcp_server_time" in _cmdline(p)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# ---- the person in control (service level; the window's buttons call these) ----------------------


def test_approval_denial_and_allow_for_this_conversation(
    aloop, mcp_services: AppServices, llm_server: LLMServer
) -> None:
    services = _serve(mcp_services, llm_server, testtools=MCP_TEST_SERVER, approval="ask")
    echo = tool_api_name("testtools", "echo")
    llm_server.enqueue(
        tool_round(("c1", echo, {"text": "first"})),
        tool_round(("c2", echo, {"text": "second"})),
        tool_round(("c3", echo, {"text": "third"})),
        text_script("done"),
    )
    asked: list[object] = []
    services.chat.approval_requested.connect(asked.append)
    conv = new_conversation(services)
    services.chat.send(conv.id, "Echo three times")

    async def answer(decisions: list[ApprovalDecision]) -> None:
        handled: set[int] = set()
        for decision in decisions:
            deadline = time.monotonic() + 30
            while not [p for p in services.chat.pending_approvals(conv.id) if p.execution_id not in handled]:
                assert time.monotonic() < deadline, "no approval was asked for"
                await _sleep()
            (pending,) = [
                p for p in services.chat.pending_approvals(conv.id) if p.execution_id not in handled
            ]
            assert json.loads(pending.arguments)["text"], "the full arguments are shown"
            assert services.chat.approve(pending.execution_id, decision)
            handled.add(pending.execution_id)

    run(aloop, answer([ApprovalDecision.DENY, ApprovalDecision.CONVERSATION]), timeout=60)
    run(aloop, services.chat.wait(conv.id), timeout=60)
    first, second, third = _executions(services, conv.id)
    assert first.status is ToolStatus.CANCELLED
    assert first.error == DECLINED
    assert second.status is ToolStatus.SUCCEEDED
    assert second.result == "second"
    assert third.status is ToolStatus.SUCCEEDED, "allowed for the rest of this conversation: not asked again"
    assert len(asked) == 2
    told = [m["content"] for m in llm_server.requests[1].body["messages"] if m["role"] == "tool"]
    assert told == [DECLINED], "the model is told the user declined"
    assert services.conversations.get(conv.id).params.get("allowed_tools") == [echo]
    assert echo not in services.settings.get(ALWAYS_ALLOWED_TOOLS)


def test_cancelling_a_running_tool_tells_the_model_and_the_answer_goes_on(
    aloop, mcp_services: AppServices, llm_server: LLMServer
) -> None:
    services = _serve(mcp_services, llm_server, testtools=MCP_TEST_SERVER, approval="ask")
    hang = tool_api_name("testtools", "hang")
    llm_server.enqueue(tool_round(("c1", hang, {"seconds": 600})), text_script("You stopped it."))
    conv = new_conversation(services)
    services.chat.send(conv.id, "Hang")

    async def approve_then_cancel() -> None:
        while not services.chat.pending_approvals(conv.id):
            await _sleep()
        (pending,) = services.chat.pending_approvals(conv.id)
        services.chat.approve(pending.execution_id, ApprovalDecision.ONCE)
        while services.store.repo.list_tool_executions(pending.response_id).items[0].status is not (
            ToolStatus.RUNNING
        ):
            await _sleep()
        await _sleep(0.3)
        assert services.chat.cancel_tool(pending.execution_id)

    run(aloop, approve_then_cancel(), timeout=60)
    run(aloop, services.chat.wait(conv.id), timeout=60)
    (execution,) = _executions(services, conv.id)
    assert execution.status is ToolStatus.CANCELLED
    assert execution.error == CANCELLED_BY_USER
    assert _answer(services, conv.id).text == "You stopped it."
    assert [m["content"] for m in llm_server.requests[1].body["messages"] if m["role"] == "tool"] == [
        CANCELLED_BY_USER
    ]


async def _sleep(seconds: float = 0.01) -> None:
    import asyncio

    await asyncio.sleep(seconds)


# ---- configuration ----------------------------------------------------------------------------------


def test_the_mcp_servers_block_of_another_clients_config_is_imported(
    tmp_path: Path, services: AppServices
) -> None:
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(
        json.dumps(
            {
                "globalShortcut": "Ctrl+Space",
                "mcpServers": {
                    "time": {"command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "UTC"}},
                    "remote": {"url": "https://mcp.example.com/mcp", "headers": {"X-Team": "a"}},
                    "broken": {"args": ["no command"]},
                    "odd": "not an object",
                },
            }
        )
    )
    names, skipped = services.mcp.import_file(config)
    assert names == ["time", "remote"]
    assert len(skipped) == 2
    assert any("broken" in s for s in skipped)
    saved = services.settings.get(MCP_SERVERS)
    assert saved["time"] == {"command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "UTC"}}
    remote = services.mcp.server("remote")
    assert remote is not None
    assert remote.transport == "http"
    services.mcp.set_tool_enabled("time", "convert_time", False)
    services.mcp.set_enabled("remote", False)
    servers, problems = parse_mcp_servers({"mcpServers": services.settings.get(MCP_SERVERS)})
    assert not problems
    assert {s.name: (s.enabled, sorted(s.disabled_tools)) for s in servers} == {
        "time": (True, ["convert_time"]),
        "remote": (False, []),
    }
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_mcp_config(bad)


def test_a_large_result_is_truncated_for_the_model_and_kept_whole_in_the_database(
    aloop, mcp_services: AppServices, llm_server: LLMServer
) -> None:
    services = _serve(mcp_services, llm_server, testtools=MCP_TEST_SERVER)
    llm_server.enqueue(
        tool_round(("c1", tool_api_name("testtools", "big"), {"chars": 150_000})), text_script("ok")
    )
    conv = new_conversation(services)
    services.chat.send(conv.id, "Big result")
    run(aloop, services.chat.wait(conv.id), timeout=60)
    (execution,) = _executions(services, conv.id)
    assert len(execution.result or "") == 150_000, "kept whole"
    (told,) = [m["content"] for m in llm_server.requests[1].body["messages"] if m["role"] == "tool"]
    assert told.startswith("0123456789" * 100)
    assert len(told) < 21_000
    assert "[Truncated: the result has 150,000 characters; these are the first 20,000." in told


def test_a_streamable_http_server_is_called_through_the_chat_service(
    aloop, mcp_services: AppServices, llm_server: LLMServer
) -> None:
    import socket
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.mcp_test_server", "--http", str(port), "--name", "web"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the HTTP MCP server did not start"
            time.sleep(0.05)
        services = _serve(
            mcp_services,
            llm_server,
            web={"url": f"http://127.0.0.1:{port}/mcp", "headers": {"X-Client": "desktop_chat"}},
        )
        llm_server.enqueue(
            tool_round(("c1", tool_api_name("web", "add"), {"a": 1.5, "b": 2})), text_script("3.5 it is.")
        )
        conv = new_conversation(services)
        services.chat.send(conv.id, "Add over HTTP")
        run(aloop, services.chat.wait(conv.id), timeout=60)
        (execution,) = _executions(services, conv.id)
        assert execution.status is ToolStatus.SUCCEEDED, execution.error
        assert execution.result == "3.5"
        assert services.mcp.status("web").summary() == "ready with 6 tools"
    finally:
        server.terminate()
        server.wait(timeout=10)
