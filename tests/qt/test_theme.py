"""Theme and text size: applied to the whole app at once, and live when the setting changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QEvent
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from desktop_chat.services.app_services import AppServices
from desktop_chat.settings import FONT_SIZE, THEME
from desktop_chat.ui.common.theme import ThemeManager, dark_palette, is_dark, light_palette
from desktop_chat.ui.common.widgets import StatusLabel

Role = QPalette.ColorRole


class Watcher(QWidget):
    """Records the palette and font changes a custom-painted widget would react to."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[QEvent.Type] = []

    def changeEvent(self, event: QEvent) -> None:
        self.events.append(event.type())
        super().changeEvent(event)


@pytest.fixture
def restore_app(qapp: QApplication) -> Iterator[None]:
    """Put the application's style, palette and font back after the test."""
    style = qapp.style().name()
    font = QFont(qapp.font())
    yield
    qapp.styleHints().unsetColorScheme()
    qapp.setStyle(style)
    qapp.setPalette(QPalette())
    qapp.setFont(font)


@pytest.fixture
def manager(qapp: QApplication, services: AppServices, restore_app: None) -> Iterator[ThemeManager]:
    theme = ThemeManager(qapp, services.settings)
    yield theme
    theme.setParent(None)
    shiboken6.delete(theme)


def test_the_dark_palette_is_dark_and_readable() -> None:
    dark, light = dark_palette(), light_palette()
    assert is_dark(dark)
    assert not is_dark(light)
    for palette in (dark, light):
        for bg, fg in (
            (Role.Window, Role.WindowText),
            (Role.Base, Role.Text),
            (Role.Button, Role.ButtonText),
        ):
            contrast = abs(palette.color(bg).lightness() - palette.color(fg).lightness())
            assert contrast > 150, (bg, fg)


def test_switching_the_theme_repaints_every_widget_live(
    qtbot, qapp: QApplication, services: AppServices, manager: ThemeManager
) -> None:
    watcher = Watcher()
    qtbot.addWidget(watcher)
    watcher.show()
    assert manager.applied == "system"  # offscreen: no dark system scheme, nothing changed
    settings = services.settings

    settings.set(THEME, "dark")
    assert manager.applied == "dark"
    assert qapp.style().name() == "fusion"
    assert is_dark()
    assert qapp.palette().color(Role.Window).name() == "#202124"
    qtbot.waitUntil(lambda: watcher.palette().color(Role.Window).name() == "#202124")  # Qt posts it
    assert QEvent.Type.PaletteChange in watcher.events

    watcher.events.clear()
    settings.set(THEME, "light")
    assert not is_dark()
    assert qapp.palette().color(Role.Window).name() == "#f3f4f6"
    qtbot.waitUntil(lambda: QEvent.Type.PaletteChange in watcher.events)

    settings.set(THEME, "system")
    assert manager.applied == "system"
    assert qapp.palette().color(Role.Window) == QPalette().color(Role.Window)


def test_status_lines_recolour_with_the_theme(qtbot, services: AppServices, manager: ThemeManager) -> None:
    label = StatusLabel()
    qtbot.addWidget(label)
    label.show_status("Connected", "ok")
    light_sheet = label.styleSheet()
    assert light_sheet == "color: #1a7f37;"
    services.settings.set(THEME, "dark")
    qtbot.waitUntil(lambda: label.styleSheet() == "color: #7ee2a8;")


def test_the_text_size_applies_live_and_zero_means_the_system_size(
    qtbot, qapp: QApplication, services: AppServices, manager: ThemeManager
) -> None:
    system_size = qapp.font().pointSize()
    label = QLabel("Hello")
    qtbot.addWidget(label)
    label.show()
    watcher = Watcher()
    qtbot.addWidget(watcher)
    watcher.show()

    services.settings.set(FONT_SIZE, 17)
    assert qapp.font().pointSize() == 17
    qtbot.waitUntil(lambda: label.font().pointSize() == 17)
    assert QEvent.Type.FontChange in watcher.events

    services.settings.set(FONT_SIZE, 200)  # out of range: the largest size instead
    assert qapp.font().pointSize() == 32
    services.settings.set(FONT_SIZE, 0)
    assert qapp.font().pointSize() == system_size


def test_the_saved_theme_is_applied_at_start(
    qapp: QApplication, services: AppServices, restore_app: None
) -> None:
    services.settings.set(THEME, "dark")
    services.settings.set(FONT_SIZE, 12)
    theme = ThemeManager(qapp, services.settings)
    try:
        assert is_dark()
        assert qapp.font().pointSize() == 12
    finally:
        theme.setParent(None)
        shiboken6.delete(theme)
