"""HTTP/1.1 on a client connection: reading requests (`Connection`), and writing one response with its
framing, byte counts and record (`Exchange`)."""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from tests.helpers.llm_server.chunks import dumps
from tests.helpers.llm_server.recording import RecordedRequest

if TYPE_CHECKING:
    from tests.helpers.llm_server.server import LLMServer

_MAX_HEAD: Final = 64 * 1024
_MAX_BODY: Final = 64 * 1024 * 1024


def phrase(status: int) -> str:
    """The reason phrase of an HTTP status ("Unknown" for a made-up one)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class BadRequest(Exception):
    """The client sent something that is not HTTP/1.1 the server understands (answered with a 400)."""


@dataclass
class Request:
    """One request as read off the connection."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes
    started: float

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


class Connection:
    """A client connection: a reader with its own buffer (so a disconnect watcher keeps what it reads)."""

    def __init__(self, cid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.id = cid
        self.reader = reader
        self.writer = writer
        self.transport = writer.transport
        self.buf = bytearray()
        self.eof = False

    async def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = await self.reader.read(65536)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def read_until(self, sep: bytes, limit: int) -> bytes | None:
        start = 0
        while True:
            i = self.buf.find(sep, start)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[: i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise BadRequest("line or header block too long")
            start = max(0, len(self.buf) - len(sep) + 1)
            if not await self._fill():
                return None

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self._fill():
                raise BadRequest("body cut short")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def watch(self) -> float:
        """Wait until the client closes (keeping anything it sends); return when that was noticed."""
        while await self._fill():
            pass
        return time.monotonic()

    async def read_request(self) -> Request | None:
        while self.buf.startswith(b"\r\n"):
            del self.buf[:2]
        head = await self.read_until(b"\r\n\r\n", _MAX_HEAD)
        if head is None:
            return None
        started = time.monotonic()
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(f"bad request line {lines[0]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise BadRequest(f"bad header line {line!r}")
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "100-continue" in headers.get("expect", "").lower():
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked()
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise BadRequest("bad Content-Length") from None
            if not 0 <= length <= _MAX_BODY:
                raise BadRequest("bad Content-Length")
            body = await self.read_exactly(length)
        else:
            body = b""
        return Request(parts[0], parts[1], parts[2], headers, body, started)

    async def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = await self.read_until(b"\r\n", 1024)
            if line is None:
                raise BadRequest("chunked body cut short")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest(f"bad chunk size {line!r}") from None
            if size == 0:
                while await self.read_until(b"\r\n", _MAX_HEAD):  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            total += size
            if total > _MAX_BODY:
                raise BadRequest("body too large")
            parts.append(await self.read_exactly(size))
            if await self.read_until(b"\r\n", 2) != b"":
                raise BadRequest("chunk not followed by CRLF")

    def abort(self, *, reset: bool = False) -> None:
        if reset:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def close(self) -> None:
        if not self.transport.is_closing():
            self.writer.close()


class Exchange:
    """Writing one response: framing, byte counts and the record."""

    def __init__(
        self, server: LLMServer, conn: Connection, rec: RecordedRequest, index: int, req: Request
    ) -> None:
        self.server = server
        self.conn = conn
        self.rec = rec
        self.index = index
        self.keep_alive = req.keep_alive
        self.chunked = req.version != "HTTP/1.0"
        self.extra_headers: list[tuple[str, str]] = []
        self.head_sent = False

    async def write(self, data: bytes) -> None:
        if self.conn.transport.is_closing():
            raise ConnectionResetError("connection closed")
        self.conn.writer.write(data)
        self.rec.bytes_sent += len(data)
        await self.conn.writer.drain()

    def _head(self, status: int, headers: Sequence[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {phrase(status)}", "Server: llm-test-server"]
        lines += [f"x-request-id: req_test_{self.index}"]
        lines += [f"{k}: {v}" for k, v in (*headers, *self.extra_headers)]
        self.rec.status = status
        self.head_sent = True
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def send_full(
        self, status: int, payload: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        extra = dict(headers or {})
        hdrs: list[tuple[str, str]] = []
        if not any(k.lower() == "content-type" for k in extra):
            hdrs.append(("Content-Type", content_type))
        hdrs.append(("Content-Length", str(len(payload))))
        if not self.keep_alive:
            hdrs.append(("Connection", "close"))
        hdrs += extra.items()
        await self.write(self._head(status, hdrs) + payload)
        self.server._update(self.rec, finished=time.monotonic(), outcome="complete")

    async def send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        await self.send_full(status, dumps(obj).encode(), "application/json", headers)

    async def start_stream(self) -> None:
        hdrs = [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")]
        if self.chunked:
            hdrs.append(("Transfer-Encoding", "chunked"))
            if not self.keep_alive:
                hdrs.append(("Connection", "close"))
        else:
            hdrs.append(("Connection", "close"))
            self.keep_alive = False
        await self.write(self._head(200, hdrs))

    async def body(self, data: bytes) -> None:
        if not data:
            return  # an empty chunk would end a chunked body
        if not self.head_sent:
            await self.start_stream()
        await self.write(b"%x\r\n%b\r\n" % (len(data), data) if self.chunked else data)

    async def end(self) -> None:
        if not self.head_sent:
            await self.start_stream()
        if self.chunked:
            await self.write(b"0\r\n\r\n")
        self.server._update(self.rec, finished=time.monotonic(), outcome="complete")

    def cut(self, how: Any) -> None:
        self.keep_alive = False
        self.server._update(self.rec, outcome="cut")
        if how == "fin":
            self.conn.transport.close()
        else:
            self.conn.abort(reset=True)
