"""Declared, typed, defaulted settings in one JSON file, with one `changed(key)` signal.

Every setting declares itself: `Setting(key, type, default, doc)` adds itself to `DECLARED`, the one
registry that owns the settings file's schema (each key's type and choices), defaults, docs, version and
upgrades; declaring a key twice is an error. Stored values of the wrong type fall back to the default (and
are logged); an unreadable file is kept aside and defaults are used. The file carries a version, and
`UPGRADES` moves older files forward one version at a time. A slot that cares about some keys connects to
`Settings.changed_for(KEY, ...)`, which fires only for them. List and dict values are copied in and out:
changing what `get()` returned never changes the stored value.
Secrets never go here: API keys live in the keychain (see `secrets`).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from PySide6.QtCore import QObject, Signal, SignalInstance

log = logging.getLogger(__name__)
T = TypeVar("T")
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


class DuplicateSettingError(ValueError):
    """A key declared twice in one registry."""


class SettingRegistry:
    """The declared settings of one settings file, by key in declaration order, with the file's version
    and the upgrades that bring older files to it."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.upgrades: dict[int, Upgrade] = {}  # upgrades[n] turns a version-n file's values into n+1's
        self._by_key: dict[str, Setting[Any]] = {}

    def add(self, setting: Setting[Any]) -> None:
        """Register `setting` (Setting does this itself); DuplicateSettingError if its key is taken."""
        if setting.key in self._by_key:
            raise DuplicateSettingError(f"setting {setting.key!r} is declared twice")
        self._by_key[setting.key] = setting

    def get(self, key: str) -> Setting[Any] | None:
        """The setting declared under `key`, if any."""
        return self._by_key.get(key)

    def __iter__(self) -> Iterator[Setting[Any]]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key


def _copied(value: T) -> T:
    """A list or dict value copied (so no caller shares the stored one); other values as they are."""
    return copy.deepcopy(value) if isinstance(value, list | dict) else value


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    """One declared key; declaring it registers it in `registry` (the app's `DECLARED` by default)."""

    key: str
    type: type[T]
    default: T
    doc: str
    choices: tuple[T, ...] = ()
    registry: SettingRegistry = field(
        default_factory=lambda: DECLARED, kw_only=True, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.accepts(self.default):
            raise TypeError(f"setting {self.key}: the default {self.default!r} is not a {self.type.__name__}")
        self.registry.add(self)

    def accepts(self, value: object) -> bool:
        """True when `value` has this setting's type (and is one of its choices, if any)."""
        if self.type is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif self.type is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, self.type)
        return ok and (not self.choices or value in self.choices)


DECLARED: SettingRegistry = SettingRegistry(version=1)  # every setting of the app
UPGRADES: dict[int, Upgrade] = DECLARED.upgrades  # none yet: add steps here when VERSION goes up
VERSION = DECLARED.version

THEME = Setting("ui/theme", str, "system", "Colour theme", ("system", "light", "dark"))
FONT_SIZE = Setting("ui/font_size", int, 0, "Text size of the app in points (0: system default)")
WINDOW_GEOMETRY = Setting("ui/window_geometry", str, "", "Main window geometry (Qt, base64)")
SPLITTER_STATE = Setting("ui/splitter_state", str, "", "Splitter sizes (Qt, base64)")
LAST_CONVERSATION = Setting("ui/last_conversation_id", int, 0, "Conversation open at last quit")
DEFAULT_PROFILE = Setting("chat/default_profile_id", int, 0, "Provider profile for new conversations")
DEFAULT_MODEL = Setting("chat/default_model", str, "", "Model for new conversations ('' = profile default)")
SYSTEM_PROMPT = Setting("chat/system_prompt", str, "", "Default system prompt for new conversations")
MAX_TOOL_ROUNDS = Setting("chat/max_tool_rounds", int, 8, "Tool-call rounds before an answer is cut off")
PROXY_URL = Setting("network/proxy", str, "", "Proxy for cloud providers ('' = system settings)")
AUTO_TITLE = Setting("chat/auto_title", bool, True, "Ask the model for a title after the first answer")
CONNECT_TIMEOUT = Setting("network/connect_timeout", float, 10.0, "Seconds to wait for a connection")
READ_TIMEOUT = Setting("network/read_timeout", float, 300.0, "Seconds to wait for the next byte of an answer")
RETRY_ATTEMPTS = Setting("network/retry_attempts", int, 4, "Tries of a rate-limited or overloaded request")
TOOL_TIMEOUT = Setting("tools/timeout", float, 60.0, "Seconds a tool may run before it is cut off")
MCP_SERVERS = Setting(
    "tools/mcp_servers", dict, {}, "MCP servers, in the mcpServers format other clients use"
)
ALWAYS_ALLOWED_TOOLS = Setting("tools/always_allowed", list, [], "Tools that run without asking first")
DISABLED_TOOLS = Setting("tools/disabled", list, [], "Built-in tools switched off")
BACKUP_AUTO = Setting("backup/auto", bool, True, "Copy the database once a day, after start-up")
BACKUP_KEEP = Setting("backup/keep", int, 7, "How many daily automatic backups to keep")
BACKUP_FOLDER = Setting("backup/folder", str, "", "Folder of the automatic backups ('' = <data dir>/backups)")


class _KeyFilter(QObject):
    """Passes `changed(key)` on for some keys only (see `Settings.changed_for`)."""

    changed = Signal(str)

    def __init__(self, keys: frozenset[str], settings: Settings) -> None:
        super().__init__(settings)
        self._keys = keys
        settings.changed.connect(self._pass_on)

    def _pass_on(self, key: str) -> None:
        if key in self._keys:
            self.changed.emit(key)


class Settings(QObject):
    """The settings of one app run, saved on every change."""

    changed = Signal(str)

    def __init__(
        self,
        path: Path,
        declared: SettingRegistry = DECLARED,
        *,
        version: int | None = None,
        upgrades: Mapping[int, Upgrade] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._path = path
        self._declared = {s.key: s for s in declared}
        self._version = declared.version if version is None else version
        self._upgrades = dict(declared.upgrades if upgrades is None else upgrades)
        self._values: dict[str, Any] = {}
        self._extra: dict[str, Any] = {}
        self._read_only = False
        self._filters: dict[frozenset[str], _KeyFilter] = {}
        self._load()

    @property
    def path(self) -> Path:
        """The JSON file."""
        return self._path

    def _load(self) -> None:
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            aside = self._path.with_name(f"{self._path.name}.unreadable-{int(time.time())}")
            try:
                self._path.replace(aside)
            except OSError:
                aside = self._path
            log.warning(
                "Settings file %s is unreadable (%s); using defaults, kept it at %s", self._path, exc, aside
            )
            return
        if not isinstance(raw, dict) or not isinstance(raw.get("values", {}), dict):
            log.warning("Settings file %s has an unexpected shape; using defaults", self._path)
            return
        file_version = raw.get("version", 1)
        values: dict[str, Any] = dict(raw.get("values", {}))
        if not isinstance(file_version, int) or file_version > self._version:
            log.warning(
                "Settings file %s is version %s, newer than %d; reading what is known, never saving over it",
                self._path,
                file_version,
                self._version,
            )
            self._read_only = True
        else:
            upgraded = False
            for v in range(file_version, self._version):
                step = self._upgrades.get(v)
                if step is not None:
                    values = step(dict(values))
                upgraded = True
            if upgraded:
                log.info("Upgraded settings from version %d to %d", file_version, self._version)
        for key, value in values.items():
            setting = self._declared.get(key)
            if setting is None:
                self._extra[key] = value  # kept: a newer version's key, or a plug-in's
            elif setting.accepts(value):
                self._values[key] = float(value) if setting.type is float else value
            else:
                log.warning("Setting %s has an invalid value %r; using the default", key, value)
        if file_version != self._version and not self._read_only:
            self._save()

    def _save(self) -> None:
        if self._read_only:
            return
        data = {"version": self._version, "values": {**self._extra, **self._values}}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(self._path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self._path)

    def _setting(self, key: str) -> Setting[Any]:
        try:
            return self._declared[key]
        except KeyError:
            raise KeyError(f"undeclared setting {key!r}") from None

    def get(self, setting: Setting[T]) -> T:
        """The current value (the default when unset); a list or dict is a copy of it."""
        declared = self._setting(setting.key)
        return cast(T, _copied(self._values.get(declared.key, declared.default)))

    def set(self, setting: Setting[T], value: T) -> None:
        """Change a value (a list or dict is copied), save, and emit `changed(key)` if it differs."""
        declared = self._setting(setting.key)
        if not declared.accepts(value):
            raise TypeError(f"setting {declared.key} needs a {declared.type.__name__}, got {value!r}")
        if self.get(declared) == value and declared.key in self._values:
            return
        self._values[declared.key] = _copied(value)
        self._save()
        self.changed.emit(declared.key)

    def reset(self, setting: Setting[Any]) -> None:
        """Back to the default."""
        if self._values.pop(setting.key, None) is not None:
            self._save()
            self.changed.emit(setting.key)

    def changed_for(self, *settings: Setting[Any]) -> SignalInstance:
        """A signal like `changed(key)` that fires only for these settings (connect a slot to it)."""
        keys = frozenset(self._setting(s.key).key for s in settings)
        if not keys:
            raise ValueError("changed_for needs at least one setting")
        found = self._filters.get(keys)
        if found is None:
            found = self._filters[keys] = _KeyFilter(keys, self)
        return found.changed
