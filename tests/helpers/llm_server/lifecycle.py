"""The `with` protocol both test servers share (in this process, or as a subprocess)."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class StartedInWith:
    """A server used as `with Server(...) as server:`: `start()` on entry, `stop()` on exit."""

    def start(self) -> Self:
        """Start serving; returns the server."""
        raise NotImplementedError

    def stop(self) -> object:
        """Stop serving (idempotent)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
