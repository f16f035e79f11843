"""The command line: `python -m tests.helpers.llm_server [--port 0] [--script FILE.json] ...` (see the
package docstring); prints `PORT <n>` first and serves until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from tests.helpers.llm_server.chunks import DEFAULT_MODEL
from tests.helpers.llm_server.scripts import fast
from tests.helpers.llm_server.server import LLMServer


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.helpers.llm_server",
        description="A local OpenAI-compatible test server. Prints 'PORT <n>' first.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON: a list of steps, or {queue, default, by_model}")
    parser.add_argument("--fast-count", type=int, help="answer every request with a fast stream of N chunks")
    parser.add_argument("--fast-rate", type=float, help="chunks/s for --fast-count (default: unpaced)")
    parser.add_argument("--fast-text", help="fixed delta text for --fast-count")
    parser.add_argument("--models", default=DEFAULT_MODEL, help="comma-separated model ids")
    parser.add_argument("--no-models", action="store_true", help="answer GET /v1/models with 404")
    parser.add_argument("--log", type=Path, help="write the recorded requests here (JSON) on exit")
    args = parser.parse_args(argv)

    models = None if args.no_models else [m for m in args.models.split(",") if m]
    server = LLMServer(host=args.host, port=args.port, models=models)
    if args.script is not None:
        data = json.loads(args.script.read_text(encoding="utf-8"))
        if isinstance(data, list):
            server.default_script = data
        else:
            server.enqueue(*data.get("queue", []))
            if data.get("default") is not None:
                server.default_script = data["default"]
            for model, script in (data.get("by_model") or {}).items():
                server.script_for_model(model, script)
    if args.fast_count is not None:
        server.default_script = [fast(args.fast_count, args.fast_rate, args.fast_text)]

    server.start()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        sys.stdout.write(f"PORT {server.port}\n")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()
        if args.log is not None:
            records = [r.to_json() for r in server.requests]
            args.log.write_text(json.dumps(records), encoding="utf-8")
        for error in server.errors:
            sys.stderr.write(error + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
