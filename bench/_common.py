"""What the benchmarks share: percentiles of timings, and this process's resident memory."""

from __future__ import annotations

from pathlib import Path


def pct(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (the nearest rank), NaN for none."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux), NaN where /proc does not say."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
