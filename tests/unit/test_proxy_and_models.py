"""Proxies, model lists and local-server detection, against the local test server (no Qt).

Proxy rules (`ChatClient._openai`): a loopback endpoint never goes through a proxy; any other uses the
proxy set in the app, or else the system's (HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY, upper or lower
case). A small forward proxy in this file records what passes through it and relays to the test server,
so a test can tell "went through the proxy" from "went straight" for a host that does not resolve.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

import pytest

from desktop_chat.llm.client import ChatClient, ChatRequest
from desktop_chat.llm.endpoint import Endpoint, Timeouts
from desktop_chat.llm.errors import ConnectError, ModelNotFoundError
from desktop_chat.llm.events import Finished, TextDelta
from desktop_chat.llm.providers import LocalServer, Preset, detect_local_servers, probe
from tests.helpers.llm_server import DEFAULT_MODEL, LLMServer, text_script

T = TypeVar("T")

PROXY_VARS = tuple(
    name for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for name in (base, base.upper())
)
REMOTE_HOST = "llm.example.test"  # `.test` is reserved: it never resolves
REMOTE_URL = f"http://{REMOTE_HOST}/v1"
ANSWER = "Proxied or not, here I am."
QUICK = Timeouts(connect=5.0, read=10.0, write=5.0)


# ---- helpers ----------------------------------------------------------------------------------------


def _dead_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(make: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(make(), timeout)

    return asyncio.run(bounded())


@dataclass
class RecordingProxy:
    """A forward HTTP proxy on 127.0.0.1: takes absolute-form requests (`POST http://host/path HTTP/1.1`),
    records the request line and Host, sends the request in origin form to `upstream`, and streams the
    answer back. One request per connection (it asks the upstream for `Connection: close`)."""

    upstream: tuple[str, int]
    seen: list[tuple[str, str]] = field(default_factory=list)  # (request line, Host header)
    port: int = 0
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[RecordingProxy]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(server.sockets[0].getsockname()[1])
        try:
            yield self
        finally:
            server.close()
            for _ in range(3):  # a connection accepted just now gets its handler (and is tracked)
                await asyncio.sleep(0)
            for writer in list(self._writers):  # Python 3.11 leaves client connections open
                writer.transport.abort()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()
            for _ in range(3):  # let the transports' connection_lost callbacks close the sockets
                await asyncio.sleep(0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")[:-2]
            method, target, version = request_line.split(" ")
            headers = [line.split(":", 1) for line in header_lines]
            host = next((v.strip() for k, v in headers if k.strip().lower() == "host"), "")
            self.seen.append((request_line, host))
            url = urlsplit(target)
            if not url.scheme or not url.hostname:
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            length = next((int(v) for k, v in headers if k.strip().lower() == "content-length"), 0)
            body = await reader.readexactly(length)
            up_reader, upstream = await asyncio.open_connection(*self.upstream)
            kept = [
                f"{k}:{v}"
                for k, v in headers
                if k.strip().lower() not in ("connection", "proxy-connection", "keep-alive")
            ]
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            lines = [f"{method} {path} {version}", *kept, "Connection: close"]
            upstream.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await upstream.drain()
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            for w in (upstream, writer):
                if w is not None:
                    w.close()
                    with contextlib.suppress(OSError):
                        await w.wait_closed()


async def _chat(endpoint: Endpoint, text: str = "Hi") -> tuple[str, list[object]]:
    """Stream one answer; (its text, every event)."""
    client = ChatClient(endpoint)
    events: list[object] = []
    try:
        async for event in client.stream(ChatRequest(DEFAULT_MODEL, [{"role": "user", "content": text}])):
            events.append(event)
    finally:
        await client.aclose()
    return "".join(e.text for e in events if isinstance(e, TextDelta)), events


@pytest.fixture(autouse=True, scope="module")
def _proxy_vars_do_not_leak() -> Iterator[None]:
    """Every proxy variable a test sets (through monkeypatch) is gone again when the module is done."""
    before = {name: os.environ.get(name) for name in (*PROXY_VARS, "REQUEST_METHOD")}
    yield
    after = {name: os.environ.get(name) for name in before}
    assert after == before, "a test left proxy variables behind"


@pytest.fixture
def no_env_proxy(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy from the environment of the test run itself (a CI machine may set one)."""
    for name in (*PROXY_VARS, "REQUEST_METHOD"):  # urllib ignores HTTP_PROXY under CGI (REQUEST_METHOD)
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _set_proxy(mp: pytest.MonkeyPatch, url: str, *names: str) -> None:
    for name in names:
        mp.setenv(name, url)
        mp.setenv(name.upper(), url)


# ---- (a) loopback never goes through a proxy -------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_ignores_a_dead_system_proxy(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch, host: str
) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}"
    _set_proxy(no_env_proxy, dead, "http_proxy", "https_proxy", "all_proxy")
    assert urllib.request.getproxies()["http"] == dead, "the system proxy is set for this test"
    llm_server.enqueue(text_script(ANSWER))

    text, events = _run(lambda: _chat(Endpoint(f"http://{host}:{llm_server.port}/v1", timeouts=QUICK)))

    assert text == ANSWER
    assert Finished("stop") in events
    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["host"] == f"{host}:{llm_server.port}", "sent straight to the server"


def test_loopback_ignores_the_app_proxy_too(llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}"
    llm_server.enqueue(text_script(ANSWER))
    text, _ = _run(lambda: _chat(Endpoint(llm_server.url, proxy=dead, timeouts=QUICK)))
    assert text == ANSWER


# ---- (b) (c) the system proxy and NO_PROXY -------------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_system_proxy_carries_a_remote_endpoint(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch, variable: str
) -> None:
    llm_server.enqueue(text_script(ANSWER))
    proxy = RecordingProxy(("127.0.0.1", llm_server.port))

    async def go() -> tuple[str, list[object]]:
        async with proxy.serving():
            no_env_proxy.setenv(variable, proxy.url)
            return await _chat(Endpoint(REMOTE_URL, timeouts=QUICK))

    text, events = _run(go)

    assert text == ANSWER, "the answer came back through the proxy"
    assert Finished("stop") in events
    assert proxy.seen == [(f"POST {REMOTE_URL}/chat/completions HTTP/1.1", REMOTE_HOST)]
    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["host"] == REMOTE_HOST


@pytest.mark.parametrize("no_proxy", [REMOTE_HOST, f"localhost,{REMOTE_HOST}", "example.test", "*"])
def test_no_proxy_sends_straight_to_the_unresolvable_host(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch, no_proxy: str
) -> None:
    proxy = RecordingProxy(("127.0.0.1", llm_server.port))

    async def go() -> ConnectError:
        async with proxy.serving():
            _set_proxy(no_env_proxy, proxy.url, "http_proxy", "https_proxy")
            no_env_proxy.setenv("NO_PROXY", no_proxy)
            no_env_proxy.setenv("no_proxy", no_proxy)
            with pytest.raises(ConnectError) as caught:
                await _chat(Endpoint(REMOTE_URL, timeouts=QUICK))
            return caught.value

    error = _run(go)

    assert proxy.seen == [], "NO_PROXY names the host: the proxy is not used"
    assert llm_server.requests == []
    message = str(error)
    assert message.startswith(f"Could not connect to {REMOTE_URL}: "), message
    assert message.endswith("Check the address and your network."), message
    assert "Traceback" not in message
    assert "httpx" not in message.lower()
    assert "Error(" not in message, "no exception reprs in a message for a person"
    assert "\n" not in message


def test_without_any_proxy_a_remote_endpoint_is_not_relayed(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    """The control for the tests above: no proxy anywhere, so the unresolvable host fails to connect."""
    with pytest.raises(ConnectError, match="Check the address and your network"):
        _run(lambda: _chat(Endpoint(REMOTE_URL, timeouts=QUICK)))
    assert llm_server.requests == []


# ---- (d) the app's proxy setting -------------------------------------------------------------------


def _chat_through_app_proxy(llm_server: LLMServer) -> tuple[str, RecordingProxy]:
    """ANSWER asked of REMOTE_URL through a recording proxy set in the app; the text and the proxy."""
    llm_server.enqueue(text_script(ANSWER))
    proxy = RecordingProxy(("127.0.0.1", llm_server.port))

    async def go() -> tuple[str, list[object]]:
        async with proxy.serving():
            return await _chat(Endpoint(REMOTE_URL, proxy=proxy.url, timeouts=QUICK))

    text, _ = _run(go)
    return text, proxy


@pytest.mark.parametrize("env_proxy", ["unset", "dead"])
def test_app_proxy_is_used_and_overrides_the_system_one(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch, env_proxy: str
) -> None:
    if env_proxy == "dead":
        _set_proxy(no_env_proxy, f"http://127.0.0.1:{_dead_port()}", "http_proxy", "https_proxy", "all_proxy")
    text, proxy = _chat_through_app_proxy(llm_server)
    assert text == ANSWER
    assert proxy.seen == [(f"POST {REMOTE_URL}/chat/completions HTTP/1.1", REMOTE_HOST)]


def test_app_proxy_ignores_no_proxy(llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch) -> None:
    """A proxy set in the app is the person's explicit choice: the system's NO_PROXY does not apply."""
    no_env_proxy.setenv("NO_PROXY", REMOTE_HOST)
    text, proxy = _chat_through_app_proxy(llm_server)
    assert text == ANSWER
    assert len(proxy.seen) == 1


def test_a_dead_app_proxy_is_a_clear_connect_error(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}"
    with pytest.raises(ConnectError) as caught:
        _run(lambda: _chat(Endpoint(REMOTE_URL, proxy=dead, timeouts=QUICK)))
    assert str(caught.value).startswith(f"Could not connect to {REMOTE_URL}: ")
    assert llm_server.requests == []


def test_model_list_goes_through_the_proxy_too(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    llm_server.models = ["b-model", "a-model"]
    proxy = RecordingProxy(("127.0.0.1", llm_server.port))

    async def go() -> list[str]:
        async with proxy.serving():
            no_env_proxy.setenv("HTTPS_PROXY", f"http://127.0.0.1:{_dead_port()}")  # not for http://
            no_env_proxy.setenv("HTTP_PROXY", proxy.url)
            client = ChatClient(Endpoint(REMOTE_URL, timeouts=QUICK))
            try:
                return await client.list_models()
            finally:
                await client.aclose()

    assert _run(go) == ["b-model", "a-model"]  # the server's order
    assert proxy.seen == [(f"GET {REMOTE_URL}/models HTTP/1.1", REMOTE_HOST)]


# ---- no leaks ---------------------------------------------------------------------------------------


def test_proxy_variables_end_with_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a test sets through monkeypatch is undone: urllib (what httpx2 reads) sees the run's own
    environment again, and a client made afterwards has no proxy from it."""
    before = urllib.request.getproxies()
    with monkeypatch.context() as mp:
        _set_proxy(mp, "http://127.0.0.1:9", "http_proxy", "https_proxy", "all_proxy", "no_proxy")
        assert urllib.request.getproxies()["http"] == "http://127.0.0.1:9"
    assert urllib.request.getproxies() == before
    for name in PROXY_VARS:
        assert os.environ.get(name) != "http://127.0.0.1:9", name


# ---- (e) model lists ---------------------------------------------------------------------------------


async def _models(url: str) -> list[str]:
    client = ChatClient(Endpoint(url, timeouts=QUICK))
    try:
        return await client.list_models()
    finally:
        await client.aclose()


def test_list_models_keeps_the_server_order_without_repeats(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    llm_server.models = ["zeta-7b", "alpha:latest", "mid/model-1", "alpha:latest"]
    assert _run(lambda: _models(llm_server.url)) == ["zeta-7b", "alpha:latest", "mid/model-1"]
    (request,) = llm_server.requests
    assert (request.method, request.path) == ("GET", "/v1/models")


def test_an_empty_model_list_is_empty(llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch) -> None:
    llm_server.models = []
    assert _run(lambda: _models(llm_server.url)) == []


def test_no_model_list_is_model_not_found(llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch) -> None:
    llm_server.models = None  # GET /v1/models answers 404: the person types a model id instead
    with pytest.raises(ModelNotFoundError) as caught:
        _run(lambda: _models(llm_server.url))
    assert caught.value.status == 404
    assert llm_server.url in str(caught.value)


def test_probe_tells_no_list_from_nothing_there(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    dead_url = f"http://127.0.0.1:{_dead_port()}/v1"
    assert _run(lambda: probe(Endpoint(llm_server.url, timeouts=QUICK))) == [DEFAULT_MODEL]
    llm_server.models = None
    assert _run(lambda: probe(Endpoint(llm_server.url, timeouts=QUICK))) == [], "answers, without a list"
    assert _run(lambda: probe(Endpoint(dead_url, timeouts=QUICK))) is None, "nothing answers"


# ---- (f) local servers ---------------------------------------------------------------------------------


def test_detect_local_servers_finds_only_the_live_one_quickly(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    _set_proxy(no_env_proxy, f"http://127.0.0.1:{_dead_port()}", "http_proxy", "https_proxy", "all_proxy")
    llm_server.models = ["llama3.2:1b", "gemma3:1b"]
    closed = Preset("Nothing here", f"http://localhost:{_dead_port()}/v1", False, local=True)
    live = Preset("Test server", f"http://localhost:{llm_server.port}/v1", False, local=True)

    started = time.monotonic()
    found = _run(lambda: detect_local_servers((closed, live), timeout=0.8))
    elapsed = time.monotonic() - started

    assert found == [
        LocalServer(live, f"http://127.0.0.1:{llm_server.port}/v1", ("llama3.2:1b", "gemma3:1b"))
    ]
    assert elapsed < 2.0, f"detection took {elapsed:.2f} s"
    assert [(r.method, r.path) for r in llm_server.requests] == [("GET", "/v1/models")]


def test_detect_local_servers_gives_up_on_a_silent_port(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    """A port that accepts connections but never answers costs at most the detection timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        port = silent.getsockname()[1]
        mute = Preset("Mute", f"http://localhost:{port}/v1", False, local=True)
        live = Preset("Test server", f"http://127.0.0.1:{llm_server.port}/v1", False, local=True)

        started = time.monotonic()
        found = _run(lambda: detect_local_servers((mute, live), timeout=0.5))
        elapsed = time.monotonic() - started

    assert [s.preset for s in found] == [live]
    assert found[0].models == (DEFAULT_MODEL,)
    assert 0.4 < elapsed < 3.0, f"detection took {elapsed:.2f} s"


def test_a_server_without_a_model_list_is_still_detected(
    llm_server: LLMServer, no_env_proxy: pytest.MonkeyPatch
) -> None:
    llm_server.models = None
    live = Preset("Test server", f"http://localhost:{llm_server.port}/v1", False, local=True)
    found = _run(lambda: detect_local_servers((live,), timeout=0.8))
    assert found == [LocalServer(live, f"http://127.0.0.1:{llm_server.port}/v1", ())]
