"""Render resources/icons/desktop_chat.svg to the PNG sizes desktops and installers use.

    python packaging/render_icons.py [--check]

Writes resources/icons/desktop_chat-<size>.png for each size in SIZES (the SVG stays the source and is
shipped too, as the hicolor "scalable" icon). `--check` renders in memory and exits 1 when a PNG is missing
or its size is wrong, without writing anything. Runs on Qt's offscreen platform: no display needed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "desktop_chat.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_path(size: int) -> Path:
    """Where the PNG of one size lives."""
    return ICONS / f"desktop_chat-{size}.png"


def main(argv: list[str] | None = None) -> int:
    """Render (or, with --check, verify) every size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify the PNGs instead of writing them")
    args = parser.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"cannot read {SVG}", file=sys.stderr)
        return 1
    problems = []
    for size in SIZES:
        target = png_path(size)
        if args.check:
            found = QImage(str(target))
            if found.isNull() or (found.width(), found.height()) != (size, size):
                problems.append(f"{target.relative_to(ROOT)}: missing or not {size}x{size}")
            continue
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        if not image.convertToFormat(QImage.Format.Format_ARGB32).save(str(target)):  # PNG: the suffix
            problems.append(f"cannot write {target}")
        else:
            print(f"{target.relative_to(ROOT)} {size}x{size} {target.stat().st_size} bytes")
    del app
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
