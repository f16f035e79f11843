"""Where requests go: an OpenAI-compatible endpoint's URL, key, headers, proxy and timeouts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to connect, to wait for each next byte (a local model may take long to load), to send."""

    connect: float = 10.0
    read: float = 300.0
    write: float = 30.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to send requests. `api_key` None: the endpoint needs no key."""

    base_url: str
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    proxy: str | None = None  # the app's proxy setting; None: the system's
    timeouts: Timeouts = Timeouts()

    @property
    def host(self) -> str:
        """`host:port` for messages."""
        return urlsplit(self.base_url).netloc or self.base_url

    def __repr__(self) -> str:  # never show the key
        return f"Endpoint({self.base_url!r}, key={'set' if self.api_key else 'none'})"
