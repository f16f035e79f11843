"""A stdio MCP server for the tests, written with the `mcp` package's server API.

    python -m tests.helpers.mcp_test_server [--name NAME] [--fail-start] [--http PORT]

Tools: `echo`, `add`, `hang` (sleeps; for timeouts and cancellation), `crash` (writes to stderr and exits
mid-call), `big` (a long result), `pid` (the server's process id, to check it is gone after quit).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer


def build(name: str) -> MCPServer:
    server = MCPServer(name)

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool()
    def add(a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @server.tool()
    async def hang(seconds: float = 3600) -> str:
        """Sleep for `seconds` (tests of timeouts and cancellation)."""
        await asyncio.sleep(seconds)
        return "woke up"

    @server.tool()
    def crash(message: str = "boom") -> str:
        """Die in the middle of the call, saying why on stderr."""
        print(f"fatal: {message}", file=sys.stderr, flush=True)
        os._exit(3)

    @server.tool()
    def big(chars: int = 100_000) -> str:
        """A result of `chars` characters."""
        return ("0123456789" * (chars // 10 + 1))[:chars]

    @server.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="testtools")
    parser.add_argument("--fail-start", action="store_true", help="print to stderr and exit at once")
    parser.add_argument(
        "--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT/mcp"
    )
    args = parser.parse_args()
    if args.fail_start:
        print("cannot start: missing configuration", file=sys.stderr, flush=True)
        sys.exit(2)
    print(f"{args.name} starting", file=sys.stderr, flush=True)
    if args.http:
        build(args.name).run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        build(args.name).run()


if __name__ == "__main__":
    main()
