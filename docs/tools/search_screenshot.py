"""A screenshot of Search everything (Ctrl+K) over a small demo history (demo only).

xvfb-run -a -s "-screen 0 1280x900x24" python -m docs.tools.search_screenshot OUT.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from docs.tools.demo_window import offscreen_without_display


def _wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> int:
    """Command line: the output file."""
    out = Path(sys.argv[1])
    offscreen_without_display()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from desktop_chat.secrets import SecretStore
    from desktop_chat.services.app_services import AppServices
    from desktop_chat.settings import Settings
    from desktop_chat.storage import open_store
    from desktop_chat.ui.main_window import MainWindow
    from desktop_chat.ui.search.panel import SearchPanel
    from docs.tools.demo_history import fill

    with tempfile.TemporaryDirectory(prefix="search-shot-") as tmp:
        data = Path(tmp)
        fill(data, crash=False)
        store = open_store(data / "desktop_chat.sqlite3")
        services = AppServices(store, Settings(data / "config" / "settings.json"), SecretStore())
        window = MainWindow(services)
        window.resize(1100, 720)
        window.show()
        _wait(300)
        panel = window.open_search()
        assert isinstance(panel, SearchPanel)
        panel.field.setText("struct")
        for _ in range(50):
            _wait(50)
            if panel.status.text() not in ("", "Searching…"):
                break
        panel.move(window.geometry().center() - panel.rect().center())
        _wait(200)
        shot = QPixmap(window.size())
        window.render(shot)
        painter = QPainter(shot)
        painter.drawPixmap(panel.geometry().topLeft() - window.geometry().topLeft(), panel.grab())
        painter.end()
        shot.save(str(out))
        panel.results.setCurrentIndex(panel.model.index(1))
        panel._open_current()  # Enter: the conversation at the hit, its words marked
        _wait(400)
        window.grab().save(str(out.with_name(out.stem + "-opened.png")))
        panel.close()
        window.close()
        services.shutdown()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
