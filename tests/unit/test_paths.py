"""Paths: platform defaults, --data-dir and --temp-basedir."""

from __future__ import annotations

import os
from pathlib import Path

from desktop_chat.paths import resolve_paths


def test_data_dir_holds_everything(tmp_path: Path) -> None:
    p = resolve_paths(tmp_path / "profile")
    assert p.data_dir == (tmp_path / "profile").resolve()
    for d in (p.config_dir, p.cache_dir, p.log_dir):
        assert p.data_dir in d.parents
    p.ensure()
    assert p.config_dir.is_dir()
    assert oct(p.data_dir.stat().st_mode & 0o777) == "0o700"
    p.cleanup()
    assert p.data_dir.exists()  # a real data dir is never deleted


def test_temp_basedir_is_fresh_and_removed() -> None:
    a, b = resolve_paths(temp_basedir=True), resolve_paths(temp_basedir=True)
    assert a.data_dir != b.data_dir
    assert a.temporary
    a.ensure()
    a.cleanup()
    b.cleanup()
    assert not a.data_dir.exists()
    assert not b.data_dir.exists()


def test_defaults_follow_xdg() -> None:
    p = resolve_paths()
    assert str(p.data_dir).startswith(os.environ["XDG_DATA_HOME"])
    assert str(p.config_dir).startswith(os.environ["XDG_CONFIG_HOME"])
