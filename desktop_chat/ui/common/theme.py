"""Colour theme and text size, applied to the whole application at start and whenever the setting changes.

- "light" and "dark": Qt's Fusion style with a hand-tuned palette (the same on every platform);
- "system": the platform's own style and palette; when the platform says it is in dark mode but its
  palette is light (some Linux desktops), the dark palette is used.

Widgets that paint by hand (the transcript delegate) read the palette and font when they paint and
react to `QEvent.PaletteChange` / `QEvent.FontChange`; `is_dark()` tells which kind of palette is on.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from desktop_chat.settings import FONT_SIZE, THEME, Settings

log = logging.getLogger(__name__)

FONT_SIZE_RANGE = (6, 32)  # points; 0 is the system size

Role = QPalette.ColorRole
Group = QPalette.ColorGroup

_DARK: dict[Role, str] = {
    Role.Window: "#202124",
    Role.WindowText: "#e8eaed",
    Role.Base: "#17181a",
    Role.AlternateBase: "#26282b",
    Role.ToolTipBase: "#2d2f33",
    Role.ToolTipText: "#e8eaed",
    Role.PlaceholderText: "#8b8f96",
    Role.Text: "#e8eaed",
    Role.Button: "#2b2d31",
    Role.ButtonText: "#e8eaed",
    Role.BrightText: "#ff6b6b",
    Role.Light: "#3c3f44",
    Role.Midlight: "#33363a",
    Role.Mid: "#2a2c30",
    Role.Dark: "#111214",
    Role.Shadow: "#000000",
    Role.Highlight: "#3d6fd6",
    Role.HighlightedText: "#ffffff",
    Role.Accent: "#3d6fd6",
    Role.Link: "#8ab4f8",
    Role.LinkVisited: "#c58af9",
}
_DARK_DISABLED: dict[Role, str] = {
    Role.WindowText: "#6f737a",
    Role.Text: "#6f737a",
    Role.ButtonText: "#6f737a",
    Role.Base: "#1c1d20",
    Role.Button: "#25272a",
    Role.Highlight: "#3a3d42",
    Role.HighlightedText: "#9aa0a6",
    Role.PlaceholderText: "#5d6167",
}
_LIGHT: dict[Role, str] = {
    Role.Window: "#f3f4f6",
    Role.WindowText: "#1f2328",
    Role.Base: "#ffffff",
    Role.AlternateBase: "#f6f8fa",
    Role.ToolTipBase: "#ffffff",
    Role.ToolTipText: "#1f2328",
    Role.PlaceholderText: "#6e7781",
    Role.Text: "#1f2328",
    Role.Button: "#f6f7f9",
    Role.ButtonText: "#1f2328",
    Role.BrightText: "#cf222e",
    Role.Light: "#ffffff",
    Role.Midlight: "#eceef1",
    Role.Mid: "#c9ccd1",
    Role.Dark: "#9ea3aa",
    Role.Shadow: "#6e7781",
    Role.Highlight: "#2f6fdb",
    Role.HighlightedText: "#ffffff",
    Role.Accent: "#2f6fdb",
    Role.Link: "#0969da",
    Role.LinkVisited: "#8250df",
}
_LIGHT_DISABLED: dict[Role, str] = {
    Role.WindowText: "#9ca3ab",
    Role.Text: "#9ca3ab",
    Role.ButtonText: "#9ca3ab",
    Role.Base: "#f3f4f6",
    Role.Highlight: "#d0d7de",
    Role.HighlightedText: "#57606a",
    Role.PlaceholderText: "#b1b7be",
}


def _palette(colours: dict[Role, str], disabled: dict[Role, str]) -> QPalette:
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role, colour in disabled.items():
        palette.setColor(Group.Disabled, role, QColor(colour))
    return palette


def dark_palette() -> QPalette:
    """The dark palette (Fusion)."""
    return _palette(_DARK, _DARK_DISABLED)


def light_palette() -> QPalette:
    """The light palette (Fusion)."""
    return _palette(_LIGHT, _LIGHT_DISABLED)


def is_dark(palette: QPalette | None = None) -> bool:
    """True when `palette` (default: the application's) has a dark window background."""
    if palette is None:
        palette = QApplication.palette()
    return palette.color(Role.Window).lightness() < 128


class ThemeManager(QObject):
    """Applies the THEME and FONT_SIZE settings to the application, now and on every change."""

    def __init__(self, app: QApplication, settings: Settings) -> None:
        super().__init__(app)
        self._app = app
        self._settings = settings
        style = app.style()
        self._system_style = style.name() if style is not None else "fusion"
        self._system_font = QFont(app.font())
        self._applied: str | None = None
        settings.changed_for(THEME).connect(self.apply_theme)
        settings.changed_for(FONT_SIZE).connect(self.apply_font_size)
        hints = app.styleHints()
        hints.colorSchemeChanged.connect(self._on_scheme_changed)
        self.apply_theme()
        self.apply_font_size()

    @property
    def applied(self) -> str:
        """What is on: "light" or "dark" (Fusion and our palette), "system" (the platform's look), or
        "system-dark" (the platform is in dark mode, its palette was light: Fusion and our dark palette)."""
        return self._applied or "system"

    def _on_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self._settings.get(THEME) == "system":
            self.apply_theme()

    def apply_theme(self) -> None:
        """Put the theme setting into effect."""
        app, theme = self._app, self._settings.get(THEME)
        hints = app.styleHints()
        if theme == "system":
            ours = self._applied not in (None, "system")
            self._applied = "system"  # before unsetColorScheme() re-enters through colorSchemeChanged
            if ours:
                hints.unsetColorScheme()
                app.setStyle(self._system_style)
                app.setPalette(QPalette())  # back to the platform's palette
            if hints.colorScheme() == Qt.ColorScheme.Dark and not is_dark(app.palette()):
                self._applied = "system-dark"
                app.setStyle("Fusion")
                app.setPalette(dark_palette())
        else:
            dark = theme == "dark"
            self._applied = theme
            hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)  # title bars
            app.setStyle("Fusion")
            app.setPalette(dark_palette() if dark else light_palette())
        log.debug("Theme %s applied (dark: %s)", theme, is_dark())

    def apply_font_size(self) -> None:
        """Put the text size setting into effect (0: the system's size)."""
        size = self._settings.get(FONT_SIZE)
        font = QFont(self._system_font)
        if size > 0:
            low, high = FONT_SIZE_RANGE
            font.setPointSize(max(low, min(high, size)))
        self._app.setFont(font)
