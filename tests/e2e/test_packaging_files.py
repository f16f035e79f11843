"""The packaging inputs, checked without building anything: icons, the spec, the desktop entry, the
AppStream metainfo and the .deb recipe. The validators run when installed (Debian: desktop-file-utils,
appstream), else those checks skip. `make package` builds and smoke-tests the real packages."""

from __future__ import annotations

import configparser
import re
import shutil
import struct
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
LINUX = PACKAGING / "linux"
ICONS = ROOT / "resources" / "icons"
DESKTOP = LINUX / "desktop-chat.desktop"
METAINFO = LINUX / "io.github.desktop_chat.metainfo.xml"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("size", SIZES)
def test_icon_png_at_each_size(size: int) -> None:
    assert _png_size(ICONS / f"desktop_chat-{size}.png") == (size, size)


def test_icon_svg_is_kept() -> None:
    svg = ICONS / "desktop_chat.svg"
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def test_spec_is_onedir_and_keeps_resources() -> None:
    spec = (PACKAGING / "desktop_chat.spec").read_text(encoding="utf-8")
    assert "COLLECT(" in spec, "onedir: the spec must end in COLLECT (never --onefile)"
    assert "exclude_binaries=True" in spec
    assert 'NAME = "desktop-chat"' in spec
    assert '"desktop_chat/resources"' in spec
    assert 'copy_metadata("desktop_chat")' in spec, "desktop_chat.__version__ reads the package metadata"
    compile(spec, "desktop_chat.spec", "exec")  # at least valid Python


def test_desktop_entry_keys() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(DESKTOP, encoding="utf-8")
    group = entry["Desktop Entry"]
    assert group["Type"] == "Application"
    assert group["Exec"] == "desktop-chat"  # /usr/bin/desktop-chat in the .deb
    assert group["Icon"] == "desktop-chat"  # /usr/share/icons/hicolor/*/apps/desktop-chat.png
    assert group["StartupWMClass"] == "desktop_chat"  # QApplication.applicationName()
    assert group["Terminal"] == "false"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_validates() -> None:
    proc = subprocess.run(
        ["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in (proc.stdout + proc.stderr).lower()


def test_metainfo_matches_the_package() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == METAINFO.name.removesuffix(".metainfo.xml")
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == "desktop-chat"
    releases = [r.get("version") for r in root.iter("release")]
    assert _version() in releases, "add a <release> for the version in pyproject.toml"


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_metainfo_validates() -> None:
    proc = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_deb_recipe() -> None:
    control = (LINUX / "control.in").read_text(encoding="utf-8")
    fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", control, flags=re.MULTILINE))
    assert fields["Package"] == "desktop-chat"
    assert fields["Version"] == "@VERSION@"  # filled from the package metadata
    for dep in ("libc6", "libgl1", "libegl1", "libxcb1", "fontconfig-config", "fonts-dejavu-core"):
        assert re.search(rf"(^|, ){re.escape(dep)}( \(|,|$)", fields["Depends"]), dep
    bash = shutil.which("bash")
    for script in ("build-deb.sh", "test-in-debian12.sh"):
        path = LINUX / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        if bash is not None:
            proc = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
