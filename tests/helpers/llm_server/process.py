"""The command-line test server (`python -m tests.helpers.llm_server`) as a subprocess of a test or a
benchmark: its own process, so its own GIL."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, Self

from tests.helpers.llm_server.lifecycle import StartedInWith
from tests.helpers.llm_server.recording import RecordedRequest, load_log

_REPO_ROOT: Final = Path(__file__).resolve().parents[3]


class LLMServerProcess(StartedInWith):
    """The CLI server as a subprocess (its own GIL): `with LLMServerProcess(["--fast-count", "1000"]) as s:`.

    `stop()` sends SIGTERM and returns the exit code; `requests()` then reads the `--log` it wrote
    (`log` is passed as `--log`). POSIX only (select on the stdout pipe).
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        log: Path | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.args = list(args)
        self.log = log
        self.env = dict(os.environ if env is None else env)
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.returncode: int | None = None

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT/v1"""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Self:
        """Start the process and read its `PORT <n>` line."""
        cmd = [sys.executable, "-m", "tests.helpers.llm_server", *self.args]
        if self.log is not None:
            cmd += ["--log", str(self.log)]
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), self.env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=self.env)
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
            data = os.read(fd, 1) if ready else b""
            if not data:
                self.stop(timeout=5)
                raise RuntimeError(f"LLM server process gave no port (got {line!r})")
            line += data
        if not line.startswith(b"PORT "):
            self.stop(timeout=5)
            raise RuntimeError(f"unexpected first line from the LLM server process: {line!r}")
        self.port = int(line.split()[1])
        return self

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait (kill after `timeout`), close the pipe; the exit code. Idempotent."""
        proc = self.proc
        if proc is None:
            return -1
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self.returncode = proc.returncode
        return proc.returncode

    def requests(self) -> list[RecordedRequest]:
        """The recorded requests from the log (after `stop()`)."""
        if self.log is None:
            raise RuntimeError("started without a log")
        return load_log(self.log)
