"""PySide6 6.12.0 aborts on CPython 3.11 after ~1,000 Signal.emit(bool): 100k emits per type guard the pin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.proc import app_env

HELPER = Path(__file__).parents[1] / "helpers" / "emit_signals.py"
N = 100_000


def test_100k_emits_of_each_argument_type_survive() -> None:
    proc = subprocess.run(
        [sys.executable, str(HELPER), str(N)],
        env=app_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-2000:]}"
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(counts) == 9
    assert all(v == N for v in counts.values()), counts


def test_installed_pyside6_is_in_the_pinned_range() -> None:
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (6, 8) <= (major, minor) < (6, 12), PySide6.__version__
