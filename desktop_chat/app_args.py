"""The window app's command line: `desktop-chat [options]` (the headless commands are in `cli`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from desktop_chat import version
from desktop_chat.cli_commands import COMMAND_NAMES


class _VersionAction(argparse.Action):
    """--version, reading the package metadata only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        print(f"desktop_chat {version()}")
        parser.exit()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="desktop-chat",
        description="A desktop chat client for cloud and local language models.",
        epilog=f"Commands that run without a window: desktop-chat {{{','.join(COMMAND_NAMES)}}} "
        "... (see desktop-chat COMMAND --help).",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data-dir", metavar="DIR", help="keep the database, settings and logs in DIR")
    where.add_argument(
        "--temp-basedir", action="store_true", help="use a new temporary folder, deleted when the app quits"
    )
    where.add_argument(
        "--review",
        metavar="FILE",
        help="look through a database, backup or JSON export read-only (a temporary copy is opened; "
        "no providers, no network)",
    )
    parser.add_argument("--debug", action="store_true", help="debug logging, also to stderr")
    parser.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="quit by itself after SECONDS (for scripted checks)",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    desktop = parser.add_mutually_exclusive_group()
    desktop.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add Desktop Chat to this user's application menu (Linux: an XDG desktop entry and icons "
        "starting this installation) and exit",
    )
    desktop.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove what --install-desktop-entry added and exit",
    )
    parser.add_argument(
        "--mcp-config",
        metavar="FILE",
        help="add the MCP servers of FILE's mcpServers block for this run (not saved)",
    )
    endpoint = parser.add_argument_group(
        "endpoint", "use an OpenAI-compatible endpoint (its key, if it needs one, from OPENAI_API_KEY)"
    )
    endpoint.add_argument("--base-url", metavar="URL", help="e.g. http://localhost:11434/v1")
    endpoint.add_argument(
        "--model", metavar="NAME", help="model id (default: the first one the endpoint lists)"
    )
    smoke = parser.add_argument_group(
        "scripted check", "send one prompt through the window, print JSON, exit"
    )
    smoke.add_argument(
        "--smoke", action="store_true", help="run once offscreen; exit 0 when the answer finished"
    )
    smoke.add_argument("--prompt", metavar="TEXT", help="what --smoke types into the composer")
    smoke.add_argument(
        "--approve-tools",
        choices=("all", "none"),
        default="none",
        help="how --smoke answers tool approvals (default: none)",
    )
    args = parser.parse_args(argv)
    if args.model and not args.base_url:
        parser.error("--model needs --base-url")
    if args.smoke and not (args.base_url and args.prompt):
        parser.error("--smoke needs --base-url and --prompt (and usually --model)")
    if args.prompt is not None and not args.smoke:
        parser.error("--prompt is for --smoke runs")
    if args.review is not None:
        if args.base_url or args.smoke or args.mcp_config:
            parser.error("--review is read-only: it takes no --base-url, --smoke or --mcp-config")
        if not Path(args.review).expanduser().is_file():
            parser.error(f"--review: there is no file {args.review}")
    if args.mcp_config:
        from desktop_chat.tools.mcp_config import load_mcp_config

        try:
            servers, skipped = load_mcp_config(Path(args.mcp_config))
        except ValueError as exc:
            parser.error(str(exc))
        if not servers:
            parser.error(
                f"{args.mcp_config} names no usable MCP server: {'; '.join(skipped) or 'none listed'}"
            )
    return args
