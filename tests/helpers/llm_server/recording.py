"""What the test server saw: a `RecordedRequest` per request (kept up to date while it is answered), and
the JSON log the CLI writes of them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RecordedRequest:
    """One request as the server saw it, updated by the server thread while it is answered.

    `finished`: when the response was completely written; `client_closed`: when the server noticed the
    client had gone before that; `outcome`: "" while answering, then "complete", "cut",
    "client_closed" or "stopped". `connection` numbers the TCP connection (same number: reused).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    started: float
    query: str = ""
    raw_body: bytes = b""
    connection: int = 0
    status: int | None = None
    finished: float | None = None
    client_closed: float | None = None
    outcome: str = ""
    send_log: list[tuple[float, int]] = field(default_factory=list)
    bytes_sent: int = 0

    @property
    def model(self) -> str | None:
        """The `model` the body names, if any."""
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def stream(self) -> bool:
        """Whether the body asked for a stream."""
        return isinstance(self.body, dict) and self.body.get("stream") is True

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's log format)."""
        out = {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "started": self.started,
            "connection": self.connection,
            "status": self.status,
            "finished": self.finished,
            "client_closed": self.client_closed,
            "outcome": self.outcome,
            "send_log": [list(entry) for entry in self.send_log],
            "bytes_sent": self.bytes_sent,
        }
        if self.body is None and self.raw_body:
            out["raw_body"] = self.raw_body.decode("utf-8", "replace")
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordedRequest:
        """Back from `to_json`."""
        fields = dict(data)
        fields["raw_body"] = str(fields.get("raw_body", "")).encode()
        fields["send_log"] = [(float(t), int(n)) for t, n in fields.get("send_log", [])]
        return cls(**fields)


def load_log(path: Path) -> list[RecordedRequest]:
    """The requests a CLI server wrote to `--log`."""
    return [RecordedRequest.from_json(item) for item in json.loads(path.read_text(encoding="utf-8"))]
