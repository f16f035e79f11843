"""`--install-desktop-entry` / `--uninstall-desktop-entry`: a per-user XDG entry and icons, headless."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_chat import desktop_entry
from tests.helpers.proc import app_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG desktop entries are for Linux"),
]

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"


def _headless_env(data_home: Path) -> dict[str, str]:
    """No display of any kind: the options must not need one."""
    env = app_env(XDG_DATA_HOME=str(data_home))
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(var, None)
    return env


def _run(option: str, data_home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_chat", option],
        env=_headless_env(data_home),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    with path.open(encoding="utf-8") as fh:
        parser.read_file(fh)
    assert parser.sections() == ["Desktop Entry"]
    return parser["Desktop Entry"]


def _expected_icons(data_home: Path) -> set[Path]:
    hicolor = data_home / "icons" / "hicolor"
    icons = {
        hicolor / f"{m[1]}x{m[1]}" / "apps" / "desktop-chat.png"
        for p in ICONS.glob("desktop_chat-*.png")
        if (m := re.fullmatch(r"desktop_chat-(\d+)\.png", p.name))
    }
    if (ICONS / "desktop_chat.svg").is_file():
        icons.add(hicolor / "scalable" / "apps" / "desktop-chat.svg")
    return icons


def test_install_then_uninstall_without_a_display(tmp_path: Path) -> None:
    data_home = tmp_path / "share"
    proc = _run("--install-desktop-entry", data_home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "desktop-file-validate says" not in proc.stderr, proc.stderr

    desktop = data_home / "applications" / "desktop-chat.desktop"
    assert desktop.is_file()
    entry = _read_entry(desktop)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Desktop Chat"
    assert entry["Icon"] == "desktop-chat"
    assert entry["Terminal"] == "false"
    assert entry["Categories"] == "Network;Chat;"
    assert entry["StartupWMClass"] == "desktop_chat"  # QCoreApplication.applicationName()
    # Exec is this environment's launcher (.venv/bin/desktop-chat), or `python -m desktop_chat`
    exec_args = entry["Exec"].split()
    launcher = Path(exec_args[0])
    assert launcher.is_absolute()
    assert launcher.is_file()
    assert os.access(launcher, os.X_OK)
    assert exec_args[1:] in ([], ["-m", "desktop_chat"])
    if not exec_args[1:]:
        assert launcher.name == "desktop-chat"
        assert launcher.parent == Path(sys.executable).absolute().parent
    assert entry["TryExec"] == str(launcher)

    icons = _expected_icons(data_home)
    assert icons, "resources/icons has no icon"
    for icon in icons:
        assert icon.is_file(), icon
    assert {str(p) for p in [*icons, desktop]} <= set(re.findall(r"^wrote (.+)$", proc.stdout, re.M))
    png = data_home / "icons" / "hicolor" / "48x48" / "apps" / "desktop-chat.png"
    if (ICONS / "desktop_chat-48.png").is_file():
        assert png.read_bytes() == (ICONS / "desktop_chat-48.png").read_bytes()

    # a second install changes nothing
    first = desktop.read_bytes()
    again = _run("--install-desktop-entry", data_home)
    assert again.returncode == 0, again.stderr[-3000:]
    assert desktop.read_bytes() == first

    removed = _run("--uninstall-desktop-entry", data_home)
    assert removed.returncode == 0, removed.stderr[-3000:]
    assert not desktop.exists()
    for icon in icons:
        assert not icon.exists(), icon
    assert f"removed {desktop}" in removed.stdout
    # and a second uninstall has nothing left to do
    nothing = _run("--uninstall-desktop-entry", data_home)
    assert nothing.returncode == 0, nothing.stderr[-3000:]
    assert "nothing to remove" in nothing.stdout


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    data_home = tmp_path / "share"
    proc = _run("--install-desktop-entry", data_home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check = subprocess.run(
        ["desktop-file-validate", str(data_home / "applications" / "desktop-chat.desktop")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "error:" not in check.stdout + check.stderr


def test_unwritable_data_home_fails_with_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = _run("--install-desktop-entry", blocker)
    assert proc.returncode == 1
    assert "cannot write" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("/usr/bin/desktop-chat", "/usr/bin/desktop-chat"),
        ("/home/a b/desktop-chat", '"/home/a b/desktop-chat"'),
        ("/opt/100%/x", "/opt/100%%/x"),
        ('/opt/say "hi"/$x', r'"/opt/say \\"hi\\"/\\$x"'),
    ],
)
def test_exec_arguments_are_quoted_as_the_spec_says(arg: str, expected: str) -> None:
    assert f"\nExec={expected}\n" in desktop_entry.desktop_entry_text([arg])


def test_module_needs_no_qt() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, desktop_chat.app, desktop_chat.desktop_entry; "
            "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt was imported'",
        ],
        env=app_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
