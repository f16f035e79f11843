"""Screenshots of Settings, the first-run welcome and the dark theme, from the real widgets.

    xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \\
        bash -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \\
                 python -m docs.tools.settings_screenshots docs/screenshots'

Writes `settings.png` (the Providers page with two profiles, the selected one with a key saved in the
keychain; a Secret Service must be running, as above), `first-run-welcome.png` (the welcome with a local
server found on this computer: a test server on Ollama's port 11434 when it is free),
`dark-theme.png` (the main window in the dark theme over a short conversation) and `mcp-settings.png`
(the Tools page twice, side by side: the MCP test server started and its tools listed; a server that
failed, with its stderr). Every data dir is a throw-away one; the key is a placeholder and is removed from
the keychain afterwards; the MCP servers' processes are stopped before the script ends.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from desktop_chat.llm.providers import LOCAL_PRESETS, Preset
from desktop_chat.secrets import SecretStore
from desktop_chat.services.app_services import AppServices
from desktop_chat.services.mcp import McpServerConfig
from desktop_chat.settings import ALWAYS_ALLOWED_TOOLS, LAST_CONVERSATION, THEME, Settings
from desktop_chat.storage import database_path, open_store
from desktop_chat.ui.common.theme import ThemeManager
from desktop_chat.ui.main_window import MainWindow
from desktop_chat.ui.settings.dialog import SettingsDialog
from desktop_chat.ui.welcome import WelcomeDialog
from docs.tools.demo_history import fill
from docs.tools.demo_window import shots_command
from tests.helpers.llm_server import LLMServer
from tests.helpers.loop import until

MODELS = ["llama3.1:8b", "qwen2.5:7b-instruct", "mistral-nemo:12b", "phi3:mini", "nomic-embed-text"]
PLACEHOLDER_KEY = "sk-screenshot-placeholder-0000000000000000"
ROOT = Path(__file__).resolve().parents[2]
MCP_TEST_SERVER = McpServerConfig(
    "testtools", command=sys.executable, args=("-m", "tests.helpers.mcp_test_server"), cwd=str(ROOT)
)
MCP_FAILING = McpServerConfig(
    "notes",
    command=sys.executable,
    args=("-c", "raise SystemExit('error: NOTES_DIR is not set (the folder of the notes to serve)')"),
)


def _services(root: Path, name: str, *, demo: bool = False) -> AppServices:
    data = root / name
    if demo:
        fill(data, crash=False)
    store = open_store(database_path(data))
    return AppServices(store, Settings(data / "config" / "settings.json"), SecretStore())


def _save(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    if not widget.grab().save(str(path)):
        raise RuntimeError(f"could not write {path}")
    print(path)


def _ollama_server() -> tuple[LLMServer, tuple[Preset, ...]]:
    """A test server on Ollama's port if it is free (else any port, named Ollama anyway)."""
    try:
        server = LLMServer(port=11434, models=MODELS).start()
    except OSError:
        server = LLMServer(models=MODELS).start()
    presets = tuple(
        Preset(p.name, server.url, False, local=True) if p.name == "Ollama" else p for p in LOCAL_PRESETS
    )
    return server, presets


async def _shoot_tools(out: Path, root: Path) -> None:
    """The Tools page: the test server ready with its tools, beside a failed server with its stderr."""
    services = _services(root, "tools")
    try:
        services.settings.set(ALWAYS_ALLOWED_TOOLS, ["fetch_web_page"])
        services.mcp.save_server(MCP_TEST_SERVER)
        services.mcp.save_server(MCP_FAILING)
        dialog = SettingsDialog(services)
        dialog.resize(920, 760)
        dialog.show_page("tools")
        page = dialog.tools_page
        dialog.show()
        shots: list[QPixmap] = []
        for name in ("notes", "testtools"):
            page.server_list.setCurrentRow(page._row_of(name))
            page.start_server()
            await until(lambda: not page.busy() and page.status_label.text() != "starting", 30)
        await asyncio.sleep(0.3)
        QApplication.processEvents()
        shots.append(dialog.grab())
        page.server_list.setCurrentRow(page._row_of("notes"))
        await asyncio.sleep(0.3)
        QApplication.processEvents()
        shots.append(dialog.grab())
        dialog.close()
    finally:
        services.shutdown()  # stops the servers
    gap = 16
    ratio = shots[0].devicePixelRatio()
    both = QPixmap(round((shots[0].width() + shots[1].width()) + gap * ratio), max(s.height() for s in shots))
    both.setDevicePixelRatio(ratio)
    both.fill(Qt.GlobalColor.transparent)
    painter = QPainter(both)
    painter.drawPixmap(QPoint(0, 0), shots[0])
    painter.drawPixmap(QPoint(round(shots[0].width() / ratio) + gap, 0), shots[1])
    painter.end()
    path = out / "mcp-settings.png"
    if not both.save(str(path)):
        raise RuntimeError(f"could not write {path}")
    print(path)


async def shoot(out: Path, root: Path, app: QApplication) -> None:
    """Take the screenshots."""
    app.setApplicationDisplayName("Desktop Chat")
    app.setQuitOnLastWindowClosed(False)
    await _shoot_tools(out, root)

    # Settings: two profiles, the one with a saved key selected.
    services = _services(root, "settings")
    providers = services.providers
    openai = providers.add(
        "OpenAI", "https://api.openai.com/v1", default_model="gpt-4o-mini", api_key=PLACEHOLDER_KEY
    )
    providers.add("Ollama", "http://127.0.0.1:11434/v1", default_model="llama3.1:8b", needs_key=False)
    providers.use(openai, "gpt-4o-mini")
    dialog = SettingsDialog(services)
    dialog.resize(860, 540)
    page = dialog.providers_page
    page.profile_list.setCurrentRow(page._row_of(openai.id))
    dialog.show()
    await asyncio.sleep(0.3)
    _save(dialog, out / "settings.png")
    dialog.close()
    providers.delete(openai.id)  # removes the placeholder key from the keychain too
    services.shutdown()

    # The welcome, with a local server found.
    server, presets = _ollama_server()
    try:
        services = _services(root, "welcome")
        window = MainWindow(services)
        window.resize(1100, 720)
        window.show()
        welcome = window.show_welcome(local_presets=presets, timeout=0.8)
        assert isinstance(welcome, WelcomeDialog)
        await until(lambda: not welcome.searching())
        welcome.adjustSize()
        await asyncio.sleep(0.3)
        _save(welcome, out / "first-run-welcome.png")
        welcome.reject()
        window.close()
        services.shutdown()
    finally:
        server.stop()

    # The main window in the dark theme, over a short conversation.
    services = _services(root, "dark", demo=True)
    services.settings.set(THEME, "dark")
    ThemeManager(app, services.settings)
    providers = services.providers
    profile = providers.add(
        "Ollama", "http://127.0.0.1:11434/v1", default_model="llama3.1:8b", needs_key=False
    )
    providers.use(profile, "llama3.1:8b")
    shown = next(c for c in services.store.repo.list_conversations().items if c.title.startswith("Sourdough"))
    services.settings.set(LAST_CONVERSATION, shown.id)
    window = MainWindow(services)
    window.resize(1100, 720)
    window.show()
    await asyncio.sleep(0.6)
    _save(window, out / "dark-theme.png")
    window.close()
    services.shutdown()


def main() -> int:
    """Command line."""
    return shots_command(
        __doc__ or "", "desktop_chat-shots-", lambda args, data, app: shoot(args.out, data, app)
    )


if __name__ == "__main__":
    sys.exit(main())
