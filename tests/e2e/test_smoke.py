"""`desktop-chat --smoke`: the real window, offscreen, chats once with a local server and prints JSON.

Each test starts the app as a subprocess against the test server running in this process, then checks
the JSON line, the exit code, what the server received (the prompt as typed into the composer, the key),
and what the app left in its data dir (profile, settings, conversation; never the key).
"""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import sqlite3
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from desktop_chat.storage.db import DB_FILENAME
from tests.helpers.llm_server import (
    LLMServer,
    chunk,
    http_error,
    text_script,
    tool_call,
    usage,
)
from tests.helpers.proc import app_env, run_app, start_app

pytestmark = pytest.mark.e2e

KEYS = {"conversation_id", "status", "text", "reasoning", "tool_executions", "usage", "error"}
SAFETY = ["--quit-after", "60"]  # the app quits by itself if a run ever hangs
ANSWER = "Hallo! Schön, dich zu sehen ✓"


def _env(**extra: str) -> dict[str, str]:
    env = app_env(**extra)
    if "OPENAI_API_KEY" not in extra:
        env.pop("OPENAI_API_KEY", None)  # never the key of whoever runs the tests
    return env


def _smoke(
    server: LLMServer,
    prompt: str,
    *args: str,
    model: str | None = "test-model",
    where: tuple[str, ...] = ("--temp-basedir",),
    env: dict[str, str] | None = None,
    base_url: str | None = None,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run `--smoke` and return the process and its last stdout line, parsed."""
    cmd = ["--smoke", "--base-url", base_url or server.url, "--prompt", prompt, *where, *SAFETY, *args]
    if model is not None:
        cmd += ["--model", model]
    proc = run_app(cmd, env=env or _env(), timeout=90)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output (exit {proc.returncode}): {proc.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert isinstance(result, dict), lines[-1]
    assert set(result) >= KEYS, sorted(result)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc, result


def _chat_requests(server: LLMServer) -> list[Any]:
    return [r for r in server.requests if r.path == "/v1/chat/completions"]


def _db(data: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(data / DB_FILENAME))


def _settings_or_empty(data: Path) -> dict[str, Any]:
    try:
        return _settings(data)
    except (OSError, ValueError):
        return {}


def _settings(data: Path) -> dict[str, Any]:
    values = json.loads((data / "config" / "settings.json").read_text(encoding="utf-8"))["values"]
    assert isinstance(values, dict)
    return values


def _profiles(data: Path) -> list[tuple[int, str, str, int]]:
    with _db(data) as conn:
        rows = conn.execute(
            "SELECT id, base_url, default_model, needs_key FROM provider_profile ORDER BY id"
        ).fetchall()
    return [(int(a), str(b), str(c), int(d)) for a, b, c, d in rows]


# ---- answers --------------------------------------------------------------------------------------


def test_plain_answer_prints_the_result_and_exits_0(llm_server: LLMServer) -> None:
    prompt = "Grüße 👋 — wie geht's? (ça va, 你好)"
    deltas = ["Hallo! ", "Schön, ", "dich zu ", "sehen ✓"]
    script = [
        {"chunk": chunk(reasoning_content="Thinking ", role="assistant")},
        {"chunk": chunk(reasoning_content="briefly.")},
        *text_script(deltas, usage=usage(11, 4)),
    ]
    llm_server.enqueue(script)

    proc, result = _smoke(llm_server, prompt)

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["status"] == "done"
    assert result["text"] == ANSWER
    assert result["reasoning"] == "Thinking briefly."
    assert result["tool_executions"] == []
    assert result["usage"]["prompt_tokens"] == 11
    assert result["usage"]["completion_tokens"] == 4
    assert result["usage"]["total_tokens"] == 15
    assert result["error"] is None
    assert isinstance(result["conversation_id"], int)
    (request,) = _chat_requests(llm_server)  # one request: no title request in a smoke run
    assert request.model == "test-model"
    assert request.stream
    assert request.body["messages"][-1] == {"role": "user", "content": prompt}, "typed as it was given"


def test_multi_line_prompt_arrives_whole(llm_server: LLMServer) -> None:
    prompt = "First line\nSecond line: ünïcödé\n\n    indented, after an empty line\nlast 🙂"
    llm_server.enqueue(text_script("Got all of it."))

    proc, result = _smoke(llm_server, prompt)

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["status"] == "done"
    assert result["text"] == "Got all of it."
    (request,) = _chat_requests(llm_server)
    assert request.body["messages"][-1] == {"role": "user", "content": prompt}, "one message, lines kept"


def test_a_tool_round_runs_the_tool_and_finishes(llm_server: LLMServer) -> None:
    year_before = datetime.now(UTC).year
    calls = [
        tool_call(0, "call_clock", "current_datetime", '{"timezone"'),
        tool_call(0, arguments=': "UTC"}'),
    ]
    llm_server.enqueue(
        [
            {"chunk": chunk(role="assistant", tool_calls=[calls[0]])},
            {"chunk": chunk(tool_calls=[calls[1]])},
            {"chunk": chunk(finish_reason="tool_calls")},
            {"chunk": chunk(choices=[], usage=usage(20, 9))},
            {"done": True},
        ],
        text_script("It is the year you see above."),
    )

    proc, result = _smoke(llm_server, "What time is it in UTC?", "--approve-tools", "all")
    years = {str(year_before), str(datetime.now(UTC).year)}

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["status"] == "done"
    assert result["text"] == "It is the year you see above."
    (execution,) = result["tool_executions"]
    assert execution["name"] == "current_datetime"
    assert json.loads(execution["arguments"]) == {"timezone": "UTC"}
    assert execution["status"] == "succeeded"
    assert any(year in execution["result"] for year in years), execution
    assert "UTC" in execution["result"]
    first, second = _chat_requests(llm_server)
    assert any(t["function"]["name"] == "current_datetime" for t in first.body["tools"])
    tool_messages = [m for m in second.body["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_clock"]
    assert tool_messages[0]["content"] == execution["result"], "the result went back to the model"


STREAM_CUT = [
    *text_script(["Partial ", "answer ", "before the cut"], finish_reason=None, usage=False, done=False),
    {"sleep": 0.3},
    {"cut": "reset"},
]


@pytest.mark.parametrize(
    ("script", "partial", "said"),
    [
        (STREAM_CUT, "Partial answer before the cut", "connection closed"),
        ([http_error(500, "The model crashed.")], "", "HTTP 500"),
    ],
    ids=["cut-mid-stream", "http-500"],
)
def test_a_failed_answer_exits_1_with_the_partial_text(
    llm_server: LLMServer, script: list[dict[str, Any]], partial: str, said: str
) -> None:
    llm_server.enqueue(script)

    proc, result = _smoke(llm_server, "Tell me something")

    assert proc.returncode == 1, proc.stderr[-3000:]
    assert result["status"] == "error"
    assert result["text"] == partial
    assert isinstance(result["error"], str)
    assert said in result["error"], result["error"]
    assert len(_chat_requests(llm_server)) == 1, "a 500 is not retried, a cut answer is not resent"


def test_nothing_listening_exits_1_with_a_connect_error(llm_server: LLMServer) -> None:
    llm_server.stop()  # its port is free now: nothing answers there
    proc, result = _smoke(llm_server, "Anyone there?")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert result["status"] == "error"
    assert result["text"] == ""
    assert result["error"].startswith(f"Could not connect to {llm_server.url}"), result["error"]


# ---- the key -------------------------------------------------------------------------------------


def _needles(secret: str) -> dict[str, bytes]:
    raw = secret.encode()
    found = {"utf-8": raw, "utf-16-le": secret.encode("utf-16-le"), "hex": raw.hex().encode()}
    for shift in range(3):
        start, end = (4 if shift else 0), (shift + len(raw)) // 3 * 4
        found[f"base64+{shift}"] = base64.b64encode(b"\0" * shift + raw)[start:end]
    return found


def test_the_key_comes_from_the_environment_and_stays_out_of_files(
    llm_server: LLMServer, tmp_path: Path
) -> None:
    key = f"sk-canary-{uuid.uuid4().hex}"
    data, xdg = tmp_path / "data", tmp_path / "xdg"
    env = _env(
        OPENAI_API_KEY=key,
        XDG_DATA_HOME=str(xdg / "data"),
        XDG_CONFIG_HOME=str(xdg / "config"),
        XDG_CACHE_HOME=str(xdg / "cache"),
        XDG_STATE_HOME=str(xdg / "state"),
    )
    llm_server.enqueue(text_script(ANSWER))

    proc, result = _smoke(llm_server, "Hi", "--debug", where=("--data-dir", str(data)), env=env)

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["text"] == ANSWER
    (request,) = _chat_requests(llm_server)
    assert request.headers["authorization"] == f"Bearer {key}"
    ((_, _, _, needs_key),) = _profiles(data)
    assert needs_key == 1, "the profile remembers that this endpoint takes a key"
    needles = _needles(key)
    files = [p for root in (data, xdg) if root.exists() for p in root.rglob("*") if p.is_file()]
    assert any(p.name == DB_FILENAME for p in files)
    for path in files:
        content = path.read_bytes()
        for how, needle in needles.items():
            assert needle not in content, f"the key ({how}) is in {path}"
    for stream in (proc.stdout, proc.stderr):
        assert key not in stream
        assert key[10:30] not in stream


def test_no_key_is_needed_for_a_local_server(llm_server: LLMServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    llm_server.enqueue(text_script(ANSWER))
    proc, result = _smoke(llm_server, "Hi", where=("--data-dir", str(data)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["status"] == "done"
    (request,) = _chat_requests(llm_server)
    assert request.headers["authorization"] == "Bearer none", "a placeholder, not a key"
    ((_, _, _, needs_key),) = _profiles(data)
    assert needs_key == 0


# ---- the data dir: profile, settings, conversation ----------------------------------------------


def test_data_dir_keeps_the_conversation_and_reuses_the_profile(
    llm_server: LLMServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    llm_server.enqueue(text_script(ANSWER), text_script("Second answer."))

    proc, first = _smoke(llm_server, "First question", where=("--data-dir", str(data)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    ((profile_id, base_url, default_model, _),) = _profiles(data)
    assert (base_url, default_model) == (llm_server.url, "test-model")
    settings = _settings(data)
    assert settings["chat/default_profile_id"] == profile_id
    assert settings["chat/default_model"] == "test-model"
    with _db(data) as conn:
        rows = conn.execute(
            "SELECT m.role, m.content, r.status, r.text FROM message m"
            " LEFT JOIN response r ON r.message_id = m.id WHERE m.conversation_id = ? ORDER BY m.id",
            (first["conversation_id"],),
        ).fetchall()
    assert [(role, status) for role, _, status, _ in rows] == [("user", None), ("assistant", "done")]
    assert rows[0][1] == "First question"
    assert rows[1][3] == ANSWER

    proc, second = _smoke(llm_server, "Second question", where=("--data-dir", str(data)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert second["text"] == "Second answer."
    assert second["conversation_id"] != first["conversation_id"]
    assert _profiles(data) == [(profile_id, llm_server.url, "test-model", 0)], "the same profile, reused"
    assert _settings(data)["chat/default_profile_id"] == profile_id
    with _db(data) as conn:
        assert conn.execute("SELECT count(*) FROM conversation").fetchone()[0] == 2
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_base_url_and_model_without_smoke_select_the_profile(llm_server: LLMServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = run_app(
        [
            "--base-url",
            llm_server.url,
            "--model",
            "other-model",
            "--data-dir",
            str(data),
            "--quit-after",
            "2",
        ],
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "", "only --smoke prints a result"
    ((profile_id, base_url, default_model, _),) = _profiles(data)
    assert (base_url, default_model) == (llm_server.url, "other-model")
    settings = _settings(data)
    assert settings["chat/default_profile_id"] == profile_id
    assert settings["chat/default_model"] == "other-model"
    assert llm_server.requests == [], "nothing is sent: the model was given, no chat without --smoke"


def test_base_url_without_model_takes_the_first_listed_model(llm_server: LLMServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    llm_server.models = ["alpha-1b", "beta-7b"]
    # Listing the models waits for the HTTP stack's import (0.4 s here, seconds on a busy machine):
    # quit once the choice is saved, not after a fixed time.
    app = start_app(
        ["--base-url", llm_server.url, "--data-dir", str(data)], env=_env(), stdout=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while "chat/default_model" not in _settings_or_empty(data) and time.monotonic() < deadline:
            time.sleep(0.05)
        app.send_signal(signal.SIGTERM)
        _out, err = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err[-3000:]
    assert _settings(data)["chat/default_model"] == "alpha-1b"
    assert [(r.method, r.path) for r in llm_server.requests] == [("GET", "/v1/models")]

    llm_server.enqueue(text_script(ANSWER))
    proc, result = _smoke(llm_server, "Hi", model=None, where=("--data-dir", str(data)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert result["text"] == ANSWER
    (request,) = _chat_requests(llm_server)
    assert request.model == "alpha-1b"
    assert len(_profiles(data)) == 1


def test_smoke_without_model_against_a_server_with_no_list_fails_clearly(llm_server: LLMServer) -> None:
    llm_server.models = None
    proc, result = _smoke(llm_server, "Hi", model=None)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert result["status"] == "error"
    assert result["error"], "says why nothing was sent"
    assert _chat_requests(llm_server) == []


# ---- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--prompt", "Hi"], "--prompt is for --smoke runs"),
        (["--smoke", "--base-url", "http://127.0.0.1:9/v1"], "--smoke needs"),
        (["--model", "m"], "--model needs --base-url"),
        (
            ["--smoke", "--prompt", "Hi", "--base-url", "http://x/v1", "--approve-tools", "some"],
            "invalid choice",
        ),
    ],
    ids=["prompt-without-smoke", "smoke-without-prompt", "model-without-url", "bad-approve-tools"],
)
def test_misused_options_are_usage_errors(args: list[str], said: str, tmp_path: Path) -> None:
    proc = run_app([*args, "--data-dir", str(tmp_path / "d")], env=_env(), timeout=60)
    assert proc.returncode == 2
    assert said in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "d").exists(), "nothing is created for a command line that is refused"
