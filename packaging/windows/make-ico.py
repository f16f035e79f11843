"""Make packaging/windows/desktop-chat.ico (the installer's and the shortcut's icon) from the shipped icons.

    python packaging/windows/make-ico.py [-o OUT.ico]

Each size Windows uses (16, 24, 32, 48, 64, 128, 256) is taken from resources/icons/desktop_chat-<size>.png
when that PNG exists (no dependency at all), else rendered from resources/icons/desktop_chat.svg with
PySide6's SVG renderer on the offscreen platform. The entries are stored as PNG, as Pillow writes them and
as Windows reads them since Vista. Any OS; no display needed.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "desktop_chat.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def render_svg(size: int) -> bytes:
    """The SVG rendered at size x size, as PNG bytes (needs PySide6)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    buffer = QByteArray()
    device = QBuffer(buffer)
    device.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(device, "PNG"):  # type: ignore[call-overload]  # PySide6 wants a str, not its stubs' bytes
        raise RuntimeError(f"could not encode the {size}px icon")
    device.close()
    return bytes(buffer.data())


def icon_png(size: int) -> tuple[bytes, str]:
    """The PNG of one size and where it came from."""
    png = ICONS / f"desktop_chat-{size}.png"
    if png.is_file():
        data = png.read_bytes()
        if png_size(data) != (size, size):
            raise ValueError(f"{png} is {png_size(data)}, not {size}x{size}")
        return data, png.relative_to(ROOT).as_posix()
    return render_svg(size), f"{SVG.relative_to(ROOT).as_posix()} rendered at {size}px"


def build_ico(images: list[bytes]) -> bytes:
    """An .ico file holding `images` (PNG bytes, each at most 256x256) as PNG-compressed entries."""
    header = struct.pack("<HHH", 0, 1, len(images))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(images)
    directory = b""
    for data in images:
        width, height = png_size(data)
        if not (0 < width <= 256 and 0 < height <= 256):
            raise ValueError(f"an icon entry is {width}x{height}; .ico entries are at most 256x256")
        # width, height (0 = 256), palette colours, reserved, planes, bits per pixel, size, offset
        directory += struct.pack("<BBBBHHII", width % 256, height % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + directory + b"".join(images)


def main(argv: list[str] | None = None) -> int:
    """Write the .ico."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path(__file__).resolve().parent / "desktop-chat.ico",
        help="where to write the icon (default: packaging/windows/desktop-chat.ico)",
    )
    args = parser.parse_args(argv)
    images = []
    for size in SIZES:
        data, origin = icon_png(size)
        images.append(data)
        print(f"{size:>3}px  {origin}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(build_ico(images))
    print(f"wrote {args.output} ({len(SIZES)} sizes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
