"""Settings: declared, typed, defaulted, one changed(key) signal, versioned upgrades."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop_chat.settings import DECLARED, FONT_SIZE, MAX_TOOL_ROUNDS, THEME, Setting, Settings


def test_defaults_and_typed_get(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    assert s.get(THEME) == "system"
    assert s.get(MAX_TOOL_ROUNDS) == 8
    assert not (tmp_path / "settings.json").exists()  # nothing written until something changes


def test_set_saves_and_announces_once(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(path)
    seen: list[str] = []
    s.changed.connect(seen.append)
    s.set(THEME, "dark")
    s.set(THEME, "dark")  # unchanged: no second signal
    s.set(FONT_SIZE, 13)
    assert seen == ["ui/theme", "ui/font_size"]
    data = json.loads(path.read_text())
    assert data["version"] == 1
    assert data["values"] == {"ui/theme": "dark", "ui/font_size": 13}
    assert Settings(path).get(THEME) == "dark"


def test_wrong_types_and_choices_are_refused(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(TypeError):
        s.set(THEME, "purple")
    with pytest.raises(TypeError):
        s.set(FONT_SIZE, "12")  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.set(FONT_SIZE, True)  # bools are not ints here


def test_bad_stored_values_fall_back_and_unknown_keys_survive(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "values": {"ui/theme": 42, "future/key": [1, 2]}}))
    s = Settings(path)
    assert s.get(THEME) == "system"
    s.set(FONT_SIZE, 11)
    assert json.loads(path.read_text())["values"]["future/key"] == [1, 2]


def test_unreadable_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    s = Settings(path)
    assert s.get(THEME) == "system"
    aside = list(tmp_path.glob("settings.json.unreadable-*"))
    assert len(aside) == 1
    assert aside[0].read_text() == "{not json"


def test_versioned_upgrade_runs_in_order(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "values": {"old/theme": "dark"}}))

    def v1_to_v2(values: dict[str, Any]) -> dict[str, Any]:
        values["ui/theme"] = values.pop("old/theme")
        return values

    def v2_to_v3(values: dict[str, Any]) -> dict[str, Any]:
        values["ui/font_size"] = 14
        return values

    s = Settings(path, DECLARED, version=3, upgrades={1: v1_to_v2, 2: v2_to_v3})
    assert (s.get(THEME), s.get(FONT_SIZE)) == ("dark", 14)
    assert json.loads(path.read_text())["version"] == 3


def test_newer_file_is_read_but_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = json.dumps({"version": 99, "values": {"ui/theme": "light"}})
    path.write_text(original)
    s = Settings(path)
    assert s.get(THEME) == "light"
    s.set(FONT_SIZE, 20)
    assert path.read_text() == original


def test_undeclared_setting_is_an_error(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(KeyError):
        s.get(Setting("nope", str, "", "undeclared"))
