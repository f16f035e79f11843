"""The window reaches the data only through the services: no widget touches the store or the repo."""

from __future__ import annotations

import ast
from pathlib import Path

import desktop_chat

UI_DIR = Path(desktop_chat.__file__).parent / "ui"
FORBIDDEN_ATTRIBUTES = {"store", "_store", "repo", "_repo", "db"}  # AppServices.store, Store.repo/.db


def reaches(source: str) -> list[tuple[int, str]]:
    """(line, attribute) of every access to a forbidden attribute."""
    return [
        (node.lineno, node.attr)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES
    ]


def test_no_ui_module_reaches_the_store() -> None:
    found = [
        f"{path.relative_to(UI_DIR.parent)}:{line}: .{attr}"
        for path in sorted(UI_DIR.rglob("*.py"))
        for line, attr in reaches(path.read_text())
    ]
    assert found == []


def test_the_check_catches_store_access() -> None:
    assert reaches("services.store.repo.list_tool_executions(1)") == [(1, "repo"), (1, "store")]
    assert reaches("self._services.chat.send(1, 'x')") == []
