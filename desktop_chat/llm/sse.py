"""An incremental Server-Sent-Events decoder over text lines, spec-correct and tolerant of real servers.

The spec (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
`data:` lines (one optional space after the colon) append to the event's data, joined with "\\n"; a blank
line dispatches; lines starting with ":" are comments (OpenRouter's `: OPENROUTER PROCESSING`, DeepSeek's
`: keep-alive`); `event:`, `id:` and `retry:` set fields; unknown fields are ignored; a BOM may start the
stream.

Tolerances, each for a server seen in the wild:
- a line that still ends with "\\r" (CRLF streams split on "\\n" only) is read without it;
- a `data:` line arriving while the buffered data already holds a complete JSON document (or `[DONE]`)
  dispatches the buffered event first: some proxies omit the blank line between events;
- a bare line starting with "{" outside any event is one whole event (NDJSON from a misconfigured server
  or proxy);
- `error: {...}` is read as an event named "error": llama.cpp's server sends stream errors with
  `server_sent_event(sink, "error", ...)`, i.e. as an `error` *field* (tools/server/server.cpp);
- `flush()` at the end of the stream dispatches a last event that lacks its closing blank line.

Hot path: one `startswith` and a slice per `data:` line; no regex, no JSON parsing unless the buffer
already holds data when another `data:` line arrives.

`LineSplitter` cuts the response bytes into lines the way SSE defines them (CRLF, LF or CR). Use it
instead of httpx's `iter_lines()`: that one splits like `str.splitlines()`, also on U+2028, U+2029, U+0085
and other separators that servers (llama.cpp, vLLM/pydantic) leave unescaped inside JSON strings, which
would cut a chunk in two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["LineSplitter", "SSEDecoder", "SSEEvent"]

_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its data (data lines joined with "\\n") and its `event:` name, if any."""

    data: str
    event: str | None = None


class SSEDecoder:
    """Feed it the stream's lines one by one (line endings stripped); it returns each event once complete."""

    __slots__ = ("_data", "_event", "last_event_id", "retry")

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self.last_event_id: str = ""
        """The last `id:` seen (the spec's last event ID); kept for reconnects, unused by chat streams."""
        self.retry: int | None = None
        """The last `retry:` value in milliseconds, if the server sent one."""

    def feed_line(self, line: str) -> SSEEvent | None:
        """Take one line; return the event a blank line (or a tolerance rule) dispatches, else None."""
        if not line:
            return self._dispatch()
        if line[-1] == "\r":
            line = line[:-1]
            if not line:
                return self._dispatch()
        first = line[0]
        if first == "d" and line.startswith("data:"):
            value = line[5:]
            if value[:1] == " ":
                value = value[1:]
            return self._add_data(value)
        if first == ":":
            return None
        if first == "{" and not self._data and self._event is None:
            return SSEEvent(line)
        if first == _BOM:
            return self.feed_line(line[1:]) if len(line) > 1 else None
        return self._field(line)

    def flush(self) -> SSEEvent | None:
        """At the end of the stream: the last event if it was not closed by a blank line."""
        return self._dispatch()

    def _field(self, line: str) -> SSEEvent | None:
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":  # "data" without a colon: an empty data line
            return self._add_data(value)
        if name == "event":
            self._event = value or None
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry":
            if value.isdigit():
                self.retry = int(value)
        elif name == "error":  # llama.cpp: `error: {json}`, an error event of its own
            previous = self._dispatch() if self._data else None
            self._data.append(value)
            self._event = "error"
            return previous
        elif name[:1] == "{":  # a bare JSON line inside an event: read it as a data line
            return self._add_data(line)
        return None

    def _add_data(self, value: str) -> SSEEvent | None:
        data = self._data
        if data and _is_complete_document(data):
            event = SSEEvent("\n".join(data), self._event)
            self._data = [value]
            self._event = None
            return event
        data.append(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        data = self._data
        event = self._event
        self._event = None
        if not data:
            # The spec drops an event without data; an `event: error` without data still means an error.
            return SSEEvent("", event) if event == "error" else None
        self._data = []
        return SSEEvent("\n".join(data), event)


def _is_complete_document(data: list[str]) -> bool:
    """True if the buffered data lines already form one complete JSON value or `[DONE]`."""
    text = "\n".join(data).strip() if len(data) > 1 else data[0].strip()
    if text == "[DONE]":
        return True
    if not text or text[0] not in "{[" or text[-1] not in "}]":
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class LineSplitter:
    """Incremental bytes -> lines (without their endings), split on CRLF, LF or CR only, UTF-8 decoded.

    A line is decoded only once complete, so a character split between two network reads is intact.
    """

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, data: bytes) -> list[str]:
        """The lines completed by this piece of the body."""
        buf = self._rest + data if self._rest else data
        if b"\r" in buf:
            held_cr = buf.endswith(b"\r")  # maybe the first half of a CRLF: decide with the next piece
            if held_cr:
                buf = buf[:-1]
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            *lines, rest = buf.split(b"\n")
            self._rest = rest + b"\r" if held_cr else rest
        else:
            *lines, self._rest = buf.split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def flush(self) -> list[str]:
        """At the end of the body: the last line if it had no line ending."""
        rest, self._rest = self._rest, b""
        if rest.endswith(b"\r"):
            return [rest[:-1].decode("utf-8", "replace")]
        return [rest.decode("utf-8", "replace")] if rest else []
