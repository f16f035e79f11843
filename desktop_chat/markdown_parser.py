"""The one Markdown set-up of the app, for the transcript and for exports alike.

CommonMark with GFM tables and strikethrough; raw HTML is text, nothing is linkified or prettified, and
only http, https and mailto links become links (`is_safe_url`). Images are never fetched by anything
that renders with it: renderers show `image_label(alt)` instead. markdown-it (~35 ms to import) loads on
the first call, never at import time.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SAFE_SCHEMES = ("http:", "https:", "mailto:")


def is_safe_url(url: str) -> bool:
    """True for the links that may be shown as links (opened in the system browser, after a click)."""
    return url.strip().lower().startswith(SAFE_SCHEMES)


def image_label(alt: str) -> str:
    """What an image shows instead of itself (plain text, not escaped)."""
    return f"[image: {alt}]" if alt else "[image]"


@cache
def parser(renderer_cls: type | None = None) -> MarkdownIt:
    """A parser with the app's rules, rendering with `renderer_cls` (default: markdown-it's HTML)."""
    from markdown_it import MarkdownIt

    options = {"html": False, "linkify": False, "typographer": False}
    md = (
        MarkdownIt("commonmark", options, renderer_cls=renderer_cls)
        if renderer_cls
        else MarkdownIt("commonmark", options)
    )
    md.enable(["table", "strikethrough"])
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    return md
