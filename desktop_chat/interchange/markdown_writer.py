"""The Markdown export: a record's active branch as one document (also "copy conversation as Markdown")."""

from __future__ import annotations

import html
import re
from typing import Any

from desktop_chat.domain import role_label
from desktop_chat.interchange import branch_view
from desktop_chat.interchange.format import record_from_tree
from desktop_chat.storage import Repo


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
    body = [
        f"{label}:\n\n{_fence(text, lang)}"
        for label, text, lang in branch_view.tool_sections(call, execution)
    ]
    return _details_md(branch_view.tool_label(call, execution), "\n\n".join(body))


def _message_md(message: dict[str, Any]) -> str:
    out = [f"## {role_label(message['role'])}"]
    response = message.get("response")
    if response is None:
        if message["content"].strip():
            out.append(message["content"].strip())
        return "\n\n".join(out)
    if response.get("reasoning", "").strip():
        out.append(_details_md("Reasoning", response["reasoning"]))
    for kind, value, execution in branch_view.answer_parts(response):
        out.append(value.strip() if kind == "text" else _tool_md(value, execution))
    if response.get("error"):
        out.append("> **Error:** " + " ".join(str(response["error"]).split()))
    elif note := branch_view.status_note(response):
        out.append(f"*{note}*")
    return "\n\n".join(out)


def markdown_document(record: dict[str, Any]) -> str:
    """A conversation record's active branch as a Markdown document."""
    parts = [f"# {branch_view.display_title(record)}", f"*{branch_view.meta_line(record)}*"]
    parts.extend(_message_md(m) for m in branch_view.active_branch(record))
    return "\n\n".join(parts) + "\n"


def conversation_markdown(repo: Repo, conversation_id: int) -> str:
    """The active branch of one conversation as Markdown (for "copy conversation as Markdown")."""
    return markdown_document(record_from_tree(repo.conversation_tree(conversation_id)))
