"""Export (JSON, Markdown, HTML) and import (this app's JSON, ChatGPT, Claude) on real SQLite stores."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from desktop_chat.domain import ResponsePatch, ResponseStatus, Role, ToolStatus, Usage
from desktop_chat.interchange.export import export
from desktop_chat.interchange.importers import detect_format, import_file, stable_uuid
from desktop_chat.interchange.json_writer import export_json
from desktop_chat.interchange.markdown_writer import conversation_markdown
from desktop_chat.storage import Repo, Store, open_store
from desktop_chat.storage.db import integrity_errors
from tests.helpers import export_samples as samples
from tests.helpers.text import missing


def _without_exported_at(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    del data["exported_at"]
    return data


def _strip_exported_at(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(' "exported_at": '))


def _counts(store: Store) -> dict[str, int]:
    q = store.db.execute_sql
    return {
        t: int(q(f"SELECT count(*) FROM {t}").fetchone()[0])
        for t in ("conversation", "message", "response", "tool_execution", "provider_profile", "message_fts")
    }


# ---- JSON round trip ------------------------------------------------------------------------------


def test_json_round_trip_is_lossless_and_reimport_changes_nothing(tmp_path: Path, store: Store) -> None:
    samples.fill_rich_store(store.repo)
    first = tmp_path / "first.json"
    assert export_json(store.repo, None, first) == 4

    text = first.read_text(encoding="utf-8")
    assert "SECRET-123" not in text
    assert "key_ref" not in text
    assert "pw@" not in text
    data = json.loads(text)
    assert (data["format"], data["version"]) == ("desktop_chat", 1)
    assert {"exported_at", "app_version", "conversations"} <= set(data)
    assert text == json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    other = open_store(tmp_path / "other" / "desktop_chat.sqlite3")
    try:
        report = import_file(other.repo, first)
        assert (report.format, report.imported, report.unchanged, report.skipped) == (
            "desktop_chat",
            4,
            0,
            [],
        )
        second = tmp_path / "second.json"
        assert export_json(other.repo, None, second) == 4
        assert _without_exported_at(second) == _without_exported_at(first)
        assert _strip_exported_at(second.read_text(encoding="utf-8")) == _strip_exported_at(text)  # bytes too

        before = _counts(other)
        again = import_file(other.repo, first)
        assert (again.imported, again.unchanged, again.skipped) == (0, 4, [])
        assert _counts(other) == before
        third = tmp_path / "third.json"
        export_json(other.repo, None, third)
        assert _without_exported_at(third) == _without_exported_at(first)
        assert integrity_errors(other.db) == []
        assert other.db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    finally:
        other.close()


def test_round_trip_keeps_branches_leaf_tools_and_search(tmp_path: Path, store: Store) -> None:
    ids = samples.fill_rich_store(store.repo)
    path = tmp_path / "all.json"
    export_json(store.repo, None, path)
    other = open_store(tmp_path / "other" / "desktop_chat.sqlite3")
    try:
        import_file(other.repo, path)
        src = store.repo.get_conversation(ids["a"])
        [dst] = [c for c in other.repo.list_conversations(include_archived=True).items if c.uuid == src.uuid]
        assert (dst.title, dst.params, dst.system_prompt, dst.model) == (
            src.title,
            src.params,
            src.system_prompt,
            src.model,
        )
        assert dst.created_at == src.created_at
        assert dst.updated_at == src.updated_at
        profile = other.repo.get_profile(dst.profile_id or 0)
        assert (profile.name, profile.base_url, profile.headers) == (
            "Local server",
            "http://localhost:8080/v1",
            {},
        )
        messages = other.repo.list_messages(dst.id).items
        leaf = other.repo.get_message(dst.active_leaf_id or 0)
        assert leaf.uuid == store.repo.get_message(ids["a_leaf"]).uuid
        assert leaf.response is not None
        assert leaf.response.text == "Let me see — computing… done. Result: 4 ✓"
        assert leaf.response.reasoning == "Use the tool, twice."
        assert [c.round for c in leaf.response.tool_calls] == [0, 1]
        assert leaf.response.usage == Usage(40, 12, 52, 5)
        runs = other.repo.list_tool_executions(leaf.response.id).items
        assert [(r.call_id, r.status, r.result, r.round) for r in runs] == [
            ("call_1", ToolStatus.SUCCEEDED, "4", 0),
            ("call_2", ToolStatus.FAILED, None, 1),
        ]
        roots = [m for m in messages if m.parent_id is None]
        assert sorted(m.content for m in roots) == ["What is 2+2, using the calculator?", "What is 2+2?"]
        first_q = next(m for m in roots if m.content == "What is 2+2?")
        assert sorted(m.text for m in messages if m.parent_id == first_q.id) == ["4", "Four, of course."]
        statuses = sorted(
            m.response.status.value
            for m in other.repo.list_messages(
                next(c.id for c in other.repo.list_conversations().items if c.pinned)
            ).items
            if m.response is not None
        )
        assert statuses == ["cancelled", "error", "interrupted"]
        assert other.repo.search("calculator").items
        hits = other.repo.search("computing").items
        assert [h.message_id for h in hits] == [leaf.id]
    finally:
        other.close()


def test_unfinished_answers_import_as_interrupted(tmp_path: Path, store: Store) -> None:
    repo = store.repo
    conv = repo.create_conversation("live")
    q = repo.add_message(conv.id, "hi")
    msg = repo.start_response(conv.id, q.id)
    repo.apply_patches([ResponsePatch(msg.response_id, "half an ans", status=ResponseStatus.STREAMING)])
    repo.add_tool_execution(msg.response_id, "c1", "now", "{}")
    path = tmp_path / "live.json"
    export_json(repo, [conv.id], path)
    exported = json.loads(path.read_text())["conversations"][0]["messages"][1]["response"]
    assert (exported["status"], exported["text"]) == ("streaming", "half an ans")
    other = open_store(tmp_path / "other" / "desktop_chat.sqlite3")
    try:
        import_file(other.repo, path)
        cid = other.repo.list_conversations().items[0].id
        answer = other.repo.list_messages(cid).items[1]
        assert answer.response is not None
        assert (answer.response.status, answer.response.text) == (ResponseStatus.INTERRUPTED, "half an ans")
        assert other.repo.list_tool_executions(answer.response.id).items[0].status is ToolStatus.CANCELLED
        assert other.repo.unfinished_response_ids() == []
    finally:
        other.close()


def test_export_selection_progress_and_cancel(tmp_path: Path, store: Store) -> None:
    ids = samples.fill_rich_store(store.repo)
    seen: list[tuple[int, int]] = []
    path = tmp_path / "two.json"
    assert (
        export_json(store.repo, [ids["b"], ids["a"], 999], path, progress=lambda d, t: seen.append((d, t)))
        == 2
    )
    assert seen == [(1, 2), (2, 2)]
    titles = [c["title"] for c in json.loads(path.read_text())["conversations"]]
    assert titles == ["Branches & tools", "Errors <and> stops"]  # oldest first

    cancelled = tmp_path / "cancelled.json"
    calls = iter([False, True])
    assert export_json(store.repo, None, cancelled, cancelled=lambda: next(calls, True)) == 0
    assert not cancelled.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_failing_conversation_is_rolled_back_whole(tmp_path: Path, store: Store) -> None:
    samples.fill_rich_store(store.repo)
    path = tmp_path / "all.json"
    export_json(store.repo, None, path)
    data = json.loads(path.read_text())
    first, second = data["conversations"][0], data["conversations"][1]
    second["messages"][-1]["uuid"] = first["messages"][0]["uuid"]  # a message id used twice across chats
    del data["conversations"][2]["created_at"]
    data["conversations"].append(["not", "an", "object"])
    path.write_text(json.dumps(data))
    other = open_store(tmp_path / "other" / "desktop_chat.sqlite3")
    try:
        report = import_file(other.repo, path)
        assert (report.imported, report.unchanged) == (2, 0)
        assert len(report.skipped) == 3
        assert "could not be imported" in report.skipped[0]
        assert "Errors <and> stops" in report.skipped[0]
        assert '"created_at" is missing' in report.skipped[1]
        assert report.skipped[2] == "entry 5: not a conversation object (found list)"
        titles = {c.title for c in other.repo.list_conversations(include_archived=True).items}
        assert titles == {"Branches & tools", "Empty"}
        assert _counts(other)["message"] == len(first["messages"])  # nothing left of the failed one
    finally:
        other.close()


def test_values_the_app_could_not_read_back_are_refused(tmp_path: Path, store: Store) -> None:
    """Found by the mutation property test: these were stored, then the app skipped the rows as
    unreadable (a tool call round "x", a time past year 9999) or failed the whole conversation with a
    TypeError (a status that is an object)."""
    samples.fill_rich_store(store.repo)
    path = tmp_path / "all.json"
    export_json(store.repo, None, path)
    data = json.loads(path.read_text())
    tools = data["conversations"][0]
    answer = next(m for m in tools["messages"] if m["response"] and m["response"]["tool_calls"])
    answer["response"]["tool_calls"][0]["round"] = "x"
    stops = data["conversations"][1]
    stops["messages"][1]["created_at"] = 1e308
    stops["messages"][2]["response"]["status"] = {"a": 1}
    stops["messages"][3]["response"]["usage"] = {"prompt_tokens": "many"}
    data["conversations"][2]["updated_at"] = 10**400
    path.write_text(json.dumps(data))
    other = open_store(tmp_path / "other" / "desktop_chat.sqlite3")
    try:
        report = import_file(other.repo, path)
        skipped = "\n".join(report.skipped)
        assert not missing(
            skipped,
            'a tool call\'s "round" is not a whole number',
            '"created_at" is not a time between 1970 and 3000',
            "unknown response status {'a': 1}",
            '"usage" has a token count that is not a whole number',
            "'Archived one' (id ",
            '"updated_at" is not a time between 1970',
        )
        assert "could not be imported" not in skipped
        assert report.imported == 3
        for conv in other.repo.list_conversations(include_archived=True).items:
            assert other.repo.list_messages(conv.id).skipped == []
    finally:
        other.close()


def test_detect_format() -> None:
    assert detect_format({"format": "desktop_chat", "version": 1, "conversations": []}) == "desktop_chat"
    assert detect_format(samples.chatgpt_export()) == "chatgpt"
    assert detect_format(samples.claude_export()) == "claude"
    with pytest.raises(ValueError, match="newer desktop_chat"):
        detect_format({"format": "desktop_chat", "version": 2})
    with pytest.raises(ValueError, match="no entry looks like"):
        detect_format([1, "a", {"x": 1}])
    with pytest.raises(ValueError, match="expected a JSON object or list"):
        detect_format("hello")


def test_import_refuses_what_is_not_an_export(tmp_path: Path, store: Store) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        import_file(store.repo, bad)
    other = samples.write_json(tmp_path / "other.json", {"hello": "world"})
    with pytest.raises(ValueError, match="not a conversation export"):
        import_file(store.repo, other)


# ---- ChatGPT -------------------------------------------------------------------------------------


def _by_uuid(repo: Repo, conversation_uuid: str) -> Any:
    """The conversation imported from this id (as the export writes it: with or without dashes)."""
    stored = conversation_uuid.replace("-", "")
    return next(c for c in repo.list_conversations(include_archived=True).items if c.uuid == stored)


def _active_texts(repo: Repo, conversation_id: int) -> list[tuple[Role, str]]:
    from desktop_chat.services.conversations import active_path

    conv = repo.get_conversation(conversation_id)
    return [
        (m.role, m.text) for m in active_path(repo.list_messages(conversation_id).items, conv.active_leaf_id)
    ]


def test_chatgpt_zip_import(tmp_path: Path, store: Store) -> None:
    path = samples.write_chatgpt_zip(tmp_path / "chatgpt-export.zip", samples.chatgpt_export())
    done: list[tuple[int, int]] = []
    report = import_file(store.repo, path, progress=lambda d, t: done.append((d, t)))
    assert report.format == "chatgpt"
    assert (report.imported, report.unchanged) == (5, 0)
    assert done[-1] == (8, 8)
    assert len(done) == 8
    skipped = "\n".join(report.skipped)
    assert not missing(
        skipped,
        "'No mapping'",
        '"mapping" is missing',
        "'Empty chat'",
        ": no messages",
        "entry 6: not a conversation object (found str)",
        "node lost: its parent ghost-parent is missing",
        "unknown content type 'hologram'",
        "create_time 'not a time' is not a time",
    )

    repo = store.repo
    branched = _by_uuid(repo, samples.CHATGPT_BRANCHED_ID)
    assert (branched.title, branched.model) == ("Reversing lists", "gpt-4o")
    assert branched.created_at.timestamp() == samples.T0
    assert _active_texts(repo, branched.id) == [
        (Role.USER, "How do I reverse a list in place?"),
        (Role.ASSISTANT, ""),
        (Role.ASSISTANT, "Call xs.reverse(): it gives [3, 2, 1]."),
    ]
    messages = repo.list_messages(branched.id).items
    roots = [m for m in messages if m.parent_id is None]  # the hidden system node is gone, its children stay
    assert [m.content for m in roots] == ["How do I reverse a list?", "How do I reverse a list in place?"]
    regenerated = [m.text for m in messages if m.parent_id == roots[0].id]
    assert regenerated == ["Use reversed(xs).", "Slice it: xs[::-1]."]
    call = next(m for m in messages if m.response is not None and m.response.tool_calls)
    assert call.response is not None
    assert [(c.name, json.loads(c.arguments)) for c in call.response.tool_calls] == [
        ("python", {"code": "xs = [1, 2, 3]\nxs.reverse()\nxs"})
    ]
    [run] = repo.list_tool_executions(call.response.id).items
    assert (run.status, run.result) == (ToolStatus.SUCCEEDED, "[3, 2, 1]")
    assert call.response.tool_status == {run.call_id: ToolStatus.SUCCEEDED}

    images = _by_uuid(repo, samples.CHATGPT_IMAGES_ID)
    texts = _active_texts(repo, images.id)
    assert texts[0] == (
        Role.USER,
        f"[image: {samples.IMAGE_FILE}]\nWhat breed is this cat?\n\n[attachment: notes.pdf]",
    )
    answer = repo.get_message(repo.list_messages(images.id).items[1].id)
    assert answer.response is not None
    assert answer.response.reasoning == "Looking\n\nGrey fur, round face."
    assert texts[-1] == (Role.ASSISTANT, "Here is the cat in a hat.")
    dalle = next(m for m in repo.list_messages(images.id).items if m.response and m.response.tool_calls)
    assert dalle.response is not None
    assert repo.list_tool_executions(dalle.response.id).items[0].result == "[image: file-Hat999]"

    orphan = _by_uuid(repo, samples.CHATGPT_ORPHAN_ID)
    orphan_msgs = repo.list_messages(orphan.id).items
    assert sorted(m.text for m in orphan_msgs if m.parent_id is None) == [
        "A question whose parent is gone",
        "First question",
    ]
    assert _active_texts(repo, orphan.id)[-1] == (Role.ASSISTANT, "First answer")

    bad_times = _by_uuid(repo, samples.CHATGPT_BAD_TIMES_ID)
    assert bad_times.created_at.timestamp() == samples.T0 + 310  # the only readable time
    assert [m.created_at.timestamp() for m in repo.list_messages(bad_times.id).items] == [
        samples.T0 + 310
    ] * 2

    untitled = _by_uuid(repo, stable_uuid("chatgpt", samples.CHATGPT_NOT_UUID_ID))
    assert untitled.title == ""

    again = import_file(store.repo, path)
    assert (again.imported, again.unchanged) == (0, 5)

    hits = store.repo.search("Shorthair").items
    assert [h.conversation_title for h in hits] == ["Cat picture"]
    assert store.repo.search("reverse").items  # user and assistant text alike


def test_chatgpt_plain_json_is_the_same_as_the_zip(tmp_path: Path, store: Store) -> None:
    path = samples.write_json(tmp_path / "conversations.json", samples.chatgpt_export())
    report = import_file(store.repo, path)
    assert (report.format, report.imported) == ("chatgpt", 5)
    images = _by_uuid(store.repo, samples.CHATGPT_IMAGES_ID)
    assert _active_texts(store.repo, images.id)[0][1].startswith("[image: file-AbC123xyz]\n")


def test_cancel_mid_import_keeps_whole_conversations(tmp_path: Path, store: Store) -> None:
    data = samples.chatgpt_bulk(6)
    path = samples.write_json(tmp_path / "bulk.json", data)
    progress: list[int] = []
    report = import_file(
        store.repo, path, progress=lambda d, t: progress.append(d), cancelled=lambda: len(progress) >= 3
    )
    assert report.cancelled
    assert report.imported == 3
    counts = _counts(store)
    assert counts["conversation"] == 3
    assert counts["message"] == 3 * 12  # 4 questions, each with two answers: whole conversations only
    rest = import_file(store.repo, path)
    assert (rest.imported, rest.unchanged) == (3, 3)


# ---- Claude --------------------------------------------------------------------------------------


def test_claude_import(tmp_path: Path, store: Store) -> None:
    path = samples.write_json(tmp_path / "conversations.json", samples.claude_export())
    report = import_file(store.repo, path)
    assert (report.format, report.imported, report.unchanged) == ("claude", 3, 0)
    skipped = "\n".join(report.skipped)
    assert not missing(
        skipped,
        "'Nothing said'",
        "'No list'",
        "entry 4: not a conversation object (found int)",
        "message o2 skipped: unknown sender 'robot'",
        "message blank skipped: empty",
    )

    repo = store.repo
    conv = _by_uuid(repo, samples.CLAUDE_BRANCHED_ID)
    assert conv.title == "Weather tools"
    messages = repo.list_messages(conv.id).items
    assert len(messages) == 6
    [root] = [m for m in messages if m.parent_id is None]
    assert root.content == "Summarise the report.\n\n[attachment: report.txt]\n[file: chart.png]"
    a1 = next(m for m in messages if m.parent_id == root.id)
    assert sorted(m.content for m in messages if m.parent_id == a1.id) == [
        "And the weather in Bergen?",
        "And the weather in Oslo?",
    ]
    assert _active_texts(repo, conv.id)[-1] == (Role.ASSISTANT, "Bergen: rain, as always.")
    a2 = next(m for m in messages if m.response is not None and m.response.tool_calls)
    assert a2.response is not None
    assert a2.response.reasoning == "I should call the weather tool."
    assert a2.response.text == "Let me check.\n\nIt is 4 °C and raining in Oslo."
    [call] = a2.response.tool_calls
    assert (call.id, call.name, json.loads(call.arguments), call.text_offset) == (
        "toolu_1",
        "weather",
        {"city": "Oslo"},
        len("Let me check."),
    )
    [run] = repo.list_tool_executions(a2.response.id).items
    assert (run.status, run.result) == (ToolStatus.SUCCEEDED, "4 °C, rain")

    linear = _by_uuid(repo, samples.CLAUDE_LINEAR_ID)
    assert [t for _, t in _active_texts(repo, linear.id)] == [
        "Hello Claude",
        "Hello! How can I help?",
        "Tell me a joke about penguins",
        "Why don't penguins fly? They can't afford tickets.",
    ]
    odd = _by_uuid(repo, "7b2e4d3f-0000-4000-8000-0000000000c5")
    assert [t for _, t in _active_texts(repo, odd.id)] == ["Hi", "Hi there"]
    assert [h.conversation_title for h in repo.search("penguins").items] == ["Penguin joke", "Penguin joke"]
    assert import_file(repo, path).unchanged == 3


# ---- Markdown and HTML ----------------------------------------------------------------------------


def test_markdown_export(tmp_path: Path, store: Store) -> None:
    ids = samples.fill_rich_store(store.repo)
    store.repo.create_conversation("Branches & tools")  # same title: another file name
    text = conversation_markdown(store.repo, ids["a"])
    assert text.startswith("# Branches & tools\n\n*")
    assert "model m-1" in text.split("\n")[2]
    assert "## You\n\nWhat is 2+2, using the calculator?" in text
    assert "What is 2+2?\n" not in text  # only the active branch
    assert "<details>\n<summary>Reasoning</summary>\n\nUse the tool, twice.\n\n</details>" in text
    assert "<summary>Tool call: calculator (succeeded)</summary>" in text
    assert "<summary>Tool call: calculator (failed)</summary>" in text
    assert (
        text.index("Let me see")
        < text.index("(succeeded)")
        < text.index("— computing")
        < text.index("(failed)")
        < text.index("4 ✓")
    )
    assert '"expression": "2+2"' in text
    assert "Result:\n\n```\n4\n```" in text

    folder = tmp_path / "md"
    assert export("md", store.repo, None, folder) == 5
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 5
    assert all(n.endswith(".md") for n in names)
    assert sum(n.startswith("branches-tools-") for n in names) == 2
    assert any(n.startswith("errors-and-stops-") for n in names)
    uid = store.repo.get_conversation(ids["a"]).uuid
    assert (folder / f"branches-tools-{uid[:8]}.md").read_text(encoding="utf-8") == text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_export_is_standalone_and_escaped(tmp_path: Path, store: Store) -> None:
    ids = samples.fill_rich_store(store.repo)
    conv = store.repo.create_conversation("Links")
    store.repo.add_message(
        conv.id,
        "See ![a cat](https://example.com/cat.png) and [the site](https://example.com/page) "
        "and <img src=https://evil.example/x.png> | a | b |",
    )
    folder = tmp_path / "html"
    assert export("html", store.repo, [ids["b"], conv.id, ids["a"]], folder) == 3
    pages = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert len(pages) == 3
    for name, page in pages.items():
        assert name.endswith(".html")
        assert "<script" not in page.lower()
        parser = _Tags()
        parser.feed(page)
        tags = [t for t, _ in parser.tags]
        assert "script" not in tags
        assert "link" not in tags
        assert "iframe" not in tags
        assert "img" not in tags
        assert "style" in tags
        for tag, attrs in parser.tags:
            assert "src" not in attrs, (tag, attrs)
            href = attrs.get("href") or ""
            if href.startswith(("http:", "https:")):
                assert tag == "a", (tag, attrs)
    errors_page = next(p for n, p in pages.items() if n.startswith("errors-and-stops-"))
    assert "&lt;script&gt;alert(" in errors_page
    assert "desktop_chat stopped before this answer finished" in errors_page  # the active answer's error
    links_page = next(p for n, p in pages.items() if n.startswith("links-"))
    assert '<a class="image" href="https://example.com/cat.png">[image: a cat]</a>' in links_page
    assert '<a href="https://example.com/page">the site</a>' in links_page
    assert "&lt;img src=https://evil.example/x.png&gt;" in links_page
    tools_page = next(p for n, p in pages.items() if n.startswith("branches-tools-"))
    assert '<details class="reasoning"><summary>Reasoning</summary>' in tools_page
    assert tools_page.count('<details class="tool">') == 2
