"""The wire itself: SSE framing (blank lines, CRLF, bare JSON lines, a BOM, multi-line data), cut and
malformed streams, and text split or escaped in unusual places."""

from __future__ import annotations

from desktop_chat.llm.errors import MalformedStreamError, StreamCutError
from tests.helpers.shapes.build import DONE, chunk, dumps, sse, texts
from tests.helpers.shapes.model import Shape

SHAPES: list[Shape] = [
    Shape(
        "stream_cut_midway",
        source="The connection drops mid-answer: no finish_reason, no [DONE] (opencode#40061; vaadin "
        "flow-components#9195, LM Studio over its context length)",
        lines=[*texts(["The answer", " is forty"])],
        expected_text="The answer is forty",
        expected_error=StreamCutError,
    ),
    Shape(
        "malformed_json_line",
        source="A truncated JSON document (a proxy that cut a line): the text before it is kept",
        lines=[
            *texts(["Before"]),
            'data: {"id":"chatcmpl-1","object":"chat.completion.chunk",'
            '"choices":[{"index":0,"delta":{"content":" af',
            "",
            *texts([" after"]),
            *DONE,
        ],
        expected_text="Before",
        expected_error=MalformedStreamError,
    ),
    Shape(
        "events_without_blank_lines",
        source="Proxies that write data lines back to back without the blank line between events, and "
        "[DONE] right after",
        lines=[
            f"data: {dumps(chunk({'role': 'assistant', 'content': 'No'}))}",
            f"data: {dumps(chunk({'content': ' blank'}))}",
            f"data: {dumps(chunk({'content': ' lines.'}))}",
            f"data: {dumps(chunk({}, 'stop'))}",
            "data: [DONE]",
        ],
        expected_text="No blank lines.",
        expected_finish="stop",
    ),
    Shape(
        "crlf_line_endings",
        source="CRLF line endings (a Windows proxy); the lines keep their \\r when split on \\n only",
        lines=[
            f"data: {dumps(chunk({'role': 'assistant', 'content': 'Windows'}))}\r",
            "\r",
            ": ping\r",
            "\r",
            f"data: {dumps(chunk({'content': ' line endings.'}))}\r",
            "\r",
            f"data: {dumps(chunk({}, 'stop'))}\r",
            "\r",
            "data: [DONE]\r",
            "\r",
        ],
        expected_text="Windows line endings.",
        expected_finish="stop",
    ),
    Shape(
        "ndjson_bare_lines",
        source="A misconfigured server or proxy that writes bare JSON lines (NDJSON) without `data:`",
        lines=[
            dumps(chunk({"role": "assistant", "content": "Bare"})),
            dumps(chunk({"content": " JSON"})),
            dumps(chunk({"content": " lines."})),
            dumps(chunk({}, "stop")),
        ],
        expected_text="Bare JSON lines.",
        expected_finish="stop",
    ),
    Shape(
        "data_without_space_bom_and_fields",
        source="SSE spec details: a BOM before the first line, `data:` without the optional space, `id:`, "
        "`retry:`, `event: message` and unknown fields (html.spec.whatwg.org server-sent events)",
        lines=[
            "\ufeffretry: 3000",
            "",
            "id: 1",
            "event: message",
            f"data:{dumps(chunk({'role': 'assistant', 'content': 'Spec'}))}",
            "",
            "id: 2",
            "x-unknown-field: ignored",
            f"data:{dumps(chunk({'content': ' compliant.'}))}",
            "",
            f"data:{dumps(chunk({}, 'stop'))}",
            "",
            "data:[DONE]",
            "",
        ],
        expected_text="Spec compliant.",
        expected_finish="stop",
    ),
    Shape(
        "multi_line_data",
        source="One pretty-printed JSON document over several data: lines (joined with \\n, per the SSE "
        "spec)",
        lines=[
            "data: {",
            'data:   "choices": [{"index": 0, "delta": {"content": "Multi"}}],',
            'data:   "object": "chat.completion.chunk"',
            "data: }",
            "",
            *texts(["-line."]),
            *sse(chunk({}, "stop")),
            *DONE,
        ],
        expected_text="Multi-line.",
        expected_finish="stop",
    ),
    Shape(
        "unicode_split_across_deltas",
        source="Emoji (with ZWJ and skin tone), CJK and combining marks split between deltas as tokenisers "
        "do; raw UTF-8 in the JSON",
        lines=[
            *texts(
                [
                    "Caf",
                    "e\u0301 ",
                    "👩",
                    "\u200d",
                    "💻",
                    " 日本",
                    "語の",
                    "テキスト ",
                    "👍",
                    "\U0001f3fd",
                    " ñ",
                ]
            ),
            *sse(chunk({}, "stop")),
            *DONE,
        ],
        expected_text="Cafe\u0301 👩\u200d💻 日本語のテキスト 👍\U0001f3fd ñ",
        expected_finish="stop",
    ),
    Shape(
        "line_separators_in_text",
        source="Raw U+2028/U+2029/U+0085 inside JSON strings (llama.cpp, pydantic-based servers do not "
        "escape them): lines must be split on \\r and \\n only; LineSplitter does, httpx's iter_lines() and "
        "str.splitlines() do not",
        lines=[
            *texts(["Line\u2028separator", " and\u2029paragraph", " and\x85NEL."]),
            *sse(chunk({}, "stop")),
            *DONE,
        ],
        expected_text="Line\u2028separator and\u2029paragraph and\x85NEL.",
        expected_finish="stop",
    ),
    Shape(
        "utf16_surrogates_split",
        source="A proxy that slices JS strings by UTF-16 code units and escapes them: one emoji's surrogate "
        "pair arrives as \\ud83d in one delta and \\ude00 in the next",
        lines=[
            'data: {"choices":[{"index":0,"delta":{"content":"smile \\ud83d"}}]}',
            "",
            'data: {"choices":[{"index":0,"delta":{"content":"\\ude00 ok"}}]}',
            "",
            *sse(chunk({}, "stop")),
            *DONE,
        ],
        expected_text="smile 😀 ok",
        expected_finish="stop",
    ),
]
