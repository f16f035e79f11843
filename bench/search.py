"""Full-text search benchmark: fill a fresh store with synthetic chat history, then time Repo.search.

    python bench/search.py --messages 100000
    python bench/search.py --messages 1000000 --seed 7 --db /tmp/search-1m.sqlite3

The store is filled through the real code path (open_store + Repo.add_messages_bulk), in
conversations of 20-40 messages with alternating user/assistant turns and increasing timestamps.
The text is English-like: a few thousand words drawn with a Zipf-like distribution (the most common
words are real English function words), sentences of varied length, and some code-ish tokens.
Text is generated in a worker process while the main process writes, so both cores are used.

Progress goes to stderr, figures to stdout, and the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import random
import statistics
import string
import sys
import tempfile
import time
from bisect import bisect
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop_chat.domain import Role
from desktop_chat.storage import Store, open_store
from desktop_chat.storage.search import SearchOrder

# ---- vocabulary ----------------------------------------------------------------------------------

# The most frequent English words, in roughly descending frequency (ranks 1..N of the Zipf curve).
_COMMON = """
the of and to a in is you that it for i on with as this be are can have not or your at by if from but we
an will do was so all what there they use my one would more which about how like just some when it's
should then also has here need new get any other only make example code file data function don't time
each first want into these see way than out them up no set value may could its our using work following
between run name list add version error type now because help does where well used set return check
create first output model user change number string input same line call class two both different
default look problem test case thanks let know might sure still step should result method case want way
system server config path option read write update text message response request image
""".split()  # noqa: SIM905

# Topic words from chat about programming, writing, science and everyday life (mid-frequency).
_TOPIC = """
python javascript rust database query index table column schema migration transaction cursor thread
process memory buffer cache latency throughput benchmark profile compiler runtime interpreter module
package library dependency install virtualenv docker container kubernetes cluster network socket
protocol header payload token stream async await callback promise future coroutine event loop signal
widget window layout render paint font color theme dialog button menu keyboard shortcut clipboard recipe
flour butter sugar oven bake garden tomato weather travel flight hotel museum history novel poem chapter
character plot essay grammar translate spanish french german vocabulary sentence paragraph summary
outline draft review feedback meeting schedule calendar deadline budget invoice contract email physics
chemistry biology energy velocity gravity molecule protein enzyme neuron galaxy planet orbit statistics
probability regression variance median average sample distribution matrix vector tensor gradient
training inference dataset accuracy embedding transformer attention prompt context temperature exercise
running sleep coffee breakfast dinner vegetables budget salary mortgage insurance vacation guitar piano
melody chord rhythm painting camera photo lens portrait landscape sunset mountain river
""".split()  # noqa: SIM905

_ONSETS = [
    "b", "bl", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "j", "k",
    "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sc", "sh", "sl", "sp", "st", "str", "t", "th", "tr",
    "v", "w", "wh", "z", "",
]  # fmt: skip
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou", "oo", "y"]
_CODAS = ["", "", "n", "r", "s", "t", "l", "m", "nd", "nt", "st", "ck", "ng", "rt", "ll", "ss", "x", "th"]
_SUFFIXES = ["", "", "", "ing", "ed", "er", "ly", "tion", "ment", "ness", "able", "al", "ive", "s", "es"]

VOCAB_SIZE = 6000


def build_vocabulary(rng: random.Random, size: int = VOCAB_SIZE) -> list[str]:
    """Real common words first, then topic words, then pronounceable made-up words (rarest last)."""
    words: list[str] = []
    seen: set[str] = set()
    for w in itertools.chain(_COMMON, _TOPIC):
        if w not in seen:
            seen.add(w)
            words.append(w)
    while len(words) < size:
        syllables = rng.choice((1, 2, 2, 2, 3, 3, 4))
        w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))
        w += rng.choice(_SUFFIXES)
        if 3 <= len(w) <= 16 and w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf_cum_weights(n: int, s: float = 1.0, q: float = 2.7) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights 1/(rank+q)^s for ranks 1..n."""
    return list(itertools.accumulate(1.0 / (r + q) ** s for r in range(1, n + 1)))


# ---- text generation (runs in a worker process) --------------------------------------------------

_G: dict[str, object] = {}


_CODE_FORMS: tuple[Callable[[str, str, random.Random], str], ...] = (  # (word, word, rng) -> a token
    lambda a, b, _: f"{a}_{b}()",
    lambda a, b, _: f"`{a}.{b}`",
    lambda a, b, _: f"{a}{b.capitalize()}",
    lambda a, b, _: f"/usr/lib/{a}/{b}.py",
    lambda a, _, rng: f"{a}={rng.randrange(1000)}",
    lambda _a, _b, rng: f"0x{rng.randrange(1 << 16):04x}",
    lambda a, b, _: f"{a}-{b}",
)


def _code_token(rng: random.Random, vocab: list[str]) -> str:
    a, b = rng.choice(vocab[100:2000]), rng.choice(vocab[100:2000])
    return _CODE_FORMS[rng.randrange(len(_CODE_FORMS))](a, b, rng)


def _message_text(rng: random.Random, n_words: int, vocab: list[str], cum: list[float]) -> str:
    total = cum[-1]
    hi = len(cum) - 1
    rnd = rng.random
    words = [vocab[bisect(cum, rnd() * total, 0, hi)] for _ in range(n_words)]
    # sprinkle code-ish tokens into about one message in four
    if rnd() < 0.25:
        for _ in range(1 + n_words // 60):
            words[rng.randrange(n_words)] = _code_token(rng, vocab)
    sentences: list[str] = []
    i = 0
    while i < n_words:
        length = rng.randint(5, 22)
        chunk = words[i : i + length]
        i += length
        s = " ".join(chunk)
        end = "?" if rnd() < 0.12 else ("!" if rnd() < 0.03 else ".")
        sentences.append(s[:1].upper() + s[1:] + end)
        if rnd() < 0.08:
            sentences.append("\n\n")
    return " ".join(sentences).replace(" \n\n ", "\n\n")


def _conversation_lengths(rng: random.Random, n_messages: int) -> Iterator[int]:
    left = n_messages
    while left > 0:
        n = min(left, rng.randint(20, 40))
        left -= n
        yield n


def _user_words(rng: random.Random) -> int:
    return min(400, 10 + int(rng.expovariate(1 / 22)))


def _assistant_words(rng: random.Random) -> int:
    return min(400, 30 + int(rng.expovariate(1 / 110)))


Batch = list[tuple[str, list[tuple[Role, str, float]]]]


def _init_worker(vocab: list[str], cum: list[float]) -> None:
    _G["vocab"], _G["cum"] = vocab, cum


def _make_batch(args: tuple[int, int, list[int], float]) -> Batch:
    """Conversations (title, [(role, text, created_at)]) for one batch, deterministic per batch."""
    seed, batch_no, lengths, start_ts = args
    vocab: list[str] = _G["vocab"]  # type: ignore[assignment]
    cum: list[float] = _G["cum"]  # type: ignore[assignment]
    rng = random.Random(f"{seed}:{batch_no}")
    out: Batch = []
    ts = start_ts
    for n in lengths:
        title_words = [vocab[bisect(cum, rng.random() * cum[-1])] for _ in range(rng.randint(2, 6))]
        title = " ".join(title_words).capitalize()
        items: list[tuple[Role, str, float]] = []
        for k in range(n):
            role = Role.USER if k % 2 == 0 else Role.ASSISTANT
            n_words = _user_words(rng) if role is Role.USER else _assistant_words(rng)
            # users pause 10 s .. 5 min between turns; answers stream for 2-40 s
            ts += rng.uniform(10, 300) if role is Role.USER else rng.uniform(2, 40)
            items.append((role, _message_text(rng, n_words, vocab, cum), ts))
        out.append((title, items))
    return out


# ---- fill ----------------------------------------------------------------------------------------

BATCH_MESSAGES = 5000
HISTORY_SECONDS = 3 * 365 * 86400  # the synthetic history spans three years


def _batches(seed: int, n_messages: int) -> list[tuple[int, int, list[int], float]]:
    rng = random.Random(f"{seed}:layout")
    lengths = list(_conversation_lengths(rng, n_messages))
    start = time.time() - HISTORY_SECONDS
    step = HISTORY_SECONDS / max(1, len(lengths))
    out: list[tuple[int, int, list[int], float]] = []
    batch: list[int] = []
    first_conv = 0
    count = 0
    for i, n in enumerate(lengths):
        if not batch:
            first_conv = i
        batch.append(n)
        count += n
        if count >= BATCH_MESSAGES or i == len(lengths) - 1:
            out.append((seed, len(out), batch, start + first_conv * step))
            batch, count = [], 0
    return out


def fill(store: Store, n_messages: int, seed: int, vocab: list[str], cum: list[float]) -> list[str]:
    """Write n_messages through Repo.add_messages_bulk; returns a sample of message texts."""
    repo = store.repo
    jobs = _batches(seed, n_messages)
    samples: list[str] = []
    done = 0
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with ctx.Pool(1, initializer=_init_worker, initargs=(vocab, cum)) as pool:
        for batch in pool.imap(_make_batch, jobs, chunksize=1):
            with store.db.atomic():  # one transaction per batch; each conversation is a savepoint
                for title, items in batch:
                    conv = repo.create_conversation(title)
                    repo.add_messages_bulk(conv.id, items)
            done += sum(len(items) for _, items in batch)
            samples.append(batch[0][1][1][1])
            samples.append(batch[-1][1][0][1])
            elapsed = time.perf_counter() - t0
            print(
                f"\rfilled {done:,}/{n_messages:,} messages in {elapsed:.0f} s "
                f"({done / max(elapsed, 1e-9):,.0f}/s)",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(file=sys.stderr)
    return samples


# ---- queries -------------------------------------------------------------------------------------


def _doc_freq(store: Store, word: str) -> int:
    # exact number of messages containing `word` (a check that the chosen tiers are what they claim)
    row = store.db.execute_sql("SELECT count(*) FROM message_fts WHERE message_fts MATCH ?", (f'"{word}"',))
    return int(row.fetchone()[0])


def typical_queries(rng: random.Random, vocab: list[str], samples: list[str], n: int = 200) -> list[str]:
    """Single mid-frequency words, 2-word AND queries, phrases taken from real text, `word -other`."""
    mid = vocab[150:3000]
    common = vocab[20:150]
    out: list[str] = []
    while len(out) < n:
        kind = rng.random()
        if kind < 0.40:
            out.append(rng.choice(mid))
        elif kind < 0.70:
            out.append(f"{rng.choice(mid)} {rng.choice(mid + common)}")
        elif kind < 0.85:
            words = rng.choice(samples).translate(str.maketrans("", "", string.punctuation)).split()
            if len(words) >= 3:
                i = rng.randrange(len(words) - 2)
                out.append('"' + " ".join(words[i : i + rng.choice((2, 3))]).lower() + '"')
        else:
            out.append(f"{rng.choice(mid)} -{rng.choice(common)}")
    return out


def _time_ms(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def _p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def run(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(args.seed)
    vocab = build_vocabulary(random.Random(f"{args.seed}:vocab"))
    cum = zipf_cum_weights(len(vocab))
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.db:
        path = Path(args.db)
        if path.exists():
            sys.exit(f"{path} exists; pass a new path (the benchmark always starts from an empty store)")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-search-")
        path = Path(tmp.name) / "bench.sqlite3"
    try:
        store = open_store(path)
        try:
            t0 = time.perf_counter()
            samples = fill(store, args.messages, args.seed, vocab, cum)
            fill_seconds = time.perf_counter() - t0
            store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db_bytes = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
            return measure(store, args, rng, vocab, samples, fill_seconds, db_bytes)
        finally:
            store.close()
    finally:
        if tmp is not None:
            tmp.cleanup()


def measure(
    store: Store,
    args: argparse.Namespace,
    rng: random.Random,
    vocab: list[str],
    samples: list[str],
    fill_seconds: float,
    db_bytes: int,
) -> dict[str, object]:
    repo = store.repo
    queries = typical_queries(rng, vocab, samples)
    common, prefix2 = vocab[0], vocab[0][:2] + "*"
    print("warming up", file=sys.stderr)
    for q in [*queries, common, prefix2]:
        repo.search(q)
    typical = [_time_ms(lambda q=q: repo.search(q)) for q in queries]  # type: ignore[misc]
    hits = [len(repo.search(q).items) for q in queries]
    runs = args.runs
    common_ms = statistics.median(_time_ms(lambda: repo.search(common)) for _ in range(runs))
    prefix_ms = statistics.median(_time_ms(lambda: repo.search(prefix2)) for _ in range(runs))
    rank_ms = statistics.median(
        _time_ms(lambda: repo.search(common, order=SearchOrder.RANK)) for _ in range(runs)
    )
    slowest = sorted(zip(typical, queries, strict=True), reverse=True)[:5]

    print(f"messages            {args.messages:,}")
    print(f"fill                {fill_seconds:.1f} s ({args.messages / fill_seconds:,.0f} messages/s)")
    print(f"database            {db_bytes / 2**20:,.0f} MiB")
    print(f"'{common}' in        {_doc_freq(store, common):,} messages")
    print(
        f"typical queries     n={len(queries)}  p50 {_p(typical, 0.5):.2f} ms  p95 {_p(typical, 0.95):.2f} ms"
        f"  max {max(typical):.2f} ms  (queries with 50 hits: {sum(h == 50 for h in hits)},"
        f" with none: {sum(h == 0 for h in hits)})"
    )
    print("slowest typical     " + ", ".join(f"{q!r} {t:.1f} ms" for t, q in slowest))
    print(f"common term         {common!r}: {common_ms:.2f} ms (median of {runs})")
    print(f"2-letter prefix     {prefix2!r}: {prefix_ms:.2f} ms (median of {runs})")
    print(f"common term by rank {common!r}: {rank_ms:.2f} ms (median of {runs})")
    return {
        "messages": args.messages,
        "seed": args.seed,
        "fill_seconds": round(fill_seconds, 1),
        "db_mib": round(db_bytes / 2**20, 1),
        "typical_p50_ms": round(_p(typical, 0.5), 2),
        "typical_p95_ms": round(_p(typical, 0.95), 2),
        "common_term_ms": round(common_ms, 2),
        "prefix2_ms": round(prefix_ms, 2),
        "rank_order_common_ms": round(rank_ms, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="how many messages to write")
    parser.add_argument("--seed", type=int, default=1, help="seed for the text and the queries")
    parser.add_argument("--db", help="keep the database at this (new) path instead of a temp file")
    parser.add_argument("--runs", type=int, default=7, help="runs for the single-query medians")
    args = parser.parse_args(argv)
    if args.messages < 100:
        parser.error("--messages must be at least 100")
    result = run(args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
