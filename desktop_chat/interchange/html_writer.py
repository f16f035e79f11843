"""The HTML export: a record's active branch as one standalone page (no scripts, nothing remote)."""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING, Any

import desktop_chat
from desktop_chat.domain import role_label
from desktop_chat.interchange import branch_view
from desktop_chat.markdown_parser import image_label, is_safe_url, parser

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_CSS = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0;
  --code: #f6f8fa; --user: #eef4ff; --error: #b42318; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1;
  --line: #3d444d; --code: #151b23; --user: #13233d; --error: #ff7b72; } }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.meta { color: var(--muted); margin: 0 0 2rem; }
section.message { border-top: 1px solid var(--line); padding: .75rem 0 .5rem; }
section.message.user { background: var(--user); border-radius: 8px; padding: .75rem 1rem; border: 0;
  margin: 1rem 0; }
section.message > h2 { font-size: .85rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); margin: 0 0 .5rem; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .75rem;
  overflow-x: auto; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
:not(pre) > code { background: var(--code); padding: .1em .3em; border-radius: 4px; }
table { border-collapse: collapse; } th, td { border: 1px solid var(--line); padding: .3rem .6rem; }
blockquote { margin: 0; padding-left: 1rem; border-left: 3px solid var(--line); color: var(--muted); }
details { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .75rem; margin: .75rem 0; }
details > summary { cursor: pointer; color: var(--muted); }
.label { color: var(--muted); font-size: .85rem; margin: .5rem 0 .25rem; }
.error { color: var(--error); } .note { color: var(--muted); font-style: italic; }
img { max-width: 100%; }
"""
# Belt and braces: even a file edited later cannot run scripts or load anything from elsewhere.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@functools.cache
def _md() -> MarkdownIt:
    md = parser()

    def image(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        # Never load an image: show its alt text as a link to it.
        token = tokens[idx]
        alt = html.escape(image_label(self.renderInlineAsText(token.children or [], options, env)))
        src = str(token.attrGet("src") or "")
        if not is_safe_url(src):
            return alt
        return f'<a class="image" href="{html.escape(src, quote=True)}">{alt}</a>'

    md.add_render_rule("image", image)
    return md


def _render(text: str) -> str:
    return str(_md().render(text))


def _pre(text: str) -> str:
    return f"<pre><code>{html.escape(text)}</code></pre>"


def _tool_html(call: dict[str, Any], execution: dict[str, Any] | None) -> str:
    body = [
        f'<p class="label">{label}</p>{_pre(text)}'
        for label, text, _ in branch_view.tool_sections(call, execution)
    ]
    summary = html.escape(branch_view.tool_label(call, execution))
    return f'<details class="tool"><summary>{summary}</summary>{"".join(body)}</details>'


def _message_html(message: dict[str, Any]) -> str:
    role = str(message["role"])
    speaker = html.escape(role_label(role))
    out = [f'<section class="message {html.escape(role)}"><h2>{speaker}</h2>']
    response = message.get("response")
    if response is None:
        out.append(_render(message["content"]))
    else:
        if response.get("reasoning", "").strip():
            out.append(
                f'<details class="reasoning"><summary>Reasoning</summary>{_render(response["reasoning"])}'
                "</details>"
            )
        for kind, value, execution in branch_view.answer_parts(response):
            out.append(_render(value) if kind == "text" else _tool_html(value, execution))
        if response.get("error"):
            out.append(f'<p class="error"><strong>Error:</strong> {html.escape(str(response["error"]))}</p>')
        elif note := branch_view.status_note(response):
            out.append(f'<p class="note">{html.escape(note)}</p>')
    out.append("</section>")
    return "\n".join(out)


def html_document(record: dict[str, Any]) -> str:
    """A conversation record's active branch as one standalone HTML page (no scripts, nothing remote)."""
    title = html.escape(branch_view.display_title(record))
    body = "\n".join(_message_html(m) for m in branch_view.active_branch(record))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="desktop_chat {html.escape(desktop_chat.version())}">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{title}</h1>\n<p class="meta">{html.escape(branch_view.meta_line(record))}</p>\n'
        f"{body}\n</main>\n</body>\n</html>\n"
    )
