"""Set-up for every test in this folder: garbage collected on the GUI thread only, as in the app."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _garbage_on_the_gui_thread(gui_thread_gc: None, garbage_collected_after: None) -> None:
    """Both fixtures (tests/helpers/qt_fixtures.py) for each test here, before its other fixtures."""
