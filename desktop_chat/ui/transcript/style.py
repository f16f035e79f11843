"""Colours, fonts and metrics of the transcript, derived from the widget's palette and font.

A `TranscriptStyle` is immutable; its `key` goes into every render cache key, so a palette or font change
(QEvent.PaletteChange / FontChange) simply makes new entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QPalette
from PySide6.QtWidgets import QWidget

from desktop_chat.ui.transcript.markdown import HtmlColors

PAD = 10  # inside a message card
MARGIN_X = 10  # card to viewport edge
MARGIN_Y = 5  # between cards (each side)
GAP = 8  # between blocks of a message
RADIUS = 6


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved towards `b` by `t` (0..1)."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


@dataclass(frozen=True, slots=True)
class TranscriptStyle:
    """Everything a paint needs that depends on the theme and the font."""

    dark: bool
    font: QFont
    bold: QFont
    small: QFont
    mono: QFont
    text: QColor
    muted: QColor
    base: QColor
    user_bg: QColor
    card_border: QColor
    code_bg: QColor
    code_border: QColor
    button_hover: QColor
    focus: QColor
    link: QColor
    error_bg: QColor
    error_border: QColor
    error_text: QColor
    ok: QColor
    running: QColor
    failed: QColor
    html: HtmlColors
    line: int  # height of one line of the body font
    small_line: int
    key: tuple[object, ...]

    @classmethod
    def from_widget(cls, widget: QWidget) -> TranscriptStyle:
        """The style for a widget's current palette and font."""
        palette = widget.palette()
        font = QFont(widget.font())
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        dark = base.lightness() < 128
        highlight = palette.color(QPalette.ColorRole.Highlight)
        link = palette.color(QPalette.ColorRole.Link)
        if dark and link.lightness() < 140:
            link = QColor("#6cb6ff")
        muted = _mix(text, base, 0.42)
        red = QColor("#f85149") if dark else QColor("#cf222e")
        bold = QFont(font)
        bold.setBold(True)
        small = QFont(font)
        small.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(6.0, font.pointSizeF() * 0.95))
        code_bg = _mix(base, text, 0.06 if dark else 0.045)
        border = _mix(base, text, 0.22)
        html = HtmlColors(
            link=link.name(),
            muted=muted.name(),
            code_bg=code_bg.name(),
            border=border.name(),
            header_bg=_mix(base, text, 0.09).name(),
            dark=dark,
            mono=f"'{mono.family()}', monospace",
        )
        key = (dark, font.toString(), base.name(), text.name(), link.name(), highlight.name())
        return cls(
            dark=dark,
            font=font,
            bold=bold,
            small=small,
            mono=mono,
            text=text,
            muted=muted,
            base=base,
            user_bg=_mix(base, highlight, 0.16 if dark else 0.09),
            card_border=_mix(base, text, 0.12),
            code_bg=code_bg,
            code_border=_mix(base, text, 0.14),
            button_hover=_mix(base, text, 0.12),
            focus=highlight,
            link=link,
            error_bg=_mix(base, red, 0.14),
            error_border=_mix(base, red, 0.55),
            error_text=_mix(text, red, 0.35),
            ok=QColor("#3fb950") if dark else QColor("#1a7f37"),
            running=highlight if not dark else _mix(highlight, QColor("white"), 0.3),
            failed=red,
            html=html,
            line=QFontMetrics(font).height(),
            small_line=QFontMetrics(small).height(),
            key=key,
        )
