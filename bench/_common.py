"""What the benchmarks share: percentiles of timings, and this process's resident memory."""

from __future__ import annotations

from desktop_chat.startup_probe import rss_kib


def pct(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (the nearest rank), NaN for none."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux), NaN where /proc does not say."""
    return rss_kib() / 1024 or float("nan")
