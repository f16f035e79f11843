"""Turning what a person types into a safe FTS5 query.

Supported: plain words (all must match), "quoted phrases", `-word` / `-"phrase"` to exclude, and
`word*` prefixes of at least two characters. Everything else is treated as text, never as FTS5
syntax, so no input can raise a query syntax error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MIN_PREFIX_CHARS = 2
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD_CHARS = re.compile(r"[\w]+", re.UNICODE)


class SearchOrder(StrEnum):
    """How search results are sorted."""

    RECENT = "recent"
    RANK = "rank"


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """An FTS5 MATCH expression (None when the input has nothing to search for), and the terms to mark
    in a found message: phrases whole, words without their `*`, nothing excluded, two characters or more."""

    match: str | None
    terms: tuple[str, ...]


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _words(text: str) -> list[str]:
    """The words FTS5's unicode61 tokenizer would index (punctuation dropped)."""
    return _WORD_CHARS.findall(unicodedata.normalize("NFKC", text))


def compile_query(text: str) -> CompiledQuery:
    """Compile user input into an FTS5 expression (positive terms ANDed, exclusions NOT-ed)."""
    positive: list[str] = []
    negative: list[str] = []
    terms: list[str] = []
    for m in _TOKEN.finditer(text):
        negate, phrase, bare = m.group(1), m.group(2), m.group(3)
        if phrase is not None:
            words = _words(phrase)
            if not words:
                continue
            expr = _quote(" ".join(words))
            (negative if negate else positive).append(expr)
            if not negate:
                terms.append(phrase.strip())
            continue
        assert bare is not None
        neg = bare.startswith("-") and len(bare) > 1
        token = bare[1:] if neg else bare
        prefix = token.endswith("*")
        words = _words(token)
        if not words:
            continue
        # a token like "e-mail" or "c++11" is indexed as several words: keep them adjacent (a phrase)
        expr = _quote(" ".join(words))
        if prefix and len(words[-1]) >= MIN_PREFIX_CHARS:
            expr += "*"
        (negative if neg else positive).append(expr)
        if not neg:
            terms.append(token.rstrip("*"))
    if not positive:
        return CompiledQuery(None, ())
    match = " AND ".join(positive)
    for expr in negative:
        match = f"{match} NOT {expr}"
    return CompiledQuery(match, tuple(t for t in terms if len(t) >= MIN_PREFIX_CHARS))
