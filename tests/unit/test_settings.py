"""Settings: declared once, typed, defaulted, copied in and out, one changed(key) signal and filters of it,
versioned upgrades."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import desktop_chat.settings as settings_module
from desktop_chat.settings import (
    AUTO_TITLE,
    DECLARED,
    DISABLED_TOOLS,
    FONT_SIZE,
    MAX_TOOL_ROUNDS,
    MCP_SERVERS,
    THEME,
    DuplicateSettingError,
    Setting,
    SettingRegistry,
    Settings,
)


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
        s.get(Setting("nope", str, "", "declared elsewhere", registry=SettingRegistry()))
    with pytest.raises(KeyError):
        s.changed_for(Setting("nope", str, "", "declared elsewhere", registry=SettingRegistry()))


def test_every_setting_declares_itself_once() -> None:
    constants = [v for v in vars(settings_module).values() if isinstance(v, Setting)]
    assert {s.key for s in constants} == {s.key for s in DECLARED}
    assert len(DECLARED) == len(constants)
    assert DECLARED.get(THEME.key) is THEME
    assert "ui/theme" in DECLARED


def test_declaring_a_key_twice_is_an_error() -> None:
    registry = SettingRegistry()
    first = Setting("a/b", int, 1, "first", registry=registry)
    with pytest.raises(DuplicateSettingError, match="a/b"):
        Setting("a/b", str, "", "second", registry=registry)
    assert list(registry) == [first]
    count = len(DECLARED)
    with pytest.raises(DuplicateSettingError):
        Setting(THEME.key, str, "system", "the app's theme, again")
    assert len(DECLARED) == count
    assert DECLARED.get(THEME.key) is THEME


def test_a_default_of_the_wrong_type_is_refused() -> None:
    registry = SettingRegistry()
    with pytest.raises(TypeError):
        Setting("a/n", int, "8", "a number", registry=registry)
    with pytest.raises(TypeError):
        Setting("a/c", str, "blue", "a colour", ("red", "green"), registry=registry)
    assert len(registry) == 0


def test_a_settings_file_of_another_registry_has_its_keys_version_and_upgrades(tmp_path: Path) -> None:
    registry = SettingRegistry(version=2)
    colour = Setting("x/colour", str, "red", "a colour", registry=registry)
    registry.upgrades[1] = lambda values: {"x/colour": values.pop("x/color", "red")}
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"version": 1, "values": {"x/color": "blue"}}))
    s = Settings(path, registry)
    assert s.get(colour) == "blue"
    assert json.loads(path.read_text()) == {"version": 2, "values": {"x/colour": "blue"}}
    with pytest.raises(KeyError):
        s.get(THEME)


def test_list_and_dict_values_are_copies(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(path)
    s.get(DISABLED_TOOLS).append("calculator")  # the default is not changed
    assert s.get(DISABLED_TOOLS) == []
    assert DISABLED_TOOLS.default == []

    wanted = ["calculator"]
    s.set(DISABLED_TOOLS, wanted)
    wanted.append("current_datetime")  # changing what was set changes nothing stored
    got = s.get(DISABLED_TOOLS)
    got.append("fetch_web_page")
    assert s.get(DISABLED_TOOLS) == ["calculator"]

    s.set(MCP_SERVERS, {"files": {"command": "npx", "args": ["-y"]}})
    servers = s.get(MCP_SERVERS)
    servers["files"]["args"].append("more")
    servers["other"] = {}
    assert s.get(MCP_SERVERS) == {"files": {"command": "npx", "args": ["-y"]}}
    assert json.loads(path.read_text())["values"]["tools/mcp_servers"] == {
        "files": {"command": "npx", "args": ["-y"]}
    }


def test_a_change_filter_calls_its_slot_only_for_its_keys(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    looks: list[str] = []
    titles: list[str] = []
    everything: list[str] = []
    s.changed_for(THEME, FONT_SIZE).connect(looks.append)
    s.changed_for(AUTO_TITLE).connect(titles.append)
    s.changed.connect(everything.append)
    s.set(THEME, "dark")
    s.set(AUTO_TITLE, False)
    s.set(FONT_SIZE, 12)
    s.set(MAX_TOOL_ROUNDS, 2)
    s.set(THEME, "dark")  # unchanged: nothing
    s.reset(FONT_SIZE)
    assert looks == ["ui/theme", "ui/font_size", "ui/font_size"]
    assert titles == ["chat/auto_title"]
    assert everything == [
        "ui/theme",
        "chat/auto_title",
        "ui/font_size",
        "chat/max_tool_rounds",
        "ui/font_size",
    ]
    with pytest.raises(ValueError, match="at least one"):
        s.changed_for()
