"""Composition root: arguments, logging, crash handling, Qt + asyncio, store, services, window, shutdown.

Nothing is built at import time; `main()` builds everything in order and tears it down in reverse.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import gc
import logging
import logging.handlers
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

from desktop_chat import version
from desktop_chat.paths import AppPaths, resolve_paths
from desktop_chat.secrets import Redactor, SecretStore

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("desktop_chat")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_STORE_REFUSED = 3
CLI_COMMANDS = ("export", "import", "search", "backup", "restore")  # desktop_chat/cli.py
_HEADLESS_PLATFORMS = {"offscreen", "minimal"}


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
        epilog="Commands that run without a window: desktop-chat {export,import,search,backup,restore} "
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
        from desktop_chat.tools.mcp_host import load_mcp_config

        try:
            servers, skipped = load_mcp_config(Path(args.mcp_config))
        except ValueError as exc:
            parser.error(str(exc))
        if not servers:
            parser.error(
                f"{args.mcp_config} names no usable MCP server: {'; '.join(skipped) or 'none listed'}"
            )
    return args


# ---- logging and crash handling ---------------------------------------------------------------


def setup_logging(paths: AppPaths, *, debug: bool, redactor: Redactor) -> None:
    """A rotating log file and stderr, both passing through the secret redactor."""
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    file_handler.addFilter(redactor)
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setFormatter(fmt)
    stderr_handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    stderr_handler.addFilter(redactor)
    stderr_handler.addFilter(lambda record: not getattr(record, "printed", False))  # said on stderr already
    root = logging.getLogger()
    root.handlers[:] = [file_handler, stderr_handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.captureWarnings(True)
    # peewee logs every statement with its parameters (chat text) at DEBUG: keep that out of logs.
    for noisy in ("peewee", "markdown_it", "httpcore", "hpack", "PIL"):  # per-token or per-byte chatter
        logging.getLogger(noisy).setLevel(logging.INFO)


def enable_faulthandler(paths: AppPaths) -> IO[str] | None:
    """Hard crashes (segfaults, aborts) write their Python stacks to crash.log; report a previous one."""
    try:
        if paths.crash_file.exists() and paths.crash_file.stat().st_size:
            previous = paths.crash_file.read_text(encoding="utf-8", errors="replace")
            log.error("desktop_chat crashed last time:\n%s", previous[-8000:])
            paths.crash_file.replace(paths.crash_file.with_suffix(".log.1"))
        fh = paths.crash_file.open("w", encoding="utf-8")
    except OSError as exc:
        log.warning("Crash log unavailable (%s); hard crashes go to stderr only", exc)
        faulthandler.enable()
        return None
    faulthandler.enable(fh)
    return fh


class ErrorReporter:
    """Logs unexpected exceptions and shows one dialog at a time; the app keeps running."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._box: QMessageBox | None = None

    def install(self) -> None:
        """Route sys, thread and asyncio exceptions here."""
        sys.excepthook = self.excepthook
        threading.excepthook = lambda a: self.excepthook(
            a.exc_type, a.exc_value or Exception(), a.exc_traceback
        )

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        """Log the traceback, then tell the person."""
        if issubclass(exc_type, KeyboardInterrupt):
            return
        log.error("Unexpected error", exc_info=(exc_type, exc, tb))
        details = self._redactor.redact("".join(traceback.format_exception(exc_type, exc, tb)))
        self._dialog(f"{exc_type.__name__}: {self._redactor.redact(str(exc))}", details)

    def asyncio_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        """asyncio's exception handler."""
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.excepthook(type(exc), exc, exc.__traceback__)
        else:
            log.error("asyncio: %s", context.get("message"))

    def _dialog(self, summary: str, details: str) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        if self._box is not None or QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Desktop Chat: unexpected error", summary)
        box.setObjectName("errorDialog")
        box.setInformativeText("The app keeps running; details are in the log. Your conversations are saved.")
        box.setDetailedText(details)
        box.finished.connect(self._dialog_closed)
        self._box = box  # held here: a parentless dialog would be collected (and vanish) at once
        box.open()

    def _dialog_closed(self, _result: int) -> None:
        if self._box is not None:
            self._box.deleteLater()
        self._box = None


def _qt_message_handler(mode: object, context: object, message: str) -> None:
    from PySide6.QtCore import QtMsgType

    if "propagateSizeHints" in message:
        return
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
    }.get(mode, logging.ERROR)  # type: ignore[call-overload]
    logging.getLogger("qt").log(level, "%s", message)


# ---- Qt plumbing --------------------------------------------------------------------------------


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class SignalBridge:
    """Turns SIGINT/SIGTERM into a callback on the Qt thread (Python handlers can't run inside Qt's loop).

    A signal that arrives before Qt's loop runs is kept in the wakeup socket and acted on as soon as the
    loop starts, with whatever `callback` is by then. Bridges nest: `close()` restores what was before.
    """

    def __init__(self, callback: Callable[[], object]) -> None:
        from PySide6.QtCore import QSocketNotifier

        self._rsock, self._wsock = socket.socketpair()
        self._rsock.setblocking(False)
        self._wsock.setblocking(False)
        self.callback = callback
        self.received: int | None = None
        self._previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        self._previous_fd = signal.set_wakeup_fd(self._wsock.fileno())
        for sig in self._previous:
            signal.signal(sig, self._handle)
        self._notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)

    def _handle(self, signum: int, _frame: object) -> None:
        self.received = signum

    def _drain(self) -> None:
        try:
            while self._rsock.recv(64):
                pass
        except BlockingIOError:
            pass
        if self.received is not None:
            log.info("Received signal %d; quitting", self.received)
            self.callback()

    def close(self) -> None:
        """Restore the previous handlers and wakeup fd."""
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._rsock.close()
        self._wsock.close()


def show_fatal(
    app: QApplication, title: str, text: str, *, auto_close: bool | None = None, timeout: float | None = None
) -> None:
    """A blocking error dialog, closed by the person, by SIGTERM/SIGINT, or after `timeout` seconds.

    `auto_close` (default: on headless platforms) closes it as soon as it shows, so it never blocks.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Critical, title, text)
    box.setObjectName("fatalErrorDialog")
    if auto_close is None:
        auto_close = app.platformName() in _HEADLESS_PLATFORMS
    if auto_close:
        QTimer.singleShot(0, box.accept)
    elif timeout is not None:
        QTimer.singleShot(max(0, int(timeout * 1000)), box.reject)
    bridge = SignalBridge(box.reject)
    try:
        box.exec()
    finally:
        bridge.close()


def _create_app() -> QApplication:
    os.environ.setdefault("QT_API", "pyside6")
    from desktop_chat.pyside_imports import skip_source_scan

    skip_source_scan()  # before the window's imports: PySide would read each one's source
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_qt_message_handler)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("desktop_chat")
    app.setApplicationDisplayName("Desktop Chat")
    app.setDesktopFileName("desktop-chat")
    return app


# ---- main ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace, paths: AppPaths, redactor: Redactor) -> int:
    """Open the store, build the services and window, run the loop, shut down in order."""
    app = _create_app()
    reporter = ErrorReporter(redactor)
    reporter.install()
    from desktop_chat.ui.common.gc_guard import GuiThreadCollector

    collector = GuiThreadCollector(app)  # worker threads must never delete Qt objects
    # From here on SIGTERM/SIGINT quit cleanly, even if they arrive before the loop runs.
    bridge = SignalBridge(app.quit)
    try:
        return _run_store_and_window(
            app, args=args, paths=paths, redactor=redactor, reporter=reporter, bridge=bridge
        )
    finally:
        bridge.close()
        collector.stop()


def _run_store_and_window(
    app: QApplication,
    *,
    args: argparse.Namespace,
    paths: AppPaths,
    redactor: Redactor,
    reporter: ErrorReporter,
    bridge: SignalBridge,
) -> int:
    from desktop_chat.storage import StoreError, database_path, open_store

    db_path = database_path(paths.data_dir)
    review = Path(args.review).expanduser().resolve() if args.review is not None else None
    try:
        if review is not None:
            _prepare_review(review, db_path)
        store = open_store(db_path)
        if review is not None:
            _strip_providers(store)
    except StoreError as exc:
        print(f"desktop_chat: {exc}", file=sys.stderr)
        log.error("Refused to open the database: %s", exc, extra={"printed": True})
        show_fatal(app, "Desktop Chat cannot open your history", str(exc), timeout=args.quit_after)
        return EXIT_STORE_REFUSED

    from desktop_chat.event_loop import QtEventLoop
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.settings import Settings
    from desktop_chat.ui.main_window import MainWindow

    secrets = SecretStore(redactor=redactor, backend=_no_keychain() if review else None)
    services = AppServices(store, Settings(paths.settings_file), secrets)
    if args.mcp_config:
        names, skipped = services.mcp.load_for_run(Path(args.mcp_config))
        log.info("MCP servers from %s for this run: %s", args.mcp_config, ", ".join(names))
        for problem in skipped:
            log.warning("Skipped an MCP server of %s: %s", args.mcp_config, problem)
    try:
        from desktop_chat.ui.common.first_paint import AfterFirstPaint
        from desktop_chat.ui.common.theme import ThemeManager

        ThemeManager(app, services.settings)  # theme and text size, before the first paint; lives with app
        window = MainWindow(services, review=str(review) if review is not None else None)
        if review is not None:
            log.info(
                "Reviewing %s read-only (a copy at %s): %d conversation(s)",
                review,
                db_path,
                store.repo.count_conversations(include_archived=True),
            )
        if os.environ.get(STARTUP_PROBE):
            _probe_first_paint(window)
        # Only after the window has painted: openai (0.3-0.7 s, in a thread), the version lookup, and
        # the first-run welcome (it asks the keychain, ~0.1 s).
        later: list[Callable[[], object]] = [
            _warm_up_in_background,
            lambda: _announce_start(app, db_path, store.migration.to_version),
        ]
        if review is None:  # a review writes nothing and asks nothing
            later.append(services.start_auto_backup)
        if not args.base_url and review is None:  # first run: offer local servers or a key (not scripted)
            later.append(window.show_welcome_if_needed)
        AfterFirstPaint(window, later)
        window.show()
        from PySide6.QtCore import QTimer

        loop = QtEventLoop(app)
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(reporter.asyncio_handler)
        quitting = asyncio.Event()
        # Closing the window ends the run; Qt must not stop the loop itself: answers still have to be
        # stopped (their HTTP streams closed) and saved while it runs.
        app.setQuitOnLastWindowClosed(False)
        window.closed.connect(quitting.set)
        app.aboutToQuit.connect(quitting.set)
        bridge.callback = window.close
        if args.quit_after is not None:
            QTimer.singleShot(int(args.quit_after * 1000), window.close)
        exit_code = EXIT_OK
        with loop:
            scripted = loop.create_task(_scripted(window, services, args)) if args.base_url else None
            quit_wait = loop.create_task(quitting.wait())
            ends = {quit_wait, scripted} if args.smoke and scripted is not None else {quit_wait}
            loop.run_until_complete(asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED))
            loop.run_until_complete(services.aclose())  # stops answers still streaming (a smoke run's too)
            # Whatever else still runs (a welcome still looking for local servers, a model list
            # loading) ends here, while its loop can still run its cancellation.
            leftover = [t for t in asyncio.all_tasks(loop) if not t.done() and t not in (scripted, quit_wait)]
            for task in leftover:
                task.cancel()
            if leftover:
                loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
            if scripted is not None:
                if not scripted.done():
                    scripted.cancel()
                result = loop.run_until_complete(asyncio.gather(scripted, return_exceptions=True))[0]
                if args.smoke:
                    exit_code = result if isinstance(result, int) else EXIT_FAILURE
            quit_wait.cancel()
        window.close()
    finally:
        services.shutdown()
    log.info("desktop_chat quit cleanly")
    return exit_code


# ---- --review: a read-only look at a database, a backup or an export ------------------------------


def _prepare_review(file: Path, db_path: Path) -> None:
    """Put a copy of `file` at `db_path` (a JSON export is imported into a new database there).

    `file` itself is only ever read: a database and its -wal are copied byte for byte first.
    Raises StoreError (refused like the app's own database: exit 3) when it cannot be used.
    """
    from desktop_chat.storage import CorruptDatabaseError, StoreError
    from desktop_chat.storage.backup import BackupError, copy_database

    try:
        with file.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise CorruptDatabaseError(file, exc.strerror or str(exc)) from exc
    if head.startswith(b"SQLite format 3"):
        try:
            copy_database(file, db_path)
        except BackupError as exc:
            raise StoreError(str(exc)) from exc
        return
    if head.lstrip()[:1] not in (b"{", b"["):
        raise CorruptDatabaseError(file, "neither a desktop_chat database nor a JSON export")
    from desktop_chat.storage import open_store

    try:
        from desktop_chat.interchange.importers import import_file
    except ImportError as exc:
        raise StoreError(f"Reviewing a JSON export is not available in this build: {exc}") from exc
    store = open_store(db_path)
    try:
        report = import_file(store.repo, file)
    except (OSError, ValueError) as exc:
        raise CorruptDatabaseError(file, str(exc)) from exc
    finally:
        store.close()
    log.info("Review: imported %d conversation(s) of %s (%s)", report.imported, file, report.format)


def _strip_providers(store: object) -> None:
    """No provider in the review copy: nothing can be sent, no model listed, no key looked up."""
    from desktop_chat.storage import Store

    assert isinstance(store, Store)
    for profile in store.repo.list_profiles().items:
        store.repo.delete_profile(profile.id)


def _no_keychain() -> object:
    """A keychain backend that saves and reads nothing (a review never touches the real keychain)."""
    from keyring.backends.null import Keyring

    return Keyring()  # type: ignore[no-untyped-call]


STARTUP_PROBE = "DESKTOP_CHAT_STARTUP_PROBE"  # bench/startup.py: report the first paint, then quit


def _rss_kib() -> int:
    """Resident memory of this process (Linux), 0 where /proc is not there."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    return next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:")), 0)


def _probe_first_paint(window: QWidget) -> None:
    """On the window's first paint print `first-paint <monotonic> openai=<0|1> rss_kib=<n>` to stderr
    and close the window (for bench/startup.py)."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    class _Probe(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not getattr(self, "done", False):
                self.done = True
                painted = time.monotonic()
                openai = int("openai" in sys.modules)
                rss = _rss_kib()
                print(f"first-paint {painted:.6f} openai={openai} rss_kib={rss}", file=sys.stderr, flush=True)
                QTimer.singleShot(0, window.close)
            return False

    probe = _Probe(window)
    window.installEventFilter(probe)


def prepare_for_streaming() -> None:
    """Import the HTTP stack, then freeze every object that exists by then out of the cyclic GC.

    openai and pydantic leave a large long-lived object graph; without the freeze each full collection
    walks it (measured: 28-61 ms pauses of the Qt loop in the middle of a stream).
    """
    from desktop_chat.llm.client import warm_up

    warm_up()
    gc.freeze()


def _announce_start(app: QApplication, db_path: Path, schema: int) -> None:
    app.setApplicationVersion(version())
    log.info("desktop_chat %s started; database %s (schema %d)", version(), db_path, schema)


def _warm_up_in_background() -> None:
    threading.Thread(target=prepare_for_streaming, name="import-openai", daemon=True).start()


async def _scripted(window: object, services: object, args: argparse.Namespace) -> int:
    """Point the app at --base-url/--model; with --smoke, chat once and return the exit code."""
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.ui.main_window import MainWindow
    from desktop_chat.ui.smoke_runner import smoke

    assert isinstance(window, MainWindow)
    assert isinstance(services, AppServices)
    key = os.environ.get("OPENAI_API_KEY") or None
    if key:
        services.secrets.remember_for_redaction(key)
    keys: dict[int, str] = {}
    profile = await services.providers.use_endpoint(args.base_url, args.model, key, session_keys=keys)
    for profile_id, session_key in keys.items():
        services.chat.set_session_key(profile_id, session_key)
    if args.smoke:
        services.chat.approval_mode = args.approve_tools  # nobody is there to answer
    if not args.smoke:
        if profile is None:
            window.statusBar().showMessage(
                f"{args.base_url} lists no models; choose one in the model picker."
            )
        return EXIT_OK
    return await smoke(window, services, args.prompt)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `desktop-chat` and `python -m desktop_chat`."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in CLI_COMMANDS:  # headless: no display, no Qt widgets
        from desktop_chat.cli import main as cli_main

        return cli_main(arguments)
    args = parse_args(arguments)
    if args.install_desktop_entry or args.uninstall_desktop_entry:  # headless: files only, no Qt
        from desktop_chat import desktop_entry

        return desktop_entry.main(remove=args.uninstall_desktop_entry)
    if args.smoke:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the real window, on no screen
    if not _has_display():
        print(
            "desktop_chat: no display found. Run it in a desktop session, or set QT_QPA_PLATFORM=offscreen "
            "(or use xvfb-run) to run without a screen.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    review = args.review is not None
    paths = resolve_paths(args.data_dir, temp_basedir=args.temp_basedir or review)
    try:
        paths.ensure()
    except OSError as exc:
        print(f"desktop_chat: cannot create {paths.data_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    redactor = Redactor()
    setup_logging(paths, debug=args.debug, redactor=redactor)
    crash_fh = enable_faulthandler(paths)
    try:
        return run(args, paths, redactor)
    except Exception:
        log.exception("desktop_chat failed to start")
        return EXIT_FAILURE
    finally:
        faulthandler.disable()
        if crash_fh is not None:
            crash_fh.close()
            if paths.crash_file.exists() and not paths.crash_file.stat().st_size:
                paths.crash_file.unlink()
        logging.shutdown()
        paths.cleanup()
