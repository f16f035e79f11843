"""Day groups of the conversation list, in plain Python (no Qt): unit-testable with any clock.

Day-group headers (Pinned, Today, Yesterday, Previous 7 days, Previous 30 days, then "Month Year")
start at local midnights (DST-correct) and are rebuilt when the day changes. `fold` is the matching key
of a title for the filter (case and diacritics folded).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time

Clock = Callable[[], float]


def fold(text: str) -> str:
    """`text` for matching: case folded, accents dropped ("Café" -> "cafe"); ASCII takes a fast path."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


PINNED, TODAY, YESTERDAY, WEEK, MONTH = range(5)
_MONTHS_BASE = 1000  # group key of an older month: base + year * 12 + month - 1
_FIXED_LABELS = {
    PINNED: "Pinned",
    TODAY: "Today",
    YESTERDAY: "Yesterday",
    WEEK: "Previous 7 days",
    MONTH: "Previous 30 days",
}


def _midnight(day: date) -> float:
    """Local midnight at the start of `day`, as epoch seconds (DST-correct: a naive local time)."""
    return datetime.combine(day, day_time.min).timestamp()


@dataclass(frozen=True, slots=True)
class DayGroups:
    """Where each day group starts, for one local day (rebuilt when the day changes)."""

    today: float
    yesterday: float
    week: float
    month: float
    tomorrow: float

    @classmethod
    def at(cls, now: float) -> DayGroups:
        """The groups as seen at `now` (epoch seconds), in local time."""
        day = date.fromtimestamp(now)
        return cls(
            _midnight(day),
            _midnight(day - timedelta(days=1)),
            _midnight(day - timedelta(days=7)),
            _midnight(day - timedelta(days=30)),
            _midnight(day + timedelta(days=1)),
        )

    def key(self, updated_at: float, pinned: bool) -> int:
        """The group of a conversation: an int, equal for the rows under one header."""
        if pinned:
            return PINNED
        if updated_at >= self.today:
            return TODAY
        if updated_at >= self.yesterday:
            return YESTERDAY
        if updated_at >= self.week:
            return WEEK
        if updated_at >= self.month:
            return MONTH
        try:
            day = date.fromtimestamp(updated_at)
        except (OverflowError, OSError, ValueError):  # a nonsense timestamp: the oldest group
            return _MONTHS_BASE
        return _MONTHS_BASE + day.year * 12 + day.month - 1

    def covers(self, now: float) -> bool:
        """True while `now` is still the day these groups were made for."""
        return self.today <= now < self.tomorrow


def group_label(key: int, month_name: Callable[[int], str] | None = None) -> str:
    """The header of a group ("Today", "March 2024"...)."""
    fixed = _FIXED_LABELS.get(key)
    if fixed is not None:
        return fixed
    if key == _MONTHS_BASE:
        return "Older"
    year, month0 = divmod(key - _MONTHS_BASE, 12)
    name = month_name(month0 + 1) if month_name is not None else date(2000, month0 + 1, 1).strftime("%B")
    return f"{name} {year}"
