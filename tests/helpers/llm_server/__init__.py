"""The local OpenAI-compatible test server (moved to a package; split by job in the next commit)."""

from tests.helpers.llm_server.server import *  # noqa: F403
from tests.helpers.llm_server.server import main

__all__ = ["main"]
