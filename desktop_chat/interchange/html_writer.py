"""Exporting conversations: lossless JSON (the format `importers` reads back), Markdown and standalone HTML.

No Qt here: plain functions over the repo, safe to run on a worker thread. The JSON format is described
in docs/export-format.md. Every file is written to a temporary name and renamed into place, so a crash
or a cancel never leaves half a file.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import desktop_chat
from desktop_chat.domain import role_label
from desktop_chat.markdown_parser import image_label, is_safe_url, parser
from desktop_chat.storage import NotFoundError, Repo

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

log = logging.getLogger(__name__)

FORMAT = "desktop_chat"
FORMAT_VERSION = 1

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


# ---- JSON -------------------------------------------------------------------------------------------


def export_document(conversations: list[dict[str, Any]]) -> dict[str, Any]:
    """The top-level JSON object around exported conversation records."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": desktop_chat.version(),
        "conversations": conversations,
    }


def dumps(document: dict[str, Any]) -> str:
    """The export's text: deterministic (sorted keys, one-space indent), UTF-8 as is."""
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def conversation_record(repo: Repo, conversation_id: int) -> dict[str, Any]:
    """One conversation as it appears in the JSON export (messages by created_at, then uuid)."""
    record = repo.export_conversation(conversation_id)
    record["messages"] = sorted(record["messages"], key=lambda m: (m["created_at"], m["uuid"]))
    return record


def export_json(
    repo: Repo,
    conversation_ids: Sequence[int] | None,
    path: Path,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """Write these conversations (None: all, archived too) to one JSON file; returns how many.

    Cancelling writes nothing (and returns 0). Conversations that cannot be read are logged and left out.
    """
    ids = repo.conversation_ids_for_export(conversation_ids)
    records: list[dict[str, Any]] = []
    for done, cid in enumerate(ids, 1):
        if cancelled is not None and cancelled():
            return 0
        try:
            records.append(conversation_record(repo, cid))
        except (NotFoundError, ValueError, TypeError) as exc:
            log.warning("Conversation %s left out of the export: %s", cid, exc)
        if progress is not None:
            progress(done, len(ids))
    text = dumps(export_document(records))
    if cancelled is not None and cancelled():
        return 0
    write_atomic(path, text)
    return len(records)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, flush it to disk, rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---- shared by Markdown and HTML ----------------------------------------------------------------------


def active_branch(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages of the record's active branch, root first (the newest message's when no leaf is set)."""
    messages: list[dict[str, Any]] = record["messages"]
    if not messages:
        return []
    by_uuid = {m["uuid"]: m for m in messages}
    node = by_uuid.get(record.get("active_leaf_uuid"))
    if node is None:
        node = max(messages, key=lambda m: (m["created_at"], m["uuid"]))
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node is not None and node["uuid"] not in seen:
        seen.add(node["uuid"])
        path.append(node)
        node = by_uuid.get(node["parent_uuid"]) if node["parent_uuid"] is not None else None
    path.reverse()
    return path


def answer_parts(response: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """An answer as ("text", text, None) and ("tool", call, execution or None) parts, in the order they
    happened (each round of tool calls sits at its `text_offset`)."""
    executions = {e["call_id"]: e for e in response.get("tool_executions") or ()}  # the last run wins
    rounds: dict[int, list[dict[str, Any]]] = {}
    for call in response.get("tool_calls") or ():
        if isinstance(call, dict):
            rounds.setdefault(_int(call.get("round")), []).append(call)
    text: str = response.get("text") or ""
    parts: list[tuple[str, Any, Any]] = []
    pos = 0
    for round_no in sorted(rounds):
        calls = rounds[round_no]
        offset = min(max(pos, _int(calls[0].get("text_offset"))), len(text))
        if text[pos:offset].strip():
            parts.append(("text", text[pos:offset], None))
        parts.extend(("tool", c, executions.get(str(c.get("id", "")))) for c in calls)
        pos = offset
    if text[pos:].strip():
        parts.append(("text", text[pos:], None))
    return parts


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _title(record: dict[str, Any]) -> str:
    return " ".join(str(record.get("title") or "").split()) or "Untitled conversation"


def _meta_line(record: dict[str, Any]) -> str:
    bits = [_when(record["created_at"])]
    if record.get("model"):
        bits.append(f"model {record['model']}")
    provider = record.get("provider")
    if provider:
        bits.append(f"via {provider['name']}")
    return " · ".join(bits)


def _pretty_arguments(arguments: str) -> tuple[str, str]:
    """Tool arguments indented when they are JSON, with the fence language to show them in."""
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, indent=2), "json"
    except ValueError:
        return arguments, ""


def _tool_label(call: dict[str, Any], execution: dict[str, Any] | None) -> str:
    status = f" ({execution['status']})" if execution is not None else ""
    return f"Tool call: {call.get('name') or 'tool'}{status}"


def _status_note(response: dict[str, Any]) -> str:
    status = response.get("status")
    if status == "cancelled":
        return "Stopped before it finished."
    if status == "interrupted" and not response.get("error"):
        return "Interrupted before it finished."
    return ""


def file_stem(record: dict[str, Any], used: set[str]) -> str:
    """A portable file name (no extension) from the title's slug and the uuid's start; unique in `used`."""
    ascii_title = unicodedata.normalize("NFKD", str(record.get("title") or "")).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.decode().lower()).strip("-")[:60].strip("-")
    slug = slug or "conversation"
    uid = str(record["uuid"])
    stem = f"{slug}-{uid[:8]}"
    if stem in used:
        stem = f"{slug}-{uid}"
    n = 2
    while stem in used:
        stem = f"{slug}-{uid}-{n}"
        n += 1
    used.add(stem)
    return stem


def _export_files(
    repo: Repo,
    conversation_ids: Sequence[int] | None,
    folder: Path,
    *,
    suffix: str,
    render: Callable[[dict[str, Any]], str],
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> int:
    ids = repo.conversation_ids_for_export(conversation_ids)
    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    written = 0
    for done, cid in enumerate(ids, 1):
        if cancelled is not None and cancelled():
            break
        try:
            record = repo.export_conversation(cid)
        except (NotFoundError, ValueError, TypeError) as exc:
            log.warning("Conversation %s left out of the export: %s", cid, exc)
        else:
            write_atomic(folder / f"{file_stem(record, used)}{suffix}", render(record))
            written += 1
        if progress is not None:
            progress(done, len(ids))
    return written


# ---- Markdown -----------------------------------------------------------------------------------------


def _fence(text: str, lang: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip(chr(10))}\n{ticks}"


def _in_details(text: str) -> str:
    """Text placed inside a <details> block, unable to close it early."""
    return re.sub(r"</(details|summary)", r"&lt;/\1", text, flags=re.IGNORECASE)


def _details_md(summary: str, body: str) -> str:
    return (
        f"<details>\n<summary>{html.escape(summary)}</summary>\n\n{_in_details(body).strip()}\n\n</details>"
    )


def _tool_md(call: dict[str, Any], execution: dict[str, Any] | None) -> str:
    arguments, lang = _pretty_arguments(str(call.get("arguments") or ""))
    body = [f"Arguments:\n\n{_fence(arguments, lang)}"]
    if execution is not None:
        if execution.get("result") is not None:
            body.append(f"Result:\n\n{_fence(str(execution['result']))}")
        if execution.get("error"):
            body.append(f"Error:\n\n{_fence(str(execution['error']))}")
    return _details_md(_tool_label(call, execution), "\n\n".join(body))


def _message_md(message: dict[str, Any]) -> str:
    out = [f"## {role_label(message['role'])}"]
    response = message.get("response")
    if response is None:
        if message["content"].strip():
            out.append(message["content"].strip())
        return "\n\n".join(out)
    if response.get("reasoning", "").strip():
        out.append(_details_md("Reasoning", response["reasoning"]))
    for kind, value, execution in answer_parts(response):
        out.append(value.strip() if kind == "text" else _tool_md(value, execution))
    if response.get("error"):
        out.append("> **Error:** " + " ".join(str(response["error"]).split()))
    elif note := _status_note(response):
        out.append(f"*{note}*")
    return "\n\n".join(out)


def markdown_document(record: dict[str, Any]) -> str:
    """A conversation record's active branch as a Markdown document."""
    parts = [f"# {_title(record)}", f"*{_meta_line(record)}*"]
    parts.extend(_message_md(m) for m in active_branch(record))
    return "\n\n".join(parts) + "\n"


def conversation_markdown(repo: Repo, conversation_id: int) -> str:
    """The active branch of one conversation as Markdown (for "copy conversation as Markdown")."""
    return markdown_document(repo.export_conversation(conversation_id))


def export_markdown(
    repo: Repo,
    conversation_ids: Sequence[int] | None,
    folder: Path,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """One `.md` file per conversation in `folder`; returns how many were written (a cancel keeps those)."""
    return _export_files(
        repo,
        conversation_ids,
        folder,
        suffix=".md",
        render=markdown_document,
        progress=progress,
        cancelled=cancelled,
    )


# ---- HTML ---------------------------------------------------------------------------------------------

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
    arguments, _ = _pretty_arguments(str(call.get("arguments") or ""))
    body = [f'<p class="label">Arguments</p>{_pre(arguments)}']
    if execution is not None:
        if execution.get("result") is not None:
            body.append(f'<p class="label">Result</p>{_pre(str(execution["result"]))}')
        if execution.get("error"):
            body.append(f'<p class="label">Error</p>{_pre(str(execution["error"]))}')
    summary = html.escape(_tool_label(call, execution))
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
        for kind, value, execution in answer_parts(response):
            out.append(_render(value) if kind == "text" else _tool_html(value, execution))
        if response.get("error"):
            out.append(f'<p class="error"><strong>Error:</strong> {html.escape(str(response["error"]))}</p>')
        elif note := _status_note(response):
            out.append(f'<p class="note">{html.escape(note)}</p>')
    out.append("</section>")
    return "\n".join(out)


def html_document(record: dict[str, Any]) -> str:
    """A conversation record's active branch as one standalone HTML page (no scripts, nothing remote)."""
    title = html.escape(_title(record))
    body = "\n".join(_message_html(m) for m in active_branch(record))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="desktop_chat {html.escape(desktop_chat.version())}">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{title}</h1>\n<p class="meta">{html.escape(_meta_line(record))}</p>\n'
        f"{body}\n</main>\n</body>\n</html>\n"
    )


def export_html(
    repo: Repo,
    conversation_ids: Sequence[int] | None,
    folder: Path,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """One standalone `.html` file per conversation in `folder`; returns how many were written."""
    return _export_files(
        repo,
        conversation_ids,
        folder,
        suffix=".html",
        render=html_document,
        progress=progress,
        cancelled=cancelled,
    )
