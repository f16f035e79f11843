"""desktop_chat: a native desktop chat client for cloud and local language models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("desktop-chat")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
