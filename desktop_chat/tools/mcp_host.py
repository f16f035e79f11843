"""MCP servers (Model Context Protocol): configured, started on demand, called, restarted, stopped.

The servers' sessions run on a private asyncio loop in a thread of their own: their pipes and HTTP
streams never wait on the GUI's event loop, and a busy or broken server cannot stall it. Callers on any
loop use the async methods of `McpHost`; each hops to the host loop and back (cancelling the caller
cancels the call there).

A server starts when its tools are first needed. A server that fails to start, or dies in the middle of
a call, is marked failed with the tail of its stderr and started again on the next need, after a backoff
(1, 2, 4 ... up to 30 s). `close()` stops every server and waits for the processes to exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO, TypeVar, cast

from desktop_chat.tools.registry import ToolResult, ToolSpec

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0  # seconds a call may run (per server, configurable)
START_TIMEOUT = 20.0  # seconds a server may take to start and list its tools
BACKOFF_MAX = 30.0
STDERR_TAIL = 2000  # characters of a server's stderr kept for the person to read
_NAME_RE = re.compile(r"[^A-Za-z0-9_-]+")


class ServerState(StrEnum):
    """Where a server is."""

    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One server: a command (stdio) or a URL (streamable HTTP)."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT
    disabled_tools: frozenset[str] = frozenset()

    @property
    def transport(self) -> str:
        """ "stdio" or "http"."""
        return "stdio" if self.command else "http"

    def to_json(self) -> dict[str, Any]:
        """The `mcpServers` entry (the format other MCP clients use), plus this app's own keys."""
        out: dict[str, Any] = {}
        if self.command:
            out["command"] = self.command
            if self.args:
                out["args"] = list(self.args)
            if self.env:
                out["env"] = dict(self.env)
            if self.cwd:
                out["cwd"] = self.cwd
        else:
            out["url"] = self.url
            if self.headers:
                out["headers"] = dict(self.headers)
        if not self.enabled:
            out["disabled"] = True
        if self.timeout != DEFAULT_TIMEOUT:
            out["timeout"] = self.timeout
        if self.disabled_tools:
            out["disabledTools"] = sorted(self.disabled_tools)
        return out


@dataclass(frozen=True, slots=True)
class McpToolInfo:
    """A tool a server offers."""

    server: str
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What a person sees of a server."""

    name: str
    state: ServerState
    tools: tuple[McpToolInfo, ...] = ()
    error: str | None = None
    stderr_tail: str = ""

    def summary(self) -> str:
        """One line: "ready with 3 tools", "failed: ..."."""
        if self.state is ServerState.READY:
            n = len(self.tools)
            return f"ready with {n} tool{'s' if n != 1 else ''}"
        if self.state is ServerState.FAILED:
            return f"failed: {self.error or 'unknown error'}"
        return self.state.value


# ---------------------------------------------------------------------------------------- config files


def parse_mcp_servers(data: Any) -> tuple[list[McpServerConfig], list[str]]:
    """The servers of an `mcpServers` block (or of a whole file holding one), and what was skipped, why."""
    block = data.get("mcpServers", data) if isinstance(data, Mapping) else None
    if not isinstance(block, Mapping):
        return [], ['there is no "mcpServers" object']
    servers: list[McpServerConfig] = []
    skipped: list[str] = []
    for name, entry in block.items():
        if not isinstance(entry, Mapping):
            skipped.append(f"{name}: not an object")
            continue
        try:
            servers.append(_server_from_json(str(name), entry))
        except (TypeError, ValueError) as exc:
            skipped.append(f"{name}: {exc}")
    return servers, skipped


def _server_from_json(name: str, entry: Mapping[str, Any]) -> McpServerConfig:
    command = entry.get("command") or ""
    url = entry.get("url") or entry.get("serverUrl") or ""
    if not isinstance(command, str) or not isinstance(url, str):
        raise ValueError("command and url must be text")
    if not command and not url:
        raise ValueError("needs a command (stdio) or a url (streamable HTTP)")
    args = entry.get("args") or []
    env = entry.get("env") or {}
    headers = entry.get("headers") or {}
    if not isinstance(args, list) or not all(isinstance(a, str | int | float) for a in args):
        raise ValueError("args must be a list of strings")
    if not isinstance(env, Mapping) or not isinstance(headers, Mapping):
        raise ValueError("env and headers must be objects")
    timeout = entry.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    disabled_tools = entry.get("disabledTools") or []
    return McpServerConfig(
        name=name,
        command=command,
        args=tuple(str(a) for a in args),
        env={str(k): str(v) for k, v in env.items()},
        cwd=str(entry["cwd"]) if entry.get("cwd") else None,
        url=url if not command else "",
        headers={str(k): str(v) for k, v in headers.items()},
        enabled=not bool(entry.get("disabled", False)),
        timeout=float(timeout),
        disabled_tools=frozenset(str(t) for t in disabled_tools),
    )


def load_mcp_config(path: Path) -> tuple[list[McpServerConfig], list[str]]:
    """Read a JSON config file's `mcpServers` block; raises ValueError with a clear message."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_mcp_servers(data)


def tool_api_name(server: str, tool: str) -> str:
    """The name the model sees: `server__tool`, limited to the characters and length APIs accept."""
    name = f"{_NAME_RE.sub('_', server)}__{_NAME_RE.sub('_', tool)}"
    return name[:64]


# ---------------------------------------------------------------------------------------------- host


class _Server:
    """One server's life on the host loop."""

    def __init__(self, config: McpServerConfig, report: Callable[[ServerStatus], None]) -> None:
        self.config = config
        self.status = ServerStatus(config.name, ServerState.STOPPED)
        self._report = report
        self._session: Any = None
        self._runner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()
        self._failures = 0
        self._not_before = 0.0
        self._errlog: TextIO | None = None

    def _set(self, **changes: Any) -> None:
        self.status = replace(self.status, **changes)
        self._report(self.status)

    def stderr_tail(self) -> str:
        if self._errlog is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._errlog.flush()
            self._errlog.seek(0, 2)
            size = self._errlog.tell()
            self._errlog.seek(max(0, size - STDERR_TAIL * 4))
            return self._errlog.read()[-STDERR_TAIL:].strip()
        return ""

    async def ensure_started(self) -> bool:
        """Start if needed (honouring the backoff) and wait until ready; False if it failed."""
        if self.status.state is ServerState.READY and self._session is not None:
            return True
        if self._runner is None or self._runner.done():
            wait = self._not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(min(wait, BACKOFF_MAX))
            self._stop = asyncio.Event()
            self._ready = asyncio.Event()
            self._runner = asyncio.get_running_loop().create_task(self._run(), name=f"mcp:{self.config.name}")
        runner = self._runner
        ready = asyncio.ensure_future(self._ready.wait())
        try:
            await asyncio.wait({ready, runner}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if self._ready.is_set() and self._session is not None:
            return True
        if not runner.done():  # too slow to start: give up on this attempt
            self._fail(f"did not start within {START_TIMEOUT:g} s")
            await self.stop()
        return False

    async def _run(self) -> None:
        from mcp import ClientSession

        self._set(state=ServerState.STARTING, error=None, tools=())
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                listed = await session.list_tools()
                tools = tuple(
                    McpToolInfo(
                        self.config.name,
                        t.name,
                        t.description or "",
                        dict(t.input_schema or {"type": "object", "properties": {}}),
                    )
                    for t in listed.tools
                )
                self._session = session
                self._failures = 0
                self._set(state=ServerState.READY, tools=tools, error=None, stderr_tail="")
                self._ready.set()
                await self._stop.wait()
                self._session = None
        except asyncio.CancelledError:
            self._session = None
            if self.status.state is not ServerState.FAILED:
                self._set(state=ServerState.STOPPED)
            raise
        except BaseException as exc:
            self._session = None
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            if self.status.state is not ServerState.FAILED:
                text = _describe(exc)
                if self.status.state is ServerState.STARTING and not _process_alive_hint(exc):
                    text = f"it stopped while starting ({text})"
                self._fail(text)
            return
        self._session = None
        if self.status.state is not ServerState.FAILED:
            self._set(state=ServerState.STOPPED)

    def _transport(self) -> contextlib.AbstractAsyncContextManager[Any]:
        config = self.config
        if config.command:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            if self._errlog is None:
                log_file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
                self._errlog = cast(TextIO, log_file)  # closed by close_log()
            params = StdioServerParameters(
                command=config.command, args=list(config.args), env=dict(config.env) or None, cwd=config.cwd
            )
            return stdio_client(params, errlog=self._errlog)
        return _http_transport(config)

    def _fail(self, error: str) -> None:
        self._failures += 1
        self._not_before = time.monotonic() + min(BACKOFF_MAX, 2.0 ** (self._failures - 1))
        tail = self.stderr_tail()
        log.warning("MCP server %s failed: %s%s", self.config.name, error, f"\n{tail}" if tail else "")
        self._set(state=ServerState.FAILED, error=error, stderr_tail=tail)

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        """Call a tool; a hang is cut off at the server's timeout; a crash marks the server failed."""
        if not await self.ensure_started():
            return ToolResult(self._unavailable(), True)
        session = self._session
        timeout = self.config.timeout
        try:
            result = await asyncio.wait_for(session.call_tool(tool, arguments), timeout)
        except TimeoutError:
            message = f"The tool {tool} of {self.config.name} did not answer within {timeout:g} s."
            return ToolResult(message, True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await asyncio.sleep(0.2)  # let a dying process finish writing stderr
            alive = self._runner is not None and not self._runner.done() and _process_alive_hint(exc)
            if not alive:
                self._fail(f"stopped during a call ({_describe(exc)})")
                await self.stop(keep_failed=True)
                tail = self.status.stderr_tail
                detail = f"\nIts last output:\n{tail}" if tail else ""
                return ToolResult(f"The MCP server {self.config.name} crashed during the call.{detail}", True)
            return ToolResult(f"The tool {tool} of {self.config.name} failed: {_describe(exc)}", True)
        return _result_text(result)

    def _unavailable(self) -> str:
        status = self.status
        tail = f"\nIts last output:\n{status.stderr_tail}" if status.stderr_tail else ""
        return f"The MCP server {self.config.name} is not available: {status.error or status.state}.{tail}"

    async def stop(self, *, keep_failed: bool = False) -> None:
        """Stop the session and its process (waits for it)."""
        runner = self._runner
        self._stop.set()
        if runner is not None and not runner.done():
            try:
                await asyncio.wait_for(asyncio.shield(runner), 10)
            except (TimeoutError, asyncio.CancelledError):
                runner.cancel()
                with contextlib.suppress(BaseException):
                    await runner
        self._session = None
        if not keep_failed and self.status.state is not ServerState.FAILED:
            self._set(state=ServerState.STOPPED, tools=())

    def close_log(self) -> None:
        if self._errlog is not None:
            with contextlib.suppress(OSError):
                self._errlog.close()
            self._errlog = None


def _http_transport(config: McpServerConfig) -> contextlib.AbstractAsyncContextManager[Any]:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    @contextlib.asynccontextmanager
    async def transport() -> Any:
        timeout = httpx2.Timeout(30.0, read=max(300.0, config.timeout))
        async with (
            httpx2.AsyncClient(headers=dict(config.headers), timeout=timeout) as client,
            streamable_http_client(config.url, http_client=client) as streams,
        ):
            yield streams[0], streams[1]

    return transport()


def _process_alive_hint(exc: BaseException) -> bool:
    """Whether an error looks like the tool's own failure rather than a lost connection."""
    text = f"{type(exc).__name__} {exc}".lower()
    return not any(w in text for w in ("closed", "broken", "eof", "connection", "end of stream"))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        if inner:
            return _describe(inner[0])
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _result_text(result: Any) -> ToolResult:
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(getattr(block, "text", "")))
        elif kind == "image":
            parts.append(f"[image: {getattr(block, 'mime_type', None) or 'image'}]")
        elif kind == "resource":
            resource = getattr(block, "resource", None)
            text = getattr(resource, "text", None)
            parts.append(str(text) if text is not None else f"[resource: {getattr(resource, 'uri', '')}]")
        else:
            parts.append(f"[{kind or 'content'}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    return ToolResult("\n".join(parts), bool(getattr(result, "is_error", False)))


class McpHost:
    """Every configured MCP server, on a private loop in a thread (started on first use)."""

    def __init__(self, on_status: Callable[[ServerStatus], None] | None = None) -> None:
        self._on_status = on_status
        self._configs: dict[str, McpServerConfig] = {}
        self._servers: dict[str, _Server] = {}
        self._statuses: dict[str, ServerStatus] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- configuration (any thread)

    def set_servers(self, configs: Sequence[McpServerConfig]) -> None:
        """The servers from now on; changed or removed ones are stopped (started again on demand)."""
        with self._lock:
            old = self._configs
            self._configs = {c.name: c for c in configs}
            for name in list(self._statuses):
                if name not in self._configs:
                    del self._statuses[name]
            for c in configs:
                self._statuses.setdefault(c.name, ServerStatus(c.name, ServerState.STOPPED))
            changed = [n for n, c in old.items() if self._configs.get(n) != c]
        if changed and self._loop is not None:
            self._submit(self._stop_servers(changed))

    def configs(self) -> list[McpServerConfig]:
        """The configured servers."""
        with self._lock:
            return list(self._configs.values())

    def statuses(self) -> list[ServerStatus]:
        """Each configured server's status."""
        with self._lock:
            return [self._statuses[n] for n in self._configs if n in self._statuses]

    def status(self, name: str) -> ServerStatus | None:
        """One server's status."""
        with self._lock:
            return self._statuses.get(name)

    # -- work (await from any loop)

    async def registry_tools(self) -> list[Any]:
        """`tools()` as registry tools (a `ToolSource`)."""
        infos = await self.tools()
        with self._lock:
            timeouts = {n: c.timeout for n, c in self._configs.items()}
        return [McpTool(self, i, timeouts.get(i.server, DEFAULT_TIMEOUT)) for i in infos]

    async def tools(self) -> list[McpToolInfo]:
        """The enabled tools of every enabled server, starting servers as needed (failed ones skipped)."""
        with self._lock:
            wanted = [c for c in self._configs.values() if c.enabled]
        if not wanted:
            return []
        return await self._run(self._tools(wanted))

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
        """Call a server's tool."""
        with self._lock:
            config = self._configs.get(server)
        if config is None or not config.enabled:
            return ToolResult(f"The MCP server {server} is not configured or is switched off.", True)
        return await self._run(self._call(config, tool, arguments))

    async def restart(self, name: str) -> bool:
        """Stop and start one server now; True when it is ready."""
        with self._lock:
            config = self._configs.get(name)
        if config is None:
            return False
        return await self._run(self._restart(config))

    def close(self, timeout: float = 15.0) -> None:
        """Stop every server and the host thread; their processes have exited when this returns."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._stop_servers(list(self._servers)), loop)
        with contextlib.suppress(Exception):
            future.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        for server in self._servers.values():
            server.close_log()

    # -- host loop side

    def _report(self, status: ServerStatus) -> None:
        with self._lock:
            if status.name in self._configs:
                self._statuses[status.name] = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("MCP status callback failed")

    def _server(self, config: McpServerConfig) -> _Server:
        server = self._servers.get(config.name)
        if server is None or server.config != config:
            server = _Server(config, self._report)
            self._servers[config.name] = server
        return server

    async def _tools(self, configs: list[McpServerConfig]) -> list[McpToolInfo]:
        servers = [self._server(c) for c in configs]
        await asyncio.gather(*(s.ensure_started() for s in servers), return_exceptions=True)
        out: list[McpToolInfo] = []
        for s in servers:
            if s.status.state is ServerState.READY:
                out.extend(t for t in s.status.tools if t.name not in s.config.disabled_tools)
        return out

    async def _call(self, config: McpServerConfig, tool: str, arguments: dict[str, Any]) -> ToolResult:
        return await self._server(config).call(tool, arguments)

    async def _restart(self, config: McpServerConfig) -> bool:
        server = self._server(config)
        await server.stop()
        server._not_before = 0.0
        return await server.ensure_started()

    async def _stop_servers(self, names: list[str]) -> None:
        servers = [self._servers.pop(n) for n in names if n in self._servers]
        await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)
        for s in servers:
            s.close_log()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("the MCP host is closed")
            if self._loop is not None:
                return self._loop
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def main() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                try:
                    loop.run_forever()
                finally:
                    with contextlib.suppress(Exception):
                        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                        for task in pending:
                            task.cancel()
                        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                        loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()

            self._thread = threading.Thread(target=main, name="mcp-host", daemon=True)
            self._thread.start()
            ready.wait(10)
            self._loop = loop
            return loop

    def _submit(self, coro: Coroutine[Any, Any, T]) -> None:
        """Start `coro` on the host loop without waiting (dropped once the host is closed)."""
        try:
            loop = self._ensure_loop()
        except RuntimeError:
            coro.close()
            return
        asyncio.run_coroutine_threadsafe(coro, loop)

    async def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            loop = self._ensure_loop()
        except RuntimeError:
            coro.close()
            raise
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


class McpTool:
    """An MCP server's tool, as the registry sees it (asks the person first by default)."""

    def __init__(self, host: McpHost, info: McpToolInfo, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._host = host
        self.info = info
        self._spec = ToolSpec(
            tool_api_name(info.server, info.name),
            (info.description or f"{info.name} (from the MCP server {info.server})")[:1024],
            info.parameters or {"type": "object", "properties": {}},
            needs_approval=True,
            timeout=timeout + 5,  # the server's own timeout answers first, with a clearer message
        )

    @property
    def spec(self) -> ToolSpec:
        """Name (`server__tool`), description, parameters."""
        return self._spec

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        """Call the tool on its server."""
        return await self._host.call(self.info.server, self.info.name, arguments)
