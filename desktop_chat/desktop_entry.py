"""A per-user XDG desktop entry and icons, for installs that have none (pipx, pip, a source checkout).

`desktop-chat --install-desktop-entry` writes `$XDG_DATA_HOME/applications/desktop-chat.desktop` (by
default under ~/.local/share) starting the launcher that is running now, and copies the icons into
`$XDG_DATA_HOME/icons/hicolor/`; `--uninstall-desktop-entry` removes them again. Both are idempotent and
run without a display: this module imports nothing of Qt. The .deb ships its own entry system-wide.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import re
import shutil
import subprocess
import sys
from importlib.resources.abc import Traversable
from pathlib import Path

DESKTOP_ID = "desktop-chat"  # the .desktop file's name; Qt's desktopFileName (Wayland app id) in app.py
ICON_NAME = "desktop-chat"
# On X11, Qt's WM_CLASS class is QCoreApplication.applicationName(), set in app._create_app.
WM_CLASS = "desktop_chat"
_PNG_NAME = re.compile(r"desktop_chat-(\d+)\.png")
_SVG_NAME = "desktop_chat.svg"
_TOOL_TIMEOUT = 30


class DesktopEntryError(Exception):
    """The entry or an icon could not be written or removed."""


def data_home(home: Path | None = None) -> Path:
    """`home` if given, else $XDG_DATA_HOME (when absolute, as the spec says), else ~/.local/share."""
    if home is not None:
        return Path(home).expanduser().absolute()
    env = os.environ.get("XDG_DATA_HOME", "")
    if env and Path(env).is_absolute():
        return Path(env)
    return Path.home() / ".local" / "share"


def launcher_command() -> list[str]:
    """The absolute command that starts this installation of the app.

    A frozen build (PyInstaller) is its own executable; an installed package has its `desktop-chat`
    script next to the interpreter (what pip and pipx put in the environment's bin/); anything else
    runs `python -m desktop_chat` with this interpreter. The interpreter's path is kept as it is, not
    resolved: a virtual environment's bin/python is a symlink to the base interpreter.
    """
    executable = Path(sys.executable).absolute()
    if getattr(sys, "frozen", False):
        return [str(executable)]
    script = executable.parent / ("desktop-chat.exe" if sys.platform == "win32" else "desktop-chat")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(executable), "-m", "desktop_chat"]


def _exec_arg(arg: str) -> str:
    """One argument of an Exec key: quoted as the desktop entry spec asks, then escaped as a string value."""
    if not arg or re.search(r"[\s\"'\\><~|&;$*?#()`]", arg):
        arg = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    return arg.replace("%", "%%").replace("\\", "\\\\")


def desktop_entry_text(command: list[str]) -> str:
    """The contents of desktop-chat.desktop for `command`."""
    exec_line = " ".join(_exec_arg(a) for a in command)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # the newest desktop-file-validate 0.26 (Debian 12) knows
        "Name=Desktop Chat",
        "GenericName=Chat Client",
        "Comment=Chat with cloud and local language models",
        f"Exec={exec_line}",
        "TryExec=" + command[0].replace("\\", "\\\\"),  # a plain string, not an Exec argument
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Network;Chat;",  # as the .deb's entry: one main category, listed once
        "Keywords=AI;LLM;ChatGPT;OpenAI;Ollama;assistant;",
        "StartupNotify=true",
        f"StartupWMClass={WM_CLASS}",
    ]
    return "\n".join(lines) + "\n"


def _icon_dir() -> Traversable | None:
    """resources/icons: from the installed package, or from the source tree when run from a checkout."""
    packaged = importlib.resources.files("desktop_chat").joinpath("resources", "icons")
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / "resources" / "icons"
    return checkout if checkout.is_dir() else None


def icon_sources() -> dict[str, Traversable]:
    """Theme subdirectory (`48x48`, `scalable`) -> shipped icon file.

    Every `desktop_chat-<size>.png` goes to `<size>x<size>`, the SVG to `scalable`.
    """
    found: dict[str, Traversable] = {}
    icons = _icon_dir()
    if icons is None:
        return found
    for entry in sorted(icons.iterdir(), key=lambda e: e.name):
        match = _PNG_NAME.fullmatch(entry.name)
        if match and entry.is_file():
            size = int(match.group(1))
            found[f"{size}x{size}"] = entry
        elif entry.name == _SVG_NAME and entry.is_file():
            found["scalable"] = entry
    return found


def _icon_target(base: Path, subdir: str) -> Path:
    suffix = ".svg" if subdir == "scalable" else ".png"
    return base / "icons" / "hicolor" / subdir / "apps" / f"{ICON_NAME}{suffix}"


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` by replacing it (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.chmod(0o644)
    os.replace(partial, path)


def _run_tool(*command: str) -> None:
    """Run a desktop cache tool if it is installed; its failures are not ours to report."""
    if shutil.which(command[0]) is None:
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_TOOL_TIMEOUT,
            check=False,
        )


def _refresh_caches(base: Path) -> None:
    if (base / "applications").is_dir():
        _run_tool("update-desktop-database", "-q", str(base / "applications"))
    if (base / "icons" / "hicolor").is_dir():
        # -t: a per-user hicolor directory has no index.theme of its own
        _run_tool("gtk-update-icon-cache", "-q", "-f", "-t", str(base / "icons" / "hicolor"))


def validate(path: Path) -> str | None:
    """desktop-file-validate's errors about `path`; None when it is valid or the tool is not installed."""
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        return None
    try:
        proc = subprocess.run(
            [validator, str(path)],
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode == 0:
        return None  # valid; it may still print hints
    return (proc.stdout + proc.stderr).strip() or f"exit code {proc.returncode}"


def desktop_file(home: Path | None = None) -> Path:
    """Where the desktop entry goes."""
    return data_home(home) / "applications" / f"{DESKTOP_ID}.desktop"


def install(home: Path | None = None) -> list[Path]:
    """Write the desktop entry and the icons under `home` (default: the XDG data home); the files written.

    Raises DesktopEntryError when a file cannot be written.
    """
    base = data_home(home)
    written: list[Path] = []
    try:
        for subdir, source in icon_sources().items():
            target = _icon_target(base, subdir)
            _write(target, source.read_bytes())
            written.append(target)
        for stale in set(installed_files(base)) - {*written, desktop_file(base)}:
            stale.unlink()  # a size an older version shipped and this one does not
        entry = desktop_file(base)
        _write(entry, desktop_entry_text(launcher_command()).encode("utf-8"))
        written.append(entry)
    except OSError as exc:
        raise DesktopEntryError(f"cannot write {exc.filename or base}: {exc.strerror or exc}") from exc
    _refresh_caches(base)
    return written


def installed_files(home: Path | None = None) -> list[Path]:
    """The entry and every icon of ours under `home` (whichever sizes an earlier install wrote)."""
    base = data_home(home)
    files = [desktop_file(base)]
    hicolor = base / "icons" / "hicolor"
    for pattern in (f"*/apps/{ICON_NAME}.png", f"*/apps/{ICON_NAME}.svg"):
        files.extend(sorted(hicolor.glob(pattern)))
    return [f for f in files if f.is_file() or f.is_symlink()]


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove the desktop entry and the icons; the files removed (none when nothing was installed)."""
    base = data_home(home)
    removed: list[Path] = []
    for path in installed_files(base):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopEntryError(f"cannot remove {path}: {exc.strerror or exc}") from exc
        removed.append(path)
    if removed:
        _refresh_caches(base)
    return removed


def main(*, remove: bool = False, home: Path | None = None) -> int:
    """`--install-desktop-entry` / `--uninstall-desktop-entry`: do it and say what was done; 0 or 1."""
    if sys.platform in ("win32", "darwin"):
        print(
            "desktop_chat: desktop entries are for Linux (XDG) desktops; on Windows and macOS use the "
            "installer (see packaging/README.md).",
            file=sys.stderr,
        )
        return 1
    try:
        paths = uninstall(home) if remove else install(home)
    except DesktopEntryError as exc:
        print(f"desktop_chat: {exc}", file=sys.stderr)
        return 1
    if remove:
        for path in paths:
            print(f"removed {path}")
        if not paths:
            print(f"nothing to remove: no desktop entry in {desktop_file(home)}")
        return 0
    for path in paths:
        print(f"wrote {path}")
    complaints = validate(desktop_file(home))
    if complaints:
        print(f"desktop_chat: desktop-file-validate says:\n{complaints}", file=sys.stderr)
    return 0
