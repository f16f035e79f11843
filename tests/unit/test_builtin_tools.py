"""The built-in tools: calculator, conversation search, attached text files and web pages (no Qt)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

from desktop_chat import version
from desktop_chat.domain import HIGHLIGHT_END, HIGHLIGHT_START
from desktop_chat.storage import Store
from desktop_chat.tools.builtin import builtin_tools
from desktop_chat.tools.calculator import MAX_EXPRESSION, CalculatorTool
from desktop_chat.tools.conversation_search import ConversationSearchTool, Hit, hits_from_repo
from desktop_chat.tools.registry import Tool, ToolRegistry, ToolResult
from desktop_chat.tools.text_files import MAX_CHARS, ReadTextFileTool
from desktop_chat.tools.web_fetch import MAX_BODY, MAX_TEXT, WebFetchTool, html_to_text
from tests.helpers.history import conversation_with


def call(tool: Tool, **arguments: Any) -> ToolResult:
    return asyncio.run(tool.run(arguments))


# ---- calculator ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("0.1 + 0.2", "0.30000000000000004"),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("2**10", "1024"),
        ("2 ** 0.5", "1.4142135623730951"),
        ("2**-1", "0.5"),
        ("-2**2", "-4"),
        ("2**3**2", "512"),
        ("7 // 2", "3"),
        ("-7 // 2", "-4"),
        ("-7 % 3", "2"),
        ("7.5 % 2", "1.5"),
        ("10 / 4", "2.5"),
        ("10 / 5", "2.0"),
        ("1e3", "1000.0"),
        ("1.5E-3 * 2", "0.003"),
        ("1_000 * 3", "3000"),
        ("+3 - -3", "6"),
        ("2**100", "1267650600228229401496703205376"),
        ("factorial(20)", "2432902008176640000"),
        ("factorial(0)", "1"),
        ("sqrt(16)", "4.0"),
        ("sqrt(2)", "1.4142135623730951"),
        ("sin(0)", "0.0"),
        ("cos(0)", "1.0"),
        ("tan(0)", "0.0"),
        ("asin(1)", "1.5707963267948966"),
        ("acos(1)", "0.0"),
        ("atan(1) * 4", "3.141592653589793"),
        ("atan2(1, 1)", "0.7853981633974483"),
        ("log(e)", "1.0"),
        ("log(8, 2)", "3.0"),
        ("log10(1000)", "3.0"),
        ("log2(1024)", "10.0"),
        ("exp(0)", "1.0"),
        ("floor(-2.5)", "-3"),
        ("ceil(2.1)", "3"),
        ("abs(-3)", "3"),
        ("abs(-2.5)", "2.5"),
        ("round(2.675, 2)", "2.67"),
        ("round(2.5)", "2"),
        ("round(1234, -2)", "1200"),
        ("min(3, 1, 2)", "1"),
        ("max(1.5, 2)", "2"),
        ("hypot(3, 4)", "5.0"),
        ("pi", "3.141592653589793"),
        ("tau / 2", "3.141592653589793"),
        ("e", "2.718281828459045"),
        ("2 * (3 + (4 - 1)) / 3", "4.0"),
    ],
)
def test_calculator_evaluates(expression: str, value: str) -> None:
    result = call(CalculatorTool(), expression=expression)
    assert result == ToolResult(f"{expression} = {value}")


def test_calculator_exact_big_ints() -> None:
    result = call(CalculatorTool(), expression="factorial(1000)")
    assert not result.is_error
    digits = result.text.split(" = ")[1]
    assert len(digits) == 2568
    assert digits.startswith("402387260077")
    assert call(CalculatorTool(), expression=" 2**10000 % 1000 ").text == "2**10000 % 1000 = 376"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "Unknown function '__import__'"),
        ("__import__('os').system('true')", "Only the listed math functions may be called"),
        ("().__class__", "Attribute access is not allowed"),
        ("(1).real", "Attribute access is not allowed"),
        ("x", "Unknown name 'x'"),
        ("sqrt", "sqrt is a function"),
        ("1e309**2", "too large"),
        ("1e300 * 1e10", "too large"),
        ("2.0**5000", "too large"),
        ("exp(1000)", "too large"),
        ("9**9**9", "exponent 387420489 is too large"),
        ("10**5000", "digits"),
        ("factorial(1000) * factorial(1000)", "too large"),
        ("factorial(10**6)", "limited to n <= 1000"),
        ("factorial(-1)", "negative"),
        ("factorial(2.5)", "whole number"),
        ("round(5, -10**9)", "number of digits"),
        ("lambda: 1", "lambda is not allowed"),
        ("[x for x in (1, 2)]", "comprehension is not allowed"),
        ("(x for x in (1, 2))", "generator expression is not allowed"),
        ("[1, 2][0]", "not allowed"),
        ("1 if 1 else 2", "if/else is not allowed"),
        ("1 < 2", "comparison is not allowed"),
        ("(y := 2)", "Assignment"),
        ("'abc' * 3", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("1j * 1j", "Only numbers"),
        ("(-8) ** (1/3)", "not a real number"),
        ("2 ^ 3", "use ** for powers"),
        ("1 << 1000", "not supported"),
        ("~1", "Only unary + and -"),
        ("min(*[1, 2])", "plain positional"),
        ("round(x=1)", "plain positional"),
        ("sqrt(1, 2)", "takes 1 argument(s), not 2"),
        ("atan2(1)", "takes 2 argument(s), not 1"),
        ("log(1, 2, 3)", "takes 1 to 2 argument(s), not 3"),
        ("max()", "takes 1 or more argument(s), not 0"),
        ("1/0", "Division by zero"),
        ("1 // 0", "Division by zero"),
        ("5 % 0", "Division by zero"),
        ("0 ** -1", "Division by zero"),
        ("sqrt(-1)", "sqrt(-1) is undefined"),
        ("log(0)", "log(0) is undefined"),
        ("acos(2)", "acos(2) is undefined"),
        ("10**400 / 3", "too large"),
        ("1 +", "Not a valid expression"),
        ("import os", "Not a valid expression"),
        ("1; 2", "Not a valid expression"),
        ("", "empty"),
        ("   ", "empty"),
        ("1+" * 1000 + "1", "too long (2001 characters"),
        ("(" * 300 + "1" + ")" * 300, "Not a valid expression"),
    ],
)
def test_calculator_refuses_clearly_and_quickly(expression: str, message: str) -> None:
    started = time.perf_counter()
    result = call(CalculatorTool(), expression=expression)
    assert time.perf_counter() - started < 0.5
    assert result.is_error
    assert message in result.text


def test_calculator_handles_deep_expressions_without_recursion() -> None:
    for expression, value in [
        ("1+" * 499 + "1", "500"),
        ("-" * 999 + "1", "-1"),
        ("sqrt(" * 90 + "1" + ")" * 90, "1.0"),
        ("(" * 150 + "2" + ")" * 150, "2"),
    ]:
        assert len(expression) <= MAX_EXPRESSION
        assert call(CalculatorTool(), expression=expression) == ToolResult(f"{expression} = {value}")


def test_calculator_argument_must_be_a_string() -> None:
    assert call(CalculatorTool(), expression=3).is_error
    assert call(CalculatorTool()).is_error
    assert len("1" * MAX_EXPRESSION) == MAX_EXPRESSION
    assert not call(CalculatorTool(), expression="1" * MAX_EXPRESSION).is_error


# ---- conversation search ------------------------------------------------------------------------------


def test_search_over_a_real_store(store: Store) -> None:
    conversation_with(
        store,
        "Cooking",
        "How long do I bake sourdough bread?",
        "Bake the sourdough at 230 °C for about 40 minutes.",
    )
    conversation_with(store, "Gardening", "When do I plant tomatoes?", "After the last frost.")
    tool = ConversationSearchTool(hits_from_repo(store.repo))
    today = datetime.now().date().isoformat()
    result = call(tool, query="sourdough")
    assert not result.is_error
    assert result.text.splitlines() == [
        "2 match(es) for sourdough:",
        f"1. Cooking ({today}): Bake the **sourdough** at 230 °C for about 40 minutes.",
        f"2. Cooking ({today}): How long do I bake **sourdough** bread?",
    ]
    assert HIGHLIGHT_START not in result.text
    assert HIGHLIGHT_END not in result.text
    one = call(tool, query="sourdough", limit=1)
    assert one.text.splitlines()[1:] == [
        f"1. Cooking ({today}): Bake the **sourdough** at 230 °C for about 40 minutes."
    ]
    assert "1. Gardening" in call(tool, query='"last frost"').text
    excluded = call(tool, query="sourdough -minutes").text.splitlines()
    assert excluded[1:] == [f"1. Cooking ({today}): How long do I bake **sourdough** bread?"]
    assert "**tomatoes**" in call(tool, query="tomato*").text
    assert call(tool, query="pizza") == ToolResult("No conversation mentions pizza.")
    assert call(tool, query="-only") == ToolResult("No conversation mentions -only.")  # nothing to match


class FakeSearch:
    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.calls: list[tuple[str, int]] = []

    def __call__(self, query: str, limit: int) -> list[Hit]:
        self.calls.append((query, limit))
        return self.hits[:limit]


def test_search_formatting_and_limit_bounds() -> None:
    when = datetime(2024, 3, 5, 12, 0).timestamp()  # noon local: the same day in every time zone's view
    hits = [
        Hit("Trip\nplans", 1, when, f"the {HIGHLIGHT_START}train{HIGHLIGHT_END} leaves\nat 9"),
        Hit("", 2, when, "no highlight"),
        *[Hit(f"c{i}", 3 + i, when, "x") for i in range(30)],
    ]
    fake = FakeSearch(hits)
    tool = ConversationSearchTool(fake)
    text = call(tool, query="  train  ").text.splitlines()
    assert text[:4] == [
        "8 match(es) for train:",
        "1. Trip plans (2024-03-05): the **train** leaves at 9",  # one line per match
        "2. Untitled (2024-03-05): no highlight",
        "3. c0 (2024-03-05): x",
    ]
    assert len(text) == 9
    assert fake.calls[-1] == ("train", 8)
    for given, used in [(1, 1), (0, 1), (-5, 1), (20, 20), (21, 20), (1000, 20), (3.0, 3), ("4", 4)]:
        result = call(tool, query="x", limit=given)
        assert not result.is_error
        assert fake.calls[-1] == ("x", used)
        assert result.text.startswith(f"{used} match(es)")
    for bad in ["many", 2.5, True, [3]]:
        assert call(tool, query="x", limit=bad).is_error
    assert call(tool, query="").is_error
    assert call(tool, query=3).is_error
    assert call(tool).is_error
    assert "too long" in call(tool, query="a" * 501).text


def test_search_failure_is_an_error_result() -> None:
    def broken(query: str, limit: int) -> list[Hit]:
        raise RuntimeError("database is locked")

    result = call(ConversationSearchTool(broken), query="x")
    assert result.is_error
    assert "database is locked" in result.text


# ---- attached text files ------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    attached = tmp_path / "attached"
    attached.mkdir()
    notes = attached / "notes.txt"
    notes.write_text("first line\nsecond line é\n", encoding="utf-8")
    latin = attached / "latin1.txt"
    latin.write_bytes(b"caf\xe9 au lait")
    binary = attached / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    huge = attached / "huge.log"
    huge.write_text("0123456789" * 25_000, encoding="utf-8")  # 250,000 characters
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read", encoding="utf-8")
    link = attached / "link.txt"
    link.symlink_to(secret)
    return {"notes": notes, "latin": latin, "binary": binary, "huge": huge, "secret": secret, "link": link}


def _reader(files: dict[str, Path]) -> ReadTextFileTool:
    allowed = [files["notes"], files["latin"], files["binary"], files["huge"]]
    return ReadTextFileTool(lambda: allowed)


def test_reads_an_attached_file(files: dict[str, Path]) -> None:
    result = call(_reader(files), path=str(files["notes"]))
    assert not result.is_error
    header, body = result.text.split("\n\n", 1)
    assert header.startswith(f"File: {files['notes']}")
    assert body == "first line\nsecond line é\n"
    dotted = files["notes"].parent / ".." / "attached" / "notes.txt"
    assert call(_reader(files), path=str(dotted)) == result
    assert call(_reader(files), path="notes.txt") == result  # a bare name, unique among the attachments
    assert call(_reader(files), path="latin1.txt").text.endswith("caf\ufffd au lait")


def test_refuses_files_not_attached(files: dict[str, Path]) -> None:
    reader = _reader(files)
    attached = files["notes"].parent
    for path in [
        str(files["secret"]),
        str(attached / ".." / "secret.txt"),
        str(attached / "notes.txt" / ".." / ".." / "secret.txt"),
        "../secret.txt",
        "secret.txt",
        str(files["link"]),  # a symlink inside the attached folder that resolves outside it
        "link.txt",
        str(attached),
        "/etc/passwd",
        "~/.bashrc",
        ".",
    ]:
        result = call(reader, path=path)
        assert result.is_error, path
        assert "is not a file the user attached" in result.text
        assert "huge.log, image.png, latin1.txt, notes.txt" in result.text
        assert "do not read" not in result.text


def test_binary_huge_missing_and_nothing_attached(files: dict[str, Path]) -> None:
    reader = _reader(files)
    binary = call(reader, path=str(files["binary"]))
    assert binary == ToolResult("image.png is not a text file (it looks binary).", True)
    huge = call(reader, path=str(files["huge"]))
    assert not huge.is_error
    body = huge.text.split("\n\n", 1)[1]
    assert body.startswith("0123456789" * 100)
    assert f"[Truncated: only the first {MAX_CHARS:,} characters" in body
    assert len(body.split("\n\n[Truncated")[0]) == MAX_CHARS
    files["notes"].unlink()
    missing = call(reader, path=str(files["notes"]))
    assert missing.is_error
    assert "no longer exists" in missing.text
    nothing = call(ReadTextFileTool(list), path=str(files["notes"]))
    assert nothing.is_error
    assert "No files are attached" in nothing.text
    assert call(reader, path="").is_error
    assert call(reader).is_error


# ---- web pages ----------------------------------------------------------------------------------------

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>  Test   page </title>
<style>body { color: red }</style><script>var secret = "script text";</script></head>
<body>
<nav><a href="/home">Navigation link</a></nav>
<h1>Main &amp; heading</h1>
<p>First   paragraph with <b>bold</b>
and a <a href="https://example.com/docs">docs link</a> and a <a href="/relative">relative one</a>.</p>
<h2>List</h2>
<ul><li>one</li><li>two</li></ul>
<noscript>Enable JavaScript</noscript>
<svg><title>icon</title><path d="M0"/></svg>
<p>Caf\xc3\xa9</p>
<footer>Footer text</footer>
</body></html>"""


class Handler(BaseHTTPRequestHandler):
    stop = threading.Event()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str | None, *, length: bool = True) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client stops reading past the size limit
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path
        if path == "/page":
            self._send(200, PAGE, "text/html")
        elif path == "/plain":
            self._send(200, "plain  text\n  as is é".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif path == "/json":
            self._send(200, b'{"a": [1, 2]}', "application/json")
        elif path == "/ua":
            self._send(200, self.headers.get("User-Agent", "").encode(), "text/plain")
        elif path == "/redirect":
            self._redirect("/hop")
        elif path == "/hop":
            self._redirect(f"http://{self.headers['Host']}/page")  # absolute this time
        elif path.startswith("/loop"):
            self._redirect(f"/loop{len(path)}")
        elif path == "/to-file":
            self._redirect("file:///etc/passwd")
        elif path == "/to-credentials":
            self._redirect("http://user:pw@127.0.0.1/")
        elif path == "/binary":
            self._send(200, b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")
        elif path == "/untyped-binary":
            self._send(200, b"\x00\x01\x02\x03", None)
        elif path == "/huge":
            self._send(200, b"x" * (3 * 1024 * 1024), "text/plain")
        elif path == "/huge-unannounced":
            self._send(200, b"y" * (3 * 1024 * 1024), "text/plain", length=False)
        elif path == "/long-text":
            self._send(200, b"z" * (MAX_TEXT + 10), "text/plain")
        elif path == "/slow":
            self.stop.wait(10)
            self._send(200, b"late", "text/plain")
        else:
            self._send(404, b"not here", "text/plain")


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.stop.clear()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        Handler.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _fetcher(**kwargs: Any) -> WebFetchTool:
    return WebFetchTool(lambda: httpx2.AsyncClient(trust_env=False), **kwargs)


def test_fetches_html_as_readable_text(server: str) -> None:
    result = call(_fetcher(), url=f"{server}/page")
    assert not result.is_error
    assert result.text == (
        f"Title: Test page\nURL: {server}/page\n\n"
        "# Main & heading\n\n"
        "First paragraph with bold and a docs link (https://example.com/docs) and a relative one.\n\n"
        "## List\n\n"
        "- one\n- two\n\n"
        "Café"
    )
    for dropped in ["script text", "color: red", "Navigation", "Enable JavaScript", "icon", "Footer"]:
        assert dropped not in result.text


def test_fetches_plain_text_and_json_as_is(server: str) -> None:
    plain = call(_fetcher(), url=f"{server}/plain")
    assert plain == ToolResult(f"URL: {server}/plain\n\nplain  text\n  as is é")
    assert call(_fetcher(), url=f"{server}/json").text == f'URL: {server}/json\n\n{{"a": [1, 2]}}'
    assert call(_fetcher(), url=f"{server}/ua").text.endswith(f"desktop_chat/{version()}")
    long = call(_fetcher(), url=f"{server}/long-text")
    assert not long.is_error
    assert long.text.endswith(
        f"[Truncated: the page has {MAX_TEXT + 10:,} characters; the first 50,000 are shown.]"
    )
    assert long.text.count("z") == MAX_TEXT


def test_follows_redirects_to_the_final_url(server: str) -> None:
    result = call(_fetcher(), url=f"{server}/redirect")
    assert result.text.startswith(f"Title: Test page\nURL: {server}/page\n\n# Main")
    loop = call(_fetcher(), url=f"{server}/loop")
    assert loop.is_error
    assert "Too many redirects (more than 5)" in loop.text
    to_file = call(_fetcher(), url=f"{server}/to-file")
    assert to_file.is_error
    assert "Only http and https" in to_file.text
    to_credentials = call(_fetcher(), url=f"{server}/to-credentials")
    assert to_credentials.is_error
    assert "user name or password" in to_credentials.text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "The server answered 404 Not Found"),
        ("/binary", "is image/png, not a web page or text"),
        ("/untyped-binary", "looks binary"),
        ("/huge", f"is too large (3,145,728 bytes; the limit is {MAX_BODY:,})"),
        ("/huge-unannounced", f"is too large (more than {MAX_BODY:,} bytes)"),
    ],
)
def test_http_failures_are_error_results(server: str, path: str, message: str) -> None:
    result = call(_fetcher(), url=f"{server}{path}")
    assert result.is_error
    assert message in result.text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "Only http and https"),
        ("ftp://example.com/file", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("example.com", "Only http and https"),
        ("http://user:secret@127.0.0.1/", "user name or password"),
        ("https://user@example.com/", "user name or password"),
        ("http:///path", "no host name"),
        ("http://127.0.0.1:99999/", "Not a valid URL"),
        ("http://example.com/a b", "spaces"),
        ("", "Pass the address"),
    ],
)
def test_refused_urls(url: str, message: str) -> None:
    result = call(WebFetchTool(), url=url)
    assert result.is_error
    assert message in result.text


def test_connection_failure_timeout_and_cancel(server: str) -> None:
    refused = call(_fetcher(), url=f"http://127.0.0.1:{unused_port()}/")
    assert refused.is_error
    assert "Could not connect to 127.0.0.1" in refused.text
    slow = call(_fetcher(timeout=0.3), url=f"{server}/slow")
    assert slow == ToolResult(f"Fetching {server}/slow timed out after 0.3 s.", True)

    async def cancelled() -> None:
        task = asyncio.create_task(_fetcher().run({"url": f"{server}/slow"}))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    started = time.perf_counter()
    asyncio.run(cancelled())
    assert time.perf_counter() - started < 2


def unused_port() -> int:
    """A loopback port nothing listens on (most likely: it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_default_client_skips_the_proxy_for_loopback(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{unused_port()}")  # a proxy that refuses everything
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    result = call(WebFetchTool(), url=f"{server}/json")
    assert result == ToolResult(f'URL: {server}/json\n\n{{"a": [1, 2]}}')


def test_html_edge_cases() -> None:
    title, text = html_to_text(
        "<title>T</title><body><pre>a  b\n  c</pre><p>x<br>y</p><table><tr><td>1</td><td>2</td></tr></table>"
        "<a href='mailto:a@b.c'>mail</a> <a href='https://same.org'>https://same.org</a><div>unclosed <nav>n",
        "https://base/",
    )
    assert title == "T"
    assert text == "```\na  b\n  c\n```\n\nx\ny\n\n1 2\n\nmail https://same.org\n\nunclosed"
    assert html_to_text("<html><head><title>only head", "") == ("only head", "")
    assert html_to_text("<head><title>t</title><body><p>after an unclosed head</p>", "")[1] == (
        "after an unclosed head"
    )


# ---- registration -------------------------------------------------------------------------------------


def test_builtin_tools_and_their_specs(tmp_path: Path) -> None:
    assert [t.spec.name for t in builtin_tools()] == ["current_datetime", "calculator", "fetch_web_page"]
    every = builtin_tools(search=FakeSearch([]), attached_files=list)
    specs = {t.spec.name: t.spec for t in every}
    assert list(specs) == [
        "current_datetime",
        "calculator",
        "search_conversations",
        "read_text_file",
        "fetch_web_page",
    ]
    approval = {name for name, spec in specs.items() if spec.needs_approval}
    assert approval == {"read_text_file", "fetch_web_page"}
    for spec in specs.values():
        api = json.loads(json.dumps(spec.api()))
        assert api["function"]["parameters"]["type"] == "object"
        assert len(spec.description) > 40
        for required in api["function"]["parameters"].get("required", []):
            assert required in api["function"]["parameters"]["properties"]
    registry = ToolRegistry(every)
    assert asyncio.run(registry.run("calculator", '{"expression": "6 * 7"}')) == ToolResult("6 * 7 = 42")
    bad = asyncio.run(registry.run("calculator", '{"expression": "1/0"}'))
    assert bad == ToolResult("Division by zero.", True)


def test_tools_import_no_http_stack_and_no_upper_layer() -> None:
    code = (
        "import sys, desktop_chat.tools.builtin\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('httpx2', 'openai', 'PySide6', 'peewee')"
        " or m.startswith(('desktop_chat.services', 'desktop_chat.ui', 'desktop_chat.storage'))]\n"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    assert out.stdout.strip() == "[]"
