"""Imports run one way: ui -> services -> {storage, llm, tools} -> domain; leaves import nothing of ours.

Only `app` composes everything; its start-up helpers (`app_args`, `crash`, `review`, `startup_probe`) each
reach what their job needs. The headless CLI (`cli`) never reaches the window: not `app`, not `ui`, not
the start-up helpers, nor the Qt event loop and import set-up, directly or through anything it imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import desktop_chat

PACKAGE_DIR = Path(desktop_chat.__file__).parent

# layer -> project layers it may import (itself included); "*" = anything
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "paths": set(),
    "settings": set(),
    "secrets": set(),
    "exit_codes": set(),
    "cli_commands": set(),
    "storage": {"storage", "domain"},
    "llm": {"llm", "domain"},
    "tools": {"tools", "domain"},
    "interchange": {"interchange", "storage", "domain", "markdown_parser"},  # export/import formats
    "services": {
        "services",
        "interchange",
        "storage",
        "llm",
        "tools",
        "domain",
        "paths",
        "settings",
        "secrets",
        "markdown_parser",
    },
    "ui": {"ui", "services", "domain", "paths", "settings", "markdown_parser", "memory_trim"},
    "app": {"*"},
    "app_args": {"cli_commands", "tools"},  # --mcp-config FILE is read while parsing
    "crash": {"paths", "secrets"},
    "review": {"storage", "interchange"},
    "startup_probe": set(),
    "cli": {"cli_commands", "exit_codes", "services", "interchange", "storage", "domain", "paths"},
    "__main__": {"app"},
    "desktop_entry": set(),  # --install-desktop-entry: files only, before any Qt
    "markdown_parser": set(),  # the one Markdown set-up (transcript and exports)
    "event_loop": set(),  # asyncio on Qt's loop (qasync), for the app, tests and benchmarks
    "pyside_imports": set(),  # PySide's import hook without its source scan
    "memory_trim": set(),  # freed memory back to the system (glibc)
    "__init__": set(),
}
# what `from desktop_chat import NAME` may take from the package root (desktop_chat/__init__.py)
PACKAGE_ROOT_NAMES = {"version", "__version__"}
# modules of the window that the headless CLI must not reach, even through another module
WINDOW_LAYERS = {
    "app",
    "app_args",
    "crash",
    "event_loop",
    "pyside_imports",
    "review",
    "startup_probe",
    "ui",
    "__main__",
}
# layers that must never import these, whatever ALLOWED says (checked on top of it)
NEVER: dict[str, set[str]] = {"cli": WINDOW_LAYERS, "ui": {"storage", "app"}}
# third-party modules each layer must never import (prefix match)
FORBIDDEN_EXTERNAL: dict[str, tuple[str, ...]] = {
    "domain": ("PySide6", "peewee", "playhouse", "openai", "keyring", "qasync"),
    "paths": ("PySide6", "peewee", "openai"),
    "secrets": ("PySide6", "peewee", "openai"),
    "settings": ("peewee", "openai", "PySide6.QtWidgets", "PySide6.QtGui"),
    "storage": ("PySide6", "openai", "qasync", "keyring"),
    "llm": ("PySide6", "peewee", "playhouse", "qasync"),
    "tools": ("PySide6", "peewee", "playhouse", "qasync"),
    "interchange": ("PySide6", "peewee", "playhouse", "openai", "qasync"),
    "services": ("PySide6.QtWidgets", "PySide6.QtGui", "qasync", "peewee", "playhouse", "openai"),
    "ui": ("peewee", "playhouse", "openai", "keyring"),
    "cli": ("PySide6", "qasync"),  # headless: runs without a display
    "exit_codes": ("PySide6", "peewee", "playhouse", "openai", "keyring", "qasync"),
    "cli_commands": ("PySide6", "peewee", "playhouse", "openai", "keyring", "qasync"),
    "app_args": ("PySide6", "peewee", "playhouse", "openai", "qasync"),  # parsed before any Qt
    "crash": ("peewee", "playhouse", "openai", "qasync"),
    "review": ("PySide6", "openai", "qasync"),
    "startup_probe": ("peewee", "playhouse", "openai", "qasync"),
    "desktop_entry": ("PySide6", "peewee", "openai", "qasync"),  # headless too
    "markdown_parser": ("PySide6", "peewee", "openai", "qasync"),
    "event_loop": ("peewee", "openai", "PySide6.QtWidgets", "PySide6.QtGui"),
}


def layer_of(module: str) -> str:
    """`desktop_chat.storage.repo` -> `storage`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(source: str, module: str) -> list[str]:
    """Every module imported anywhere in the source (function-level lazy imports included)."""
    found: list[str] = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.append(origin)
            # `from pkg import name` may import a submodule: check pkg.name too
            found.extend(f"{origin}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def violations(module: str, source: str) -> list[str]:
    """Wrong arrows in one module."""
    layer = layer_of(module)
    allowed = ALLOWED.get(layer)
    if allowed is None:
        return [f"{module}: layer {layer!r} is not declared in ALLOWED"]
    out: list[str] = []
    for imported in imports_of(source, module):
        if imported == "desktop_chat" or imported.startswith("desktop_chat."):
            target = layer_of(imported)
            if imported == "desktop_chat" or target in PACKAGE_ROOT_NAMES:
                target = "__init__"
            if target == "__init__":
                continue  # the package root holds only __version__
            never = target in NEVER.get(layer, ())
            if never or ("*" not in allowed and target != layer and target not in allowed):
                out.append(f"{module} imports {imported} ({layer} -> {target})")
        else:
            for bad in FORBIDDEN_EXTERNAL.get(layer, ()):
                if imported == bad or imported.startswith(bad + "."):
                    out.append(f"{module} imports {imported} (forbidden in {layer})")
    return out


def project_modules() -> list[tuple[str, Path]]:
    """Every module of the package."""
    modules = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 2:
            parts = parts[:-1]
        modules.append((".".join(parts), path))
    return modules


def test_every_module_imports_only_downwards() -> None:
    problems = [v for mod, path in project_modules() for v in violations(mod, path.read_text())]
    assert problems == []


def test_package_has_the_declared_layers() -> None:
    layers = {layer_of(m) for m, _ in project_modules()}
    assert {"storage", "services", "ui", "domain", "app", "settings", "secrets", "paths"} <= layers
    assert {"cli", "cli_commands", "exit_codes", "app_args", "crash", "review", "startup_probe"} <= layers


def test_never_arrows_are_not_allowed() -> None:
    for layer, banned in NEVER.items():
        assert "*" not in ALLOWED[layer]
        assert not banned & ALLOWED[layer], layer


def reachable_from(start: str) -> set[str]:
    """Every project module `start` imports, directly or through others (lazy imports included)."""
    sources = {mod: path for mod, path in project_modules()}
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen or module not in sources:
            continue
        seen.add(module)
        for imported in imports_of(sources[module].read_text(), module):
            parts = imported.split(".")
            # importing a.b.c runs a/__init__ and a/b/__init__ too
            todo.extend(".".join(parts[:n]) for n in range(2, len(parts) + 1))
    return seen


def test_headless_cli_never_reaches_the_window() -> None:
    reached = reachable_from("desktop_chat.cli")
    assert {"desktop_chat.cli_commands", "desktop_chat.exit_codes", "desktop_chat.storage"} <= reached
    assert sorted(m for m in reached if layer_of(m) in WINDOW_LAYERS) == []


def test_reachability_follows_lazy_imports() -> None:
    assert "desktop_chat.ui.main_window" in reachable_from("desktop_chat.app")
    assert "desktop_chat.storage.backup" in reachable_from("desktop_chat.review")


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("desktop_chat.ui.window", "from desktop_chat.storage import repo", "ui -> storage"),
        ("desktop_chat.ui.window", "import peewee", "forbidden in ui"),
        ("desktop_chat.storage.repo", "def f():\n    from PySide6 import QtCore", "forbidden in storage"),
        ("desktop_chat.storage.repo", "from ..services import chat", "storage -> services"),
        ("desktop_chat.services.chat", "from PySide6.QtWidgets import QWidget", "forbidden in services"),
        ("desktop_chat.domain", "from desktop_chat import settings", "domain -> settings"),
        ("desktop_chat.ui.window", "import openai", "forbidden in ui"),
        ("desktop_chat.services.chat", "from PySide6 import QtWidgets", "forbidden in services"),
        ("desktop_chat.cli", "from desktop_chat.app import EXIT_OK", "cli -> app"),
        ("desktop_chat.cli", "def f():\n    from desktop_chat import app", "cli -> app"),
        ("desktop_chat.cli", "import desktop_chat.app", "cli -> app"),
        ("desktop_chat.cli", "from desktop_chat.crash import show_fatal", "cli -> crash"),
        ("desktop_chat.cli", "from desktop_chat.ui.main_window import MainWindow", "cli -> ui"),
        ("desktop_chat.cli", "from PySide6.QtCore import QTimer", "forbidden in cli"),
        ("desktop_chat.exit_codes", "from desktop_chat import paths", "exit_codes -> paths"),
        ("desktop_chat.cli_commands", "from desktop_chat.cli import main", "cli_commands -> cli"),
        ("desktop_chat.app_args", "import PySide6.QtWidgets", "forbidden in app_args"),
        ("desktop_chat.review", "from desktop_chat.ui import main_window", "review -> ui"),
    ],
)
def test_checker_catches_wrong_arrows(module: str, source: str, expected: str) -> None:
    found = violations(module, source)
    assert any(expected in v for v in found), found


def test_checker_accepts_right_arrows() -> None:
    assert violations("desktop_chat.ui.window", "from desktop_chat.services import chat") == []
    assert violations("desktop_chat.services.chat", "from PySide6.QtCore import QObject") == []
    assert violations("desktop_chat.storage.repo", "from . import db\nimport peewee") == []
    assert violations("desktop_chat.cli", "from desktop_chat.exit_codes import EXIT_OK") == []
    assert violations("desktop_chat.cli", "from desktop_chat.cli_commands import COMMANDS") == []
    assert violations("desktop_chat.app", "from desktop_chat.cli import main") == []


def test_pyside_imports_are_not_scanned_for_features() -> None:
    import sys

    from desktop_chat.pyside_imports import skip_source_scan

    assert skip_source_scan(), "PySide6's feature import hook is where it was"
    feature = sys.modules["shibokensupport.feature"]
    assert feature._mod_uses_pyside(sys.modules["desktop_chat.pyside_imports"])
    assert not feature._mod_uses_pyside(sys.modules["json"])


# ---- the ui never reaches the store -------------------------------------------------------------
# Importing storage from ui is caught above (NEVER["ui"]). Reaching it through a service (`services.store`,
# `.repo`) is the same wrong arrow: tests/unit/test_ui_boundary.py checks every attribute access in ui/.
