"""Where desktop_chat keeps its files: data, config, cache and logs, each overridable for tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "desktop_chat"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The directories of one running app. `temporary` ones are deleted by `cleanup()`."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    log_dir: Path
    temporary: bool = False

    def ensure(self) -> None:
        """Create the directories, private to the user."""
        for d in (self.data_dir, self.config_dir, self.cache_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

    @property
    def settings_file(self) -> Path:
        """The JSON settings file."""
        return self.config_dir / "settings.json"

    @property
    def log_file(self) -> Path:
        """The rotating application log."""
        return self.log_dir / "desktop_chat.log"

    @property
    def crash_file(self) -> Path:
        """Where faulthandler writes tracebacks of hard crashes."""
        return self.log_dir / "crash.log"

    def cleanup(self) -> None:
        """Delete a temporary base dir (no-op for real ones)."""
        if self.temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def portable_paths(base: Path, *, temporary: bool = False) -> AppPaths:
    """Everything under one directory: the database in `base`, the rest in subfolders."""
    base = base.expanduser().resolve()
    return AppPaths(base, base / "config", base / "cache", base / "logs", temporary)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None, *, temp_basedir: bool = False) -> AppPaths:
    """The paths for this run: a fresh temporary dir, an explicit data dir, or the platform's own."""
    if temp_basedir:
        return portable_paths(Path(tempfile.mkdtemp(prefix="desktop_chat-")), temporary=True)
    if data_dir is not None:
        return portable_paths(Path(data_dir))
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
