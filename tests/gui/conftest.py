"""GUI test fixtures: a qasync loop driven by pytest-qt, a fake backend, a main window.

qasync normally runs asyncio *inside* ``QApplication.exec()``. In tests pytest-qt's
``qtbot.wait*`` helpers spin the Qt event loop instead, so one qasync loop is created in
"already running" mode for the session: asyncio callbacks are Qt timer events and run
whenever qtbot processes events. Each test marks that loop as the running loop only while
it runs, so pytest-asyncio tests on the same worker keep their own loops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMenu, QMessageBox
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot

from app import AppConfig
from tests.gui.fake_backend import FakeBackend
from tests.gui.helpers import enter
from tests.gui.real_app import AppFactory, CliPeer, RealApp, app_config, close_app, open_app
from tests.gui.scenes import PASSPHRASE, Demo, seed_demo
from tests.helpers.relay import RelayProcess
from ui.main_window import MainWindow
from ui.theme import apply_theme, theme_state, use_app_font
from ui.views import Theme


@pytest.fixture(scope="session")
def _session_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)
    yield loop


@pytest.fixture
def qloop(_session_loop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[qasync.QEventLoop]:
    """The asyncio loop for async slots; tasks still running after the test are finished
    (or, if stuck, cancelled) before the next test starts."""
    loop = _session_loop
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
    finally:

        def pending() -> list[asyncio.Task[object]]:
            return [t for t in asyncio.all_tasks(loop) if not t.done()]

        try:
            qtbot.waitUntil(lambda: not pending(), timeout=2000)
        except TimeoutError:
            for task in pending():
                task.cancel()
            qtbot.wait(10)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


def _blocking_dialog(*_args: object, **_kwargs: object) -> object:
    raise AssertionError("a blocking dialog (own event loop) was opened; replace it in the test")


@pytest.fixture(autouse=True)
def _no_blocking_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file chooser or an ``exec()``-ed dialog runs its own event loop and would hang an
    offscreen test: reaching one fails the test at once (tests that mean to open one
    replace it with an answer)."""
    for name in ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, _blocking_dialog)
    for kind in (QDialog, QMessageBox, QFileDialog, QMenu):
        monkeypatch.setattr(kind, "exec", _blocking_dialog)


@pytest.fixture(autouse=True)
def _light_theme(qapp: QApplication) -> None:
    """Every test starts in the light theme with Burrow's font and style sheet."""
    use_app_font(qapp)
    if theme_state().choice is not Theme.LIGHT or not qapp.styleSheet():
        apply_theme(qapp, Theme.LIGHT)


@pytest.fixture
def backend(qloop: qasync.QEventLoop) -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def window(qtbot: QtBot, backend: FakeBackend) -> Iterator[MainWindow]:
    main = MainWindow(backend)
    qtbot.addWidget(main)
    main.resize(1100, 720)
    main.show()
    yield main
    main.session.close()


@pytest.fixture
def alice(qtbot: QtBot, window: MainWindow, backend: FakeBackend) -> FakeBackend:
    """Alice is unlocked with two contacts and no chats yet."""
    backend.add_account("Alice Moreau", PASSPHRASE, unlocked=True)
    backend.add_fake_contact("Bob Marsh")
    backend.add_fake_contact("Carol Diaz")
    enter(qtbot, window, backend)
    return backend


@pytest.fixture
def demo(qtbot: QtBot, window: MainWindow, backend: FakeBackend) -> Demo:
    """Alice is unlocked with the chats of ``scenes.seed_demo``."""
    backend.add_account("Alice Moreau", PASSPHRASE, unlocked=True)
    scene = seed_demo(backend, time.time())
    enter(qtbot, window, backend)
    return scene


@pytest.fixture
def open_real_app(qtbot: QtBot, qloop: qasync.QEventLoop) -> Iterator[AppFactory]:
    """``open_real_app(config)``: the real window over the real services; every app still
    open at the end is closed gracefully (also when the test failed)."""
    opened: list[RealApp] = []

    def make(config: AppConfig) -> RealApp:
        opened.append(open_app(qtbot, config))
        return opened[-1]

    yield make
    for real in opened:
        close_app(qtbot, real)


@pytest.fixture
def real_app(open_real_app: AppFactory, relay: RelayProcess, tmp_path: Path) -> RealApp:
    """The real app on the real relay fixture, before its first run (no account yet)."""
    return open_real_app(app_config(tmp_path / "gui", relay.url))


@pytest.fixture
def peer(qtbot: QtBot, relay: RelayProcess, tmp_path: Path) -> Callable[[str], CliPeer]:
    """``peer("Bob")``: another person, run headless through the CLI on the same relay."""

    def make(name: str) -> CliPeer:
        return CliPeer(qtbot, name, tmp_path / name.lower(), relay.url)

    return make
