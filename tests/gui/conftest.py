"""GUI test fixtures: a qasync loop driven by pytest-qt, a fake backend, a main window.

qasync normally runs asyncio *inside* ``QApplication.exec()``. In tests pytest-qt's
``qtbot.wait*`` helpers spin the Qt event loop instead, so one qasync loop is created in
"already running" mode for the session: asyncio callbacks are Qt timer events and run
whenever qtbot processes events. Each test marks that loop as the running loop only while
it runs, so pytest-asyncio tests on the same worker keep their own loops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from tests.gui.fake_backend import FakeBackend


@pytest.fixture(scope="session")
def _session_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)
    yield loop


@pytest.fixture
def qloop(_session_loop: qasync.QEventLoop, qtbot: object) -> Iterator[qasync.QEventLoop]:
    """The asyncio loop for ``asyncSlot``s; pending tasks are cancelled after the test."""
    loop = _session_loop
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            QApplication.processEvents()
            QApplication.processEvents()
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


@pytest.fixture
def backend(qloop: qasync.QEventLoop) -> FakeBackend:
    return FakeBackend()
