"""Build the Linux packages: the PyInstaller onedir bundle, its checks, and the .deb (`make package`).

    .venv/bin/python packaging/build.py [--no-deb] [--no-smoke] [--skip-pyinstaller]

1. renders the PNG icons when one is missing (packaging/render_icons.py);
2. runs PyInstaller on packaging/desktop_chat.spec: dist/desktop-chat/ (onedir, never --onefile);
3. reports the bundle's size and its Qt libraries, and fails when one is not in QT_LIBS below (a new
   dependency must be looked at, not shipped by accident);
4. the packaged smoke test: starts tests/helpers/llm_server/ and runs
   `dist/desktop-chat/desktop-chat --smoke ...`, which must answer with the scripted text;
5. packaging/linux/build-deb.sh: dist/desktop-chat_<version>_<arch>.deb (Linux with dpkg-deb only).

PyInstaller must be installed in this interpreter (`make package` installs it into .venv only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUNDLE = DIST / "desktop-chat"
SMOKE_TEXT = "Hello from the packaged app."

# Every Qt library the bundle may hold, and why the app needs it.
QT_LIBS = {
    "Core": "imported by the app",
    "Gui": "imported by the app",
    "Widgets": "imported by the app",
    "Test": "QTest types into the real window in --smoke runs (desktop_chat/ui/smoke_runner.py)",
    "DBus": "linked by QtGui; the IBus input context and the XDG portal theme use it",
    "XcbQpa": "the xcb (X11) platform plugin",
    "Svg": "the SVG icon engine and image format (the app icon)",
    "WaylandClient": "the Wayland platform plugin",
    "WlShellIntegration": "the Wayland xdg-shell integration",
    "OpenGL": "linked by the Wayland EGL client integration only (not by the xcb GLX/EGL plugins)",
}
_QT_LIB = re.compile(r"libQt6(\w+?)\.so")


def _run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, **kwargs)  # type: ignore[call-overload]


def _size_mib(path: Path) -> float:
    total = sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 2**20


def icons() -> None:
    """Render the PNG icons if any is missing."""
    check = subprocess.run([sys.executable, "packaging/render_icons.py", "--check"], cwd=ROOT, check=False)
    if check.returncode:
        _run([sys.executable, "packaging/render_icons.py"])


def pyinstaller() -> None:
    """dist/desktop-chat/ from the spec."""
    shutil.rmtree(BUNDLE, ignore_errors=True)
    started = time.monotonic()
    _run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(ROOT / "build" / "pyinstaller"),
            str(ROOT / "packaging" / "desktop_chat.spec"),
        ]
    )
    print(f"build.py: PyInstaller took {time.monotonic() - started:.0f} s")


def report() -> None:
    """Print the bundle's size and Qt libraries; fail on a Qt library nobody accounted for."""
    if not (BUNDLE / "desktop-chat").is_file():
        sys.exit(f"build.py: {BUNDLE}/desktop-chat is missing")
    print(f"build.py: {BUNDLE.relative_to(ROOT)} is {_size_mib(BUNDLE):.0f} MiB")
    found = sorted(
        {
            m.group(1)
            for p in BUNDLE.rglob("libQt6*.so*")
            if (m := _QT_LIB.match(p.name)) and not p.is_symlink()
        }
    )
    unexpected = [name for name in found if name not in QT_LIBS]
    for name in found:
        print(f"    libQt6{name}: {QT_LIBS.get(name, 'UNEXPECTED: add it to QT_LIBS or exclude it')}")
    plugins = BUNDLE / "_internal" / "PySide6" / "Qt" / "plugins"
    for kind in sorted(p for p in plugins.iterdir() if p.is_dir()):
        print(f"    plugins/{kind.name}: {' '.join(sorted(f.name for f in kind.iterdir()))}")
    if unexpected:
        sys.exit(f"build.py: unexpected Qt libraries in the bundle: {', '.join(unexpected)}")


def smoke() -> None:
    """The packaged app chats once (offscreen) with the local test server."""
    sys.path.insert(0, str(ROOT))
    from tests.helpers.llm_server import text_script, write_script_file

    with tempfile.TemporaryDirectory(prefix="desktop-chat-package-") as tmp:
        script = write_script_file(Path(tmp) / "script.json", text_script(SMOKE_TEXT, model="test-model"))
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.llm_server", "--port", "0", "--script", str(script)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if not line.startswith("PORT "):
                sys.exit(f"build.py: the test server did not start ({line!r})")
            env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # --smoke picks offscreen
            started = time.monotonic()
            proc = subprocess.run(
                [
                    str(BUNDLE / "desktop-chat"),
                    "--smoke",
                    "--base-url",
                    f"http://127.0.0.1:{line.split()[1]}/v1",
                    "--model",
                    "test-model",
                    "--prompt",
                    "hi",
                    "--temp-basedir",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=10)
    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    print(f"build.py: packaged smoke exit {proc.returncode} in {elapsed:.2f} s: {lines[-1] if lines else ''}")
    if proc.returncode != 0 or result.get("status") != "done" or result.get("text") != SMOKE_TEXT:
        sys.exit(f"build.py: the packaged smoke test failed\n{proc.stderr[-3000:]}")


def deb() -> None:
    """dist/desktop-chat_<version>_<arch>.deb."""
    if not shutil.which("dpkg-deb"):
        print("build.py: no dpkg-deb here: skipping the .deb")
        return
    _run(["bash", "packaging/linux/build-deb.sh"], env=dict(os.environ, PYTHON=sys.executable))


def main(argv: list[str] | None = None) -> int:
    """Run the steps."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--skip-pyinstaller", action="store_true", help="reuse dist/desktop-chat/")
    parser.add_argument("--no-smoke", action="store_true", help="skip the packaged smoke test")
    parser.add_argument("--no-deb", action="store_true", help="stop after the bundle")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        sys.exit("build.py builds the Linux packages: see packaging/windows and packaging/macos")
    icons()
    if not args.skip_pyinstaller:
        pyinstaller()
    report()
    if not args.no_smoke:
        smoke()
    if not args.no_deb:
        deb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
