"""Sample ChatGPT and Claude data exports (shaped like the real ones) for the import tests and benchmark,
and a store of this app's with everything an export writes (`fill_rich_store`).

    python -m tests.helpers.export_samples bulk OUT.json [N]   # an N-conversation ChatGPT-style export

Each builder returns the parsed JSON (a list of conversations); `write_json` and `write_chatgpt_zip` put
it on disk as the services read it.
"""

from __future__ import annotations

import json
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

from desktop_chat.domain import ResponsePatch, ResponseStatus, ToolCall, ToolStatus, Usage
from desktop_chat.storage import Repo

T0 = 1_700_000_000.0

# ---- ChatGPT ---------------------------------------------------------------------------------------

CHATGPT_BRANCHED_ID = "6a1f3c2e-0000-4000-8000-00000000c001"
CHATGPT_IMAGES_ID = "6a1f3c2e-0000-4000-8000-00000000c002"
CHATGPT_ORPHAN_ID = "6a1f3c2e-0000-4000-8000-00000000c003"
CHATGPT_BAD_TIMES_ID = "6a1f3c2e-0000-4000-8000-00000000c004"
CHATGPT_NOT_UUID_ID = "conv-not-a-uuid-7"
IMAGE_FILE = "file-AbC123xyz-cat.png"


def chatgpt_message(
    role: str,
    text: str | None = None,
    *,
    t: Any = None,
    content_type: str = "text",
    parts: list[Any] | None = None,
    recipient: str = "all",
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A mapping node's `message`."""
    if content is None:
        if content_type in ("text", "multimodal_text"):
            content = {"content_type": content_type, "parts": parts if parts is not None else [text or ""]}
        else:
            content = {"content_type": content_type, "text": text or ""}
    return {
        "id": str(uuid.uuid4()),
        "author": {"role": role, "name": name, "metadata": {}},
        "create_time": t,
        "update_time": None,
        "content": content,
        "status": "finished_successfully",
        "end_turn": True,
        "weight": 1.0,
        "metadata": metadata or {},
        "recipient": recipient,
    }


def chatgpt_conversation(
    conv_id: str | None,
    title: Any,
    nodes: list[tuple[str, str | None, dict[str, Any] | None]],
    *,
    current: str | None,
    create_time: Any = T0,
    update_time: Any = T0 + 600,
    model: str = "gpt-4o",
) -> dict[str, Any]:
    """A conversation from (node id, parent id, message) triples; `children` filled from the parents."""
    mapping: dict[str, Any] = {}
    for node_id, parent, message in nodes:
        mapping[node_id] = {"id": node_id, "message": message, "parent": parent, "children": []}
    for node_id, parent, _ in nodes:
        if parent in mapping:
            mapping[parent]["children"].append(node_id)
    conv: dict[str, Any] = {
        "title": title,
        "create_time": create_time,
        "update_time": update_time,
        "mapping": mapping,
        "moderation_results": [],
        "current_node": current,
        "plugin_ids": None,
        "default_model_slug": model,
        "is_archived": False,
    }
    if conv_id is not None:
        conv["conversation_id"] = conv_id
        conv["id"] = conv_id
    return conv


def _root(node_id: str = "root") -> tuple[str, None, None]:
    return (node_id, None, None)


def _hidden_system(parent: str) -> tuple[str, str, dict[str, Any]]:
    return (
        "sys",
        parent,
        chatgpt_message("system", "", t=None, metadata={"is_visually_hidden_from_conversation": True}),
    )


def chatgpt_branched() -> dict[str, Any]:
    """Edited question (two user siblings), a regenerated answer, and a python tool call with its output.

    Active branch: u1b -> tool call -> answer "in place".
    """
    c = CHATGPT_BRANCHED_ID
    return chatgpt_conversation(
        c,
        "Reversing lists",
        [
            _root(),
            _hidden_system("root"),
            ("u1", "sys", chatgpt_message("user", "How do I reverse a list?", t=T0 + 10)),
            ("a1", "u1", chatgpt_message("assistant", "Use reversed(xs).", t=T0 + 20)),
            ("a1r", "u1", chatgpt_message("assistant", "Slice it: xs[::-1].", t=T0 + 30)),
            ("u1b", "sys", chatgpt_message("user", "How do I reverse a list in place?", t=T0 + 40)),
            (
                "call",
                "u1b",
                chatgpt_message(
                    "assistant",
                    "xs = [1, 2, 3]\nxs.reverse()\nxs",
                    t=T0 + 50,
                    content_type="code",
                    recipient="python",
                ),
            ),
            (
                "out",
                "call",
                chatgpt_message(
                    "tool", "[3, 2, 1]", t=T0 + 55, content_type="execution_output", name="python"
                ),
            ),
            ("a2", "out", chatgpt_message("assistant", "Call xs.reverse(): it gives [3, 2, 1].", t=T0 + 60)),
        ],
        current="a2",
    )


def chatgpt_images() -> dict[str, Any]:
    """An image and an attachment as references, reasoning ("thoughts"), and a DALL-E call with its image."""
    return chatgpt_conversation(
        CHATGPT_IMAGES_ID,
        "Cat picture",
        [
            _root(),
            (
                "u1",
                "root",
                chatgpt_message(
                    "user",
                    t=T0 + 100,
                    content_type="multimodal_text",
                    parts=[
                        {
                            "content_type": "image_asset_pointer",
                            "asset_pointer": "file-service://file-AbC123xyz",
                            "width": 640,
                            "height": 480,
                        },
                        "What breed is this cat?",
                    ],
                    metadata={"attachments": [{"id": "file-q", "name": "notes.pdf"}]},
                ),
            ),
            (
                "think",
                "u1",
                chatgpt_message(
                    "assistant",
                    t=T0 + 105,
                    content={
                        "content_type": "thoughts",
                        "thoughts": [{"summary": "Looking", "content": "Grey fur, round face."}],
                    },
                ),
            ),
            (
                "recap",
                "think",
                chatgpt_message(
                    "assistant",
                    t=T0 + 106,
                    content={"content_type": "reasoning_recap", "content": "Thought for 3s"},
                ),
            ),
            ("a1", "recap", chatgpt_message("assistant", "It looks like a British Shorthair.", t=T0 + 110)),
            ("u2", "a1", chatgpt_message("user", "Draw one wearing a hat.", t=T0 + 120)),
            (
                "dalle",
                "u2",
                chatgpt_message(
                    "assistant", '{"prompt": "a cat in a hat"}', t=T0 + 125, recipient="dalle.text2im"
                ),
            ),
            (
                "img",
                "dalle",
                chatgpt_message(
                    "tool",
                    t=T0 + 130,
                    name="dalle.text2im",
                    content_type="multimodal_text",
                    parts=[
                        {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-Hat999"}
                    ],
                ),
            ),
            ("a2", "img", chatgpt_message("assistant", "Here is the cat in a hat.", t=T0 + 135)),
            (
                "weird",
                "a2",
                chatgpt_message("assistant", t=T0 + 140, content={"content_type": "hologram", "beam": 1}),
            ),
        ],
        current="a2",
    )


def chatgpt_orphan() -> dict[str, Any]:
    """A node whose parent is not in the mapping: it is kept as a first message."""
    return chatgpt_conversation(
        CHATGPT_ORPHAN_ID,
        "Orphaned node",
        [
            _root(),
            ("u1", "root", chatgpt_message("user", "First question", t=T0 + 200)),
            ("a1", "u1", chatgpt_message("assistant", "First answer", t=T0 + 210)),
            ("lost", "ghost-parent", chatgpt_message("user", "A question whose parent is gone", t=T0 + 220)),
            ("a2", "lost", chatgpt_message("assistant", "Still imported", t=T0 + 230)),
        ],
        current="a1",
    )


def chatgpt_bad_times() -> dict[str, Any]:
    """Timestamps that are not times: the conversation still imports, using the readable ones."""
    return chatgpt_conversation(
        CHATGPT_BAD_TIMES_ID,
        "Bad times",
        [
            _root(),
            ("u1", "root", chatgpt_message("user", "When was this?", t="yesterday")),
            ("a1", "u1", chatgpt_message("assistant", "Later.", t=T0 + 310)),
        ],
        current="a1",
        create_time="not a time",
        update_time=float("nan"),
    )


def chatgpt_empty() -> dict[str, Any]:
    """Only a root and a hidden system node: nothing to import."""
    return chatgpt_conversation(
        "6a1f3c2e-0000-4000-8000-00000000c005", "Empty chat", [_root(), _hidden_system("root")], current="sys"
    )


def chatgpt_no_mapping() -> dict[str, Any]:
    conv = chatgpt_conversation("6a1f3c2e-0000-4000-8000-00000000c006", "No mapping", [], current=None)
    del conv["mapping"]
    return conv


def chatgpt_not_uuid() -> dict[str, Any]:
    return chatgpt_conversation(
        CHATGPT_NOT_UUID_ID,
        None,
        [_root(), ("u1", "root", chatgpt_message("user", "Untitled hello", t=T0 + 400))],
        current="u1",
    )


def chatgpt_export() -> list[Any]:
    """Good conversations, broken entries among them (no mapping, no messages, a string)."""
    return [
        chatgpt_branched(),
        chatgpt_images(),
        chatgpt_no_mapping(),
        chatgpt_orphan(),
        chatgpt_empty(),
        "not a conversation",
        chatgpt_bad_times(),
        chatgpt_not_uuid(),
    ]


def chatgpt_bulk(n: int, *, turns: int = 4) -> list[dict[str, Any]]:
    """`n` plausible conversations of `turns` question/answer pairs (one regenerated answer each)."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        t = T0 + i * 1000
        nodes: list[tuple[str, str | None, dict[str, Any] | None]] = [_root(), _hidden_system("root")]
        parent = "sys"
        for k in range(turns):
            q = f"q{k}"
            nodes.append(
                (
                    q,
                    parent,
                    chatgpt_message(
                        "user",
                        f"Question {k} of chat {i}: how does topic {i % 97} "
                        "work in practice, with an example?",
                        t=t + 10 * k,
                    ),
                )
            )
            nodes.append(
                (f"r{k}", q, chatgpt_message("assistant", f"A first draft for {k}.", t=t + 10 * k + 3))
            )
            a = f"a{k}"
            nodes.append(
                (
                    a,
                    q,
                    chatgpt_message(
                        "assistant",
                        f"Answer {k}: topic {i % 97} works like this. "
                        + "Some explanation follows here. " * 12,
                        t=t + 10 * k + 5,
                    ),
                )
            )
            parent = a
        out.append(
            chatgpt_conversation(
                str(uuid.UUID(int=i + 1)),
                f"Chat {i}",
                nodes,
                current=parent,
                create_time=t,
                update_time=t + 10 * turns,
            )
        )
    return out


# ---- Claude ----------------------------------------------------------------------------------------

CLAUDE_BRANCHED_ID = "7b2e4d3f-0000-4000-8000-0000000000c1"
CLAUDE_LINEAR_ID = "7b2e4d3f-0000-4000-8000-0000000000c2"
CLAUDE_ROOT = "00000000-0000-4000-8000-000000000000"


def _iso(offset: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(T0 + offset, UTC).isoformat().replace("+00:00", "Z")


def claude_message(
    ident: str,
    sender: str,
    text: str,
    *,
    t: float,
    parent: str | None = None,
    content: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    files: list[dict[str, Any]] | None = None,
    with_parent: bool = True,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "uuid": ident,
        "text": text,
        "content": content if content is not None else [{"type": "text", "text": text}],
        "sender": sender,
        "created_at": _iso(t),
        "updated_at": _iso(t),
        "attachments": attachments or [],
        "files": files or [],
    }
    if with_parent:
        message["parent_message_uuid"] = parent or CLAUDE_ROOT
    return message


def claude_branched() -> dict[str, Any]:
    """h1 -> a1 -> {h2 -> a2 (thinking, tool use and result), h2b -> a2b}; attachments on h1."""
    return {
        "uuid": CLAUDE_BRANCHED_ID,
        "name": "Weather tools",
        "created_at": _iso(1000),
        "updated_at": _iso(1100),
        "account": {"uuid": "acc"},
        "chat_messages": [
            claude_message(
                "h1",
                "human",
                "Summarise the report.",
                t=1000,
                attachments=[
                    {
                        "file_name": "report.txt",
                        "file_size": 12,
                        "file_type": "txt",
                        "extracted_content": "Sales went up.",
                    }
                ],
                files=[{"file_name": "chart.png"}],
            ),
            claude_message("a1", "assistant", "Sales went up.", t=1010, parent="h1"),
            claude_message("h2", "human", "And the weather in Oslo?", t=1020, parent="a1"),
            claude_message(
                "a2",
                "assistant",
                "",
                t=1030,
                parent="h2",
                content=[
                    {"type": "thinking", "thinking": "I should call the weather tool."},
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "4 °C, rain"}],
                        "is_error": False,
                    },
                    {"type": "text", "text": "It is 4 °C and raining in Oslo."},
                ],
            ),
            claude_message("h2b", "human", "And the weather in Bergen?", t=1040, parent="a1"),
            claude_message("a2b", "assistant", "Bergen: rain, as always.", t=1050, parent="h2b"),
            claude_message("blank", "assistant", "", t=1060, parent="a2b", content=[]),
        ],
    }


def claude_linear() -> dict[str, Any]:
    """No parent_message_uuid anywhere: the messages follow each other; one bad timestamp."""
    msgs = [
        claude_message("l1", "human", "Hello Claude", t=2000, with_parent=False),
        claude_message("l2", "assistant", "Hello! How can I help?", t=2010, with_parent=False),
        claude_message("l3", "human", "Tell me a joke about penguins", t=2020, with_parent=False),
        claude_message(
            "l4", "assistant", "Why don't penguins fly? They can't afford tickets.", t=2030, with_parent=False
        ),
    ]
    msgs[2]["created_at"] = "the day after tomorrow"
    return {
        "uuid": CLAUDE_LINEAR_ID,
        "name": "Penguin joke",
        "created_at": _iso(2000),
        "updated_at": _iso(2030),
        "chat_messages": msgs,
    }


def claude_export() -> list[Any]:
    """Good conversations and broken entries (no messages, missing list, a number, an unknown sender)."""
    odd = claude_linear()
    odd["uuid"] = "7b2e4d3f-0000-4000-8000-0000000000c5"
    odd["name"] = "Odd sender"
    odd["chat_messages"] = [
        claude_message("o1", "human", "Hi", t=3000, with_parent=False),
        claude_message("o2", "robot", "Beep", t=3010, with_parent=False),
        claude_message("o3", "assistant", "Hi there", t=3020, with_parent=False),
    ]
    return [
        claude_branched(),
        {
            "uuid": "7b2e4d3f-0000-4000-8000-0000000000c3",
            "name": "Nothing said",
            "created_at": _iso(0),
            "updated_at": _iso(0),
            "chat_messages": [],
        },
        {"uuid": "7b2e4d3f-0000-4000-8000-0000000000c4", "name": "No list", "created_at": _iso(0)},
        42,
        claude_linear(),
        odd,
    ]


# ---- this app: a store with everything in it ------------------------------------------------------


def _answer(repo: Repo, conv_id: int, parent_id: int, text: str, **finish: Any) -> int:
    msg = repo.start_response(conv_id, parent_id, model="m-1", provider="Local")
    rid = msg.response_id
    status = finish.pop("status", ResponseStatus.DONE)
    repo.finish_response(rid, status, pending=[ResponsePatch(rid, text_delta=text)], **finish)
    return msg.id


def fill_rich_store(repo: Repo) -> dict[str, int]:
    """Several conversations: branches (edited question, regenerated answer), reasoning, tool calls with
    executions in two rounds, usage, an error, an interrupted answer, pinned, archived, params, a profile."""
    profile = repo.add_profile(
        "Local server", "http://user:pw@localhost:8080/v1", "m-1", {"Authorization": "Bearer SECRET-123"}
    )
    ids: dict[str, int] = {}

    a = repo.create_conversation(
        "Branches & tools",
        profile_id=profile.id,
        model="m-1",
        system_prompt="Be brief.",
        params={"temperature": 0.25, "max_tokens": 300, "tools": ["calculator"]},
    )
    ids["a"] = a.id
    q1 = repo.add_message(a.id, "What is 2+2?")
    _answer(repo, a.id, q1.id, "4", finish_reason="stop", usage=Usage(10, 1, 11))
    _answer(
        repo, a.id, q1.id, "Four, of course.", finish_reason="stop", usage=Usage(10, 3, 13, 2)
    )  # regenerated
    q1b = repo.add_message(a.id, "What is 2+2, using the calculator?")  # edited sibling of q1
    msg = repo.start_response(a.id, q1b.id, model="m-1", provider="Local")
    rid = msg.response_id
    calls = (
        ToolCall("call_1", "calculator", '{"expression": "2+2"}', 0, len("Let me see")),
        ToolCall("call_2", "calculator", '{"expression": "4*1"}', 1, len("Let me see — computing… done.")),
    )
    repo.apply_patches(
        [
            ResponsePatch(
                rid,
                text_delta="Let me see",
                reasoning_delta="Use the tool, twice.",
                status=ResponseStatus.STREAMING,
            ),
            ResponsePatch(
                rid,
                text_delta=" — computing… done. Result: ",
                tool_calls=calls,
                tool_status={"call_1": ToolStatus.SUCCEEDED, "call_2": ToolStatus.FAILED},
            ),
        ]
    )
    t1 = repo.add_tool_execution(rid, "call_1", "calculator", '{"expression": "2+2"}')
    repo.update_tool_execution(t1.id, ToolStatus.RUNNING)
    repo.update_tool_execution(t1.id, ToolStatus.SUCCEEDED, result="4")
    t2 = repo.add_tool_execution(rid, "call_2", "calculator", '{"expression": "4*1"}', round_no=1)
    repo.update_tool_execution(t2.id, ToolStatus.FAILED, error="division by zero? no: a test failure")
    repo.finish_response(
        rid,
        ResponseStatus.DONE,
        finish_reason="stop",
        usage=Usage(40, 12, 52, 5),
        pending=[ResponsePatch(rid, text_delta="4 ✓")],
    )
    ids["a_leaf"] = msg.id

    b = repo.create_conversation("Errors <and> stops")
    ids["b"] = b.id
    qb = repo.add_message(b.id, "Tell me a long story with <script>alert('x')</script> in it")
    _answer(repo, b.id, qb.id, "Once upon", status=ResponseStatus.ERROR, error="HTTP 500 from the server")
    _answer(repo, b.id, qb.id, "Once upon a time", status=ResponseStatus.CANCELLED)
    _answer(
        repo,
        b.id,
        qb.id,
        "Partial",
        status=ResponseStatus.INTERRUPTED,
        error="desktop_chat stopped before this answer finished; the text received so far is kept.",
    )
    repo.update_conversation(b.id, pinned=True, touch=False)

    c = repo.create_conversation("Archived one")
    ids["c"] = c.id
    repo.add_message(c.id, "an old note")
    repo.update_conversation(c.id, archived=True, touch=False)

    ids["d"] = repo.create_conversation("Empty").id  # created, never used
    return ids


# ---- files -----------------------------------------------------------------------------------------


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_chatgpt_zip(path: Path, conversations: list[Any]) -> Path:
    """A ChatGPT data export .zip: conversations.json, chat.html and an image file."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("conversations.json", json.dumps(conversations))
        archive.writestr("chat.html", "<html></html>")
        archive.writestr(IMAGE_FILE, b"\x89PNG fake")
        archive.writestr("user.json", "{}")
    return path


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "bulk":
        count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
        write_json(Path(sys.argv[2]), chatgpt_bulk(count))
    else:
        sys.exit(__doc__)
