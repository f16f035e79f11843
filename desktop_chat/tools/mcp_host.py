"""MCP servers (Model Context Protocol): configured, started on demand, called, restarted, stopped.

The servers' sessions run on a private asyncio loop in a thread of their own: their pipes and HTTP
streams never wait on the GUI's event loop, and a busy or broken server cannot stall it. Callers on any
loop use the async methods of `McpHost`; each hops to the host loop and back (cancelling the caller
cancels the call there).

A server starts when its tools are first needed. A server that fails to start, or dies in the middle of
a call, is marked failed with the tail of its stderr and started again on the next need, after a backoff
(1, 2, 4 ... up to 30 s). `close()` stops every server and waits for the processes to exit. Their
configuration is `mcp_config`; one server's session and its failures are `mcp_server`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from desktop_chat.tools.mcp_config import DEFAULT_TIMEOUT, McpServerConfig
from desktop_chat.tools.mcp_server import McpServer, McpToolInfo, ServerState, ServerStatus
from desktop_chat.tools.registry import ToolResult, ToolSpec

log = logging.getLogger(__name__)
T = TypeVar("T")

_NAME_RE = re.compile(r"[^A-Za-z0-9_-]+")


def tool_api_name(server: str, tool: str) -> str:
    """The name the model sees: `server__tool`, limited to the characters and length APIs accept."""
    name = f"{_NAME_RE.sub('_', server)}__{_NAME_RE.sub('_', tool)}"
    return name[:64]


class McpHost:
    """Every configured MCP server, on a private loop in a thread (started on first use)."""

    def __init__(self, on_status: Callable[[ServerStatus], None] | None = None) -> None:
        self._on_status = on_status
        self._configs: dict[str, McpServerConfig] = {}
        self._servers: dict[str, McpServer] = {}
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

    def _server(self, config: McpServerConfig) -> McpServer:
        server = self._servers.get(config.name)
        if server is None or server.config != config:
            server = McpServer(config, self._report)
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
        server.restart_now()
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
