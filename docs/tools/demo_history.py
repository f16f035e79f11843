"""Fill a data dir with a small, realistic history (for screenshots and manual checks).

    python -m docs.tools.demo_history DIR [--crash]

`--crash` leaves the last answer `streaming`, as if the app had been killed mid-answer: the next start
shows it as interrupted with its text.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from desktop_chat.domain import ResponsePatch, ResponseStatus, Usage
from desktop_chat.storage import database_path, open_store

CHATS = [
    (
        "Sourdough starter schedule",
        "How often should I feed a sourdough starter kept in the fridge?",
        "Once a week is enough for a refrigerated starter. Take it out, discard all but about 50 g, feed it "
        "equal weights of flour and water, leave it at room temperature for 2-4 hours until it bubbles, then "
        "put it back.",
    ),
    (
        "Rust lifetimes in structs",
        "Why does my struct need a lifetime parameter when it holds a &str?",
        "Because the struct borrows data it does not own, the compiler must know the struct cannot outlive "
        "that data. `struct Parser<'a> { input: &'a str }` ties the two together.",
    ),
    (
        "Trip to Lisbon",
        "Three-day itinerary for Lisbon in March?",
        "Day 1: Alfama and the castle. Day 2: Belém and the LX Factory. Day 3: a day trip to Sintra.",
    ),
]


def fill(data_dir: Path, *, crash: bool) -> None:
    """Write the demo conversations (and, with `crash`, one answer cut off mid-stream)."""
    store = open_store(database_path(data_dir))
    repo = store.repo
    for title, question, answer in CHATS:
        conv = repo.create_conversation(title)
        q = repo.add_message(conv.id, question)
        a = repo.start_response(conv.id, q.id, model="llama3.1:8b", provider="Ollama")
        repo.finish_response(
            a.response_id,
            ResponseStatus.DONE,
            finish_reason="stop",
            usage=Usage(42, 120, 162),
            pending=[ResponsePatch(a.response_id, answer)],
        )
        time.sleep(0.01)
    conv = repo.create_conversation("Explain WAL mode in SQLite")
    q = repo.add_message(conv.id, "What does WAL mode change in SQLite, and when is it a bad idea?")
    a = repo.start_response(conv.id, q.id, model="gpt-4o-mini", provider="OpenAI")
    repo.apply_patches(
        [
            ResponsePatch(
                a.response_id,
                "In WAL mode, writers append changed pages to a separate write-ahead log instead of "
                "rewriting the database file, so readers keep reading the old pages while a writer",
                status=ResponseStatus.STREAMING,
            )
        ]
    )
    if crash:
        store.db.close()  # no shutdown path: the answer stays `streaming`, as after a kill
    else:
        repo.finish_response(a.response_id, ResponseStatus.DONE, finish_reason="stop")
        store.close()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--crash", action="store_true", help="leave the last answer streaming")
    args = parser.parse_args()
    fill(args.data_dir, crash=args.crash)
    return 0


if __name__ == "__main__":
    sys.exit(main())
