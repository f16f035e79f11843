"""desktop_chat: a native desktop chat client for cloud and local language models."""

from __future__ import annotations

import functools


@functools.cache
def version() -> str:
    """The installed package's version (read once, on first use: importlib.metadata costs ~40 ms)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("desktop-chat")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(f"module 'desktop_chat' has no attribute {name!r}")
