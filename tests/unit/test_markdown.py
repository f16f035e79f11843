"""Markdown for the transcript: CommonMark + GFM tables, highlighting, safety, and incremental blocks."""

from __future__ import annotations

import re

import pytest

from desktop_chat.markdown_parser import is_safe_url
from desktop_chat.ui.transcript.markdown import BlockSplitter, HtmlColors, block_html, split_blocks, to_html
from tests.helpers.markdown_samples import answer, long_answer
from tests.helpers.text import missing


def test_commonmark_basics() -> None:
    html = to_html(
        "# Title\n\nSome *emphasis*, **strong**, `code` and a [link](https://example.org).\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n> quoted\n\nline  \nbreak\n\n---\n\n"
        "A [reference][r].\n\n[r]: https://example.com/ref"
    )
    assert re.search(r"<code[^>]*>&nbsp;code&nbsp;</code>", html)
    assert not missing(
        html,
        "<h1>Title</h1>",
        "<em>emphasis</em>",
        "<strong>strong</strong>",
        '<a href="https://example.org">link</a>',
        "<ul>",
        "<ol>",
        "<li>",
        "<blockquote",
        "quoted",
        "line<br />",
        "<hr />",
        '<a href="https://example.com/ref">reference</a>',
    )


def test_gfm_table_and_strikethrough() -> None:
    html = to_html("| Name | Size |\n|:--|--:|\n| a | 1 |\n| b | 22 |\n\n~~gone~~")
    assert '<table border="1" cellspacing="0" cellpadding="5"' in html
    assert "border-collapse:collapse" in html
    assert re.search(r'<th align="left"[^>]*>Name</th>', html)
    assert '<td align="right">22</td>' in html
    assert "<s>gone</s>" in html


def test_fenced_code_is_highlighted_with_inline_styles() -> None:
    html = to_html("```python\ndef f(x):\n    return x  # done\n```")
    assert "<pre" in html
    assert '<span style="color: #' in html  # Pygments colours, no classes
    assert "def" in html
    assert "# done" in html
    dark = to_html("```python\ndef f(): pass\n```", HtmlColors(dark=True))
    assert dark != html  # the dark style has its own colours


def test_unknown_language_and_indented_code_are_escaped_plain() -> None:
    html = to_html("```nolang\n<b>x</b>\n```\n\n    indented <i>")
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "indented &lt;i&gt;" in html
    assert "<b>" not in html
    assert "<i>" not in html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html,hi)",
        "[x](file:///etc/passwd)",
        "[x](vbscript:msgbox)",
        "[x](relative/page.html)",
        "<javascript:alert(1)>",
    ],
)
def test_unsafe_links_stay_plain_text(source: str) -> None:
    html = to_html(source)
    assert "<a " not in html
    assert "x" in html or "alert" in html


def test_safe_links_only_http_https_mailto() -> None:
    assert is_safe_url("https://a.org")
    assert is_safe_url("http://a.org")
    assert is_safe_url("mailto:me@a.org")
    assert not is_safe_url("ftp://a.org")
    assert not is_safe_url("javascript:x")
    assert not is_safe_url("/etc")
    assert '<a href="mailto:me@a.org">' in to_html("<mailto:me@a.org>")


def test_raw_html_is_shown_as_text() -> None:
    html = to_html('<script>alert(1)</script>\n\nhi <img src="https://evil.example/x.png" onerror="x()">')
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img" in html


def test_images_become_links_never_img_tags() -> None:
    html = to_html("![a cat](https://example.org/cat.png) and ![](http://example.org/x.png)")
    assert "<img" not in html
    assert '<a href="https://example.org/cat.png">[image: a cat]</a>' in html
    assert '<a href="http://example.org/x.png">[image]</a>' in html
    unsafe = to_html("![secret](file:///home/me/secret.png)")
    assert "<img" not in unsafe
    assert "<a " not in unsafe


def test_blocks_cover_the_text_with_their_kinds() -> None:
    text = "# T\n\npara\n\n```py\nx = 1\n```\n\n| a |\n|---|\n| 1 |\n\n- x\n- y\n"
    blocks = split_blocks(text)
    assert [b.kind for b in blocks] == [
        "heading_open",
        "paragraph_open",
        "fence",
        "table_open",
        "bullet_list_open",
    ]
    assert "".join(b.source for b in blocks) == text
    assert [b.start for b in blocks] == [text.index(b.source) for b in blocks]
    code = blocks[2]
    assert code.is_code
    assert code.info == "py"
    assert code.code == "x = 1\n"


def _stream(text: str, step: int) -> BlockSplitter:
    splitter = BlockSplitter()
    for end in range(step, len(text) + step, step):
        splitter.update(text[:end])
    return splitter


@pytest.mark.parametrize("step", [1, 7, 20])
def test_streamed_blocks_equal_a_whole_split(step: int) -> None:
    text = answer(11, 2500) + "\n\n" + answer(12, 1500)
    streamed = _stream(text, step)
    assert [(b.source, b.kind) for b in streamed.blocks()] == [(b.source, b.kind) for b in split_blocks(text)]


def test_final_blocks_never_change_and_the_tail_is_parsed_alone() -> None:
    text = long_answer(60_000)
    splitter = BlockSplitter()
    seen: dict[int, object] = {}
    worst = 0
    for end in range(20, len(text) + 20, 20):
        splitter.update(text[:end])
        worst = max(worst, splitter.parsed_chars) if end > 10_000 else worst
        for i, block in enumerate(splitter.final):
            assert seen.setdefault(i, block) is block  # a final block is never replaced
    assert len(splitter.final) > 20
    assert worst < 5_000  # each update parsed only the open tail, never the 60 KB before it


def test_a_block_started_on_a_partial_last_line_does_not_close_the_one_before() -> None:
    splitter = BlockSplitter()
    splitter.update("| a | b |\n|---|---|\n| 1 | 2 |\nx")
    assert splitter.final == []  # "x" may still become a table row
    splitter.update("| a | b |\n|---|---|\n| 1 | 2 |\nx | y\n\nNext paragraph\n")
    assert [b.kind for b in splitter.final] == ["table_open"]
    assert "x | y" in splitter.final[0].source


def test_unclosed_fence_at_the_tail_renders_as_code() -> None:
    splitter = BlockSplitter()
    splitter.update("Intro.\n\n```python\ndef f():\n    return 1")
    tail = splitter.tail[-1]
    assert tail.is_code
    html = block_html(tail.source, HtmlColors())
    assert "<pre" in html
    assert "return" in html
    assert "```" not in html


def test_a_different_text_starts_over() -> None:
    splitter = BlockSplitter()
    splitter.update("first\n\nsecond\n\nthird")
    generation = splitter.generation
    splitter.update("other\n\ntext")
    assert splitter.generation == generation + 1
    assert [b.source for b in splitter.blocks()] == ["other\n\n", "text"]


def test_line_ends_are_normalized() -> None:
    splitter = BlockSplitter()
    splitter.update("a\r\nb\r\n\r\nc")
    assert [b.source for b in splitter.blocks()] == ["a\nb\n\n", "c"]
