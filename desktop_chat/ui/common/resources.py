"""Files shipped in `resources/` (inside the wheel as `desktop_chat/resources`)."""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtGui import QIcon


def resource(*parts: str) -> Traversable | None:
    """A shipped file: from the installed package, or from the source tree when run from a checkout."""
    packaged = importlib.resources.files("desktop_chat").joinpath("resources", *parts)
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "resources"
    candidate = checkout.joinpath(*parts)
    return candidate if candidate.is_file() else None


def app_icon() -> QIcon | None:
    """The application icon, or None when the resources are missing."""
    found = resource("icons", "desktop_chat.svg")
    if found is None:
        return None
    with importlib.resources.as_file(found) as path:
        return QIcon(str(path))
