"""Day groups and title folding of the conversation list: plain Python, any clock, no Qt."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime

import pytest

from desktop_chat.ui.sidebar.groups import MONTH, PINNED, TODAY, WEEK, YESTERDAY, DayGroups, fold, group_label

# A fixed "now": local 10 March 2024, half a minute after midnight (no test depends on the wall clock).
NOW = datetime(2024, 3, 10, 0, 0, 30).timestamp()


def _at(*args: int) -> float:
    return datetime(*args).timestamp()  # type: ignore[arg-type]


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Café CRÈME") == "cafe creme"
    assert fold("Straße") == "strasse"
    assert fold("ASCII Only") == "ascii only"
    assert fold("Ångström") == "angstrom"


def test_day_groups_at_the_boundaries() -> None:
    groups = DayGroups.at(NOW)
    key = groups.key
    assert label_of(key(_at(2024, 3, 10, 0, 0, 0), False)) == "Today"  # midnight itself
    assert label_of(key(_at(2024, 3, 9, 23, 59, 59), False)) == "Yesterday"
    assert label_of(key(_at(2024, 3, 9, 0, 0, 0), False)) == "Yesterday"
    assert label_of(key(_at(2024, 3, 8, 23, 59, 59), False)) == "Previous 7 days"
    assert label_of(key(_at(2024, 3, 3, 0, 0, 0), False)) == "Previous 7 days"
    assert label_of(key(_at(2024, 3, 2, 23, 59, 59), False)) == "Previous 30 days"
    assert label_of(key(_at(2024, 2, 9, 0, 0, 0), False)) == "Previous 30 days"
    assert label_of(key(_at(2024, 2, 8, 23, 59, 59), False)) == "February 2024"
    assert label_of(key(_at(2023, 12, 31, 12, 0, 0), False)) == "December 2023"
    assert label_of(key(NOW + 3600, False)) == "Today"  # a clock running ahead
    assert label_of(key(_at(2020, 1, 1, 0, 0, 0), True)) == "Pinned"
    assert groups.covers(NOW)
    assert not groups.covers(_at(2024, 3, 11, 0, 0, 0))


def label_of(key: int) -> str:
    return group_label(key, lambda m: datetime(2000, m, 1).strftime("%B"))


def test_day_groups_follow_daylight_saving(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        # 31 March 2024 has 23 hours in Berlin: "yesterday" must still start at local midnight.
        groups = DayGroups.at(datetime(2024, 4, 1, 9, 0).timestamp())
        assert groups.today - groups.yesterday == 23 * 3600
        assert datetime.fromtimestamp(groups.yesterday).hour == 0
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_groups_need_no_qt() -> None:
    code = (
        "import sys, desktop_chat.ui.sidebar.groups; "
        "sys.exit(any(m.split('.')[0] == 'PySide6' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_each_month_before_the_last_30_days_is_its_own_group() -> None:
    groups = DayGroups.at(NOW)
    assert groups.key(NOW, True) == PINNED  # pinned wins over any date
    assert {groups.key(_at(2024, 3, d, 12, 0, 0), False) for d in (1, 5, 9)} == {MONTH, WEEK, YESTERDAY}
    january = groups.key(_at(2024, 1, 3, 12, 0, 0), False)
    assert january == groups.key(_at(2024, 1, 28, 12, 0, 0), False)
    assert january != groups.key(_at(2023, 12, 28, 12, 0, 0), False)
    assert january != groups.key(_at(2023, 1, 3, 12, 0, 0), False)  # the same month a year earlier


def test_nonsense_timestamps_fall_into_the_oldest_group() -> None:
    groups = DayGroups.at(NOW)
    oldest = groups.key(-1e20, False)
    assert group_label(oldest) == "Older"
    assert groups.key(float("nan"), False) == oldest
    assert groups.key(1e20, False) == TODAY  # the future: a clock running behind, shown as today


def test_month_labels_default_to_the_english_month_name() -> None:
    key = DayGroups.at(NOW).key(_at(2023, 7, 14, 9, 0, 0), False)
    assert group_label(key) == "July 2023"
    assert group_label(key, lambda month: f"M{month}") == "M7 2023"
    assert group_label(TODAY, lambda month: "unused") == "Today"


def test_groups_cover_exactly_their_local_day() -> None:
    groups = DayGroups.at(NOW)
    assert groups.covers(_at(2024, 3, 10, 0, 0, 0))
    assert groups.covers(_at(2024, 3, 10, 23, 59, 59))
    assert not groups.covers(_at(2024, 3, 9, 23, 59, 59))
    assert DayGroups.at(_at(2024, 3, 10, 18, 0, 0)) == groups  # the same day: the same groups


def test_fold_is_stable_for_filter_words() -> None:
    assert fold("") == ""
    assert fold(fold("Crème Brûlée")) == fold("CREME BRULEE") == "creme brulee"
    assert all(word in fold("Café menu translation") for word in fold("cafe MENU").split())
