"""Soak benchmark: N minutes of scripted use of the real window against a local test server.

    python bench/soak.py --minutes 30 [--conversations 4] [--seed 1]

A person's day, compressed: several conversations streaming at once (some answers call a tool first),
answers stopped at random, conversations switched, searched, renamed, the settings opened and closed.
The test server runs in a process of its own (it must not share the app's GIL); the app runs in a child
process of this one, so a crash is counted, not fatal. Every answer's text is checked against what the
server sent (a stopped one must be the start of it).

Figures: rss_start_mib / rss_end_mib (after the warm-up / at the end), rss_slope_mib_per_h (a least
squares line through the samples after the warm-up), max_stall_ms (the longest gap of a 5 ms heartbeat
timer on the GUI thread, warm-up excluded), crashes, answers (finished or stopped), stopped, lost_text
(answers whose stored text is not what the server sent), errors (unexpected exceptions reported).

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench and tests.helpers live in the source tree, not the package

from bench._common import rss_mib  # noqa: E402

PROMPT = re.compile(r"soak #(\d+): (tool then )?words (\d+) at (\d+)/s")
STATUS_EVERY_S = 10.0


# ---- the server (a process of its own) ----------------------------------------------------------


def serve() -> int:
    """The test server, answering each request as its prompt asks (a tool round first, or words)."""
    import signal

    from tests.helpers.llm_server import LLMServer, fast, tool_round

    class SoakServer(LLMServer):
        _asked: Any = None

        async def _chat(self, ex: Any) -> None:
            self._asked = ex.rec.body
            await super()._chat(ex)

        def _next_script(self, model: str | None) -> Any:
            body = self._asked if isinstance(self._asked, dict) else {}
            messages = body.get("messages") or []
            user: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
            found = PROMPT.search(str(user.get("content", "")))
            if found is None:
                return super()._next_script(model)
            wants_tool, words, rate = found.group(2), int(found.group(3)), float(found.group(4))
            if wants_tool and messages[-1].get("role") != "tool" and body.get("tools"):
                return tool_round(("c1", "calculator", {"expression": f"{words}*2"}))
            return [fast(words, rate)]

    server = SoakServer()
    server.start()
    print(f"PORT {server.port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()
    return 0


class Server:
    """`serve()` in a child process."""

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            sys.exit(f"the soak server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/v1"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# ---- the app (a child process) --------------------------------------------------------------------


def _expected(user_text: str) -> str | None:
    from tests.helpers.llm_server import fast_text

    found = PROMPT.search(user_text)
    return fast_text(int(found.group(3))) if found else None


async def _drive(args: argparse.Namespace, url: str, data: Path) -> dict[str, Any]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_chat.app import prepare_for_streaming
    from desktop_chat.secrets import SecretStore
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.settings import AUTO_TITLE, Settings
    from desktop_chat.storage import open_store
    from desktop_chat.ui.main_window import MainWindow

    rng = random.Random(args.seed)
    errors: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _l, ctx: errors.append(str(ctx.get("exception") or ctx.get("message"))))
    sys.excepthook = lambda t, e, _tb: errors.append(f"{t.__name__}: {e}")

    store = open_store(data / "soak.sqlite3")
    settings = Settings(data / "settings.json")
    settings.set(AUTO_TITLE, False)
    services = AppServices(store, settings, SecretStore())
    profile = services.providers.ensure_for_url(url, "soak-model", needs_key=False)
    services.providers.use(profile, "soak-model")
    prepare_for_streaming()
    window = MainWindow(services)
    window.resize(1100, 800)
    window.show()
    conversations = [await window.create_conversation() for _ in range(args.conversations)]

    started = time.monotonic()
    warm_until = started + args.warmup_minutes * 60
    stall = {"last": started, "max": 0.0}  # the longest heartbeat gap after the warm-up (nothing kept)

    def beat() -> None:
        now = time.monotonic()
        if now >= warm_until:
            stall["max"] = max(stall["max"], now - stall["last"])
        stall["last"] = now

    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    deadline = started + args.minutes * 60
    samples: list[tuple[float, float]] = []
    sent = stopped = 0
    last_status = started

    def send(conversation_id: int) -> None:
        nonlocal sent
        sent += 1
        tool = "tool then " if rng.random() < 0.25 else ""
        prompt = f"soak #{sent}: {tool}words {rng.randint(40, 400)} at {rng.choice([100, 300, 1000, 3000])}/s"
        window.open_conversation(conversation_id)
        window.composer.setPlainText(prompt)
        window.send_message()

    while time.monotonic() < deadline:
        now = time.monotonic()
        if not samples or now - samples[-1][0] >= 2:
            samples.append((now, rss_mib()))
        if now - last_status >= STATUS_EVERY_S:
            last_status = now
            print(json.dumps({"status": True, "sent": sent, "rss_mib": round(rss_mib(), 1)}), flush=True)
        action = rng.random()
        idle = [c for c in conversations if not services.chat.is_streaming(c)]
        busy = [c for c in conversations if services.chat.is_streaming(c)]
        if action < 0.45 and idle:
            send(rng.choice(idle))
        elif action < 0.55 and busy:
            services.chat.stop(rng.choice(busy))
            stopped += 1
        elif action < 0.75:
            window.open_conversation(rng.choice(conversations))
        elif action < 0.85:
            services.search.search(rng.choice(["000123", "soak", "words", "0004*", '"000010 000011"']))
        elif action < 0.9:
            services.conversations.rename(rng.choice(conversations), f"soak chat {rng.randint(1, 99)}")
        elif action < 0.95:
            dialog = window.open_settings()
            await asyncio.sleep(0.3)
            dialog.close()
        else:
            window.search.open_search().close()
        await asyncio.sleep(rng.uniform(0.05, 0.6))

    for conversation_id in conversations:
        await services.chat.wait(conversation_id)
    await services.writes.idle()
    heartbeat.stop()
    samples.append((time.monotonic(), rss_mib()))

    answers = lost = cancelled = 0
    for conversation_id in conversations:
        messages = {m.id: m for m in services.store.repo.list_messages(conversation_id).items}
        for message in messages.values():
            response = message.response
            if response is None or message.parent_id is None:
                continue
            expected = _expected(messages[message.parent_id].content)
            if expected is None:
                continue
            answers += 1
            if response.status.value == "done":
                lost += response.text != expected
            elif response.status.value == "cancelled":
                cancelled += 1
                lost += not expected.startswith(response.text)
            else:
                lost += 1
                errors.append(f"answer {message.id} ended {response.status.value}: {response.error}")
    window.close()
    await services.aclose()
    services.shutdown()
    QApplication.processEvents()

    warm = [(t, r) for t, r in samples if t >= warm_until] or samples
    return {
        "minutes": args.minutes,
        "rss_start_mib": round(warm[0][1], 1),
        "rss_end_mib": round(warm[-1][1], 1),
        "rss_slope_mib_per_h": round(_slope(warm) * 3600, 2),
        "max_stall_ms": round(stall["max"] * 1000, 1),
        "crashes": 0,
        "answers": answers,
        "stopped": cancelled,
        "lost_text": lost,
        "sent": sent,
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def _slope(points: list[tuple[float, float]]) -> float:
    """Least squares slope (y per second) of (t, y) points."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (y - mean_y) for t, y in points) / var if var else 0.0


def child(args: argparse.Namespace) -> int:
    """The app, driven; prints status lines and, last, the result as JSON."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    from PySide6.QtWidgets import QApplication

    from desktop_chat.event_loop import QtEventLoop
    from desktop_chat.pyside_imports import skip_source_scan

    skip_source_scan()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setQuitOnLastWindowClosed(False)  # the run ends when the benchmark is done, as in the app
    from desktop_chat.ui.common.gc_guard import GuiThreadCollector

    collector = GuiThreadCollector(app)  # as in the app
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        loop = QtEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            result = loop.run_until_complete(_drive(args, args.url, Path(tmp)))
    collector.stop()
    print(json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30, help="how long to use the app")
    parser.add_argument("--conversations", type=int, default=4, help="conversations in use at once")
    parser.add_argument("--warmup-minutes", type=float, help="left out of the RSS slope and the stalls")
    parser.add_argument("--seed", type=int, default=1, help="the script's random choices")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warmup_minutes is None:
        args.warmup_minutes = min(5.0, args.minutes / 5)
    if args.serve:
        return serve()
    if args.child:
        return child(args)
    with Server() as server:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--url", server.url]
        cmd += ["--minutes", str(args.minutes), "--conversations", str(args.conversations)]
        cmd += ["--warmup-minutes", str(args.warmup_minutes), "--seed", str(args.seed)]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        last: dict[str, Any] = {}
        for line in proc.stdout:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                print(line, end="", file=sys.stderr)
                continue
            if record.get("status"):
                print(f"  {record}", file=sys.stderr, flush=True)
            else:
                last = record
        code = proc.wait()
    if code != 0 or not last:
        last = {**last, "crashes": 1, "exit_code": code}
    for key, value in last.items():
        print(f"{key:22} {value}")
    print(json.dumps(last), flush=True)
    return 0 if last.get("crashes") == 0 and last.get("lost_text") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
