"""The test server itself: an asyncio stream server on its own event loop in a daemon thread, so it works
beside a qasync/Qt loop in the main thread; its public methods are thread-safe (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Self

from tests.helpers.llm_server import playback
from tests.helpers.llm_server.chunks import CREATED, DEFAULT_MODEL, dumps, error_body
from tests.helpers.llm_server.connection import BadRequest, Connection, Exchange, Request
from tests.helpers.llm_server.lifecycle import StartedInWith
from tests.helpers.llm_server.recording import RecordedRequest
from tests.helpers.llm_server.scripts import PRE_HEAD, Script, Step, step_kind, text_script, validate_script

log = logging.getLogger(__name__)


class LLMServer(StartedInWith):
    """The test server; see the module docstring. Use as a context manager or `start()`/`stop()`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Sequence[str] | None = (DEFAULT_MODEL,),
        default_script: Sequence[Step] | None = None,
    ) -> None:
        self.host = host
        self.models: list[str] | None = None if models is None else list(models)
        """The ids `GET /v1/models` lists; None answers 404. Safe to reassign from any thread."""
        self._requested_port = port
        self._port = 0
        self._cond = threading.Condition()
        self._life = threading.Lock()
        self._queue: deque[Script] = deque()
        self._by_model: dict[str, Script] = {}
        self._default: Script | None = None if default_script is None else validate_script(default_script)
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._conns: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: set[asyncio.Transport] = set()
        self._shutting_down = False
        self._conn_ids = itertools.count(1)

    # -- life cycle

    def start(self, timeout: float = 10.0) -> Self:
        """Bind and serve in a daemon thread; returns when the port is known. Not restartable."""
        with self._life:
            if self._thread is not None:
                if self._ready.is_set() and self._startup_error is None:
                    return self
                raise RuntimeError("LLMServer cannot be restarted")
            self._thread = threading.Thread(target=self._thread_main, name="LLMServer", daemon=True)
            self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("LLMServer did not start")
        if self._startup_error is not None:
            self._thread.join(timeout)
            raise RuntimeError(f"LLMServer failed to start: {self._startup_error!r}") from self._startup_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every client connection and the listener, and join the thread. Idempotent."""
        with self._life:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            if thread is threading.current_thread():
                raise RuntimeError("stop() called from the server's own thread")
            loop, stopping = self._loop, self._stopping
            if loop is not None and stopping is not None:
                with contextlib.suppress(RuntimeError):  # the loop already closed
                    loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError("LLMServer thread did not stop")

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    @property
    def port(self) -> int:
        """The bound port (after `start()`)."""
        if not self._port:
            raise RuntimeError("LLMServer is not started")
        return self._port

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The OpenAI base URL: http://127.0.0.1:PORT/v1"""
        return f"{self.origin}/v1"

    # -- scripts

    def enqueue(self, *scripts: Sequence[Step]) -> None:
        """Append scripts to the FIFO queue; each chat request without a model script takes the next."""
        checked = [validate_script(s) for s in scripts]
        with self._cond:
            self._queue.extend(checked)

    def script_for_model(self, model: str, script: Sequence[Step] | None) -> None:
        """Play `script` for every request naming `model` (before the queue); None removes it."""
        checked = None if script is None else validate_script(script)
        with self._cond:
            if checked is None:
                self._by_model.pop(model, None)
            else:
                self._by_model[model] = checked

    @property
    def default_script(self) -> Script | None:
        """The script played when nothing else applies (None: the built-in hello answer)."""
        with self._cond:
            return self._default

    @default_script.setter
    def default_script(self, script: Sequence[Step] | None) -> None:
        checked = None if script is None else validate_script(script)
        with self._cond:
            self._default = checked

    def pending(self) -> int:
        """How many queued scripts are still unplayed."""
        with self._cond:
            return len(self._queue)

    def clear_scripts(self) -> None:
        """Forget queued, per-model and default scripts."""
        with self._cond:
            self._queue.clear()
            self._by_model.clear()
            self._default = None

    # -- recording

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot list of the recorded requests (the records themselves keep updating)."""
        with self._cond:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected server-side errors (a test can assert this is empty)."""
        with self._cond:
            return list(self._errors)

    def clear_requests(self) -> None:
        """Forget the recorded requests (indexes restart at 0)."""
        with self._cond:
            self._requests.clear()

    def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> bool:
        """Block until `predicate()` is true (re-checked at every server-side change); False on timeout.

        Do not call it from a thread whose event loop the server's client needs (e.g. the qasync main
        thread while the app is streaming): that loop would stand still.
        """
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout))

    def wait_for_request(self, n: int = 1, timeout: float = 5.0) -> RecordedRequest:
        """The n-th request (1-based) once it has arrived; TimeoutError otherwise."""
        if not self.wait_for(lambda: len(self._requests) >= n, timeout):
            raise TimeoutError(f"{len(self._requests)} request(s) after {timeout} s, wanted {n}")
        with self._cond:
            return self._requests[n - 1]

    def wait_response_done(self, index: int, timeout: float = 5.0) -> RecordedRequest:
        """Request `index` (0-based) once its response is over, however it ended; TimeoutError otherwise."""
        if not self.wait_for(lambda: len(self._requests) > index and self._requests[index].outcome, timeout):
            raise TimeoutError(f"response {index} not over after {timeout} s")
        with self._cond:
            return self._requests[index]

    def wait_client_closed(self, request_index: int, timeout: float = 5.0) -> float | None:
        """When the client of request `request_index` went away before its response was complete.

        Returns that `time.monotonic()` stamp, or None if it did not happen within `timeout`.
        """

        def closed() -> bool:
            return (
                len(self._requests) > request_index
                and self._requests[request_index].client_closed is not None
            )

        if not self.wait_for(closed, timeout):
            return None
        with self._cond:
            return self._requests[request_index].client_closed

    # -- the server thread

    def _update(self, rec: RecordedRequest, **changes: Any) -> None:
        with self._cond:
            for key, value in changes.items():
                setattr(rec, key, value)
            self._cond.notify_all()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _record_error(self, what: str) -> None:
        text = f"{what}\n{traceback.format_exc()}"
        log.error("LLMServer: %s", text)
        with self._cond:
            self._errors.append(text)
            self._cond.notify_all()

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            if not self._ready.is_set():
                self._startup_error = exc
            else:
                self._record_error("server loop failed")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        loop = self._loop
        transports = self._transports

        class _Tracked(asyncio.StreamReaderProtocol):
            """Remembers its transport, so that stop() closes it even when the handler never ran."""

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                assert isinstance(transport, asyncio.Transport)
                self._tracked = transport
                transports.add(transport)
                super().connection_made(transport)

            def connection_lost(self, exc: Exception | None) -> None:
                transports.discard(self._tracked)
                super().connection_lost(exc)

        def factory() -> asyncio.Protocol:
            return _Tracked(asyncio.StreamReader(limit=2**16, loop=loop), self._handle, loop=loop)

        server = await loop.create_server(factory, self.host, self._requested_port)
        self._port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            self._shutting_down = True
            server.close()
            # A connection accepted just before the close is still being set up by a task of its own:
            # let it finish, or its socket would never be closed.
            for _ in range(3):
                await asyncio.sleep(0)
            for conn in list(self._conns):
                conn.abort()
            tasks = list(self._tasks)
            if tasks:  # an aborted connection ends its handler (EOF); cancel only what still runs
                await asyncio.wait(tasks, timeout=1.0)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()
            for transport in list(transports):
                if not transport.is_closing():
                    transport.abort()
            transports.clear()
            for _ in range(3):  # let the transports' connection_lost callbacks close the sockets
                await asyncio.sleep(0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = Connection(next(self._conn_ids), reader, writer)
        self._tasks.add(task)
        self._conns.add(conn)
        try:
            while True:
                try:
                    req = await conn.read_request()
                except BadRequest as exc:
                    with contextlib.suppress(OSError):
                        body = dumps(error_body(str(exc))).encode()
                        head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                        writer.write(
                            head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
                        )
                        await writer.drain()
                    break
                if req is None or not await self._serve(conn, req):
                    break
        except asyncio.CancelledError:
            raise
        except OSError:
            pass
        except Exception:
            self._record_error("connection handler failed")
            conn.abort()
        finally:
            self._conns.discard(conn)
            self._tasks.discard(task)
            conn.close()

    async def _serve(self, conn: Connection, req: Request) -> bool:
        """Answer one request while watching for the client to leave; True if the connection stays open."""
        path, _, query = req.target.partition("?")
        try:
            body: Any = json.loads(req.body) if req.body else None
        except ValueError:
            body = None
        rec = RecordedRequest(
            method=req.method,
            path=path,
            query=query,
            headers=req.headers,
            body=body,
            raw_body=req.body,
            started=req.started,
            connection=conn.id,
        )
        with self._cond:
            index = len(self._requests)
            self._requests.append(rec)
            self._cond.notify_all()
        ex = Exchange(self, conn, rec, index, req)
        respond = asyncio.create_task(self._respond(ex, req))
        watch = asyncio.create_task(conn.watch())
        try:
            await asyncio.wait((respond, watch), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            respond.cancel()
            watch.cancel()
            await asyncio.gather(respond, watch, return_exceptions=True)
            if not rec.outcome:
                self._update(rec, outcome="stopped")
            raise
        if respond.done():
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            exc = respond.exception()
            if exc is None:
                return ex.keep_alive and rec.outcome == "complete"
            if not isinstance(exc, OSError):
                self._update(rec, outcome="error")
                raise exc
            closed_at = time.monotonic()
        else:
            closed_at = watch.result()
            respond.cancel()
            await asyncio.gather(respond, return_exceptions=True)
        if not rec.outcome:
            if self._shutting_down:  # stop() aborted the connection: not the client's doing
                self._update(rec, outcome="stopped")
            else:
                self._update(rec, client_closed=closed_at, outcome="client_closed")
        conn.abort()
        return False

    async def _respond(self, ex: Exchange, req: Request) -> None:
        rec = ex.rec
        if rec.path == "/v1/models" and req.method == "GET":
            models = self.models
            if models is None:
                await ex.send_json(404, error_body("This server has no model list", code="not_found"))
            else:
                data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "test"} for m in models]
                await ex.send_json(200, {"object": "list", "data": data})
        elif rec.path == "/v1/chat/completions" and req.method == "POST":
            await self._chat(ex)
        else:
            message = f"Unknown request: {req.method} {rec.path}"
            await ex.send_json(404, error_body(message, code="unknown_url"))

    def _next_script(self, model: str | None) -> Script:
        with self._cond:
            if model is not None and model in self._by_model:
                return self._by_model[model]
            if self._queue:
                return self._queue.popleft()
            if self._default is not None:
                return self._default
        return text_script(model=model or DEFAULT_MODEL)

    async def _chat(self, ex: Exchange) -> None:
        rec = ex.rec
        if not isinstance(rec.body, dict):
            await ex.send_json(400, error_body("The request body is not a JSON object"))
            return
        steps = self._next_script(rec.model)
        i = 0
        while i < len(steps) and step_kind(steps[i]) in (*PRE_HEAD, "cut"):
            step = steps[i]
            kind = step_kind(step)
            if kind == "delay_headers":
                await asyncio.sleep(step[kind])
            elif kind == "framing":
                ex.chunked = step[kind] == "chunked" and ex.chunked
            elif kind == "headers":
                ex.extra_headers += [(str(k), str(v)) for k, v in step[kind].items()]
            elif kind == "http_error":
                await playback.http_error_response(ex, step)
                return
            else:
                ex.cut(step[kind])
                return
            i += 1
        if rec.stream:
            await playback.stream(ex, steps[i:])
        else:
            await playback.complete(ex, steps[i:])
