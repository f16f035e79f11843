"""A tool that fetches a web page and gives the model its readable text.

HTML becomes plain text with a little Markdown (headings, list items, absolute links); plain text and JSON
come back as they are. Only http(s), no credentials in URLs, at most 5 redirects (each hop checked), 2 MB
per body and 20 s per fetch. httpx2 is imported on first use, not with the app.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import desktop_chat
from desktop_chat.tools.registry import ToolResult, ToolSpec, text_argument

if TYPE_CHECKING:
    import httpx2

TIMEOUT = 20.0  # seconds for the whole fetch, redirects included
MAX_BODY = 2 * 1024 * 1024  # bytes, after content decoding
MAX_REDIRECTS = 5
MAX_TEXT = 50_000  # characters returned to the model
MAX_URL = 4000

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "application/json", "text/json"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
LOOPBACK_MOUNTS = ("all://127.0.0.1", "all://localhost", "all://[::1]")


class FetchRefused(Exception):
    """A fetch that failed or was refused (the message is for the model)."""


def check_url(url: str) -> str | None:
    """Why a URL may not be fetched, or None if it may."""
    if len(url) > MAX_URL:
        return f"The URL is too long ({len(url)} characters; the limit is {MAX_URL})."
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a bad port raises ValueError
    except ValueError as exc:
        return f"Not a valid URL ({exc}): {url}"
    if parts.scheme.lower() not in ("http", "https"):
        return (
            f"Only http and https URLs can be fetched, not {parts.scheme or 'a URL without a scheme'}: {url}"
        )
    if parts.username is not None or parts.password is not None:
        return "URLs with a user name or password in them are not fetched."
    if not host:
        return f"The URL has no host name: {url}"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "The URL contains spaces or control characters; encode them (%20) first."
    return None


def user_agent() -> str:
    """How the app introduces itself to web servers."""
    return f"desktop_chat/{desktop_chat.version()}"


def default_client() -> httpx2.AsyncClient:
    """A client that honours the environment's proxy settings, except for this machine's addresses."""
    import httpx2

    return httpx2.AsyncClient(
        timeout=TIMEOUT,
        follow_redirects=False,
        mounts=dict.fromkeys(LOOPBACK_MOUNTS),  # no proxy for loopback
    )


@dataclass(frozen=True, slots=True)
class Fetched:
    """A body as it arrived."""

    url: str
    media_type: str
    charset: str | None
    body: bytes


# ---- HTML to readable text ----------------------------------------------------------------------------

SKIPPED = frozenset({"script", "style", "nav", "footer", "noscript", "svg", "template", "iframe", "head"})
BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "aside", "blockquote", "table", "tr", "ul",
        "ol", "dl", "dd", "dt", "figure", "figcaption", "form", "address", "details", "summary", "hr",
        "body", "html", "fieldset", "caption", "tbody", "thead", "tfoot",
    }
)  # fmt: skip
HEADINGS = {f"h{n}": n for n in range(1, 7)}
_SPACES = re.compile(r"\s+")


class _Readable(HTMLParser):
    """Collects the readable text of a page: one block per paragraph, heading or list item."""

    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.title = ""
        self.blocks: list[tuple[str, str]] = []  # (kind, text): kind is "p", "li" or "pre"
        self._parts: list[str] = []
        self._prefix = ""
        self._kind = "p"
        self._skip: list[str] = []
        self._in_title = False
        self._pre = 0
        self._links: list[tuple[str | None, int]] = []  # (absolute href, where its text starts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._skip_head_title():
            self._in_title = True
            return
        if tag == "body" and "head" in self._skip:  # an unclosed <head> ends where <body> starts
            self._skip.remove("head")
        if tag in SKIPPED:
            self._skip.append(tag)
            return
        if self._skip:
            return
        if tag in HEADINGS:
            self._flush()
            self._prefix = "#" * HEADINGS[tag] + " "
        elif tag == "li":
            self._flush()
            self._prefix, self._kind = "- ", "li"
        elif tag == "pre":
            self._flush()
            self._pre += 1
            self._kind = "pre"
        elif tag == "br":
            self._parts.append("\n")
        elif tag in ("td", "th"):
            self._parts.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            target = (
                urljoin(self.base_url, href) if href.lower().startswith(("http://", "https://")) else None
            )
            self._links.append((target, len(self._parts)))
        elif tag in BLOCKS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED or tag == "a":
            return  # <svg/>, <a/>: nothing inside to skip or to link
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if tag in SKIPPED:
            if tag in self._skip:  # close it and anything left open inside it
                del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag) :]
            return
        if self._skip:
            return
        if tag == "a" and self._links:
            target, start = self._links.pop()
            text = " ".join("".join(self._parts[start:]).split())
            if target and text and text != target:
                self._parts.append(f" ({target})")
        elif tag == "pre":
            self._flush()
            self._pre = max(0, self._pre - 1)
        elif tag in HEADINGS or tag == "li" or tag in BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._parts.append(data if self._pre else _SPACES.sub(" ", data))

    def _skip_head_title(self) -> bool:
        """True for a <title> inside <svg> and the like (not the page's title)."""
        return any(t != "head" for t in self._skip)

    def _flush(self) -> None:
        """End the current block."""
        raw = "".join(self._parts)
        self._parts.clear()
        self._links = [(t, 0) for t, _ in self._links]
        if self._kind == "pre":
            text = raw.strip("\n")
            if text.strip():
                self.blocks.append(("pre", f"```\n{text}\n```"))
        else:
            lines = (" ".join(line.split()) for line in raw.split("\n"))
            text = "\n".join(line for line in lines if line)
            if text:
                self.blocks.append((self._kind, self._prefix + text))
        self._prefix, self._kind = "", "pre" if self._pre else "p"

    def text(self) -> str:
        """The blocks: list items one per line, everything else separated by a blank line."""
        self._flush()
        out: list[str] = []
        previous = ""
        for kind, text in self.blocks:
            if out:
                out.append("\n" if kind == previous == "li" else "\n\n")
            out.append(text)
            previous = kind
        return "".join(out)


def html_to_text(html: str, base_url: str = "") -> tuple[str, str]:
    """(title, readable text) of an HTML page."""
    parser = _Readable(base_url)
    parser.feed(html)
    parser.close()
    return " ".join(parser.title.split()), parser.text()


# ---- fetching -----------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode(fetched: Fetched) -> str:
    """The body as text: the header's charset, else an HTML meta charset, else UTF-8."""
    charset = fetched.charset
    if charset is None and fetched.media_type in HTML_TYPES:
        match = _META_CHARSET.search(fetched.body[:4096])
        charset = match.group(1).decode("ascii") if match else None
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    return fetched.body.decode(codec, errors="replace")


def _content_type(value: str) -> tuple[str, str | None]:
    """(media type, charset or None) of a Content-Type header."""
    message = Message()
    message["content-type"] = value
    charset = message.get_param("charset")
    return message.get_content_type().lower(), charset if isinstance(charset, str) else None


def _is_text(media_type: str) -> bool:
    return media_type in TEXT_TYPES or media_type.endswith("+json")


async def _get(client: httpx2.AsyncClient, url: str) -> Fetched:
    """GET the URL, following redirects by hand so that every hop is checked."""
    headers = {
        "User-Agent": user_agent(),
        "Accept": "text/html, text/plain, application/json;q=0.9, */*;q=0.1",
    }
    for _ in range(MAX_REDIRECTS + 1):
        async with client.stream("GET", url, headers=headers, follow_redirects=False) as response:
            if response.status_code in REDIRECT_CODES and "location" in response.headers:
                target = urljoin(str(response.url), response.headers["location"])
                problem = check_url(target)
                if problem is not None:
                    raise FetchRefused(f"{url} redirects to a URL that is not fetched. {problem}")
                url = target
                continue
            if response.status_code >= 400:
                phrase = response.reason_phrase or "error"
                raise FetchRefused(f"The server answered {response.status_code} {phrase} for {url}.")
            media_type, charset = _content_type(response.headers.get("content-type", ""))
            if media_type not in HTML_TYPES and not _is_text(media_type):
                raise FetchRefused(
                    f"{url} is {media_type}, not a web page or text: only HTML, plain text and JSON are read."
                )
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_BODY:
                raise FetchRefused(f"{url} is too large ({int(length):,} bytes; the limit is {MAX_BODY:,}).")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    raise FetchRefused(f"{url} is too large (more than {MAX_BODY:,} bytes).")
            if not response.headers.get("content-type") and b"\x00" in body[:8192]:
                raise FetchRefused(f"{url} has no content type and looks binary: not a web page or text.")
            return Fetched(str(response.url), media_type, charset, bytes(body))
    raise FetchRefused(f"Too many redirects (more than {MAX_REDIRECTS}) before {url}.")


def render(fetched: Fetched) -> str:
    """The text for the model: title and final URL first, then the content (capped)."""
    text = _decode(fetched)
    title = ""
    if fetched.media_type in HTML_TYPES:
        title, text = html_to_text(text, fetched.url)
    text = text.strip()
    if len(text) > MAX_TEXT:
        note = f"[Truncated: the page has {len(text):,} characters; the first {MAX_TEXT:,} are shown.]"
        text = f"{text[:MAX_TEXT]}\n\n{note}"
    head = f"Title: {title}\n" if title else ""
    return f"{head}URL: {fetched.url}\n\n{text or '(The page has no readable text.)'}"


class WebFetchTool:
    """Fetches a web page for the model (the app asks the person first)."""

    spec = ToolSpec(
        name="fetch_web_page",
        description=(
            "Fetch a web page (http or https) and return its title, final URL and readable text (HTML "
            "is converted to plain text with Markdown headings, lists and links; plain text and JSON are "
            f"returned as they are, up to {MAX_TEXT:,} characters). Use it to read a page the user "
            "mentions or a URL you need to check."
        ),
        parameters={
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "The absolute http:// or https:// URL to fetch"}
            },
            "required": ["url"],
        },
        needs_approval=True,
    )

    def __init__(
        self, client_factory: Callable[[], httpx2.AsyncClient] | None = None, *, timeout: float = TIMEOUT
    ) -> None:
        self._client_factory = client_factory or default_client
        self._timeout = timeout

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        """Fetch `url`; a refused URL, HTTP error, wrong type, size or timeout is an error result."""
        url = text_argument(arguments, "url")
        if url is None:
            return ToolResult("Pass the address to fetch as a string in 'url'.", True)
        problem = check_url(url)
        if problem is not None:
            return ToolResult(problem, True)
        import httpx2

        try:
            async with asyncio.timeout(self._timeout):
                async with self._client_factory() as client:
                    fetched = await _get(client, url)
        except FetchRefused as exc:
            return ToolResult(str(exc), True)
        except (TimeoutError, httpx2.TimeoutException):
            return ToolResult(f"Fetching {url} timed out after {self._timeout:g} s.", True)
        except httpx2.ConnectError as exc:
            return ToolResult(
                f"Could not connect to {urlsplit(url).hostname}: {str(exc) or 'connection failed'}", True
            )
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            return ToolResult(f"Fetching {url} failed: {type(exc).__name__}: {exc}", True)
        return ToolResult(render(fetched))
