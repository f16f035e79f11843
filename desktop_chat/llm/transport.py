"""The HTTP stack under the client: imported once ahead of time, one TLS context, and the proxy rule.

Proxies: loopback endpoints never go through a proxy; others use the proxy set in the app, or else the
system's (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, and the platform settings `urllib` reads).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import ssl

    import httpx2

    from desktop_chat.llm.endpoint import Endpoint, Timeouts

log = logging.getLogger(__name__)

_tls: list[ssl.SSLContext] = []  # one verified TLS context for every client (building one costs ~40 ms)
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The shared TLS context: the one httpx2 would build for each client (system trust store,
    SSL_CERT_FILE / SSL_CERT_DIR honoured)."""
    with _tls_lock:
        if not _tls:
            import httpx2

            _tls.append(httpx2.create_ssl_context())
        return _tls[0]


def warm_up() -> None:
    """Import the HTTP stack and build the TLS context ahead of the first request (0.4-0.8 s in all).

    Run it in a thread after the window is shown, so the first send does not freeze the window.
    """
    with _warm_lock:  # one thread imports; another caller waits (two importing pydantic at once break it)
        if _warmed.is_set():
            return
        for attempt in range(3):
            try:
                _import_http_stack()
                break
            except ImportError:
                # PySide's import hook inspects modules as they load; inside pydantic that can trigger one
                # of pydantic's lazy imports half-way ("partially initialized module"), now and then. The
                # failed modules are dropped from sys.modules, so importing again completes.
                if attempt == 2:
                    raise
                log.info("Importing the HTTP stack failed once; trying again", exc_info=True)
        tls_context()
        _warmed.set()


def _import_http_stack() -> None:
    import httpx2  # noqa: F401
    import openai
    import openai.resources.chat.completions.completions
    import openai.resources.models  # noqa: F401


_warmed = threading.Event()
_warm_lock = threading.Lock()


async def warmed_up() -> None:
    """Return once `warm_up` has run, running it in a worker thread if needed: the event loop's thread
    (the GUI's) must never import openai itself, or the window freezes for the 0.4-0.8 s it takes."""
    if not _warmed.is_set():
        await asyncio.to_thread(warm_up)


def is_loopback(base_url: str) -> bool:
    """True for endpoints on this machine (never sent through a proxy)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_timeout(timeouts: Timeouts) -> httpx2.Timeout:
    """The endpoint's timeouts for httpx2 (waiting for a pooled connection counts as connecting)."""
    import httpx2

    return httpx2.Timeout(
        connect=timeouts.connect,
        read=timeouts.read,
        write=timeouts.write,
        pool=timeouts.connect,
    )


def http_client(endpoint: Endpoint, timeout: httpx2.Timeout) -> httpx2.AsyncClient:
    """The HTTP client for one endpoint, with the shared TLS context and the proxy rule above."""
    import openai

    tls = tls_context()
    if is_loopback(endpoint.base_url):
        return openai.DefaultAsyncHttpx2Client(timeout=timeout, verify=tls, trust_env=False)
    if endpoint.proxy:
        return openai.DefaultAsyncHttpx2Client(
            timeout=timeout, verify=tls, proxy=endpoint.proxy, trust_env=False
        )
    return openai.DefaultAsyncHttpx2Client(timeout=timeout, verify=tls, trust_env=True)
