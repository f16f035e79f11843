"""Conversation titles: the first words of the first message at once, then a short one from the model."""

from __future__ import annotations

import re

from desktop_chat.domain import Message
from desktop_chat.llm.client import ChatClient, ChatRequest

TITLE_MAX = 60
TITLE_PROMPT = (
    "Write a title of at most six words for this conversation. Answer with the title only, no quotes."
)
TITLE_TIMEOUT_S = 30


def heuristic_title(text: str) -> str:
    """A title from the first words of a message (used at once; the model may improve it later)."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"[#>*_`~\[\]]+", " ", line)
    line = " ".join(line.split())
    first = re.match(r"(.+?[.?!])\s", line + " ")  # the first sentence, when it says enough
    if first and len(line) > TITLE_MAX * 2 // 3 and len(first.group(1).split()) >= 3:
        line = first.group(1).rstrip(".")
    if len(line) <= TITLE_MAX:
        return line
    cut = line[:TITLE_MAX].rsplit(" ", 1)[0]
    return (cut if len(cut) > TITLE_MAX // 2 else line[:TITLE_MAX]).rstrip(" ,.;:") + "…"


def clean_model_title(text: str) -> str:
    """A model's title answer, without quotes, markdown or a trailing period."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(title\s*:\s*)", "", line.strip(), flags=re.IGNORECASE)
    line = line.strip(" \"'`*#").rstrip(".")
    return heuristic_title(line) if line else ""


def title_request(model: str, exchange: list[Message]) -> ChatRequest:
    """The short, non-streamed request that asks the model for a title of the first exchange."""
    excerpt = "\n\n".join(f"{m.role.value}: {m.text[:1500]}" for m in exchange)
    return ChatRequest(
        model,
        [{"role": "user", "content": f"{TITLE_PROMPT}\n\n{excerpt}"}],
        params={"max_tokens": 24, "temperature": 0.2},
    )


async def model_title(client: ChatClient, model: str, exchange: list[Message]) -> str:
    """The model's title for the exchange ("" when it gives none)."""
    return clean_model_title(await client.complete(title_request(model, exchange)))
