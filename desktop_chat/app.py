"""Composition root: Qt + asyncio, store, services, window, the run, and the shutdown in order.

Nothing is built at import time; `main()` builds everything in order and tears it down in reverse. The
command line is `app_args`, logging and crash handling `crash`, `--review` `review`; the headless
commands (`desktop-chat export ...`) are dispatched to `cli` before anything of the window is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import gc
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_chat import version
from desktop_chat.app_args import parse_args
from desktop_chat.cli_commands import is_cli_command
from desktop_chat.crash import (
    ErrorReporter,
    SignalBridge,
    enable_faulthandler,
    qt_message_handler,
    setup_logging,
    show_fatal,
)
from desktop_chat.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_STORE_REFUSED, EXIT_USAGE
from desktop_chat.paths import AppPaths, resolve_paths
from desktop_chat.review import no_keychain, prepare_review, strip_providers
from desktop_chat.secrets import Redactor, SecretStore
from desktop_chat.startup_probe import STARTUP_PROBE, probe_content_paint, probe_first_paint

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from desktop_chat.settings import Settings
    from desktop_chat.ui.main_window import MainWindow

log = logging.getLogger("desktop_chat")


# ---- Qt plumbing --------------------------------------------------------------------------------


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _create_app() -> QApplication:
    os.environ.setdefault("QT_API", "pyside6")
    from desktop_chat.pyside_imports import skip_source_scan

    skip_source_scan()  # before the window's imports: PySide would read each one's source
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(qt_message_handler)
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
        return _run_store_and_window(_Launch(app, args, paths, redactor, reporter, bridge))
    finally:
        bridge.close()
        collector.stop()


@dataclass(frozen=True, slots=True)
class _Launch:
    """What `run` set up before the window: the application, the command line and the crash handling."""

    app: QApplication
    args: argparse.Namespace
    paths: AppPaths
    redactor: Redactor
    reporter: ErrorReporter
    bridge: SignalBridge


def _run_store_and_window(launch: _Launch) -> int:
    app, args = launch.app, launch.args
    from desktop_chat.settings import Settings
    from desktop_chat.ui.common.theme import ThemeManager
    from desktop_chat.ui.main_window import MainWindow

    # The window first: its frame needs only Qt, the settings and the theme (the bare-window cost);
    # the store, the services and the window's content are built once it has painted.
    review = Path(args.review).expanduser().resolve() if args.review is not None else None
    settings = Settings(launch.paths.settings_file)
    ThemeManager(app, settings)  # theme and text size, before the first paint; lives with app
    window = MainWindow(settings=settings, review=str(review) if review is not None else None)
    probing = bool(os.environ.get(STARTUP_PROBE))
    if probing:
        probe_first_paint(window)
    launch.bridge.callback = window.close
    app.setQuitOnLastWindowClosed(False)  # the run ends when the window closes, once it is saved
    window.show()
    if not _painted(window):
        log.info("desktop_chat quit before its window had painted")
        return EXIT_OK
    return _run_in_window(launch, window, settings, review=review, probing=probing)


def _painted(window: QWidget, timeout_ms: int = 2000) -> bool:
    """Let Qt show `window` (a short local event loop until its first paint); False if it closed first."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

    loop = QEventLoop()
    state = {"painted": False, "closed": False}

    class _Watch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                state["painted"] = True
                QTimer.singleShot(0, loop.quit)  # once this paint has reached the screen
            elif event.type() == QEvent.Type.Close:
                state["closed"] = True
                QTimer.singleShot(0, loop.quit)
            return False

    watch = _Watch(window)
    window.installEventFilter(watch)
    QTimer.singleShot(timeout_ms, loop.quit)  # no paint on some platforms until the loop runs: go on
    loop.exec()
    window.removeEventFilter(watch)
    watch.deleteLater()
    return not state["closed"] and window.isVisible()


def _run_in_window(
    launch: _Launch, window: MainWindow, settings: Settings, *, review: Path | None, probing: bool
) -> int:
    app, args = launch.app, launch.args
    from desktop_chat.storage import StoreError, database_path, open_store

    db_path = database_path(launch.paths.data_dir)
    try:
        if review is not None:
            prepare_review(review, db_path)
        store = open_store(db_path)
        if review is not None:
            strip_providers(store)
    except StoreError as exc:
        print(f"desktop_chat: {exc}", file=sys.stderr)
        log.error("Refused to open the database: %s", exc, extra={"printed": True})
        window.hide()
        show_fatal(app, "Desktop Chat cannot open your history", str(exc), timeout=args.quit_after)
        return EXIT_STORE_REFUSED

    from desktop_chat.event_loop import QtEventLoop
    from desktop_chat.services.app_services import AppServices

    secrets = SecretStore(redactor=launch.redactor, backend=no_keychain() if review else None)
    services = AppServices(store, settings, secrets)
    if args.mcp_config:
        names, skipped = services.mcp.load_for_run(Path(args.mcp_config))
        log.info("MCP servers from %s for this run: %s", args.mcp_config, ", ".join(names))
        for problem in skipped:
            log.warning("Skipped an MCP server of %s: %s", args.mcp_config, problem)
    try:
        from desktop_chat.ui.common.first_paint import AfterFirstPaint

        window.attach(services)
        if review is not None:
            log.info(
                "Reviewing %s read-only (a copy at %s): %d conversation(s)",
                review,
                db_path,
                store.repo.count_conversations(include_archived=True),
            )
        if probing:
            probe_content_paint(window)
        # Only after the window's content has painted: openai (0.3-0.7 s, in a thread), the version
        # lookup, and the first-run welcome (it asks the keychain, ~0.1 s).
        later: list[Callable[[], object]] = [
            _warm_up_in_background,
            lambda: _announce_start(app, db_path, store.migration.to_version),
        ]
        if review is None:  # a review writes nothing and asks nothing
            later.append(services.start_auto_backup)
        if not args.base_url and review is None:  # first run: offer local servers or a key (not scripted)
            later.append(window.show_welcome_if_needed)
        AfterFirstPaint(window, later)
        window.update()
        from PySide6.QtCore import QTimer

        loop = QtEventLoop(app)
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(launch.reporter.asyncio_handler)
        quitting = asyncio.Event()
        # Closing the window ends the run; Qt must not stop the loop itself: answers still have to be
        # stopped (their HTTP streams closed) and saved while it runs.
        window.closed.connect(quitting.set)
        app.aboutToQuit.connect(quitting.set)
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


def prepare_for_streaming() -> None:
    """Import the HTTP stack, then freeze every object that exists by then out of the cyclic GC.

    openai and pydantic leave a large long-lived object graph; without the freeze each full collection
    walks it (measured: 28-61 ms pauses of the Qt loop in the middle of a stream).
    """
    from desktop_chat.llm.transport import warm_up

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
    if is_cli_command(arguments):  # headless: no display, no Qt widgets
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
