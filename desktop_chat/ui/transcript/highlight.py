"""Syntax highlighting of code blocks with Pygments, as inline-styled HTML spans for QTextDocument."""

from __future__ import annotations

import html
import threading
from functools import lru_cache
from typing import Any

LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
MAX_HIGHLIGHT_CHARS = 100_000  # longer code is shown plain: highlighting it would stall a frame

# Languages whose lexers are built ahead (each costs 20-40 ms of regex compiling the first time).
COMMON = (
    "python",
    "bash",
    "javascript",
    "typescript",
    "json",
    "rust",
    "go",
    "c",
    "cpp",
    "java",
    "sql",
    "yaml",
)
_warmed = threading.Event()

# Common fence names Pygments does not know under that name.
_ALIASES = {
    "sh": "bash",
    "shell": "bash",
    "zsh": "bash",
    "console": "bash",
    "py": "python",
    "js": "javascript",
}


@lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name  # pygments loads with the first code block
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(_ALIASES.get(language, language), stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=4)
def _formatter(dark: bool) -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(noclasses=True, nowrap=True, style=DARK_STYLE if dark else LIGHT_STYLE)


def language_of(info: str) -> str:
    """The language named by a fence's info string (```python title="x" -> "python")."""
    word = info.strip().split(maxsplit=1)[0] if info.strip() else ""
    return word.lower().strip("{}.")


def highlight_html(code: str, language: str, *, dark: bool) -> str:
    """`code` as HTML (spans with inline colours; no wrapper element). Unknown languages come back escaped."""
    lexer = _lexer(language) if language and len(code) <= MAX_HIGHLIGHT_CHARS else None
    if lexer is None:
        return html.escape(code, quote=False)
    from pygments import highlight

    out: str = highlight(code, lexer, _formatter(dark))
    # the formatter adds a newline the code did not have
    return out[:-1] if out.endswith("\n") and not code.endswith("\n") else out


def warm_up_in_background() -> None:
    """Build the common lexers in a thread, once, so the first code block of a language does not pay for
    compiling its regular expressions while a conversation opens. No Qt object is touched there."""
    if _warmed.is_set():
        return
    _warmed.set()

    def build() -> None:
        for language in COMMON:
            _lexer(language)

    threading.Thread(target=build, name="warm-up-lexers", daemon=True).start()
