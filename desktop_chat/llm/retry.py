"""When to send a failed request again: the retry policy with backoff, and the provider's Retry-After."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of a request that failed before any content arrived (rate limits, overloads)."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_wait: float = 120.0  # a Retry-After longer than this fails at once, saying when to try again

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before try `attempt + 1`: the provider's Retry-After, else backoff with jitter."""
        if retry_after is not None:
            return max(0.0, retry_after)
        jitter: float = random.random()  # noqa: S311 (jitter, not crypto)
        return float(min(self.max_delay, self.base_delay * 2**attempt * (0.75 + jitter * 0.5)))


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` (seconds or an HTTP date); None if absent or bad."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = _seconds(lowered.get("retry-after-ms"))
    if ms is not None:
        return ms / 1000
    value = lowered.get("retry-after")
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    import email.utils

    try:  # a header from a server is untrusted text: a bad date is no date, never a crash
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds(text: str | None) -> float | None:
    """A finite, non-negative number of seconds, or None."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return max(0.0, value) if math.isfinite(value) else None
