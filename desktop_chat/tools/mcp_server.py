"""One MCP server's life on the host loop: started on demand, called, marked failed, backed off, stopped.

A server that fails to start, or dies in the middle of a call, is marked failed with the tail of its
stderr and started again on the next need, after a backoff (1, 2, 4 ... up to 30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TextIO, cast

from desktop_chat.tools.mcp_config import McpServerConfig
from desktop_chat.tools.registry import ToolResult

log = logging.getLogger(__name__)

START_TIMEOUT = 20.0  # seconds a server may take to start and list its tools
BACKOFF_MAX = 30.0
STDERR_TAIL = 2000  # characters of a server's stderr kept for the person to read


class ServerState(StrEnum):
    """Where a server is."""

    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"


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


class McpServer:
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
        """The last of what the server wrote to stderr (stdio servers)."""
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

    def restart_now(self) -> None:
        """Let the next start happen at once, whatever the backoff says."""
        self._not_before = 0.0

    def close_log(self) -> None:
        """Close the file that kept the server's stderr."""
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
