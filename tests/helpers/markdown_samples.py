"""Realistic markdown for transcript tests, benchmarks and screenshots (deterministic per seed).

answer(seed, size)        an assistant answer of about `size` characters: paragraphs, lists, code,
                          sometimes a table or a quote
question(seed)            a user question
long_answer(size)         an answer of `size` characters made of many blocks (streaming benchmarks)
fill_conversation(repo, conversation_id, n)   n messages (alternating), in one transaction
"""

from __future__ import annotations

import random
import time
from typing import Any

from desktop_chat.domain import Role

_WORDS = [
    "the",
    "model",
    "cache",
    "request",
    "answer",
    "stream",
    "token",
    "buffer",
    "window",
    "layout",
    "frame",
    "render",
    "block",
    "table",
    "code",
    "list",
    "value",
    "key",
    "index",
    "query",
    "branch",
    "message",
    "thread",
    "context",
    "prompt",
    "result",
    "error",
    "retry",
    "latency",
    "memory",
    "disk",
    "file",
    "path",
    "schema",
    "column",
    "row",
    "page",
    "scroll",
    "viewport",
    "paint",
    "delegate",
    "signal",
    "slot",
    "event",
    "loop",
    "task",
    "future",
    "quickly",
    "simply",
    "usually",
    "often",
    "rarely",
    "always",
    "never",
    "carefully",
    "first",
    "then",
    "finally",
    "because",
    "although",
    "while",
]

_CODE = {
    "python": [
        "def fib(n: int) -> int:",
        '    """Return the n-th Fibonacci number."""',
        "    a, b = 0, 1",
        "    for _ in range(n):",
        "        a, b = b, a + b",
        "    return a",
        "",
        "print([fib(i) for i in range(10)])  # the first ten",
    ],
    "rust": [
        "fn main() {",
        '    let words = vec!["alpha", "beta", "gamma"];',
        "    for (i, w) in words.iter().enumerate() {",
        '        println!("{i}: {w}");',
        "    }",
        "}",
    ],
    "sql": [
        "SELECT c.title, count(m.id) AS messages",
        "FROM conversation c JOIN message m ON m.conversation_id = c.id",
        "GROUP BY c.id ORDER BY messages DESC LIMIT 10;",
    ],
    "bash": ["python -m venv .venv", ". .venv/bin/activate", "pip install -e '.[dev]'", "make test"],
}


def _sentence(rng: random.Random, words: int | None = None) -> str:
    n = words or rng.randint(6, 16)
    text = " ".join(rng.choice(_WORDS) for _ in range(n))
    if rng.random() < 0.25:
        w = rng.choice(_WORDS)
        text = text.replace(f" {w} ", f" **{w}** ", 1)
    if rng.random() < 0.2:
        w = rng.choice(_WORDS)
        text = text.replace(f" {w} ", f" `{w}()` ", 1)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


def _list(rng: random.Random) -> str:
    ordered = rng.random() < 0.4
    return "\n".join(
        f"{i + 1}. " + _sentence(rng, rng.randint(4, 10))
        if ordered
        else "- " + _sentence(rng, rng.randint(4, 10))
        for i in range(rng.randint(3, 5))
    )


def _code(rng: random.Random) -> str:
    language = rng.choice(list(_CODE))
    return f"```{language}\n" + "\n".join(_CODE[language]) + "\n```"


def _table(rng: random.Random) -> str:
    rows = ["| Option | Latency | Notes |", "|:--|--:|:--|"]
    for _ in range(rng.randint(2, 4)):
        rows.append(f"| `{rng.choice(_WORDS)}` | {rng.randint(1, 900)} ms | {_sentence(rng, 4)} |")
    return "\n".join(rows)


def _block(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return _paragraph(rng)
    if roll < 0.7:
        return _list(rng)
    if roll < 0.85:
        return _code(rng)
    if roll < 0.93:
        return _table(rng)
    if roll < 0.97:
        return f"### {_sentence(rng, 4)[:-1]}"
    return "> " + _sentence(rng)


def answer(seed: int, size: int | None = None) -> str:
    """An answer of about `size` characters (default: 500-3000, by seed)."""
    rng = random.Random(seed)
    target = size or rng.randint(500, 3000)
    blocks = [_paragraph(rng)]
    while sum(len(b) + 2 for b in blocks) < target:
        blocks.append(_block(rng))
    return "\n\n".join(blocks)


def long_answer(size: int, seed: int = 7) -> str:
    """Exactly `size` characters of markdown in many blocks (cut at the end, like a stream)."""
    text = answer(seed, size + 200)
    return text[:size]


def question(seed: int) -> str:
    """A user question."""
    rng = random.Random(seed * 7919)
    return _sentence(rng, rng.randint(6, 20))[:-1] + "?"


def fill_conversation(repo: Any, conversation_id: int, n: int, *, model: str = "demo-model") -> list[int]:
    """`n` messages (question, answer, ...) in one transaction; answers get a model and token usage."""
    now = time.time() - n
    items = [
        (Role.USER, question(i), now + i) if i % 2 == 0 else (Role.ASSISTANT, answer(i), now + i)
        for i in range(n)
    ]
    ids: list[int] = repo.add_messages_bulk(conversation_id, items)
    repo.db.execute_sql(
        "UPDATE response SET model = ?, usage = json_object('prompt_tokens', 120, 'completion_tokens', "
        "length(text) / 4, 'total_tokens', 120 + length(text) / 4) WHERE message_id IN "
        "(SELECT id FROM message WHERE conversation_id = ?)",
        (model, conversation_id),
    )
    return ids
