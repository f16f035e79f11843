"""Start-up benchmark: process start to the main window's first paint, under Xvfb, against a bare window.

    python bench/startup.py [--runs 7] [--cold-runs 3] [--offscreen] [--data-dir DIR] [--command CMD]

Each run starts `python -m desktop_chat --temp-basedir` (an empty profile; or `--data-dir DIR`, a
returning user whose last conversation opens) with DESKTOP_CHAT_STARTUP_PROBE=1: on its first paint the
app prints the time (CLOCK_MONOTONIC, shared by both processes), whether `openai` was already imported,
and its RSS, then quits. Warm runs follow one discarded run; cold runs drop the page cache first (needs
root: otherwise `first_paint_ms_cold` is null). Bytecode is cached as in an installed app (the discarded
run writes it even when the shell sets PYTHONDONTWRITEBYTECODE). Without DISPLAY an Xvfb server is
started for the run (the xcb platform, as a person's desktop would use); `--offscreen` uses Qt's
offscreen platform. `--command "dist/desktop-chat/desktop-chat"` times that command instead of
`python -m desktop_chat` (e.g. the PyInstaller build; split like a shell would, the profile arguments
are appended).

The app paints its window's frame first and its content (the conversation list, the last
conversation) once the store and services are up: `content_paint_ms_warm` is the second.

The reference: each warm run of the app is followed by a run of bench/bare_window.py (a PySide6 window
with a splitter, a list, a text view and a text box, and nothing else), measured the same way, so both
see the same machine at the same moment. `startup_ratio` is the app's warm median over the bare
window's: what the app does before its first paint beyond showing a window.

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE_WINDOW = [sys.executable, str(Path(__file__).with_name("bare_window.py"))]


def _start_xvfb() -> tuple[subprocess.Popen[str] | None, str | None]:
    binary = shutil.which("Xvfb")
    if binary is None:
        return None, None
    server = subprocess.Popen(
        [binary, "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    number = server.stdout.readline().strip()
    return server, f":{number}"


def _drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=False)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def one_run(
    env: dict[str, str], where: list[str], command: list[str] | None = None, *, content: bool = True
) -> dict[str, float | int]:
    """Start the app once: the first paint's delay (ms), openai imported (0/1), RSS (KiB), and (with
    `content`) the delay until the window's content painted (`content_ms`)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [*(command or [sys.executable, "-m", "desktop_chat"]), *where],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    result: dict[str, float | int] = {}
    for line in proc.stderr:
        fields = line.split()
        if line.startswith("first-paint "):
            result = {
                "ms": (float(fields[1]) - started) * 1000,
                "openai": int(fields[2].split("=")[1]),
                "rss_kib": int(fields[3].split("=")[1]),
            }
            if not content:
                break
        elif line.startswith("content-paint ") and result:
            result["content_ms"] = (float(fields[1]) - started) * 1000
            result["openai"] = int(fields[2].split("=")[1])
            result["rss_kib"] = int(fields[3].split("=")[1])
            break
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    if not result:
        sys.exit(f"the app exited ({proc.returncode}) without painting")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="warm runs (after one discarded)")
    parser.add_argument("--cold-runs", type=int, default=3, help="runs after dropping the page cache")
    parser.add_argument("--offscreen", action="store_true", help="Qt's offscreen platform instead of Xvfb")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="start on this profile (a returning user: its last conversation opens) instead of an empty one",
    )
    parser.add_argument(
        "--command",
        metavar="CMD",
        help="start this instead of `python -m desktop_chat` (e.g. dist/desktop-chat/desktop-chat)",
    )
    args = parser.parse_args(argv)
    command = shlex.split(args.command) if args.command else None
    where = ["--data-dir", args.data_dir] if args.data_dir else ["--temp-basedir"]

    env = dict(os.environ, DESKTOP_CHAT_STARTUP_PROBE="1", PYTHONUNBUFFERED="1")
    # An installed app runs from compiled bytecode (pip and the .deb compile it); a shell that sets
    # PYTHONDONTWRITEBYTECODE would make every run recompile ~1,000 modules (~0.2 s) instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    xvfb = None
    if args.offscreen:
        env["QT_QPA_PLATFORM"] = "offscreen"
        platform = "offscreen"
    elif env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "xcb"
        platform = f"xcb on {env['DISPLAY']}"
    else:
        xvfb, display = _start_xvfb()
        if display is None:
            sys.exit("no DISPLAY and no Xvfb: install xvfb or pass --offscreen")
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
        platform = f"xcb on Xvfb {display}"
    try:
        one_run(env, where, command)  # discarded: fills the page cache
        one_run(env, [], BARE_WINDOW, content=False)
        warm: list[dict[str, float | int]] = []
        bare: list[dict[str, float | int]] = []
        for _ in range(args.runs):  # interleaved: both see the machine as it is at that moment
            warm.append(one_run(env, where, command))
            bare.append(one_run(env, [], BARE_WINDOW, content=False))
        cold: list[dict[str, float | int]] = []
        for _ in range(args.cold_runs):
            if not _drop_caches():
                break
            cold.append(one_run(env, where, command))
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    warm_ms = [float(r["ms"]) for r in warm]
    bare_ms = [float(r["ms"]) for r in bare]
    cold_ms = [float(r["ms"]) for r in cold]
    result = {
        "command": args.command or "python -m desktop_chat",
        "platform": platform,
        "profile": "data-dir" if args.data_dir else "empty (--temp-basedir)",
        "first_paint_ms_warm": round(statistics.median(warm_ms), 1),
        "first_paint_ms_warm_max": round(max(warm_ms), 1),
        "content_paint_ms_warm": round(
            statistics.median(float(r.get("content_ms", r["ms"])) for r in warm), 1
        ),
        "first_paint_ms_cold": round(statistics.median(cold_ms), 1) if cold_ms else None,
        "rss_mib": round(statistics.median(float(r["rss_kib"]) for r in warm) / 1024, 1),
        "bare_window_ms_warm": round(statistics.median(bare_ms), 1),
        "startup_ratio": round(statistics.median(warm_ms) / statistics.median(bare_ms), 3),
        "rss_mib_bare": round(statistics.median(float(r["rss_kib"]) for r in bare) / 1024, 1),
        "openai_imported_before_paint": any(r["openai"] for r in [*warm, *cold]),
        "warm_runs": len(warm),
        "cold_runs": len(cold),
    }
    print(f"warm runs (ms): {', '.join(f'{v:.0f}' for v in warm_ms)}")
    print(f"bare window (ms): {', '.join(f'{v:.0f}' for v in bare_ms)}")
    if cold_ms:
        print(f"cold runs (ms): {', '.join(f'{v:.0f}' for v in cold_ms)}")
    else:
        print("cold runs: skipped (dropping the page cache needs root)")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
