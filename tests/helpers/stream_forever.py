"""Stream an answer into a store forever, flushing like the chat service, until a test SIGKILLs it.

    python tests/helpers/stream_forever.py DB_PATH [--interval SECONDS] [--print-every SECONDS]

Each flush commits DELTAS_PER_FLUSH text deltas and one reasoning delta in one transaction
(`Repo.apply_patches`: append-only chunk rows). The deltas are a pure function of the flush number, so
a test can rebuild the text of any number of whole flushes. After a flush has committed, the helper may
print a JSON line {"response_id", "message_id", "flushes"}: those `flushes` are durable from then on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from desktop_chat.domain import ResponsePatch, ResponseStatus
from desktop_chat.storage import open_store

DELTAS_PER_FLUSH = 5
QUESTION = "Tell me a story that never ends, über alles 🌀"


def text_delta(flush: int, j: int) -> str:
    """The j-th text delta of a flush (one searchable word each)."""
    return f"w{flush}x{j} "


def reasoning_delta(flush: int) -> str:
    """The reasoning delta of a flush."""
    return f"r{flush} "


def committed_text(flushes: int) -> str:
    """The answer's text after `flushes` whole flushes."""
    return "".join(text_delta(i, j) for i in range(flushes) for j in range(DELTAS_PER_FLUSH))


def committed_reasoning(flushes: int) -> str:
    """The answer's reasoning after `flushes` whole flushes."""
    return "".join(reasoning_delta(i) for i in range(flushes))


def main(argv: list[str] | None = None) -> int:
    """Create a conversation, then stream into its answer until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--interval", type=float, default=0.1, help="pause between flushes (0: none)")
    parser.add_argument("--print-every", type=float, default=0.0, help="report at most this often")
    args = parser.parse_args(argv)

    store = open_store(args.db)
    repo = store.repo
    conv = repo.create_conversation("Crash test")
    question = repo.add_message(conv.id, QUESTION)
    message = repo.start_response(conv.id, question.id, model="test-model", provider="test")
    rid = message.response_id
    flushes = 0
    last_report = 0.0
    while True:
        patches = [
            ResponsePatch(
                rid,
                text_delta=text_delta(flushes, j),
                reasoning_delta=reasoning_delta(flushes) if j == 0 else "",
                status=ResponseStatus.STREAMING if j == 0 else None,
            )
            for j in range(DELTAS_PER_FLUSH)
        ]
        repo.apply_patches(patches)  # one transaction; committed when it returns
        flushes += 1
        now = time.monotonic()
        if now - last_report >= args.print_every:
            report = {"response_id": rid, "message_id": message.id, "flushes": flushes}
            sys.stdout.write(json.dumps(report) + "\n")
            sys.stdout.flush()
            last_report = now
        if args.interval:
            time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
