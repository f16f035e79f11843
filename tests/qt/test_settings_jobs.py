"""Background jobs of the settings widgets (`ui/jobs.py`): started from slots, run on the qasync loop,
cancelled with their widget, replaced under a key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget

from desktop_chat.ui.common.widget_tasks import Jobs
from tests.helpers.loop import run, until


@pytest.fixture
def jobs(qtbot) -> Iterator[Jobs]:
    """The jobs of a widget that lives until the test ends."""
    owner = QWidget()
    qtbot.addWidget(owner)
    yield Jobs(owner)  # noqa: PT022 (yield, not return: this frame keeps the owner alive)


def test_a_job_started_outside_the_loop_runs_when_the_loop_runs(aloop, jobs: Jobs) -> None:
    results: list[int] = []

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    jobs.start(answer, results.append, key="a")
    assert jobs.running("a")
    run(aloop, until(lambda: results))
    assert results == [42]
    assert not jobs.running("a")
    assert jobs.pending() == 0


def test_a_key_replaces_the_job_still_running_under_it(aloop, jobs: Jobs) -> None:
    results: list[str] = []
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "slow"

    async def quick() -> str:
        return "quick"

    jobs.start(slow, results.append, key="k")
    run(aloop, asyncio.sleep(0.02))
    jobs.start(quick, results.append, key="k")
    run(aloop, until(lambda: results))
    release.set()
    run(aloop, asyncio.sleep(0.02))
    assert results == ["quick"]


def test_failures_go_to_the_failed_callback(aloop, jobs: Jobs) -> None:
    errors: list[BaseException] = []

    async def broken() -> None:
        raise ValueError("nope")

    jobs.start(broken, lambda _r: None, errors.append)
    run(aloop, until(lambda: errors))
    assert isinstance(errors[0], ValueError)


def test_closing_the_widget_cancels_its_jobs_and_drops_their_results(aloop) -> None:
    owner = QWidget()
    jobs = Jobs(owner)
    results: list[str] = []
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def long() -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "too late"

    jobs.start(long, results.append)
    run(aloop, started.wait())
    shiboken6.delete(owner)
    run(aloop, cancelled.wait(), timeout=2)
    assert results == []
