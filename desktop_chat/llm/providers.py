"""Known OpenAI-compatible providers, and finding the local servers that answer on this machine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from desktop_chat.llm.client import ChatClient
from desktop_chat.llm.endpoint import Endpoint, Timeouts
from desktop_chat.llm.errors import LLMError


@dataclass(frozen=True, slots=True)
class Preset:
    """A provider people can pick instead of typing a base URL."""

    name: str
    base_url: str
    needs_key: bool
    local: bool = False
    default_model: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    key_url: str = ""  # where a person gets a key

    def endpoint(self, api_key: str | None = None, *, timeouts: Timeouts | None = None) -> Endpoint:
        """An endpoint for this preset."""
        return Endpoint(self.base_url, api_key, dict(self.headers), timeouts=timeouts or Timeouts())


HOMEPAGE = "https://github.com/desktop-chat/desktop_chat"

PRESETS: tuple[Preset, ...] = (
    Preset("OpenAI", "https://api.openai.com/v1", True, default_model="gpt-4o-mini",
           key_url="https://platform.openai.com/api-keys"),
    Preset("OpenRouter", "https://openrouter.ai/api/v1", True, default_model="openai/gpt-4o-mini",
           headers={"HTTP-Referer": HOMEPAGE, "X-Title": "desktop_chat"},
           key_url="https://openrouter.ai/keys"),
    Preset("Groq", "https://api.groq.com/openai/v1", True, default_model="llama-3.3-70b-versatile",
           key_url="https://console.groq.com/keys"),
    Preset("DeepSeek", "https://api.deepseek.com/v1", True, default_model="deepseek-chat",
           key_url="https://platform.deepseek.com/api_keys"),
    Preset("Mistral", "https://api.mistral.ai/v1", True, default_model="mistral-small-latest",
           key_url="https://console.mistral.ai/api-keys"),
    Preset("Ollama", "http://localhost:11434/v1", False, local=True),
    Preset("LM Studio", "http://localhost:1234/v1", False, local=True),
    Preset("llama.cpp server", "http://localhost:8080/v1", False, local=True),
    Preset("vLLM", "http://localhost:8000/v1", False, local=True),
)  # fmt: skip

LOCAL_PRESETS = tuple(p for p in PRESETS if p.local)


def preset_named(name: str) -> Preset | None:
    """The preset with this name (case-insensitive)."""
    lowered = name.lower()
    return next((p for p in PRESETS if p.name.lower() == lowered), None)


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A local server that answered, with the models it lists."""

    preset: Preset
    base_url: str
    models: tuple[str, ...]


async def probe(endpoint: Endpoint) -> list[str] | None:
    """The models an endpoint lists, [] when it answers without a list, None when nothing answers."""
    client = ChatClient(endpoint)
    try:
        return await client.list_models()
    except LLMError as exc:
        return [] if exc.status is not None else None
    finally:
        await client.aclose()


async def detect_local_servers(
    presets: tuple[Preset, ...] = LOCAL_PRESETS, *, timeout: float = 0.8
) -> list[LocalServer]:
    """Ask every local preset's port at once (on 127.0.0.1); the ones that answer, in preset order."""
    quick = Timeouts(connect=timeout, read=timeout, write=timeout)

    async def one(preset: Preset) -> LocalServer | None:
        url = preset.base_url.replace("//localhost:", "//127.0.0.1:")
        try:
            models = await asyncio.wait_for(probe(Endpoint(url, timeouts=quick)), timeout * 2)
        except TimeoutError:
            return None
        return None if models is None else LocalServer(preset, url, tuple(models))

    found = await asyncio.gather(*(one(p) for p in presets))
    return [s for s in found if s is not None]
