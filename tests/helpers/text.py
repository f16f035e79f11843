"""Checking a long text (HTML, a report) for many parts at once."""

from __future__ import annotations


def missing(text: str, *parts: str) -> list[str]:
    """The parts `text` does not contain, in order: `assert not missing(text, ...)` names all of them."""
    return [part for part in parts if part not in text]
