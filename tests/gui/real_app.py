"""The real app in GUI tests: the window over ``ui.bridge.Bridge`` over ``app.Services``, and
other people as headless CLI processes (``python main.py cli --json ...``).

Everything waits by spinning the Qt event loop (``qtbot.waitUntil``), never by blocking it:
the window's asyncio tasks (relay sockets, the database's futures) run on that loop, so a
CLI process runs in the background while the test waits for its exit.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from app import AppConfig, Services, Timeouts
from tests.e2e.cli_client import ROOT, CliClient, CliError
from tests.helpers.storage_factories import FAST
from ui.bridge import Bridge
from ui.main_window import MainWindow
from ui.tasks import spawn

T = TypeVar("T")
PASSPHRASE = "a real passphrase"
TIMEOUTS = Timeouts(publish=5.0, fetch=4.0, connect=3.0, reconnect_max=1.0, signer=1.5)
NETWORK_MS = 30_000
COMMAND_MS = 60_000


def app_config(data_dir: Path, relay_url: str, *, embedded: bool = False) -> AppConfig:
    return AppConfig(
        data_dir, local_relay=relay_url, embedded_relay=embedded, timeouts=TIMEOUTS, cipher=FAST
    )


def run(qtbot: QtBot, coro: Coroutine[Any, Any, T], timeout: int = NETWORK_MS) -> T:
    """Run a coroutine on the window's loop to its end, keeping Qt responsive."""
    task = spawn(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


def watch_models(*models: QAbstractItemModel) -> list[QAbstractItemModelTester]:
    """Qt's model tester on each model from now on: every insert, removal, move and change
    the real flow causes is checked; a violation is a Qt warning, which fails the test.
    Keep the returned testers alive as long as the models should be watched."""
    mode = QAbstractItemModelTester.FailureReportingMode.Warning
    return [QAbstractItemModelTester(model, mode) for model in models]


@dataclass
class RealApp:
    bridge: Bridge
    window: MainWindow
    config: AppConfig
    closed: bool = False

    @property
    def services(self) -> Services:
        return self.bridge.services


AppFactory = Callable[[AppConfig], RealApp]


def open_app(qtbot: QtBot, config: AppConfig) -> RealApp:
    bridge = Bridge(Services(config))
    # Not given to qtbot: pytest-qt would delete it before the bridge stops (close_app).
    window = MainWindow(bridge)
    window.resize(1100, 720)
    window.show()
    run(qtbot, bridge.start())
    return RealApp(bridge, window, config)


def close_app(qtbot: QtBot, real: RealApp) -> None:
    """What ``main.py`` does on quit: the window lets go, the bridge stops gracefully."""
    if real.closed:
        return
    real.closed = True
    run(qtbot, real.window.shutdown())
    try:
        run(qtbot, real.bridge.close())
    finally:
        real.window.close()
        real.window.deleteLater()


def onboard(qtbot: QtBot, real: RealApp, name: str) -> None:
    """First run: the real onboarding page creates the account and opens the chats."""
    window = real.window
    run(qtbot, window.start())
    assert window.pages.currentWidget() is window.onboarding
    page = window.onboarding
    qtbot.keyClicks(page.name, name)
    page.passphrase.setText(PASSPHRASE)
    page.repeat.setText(PASSPHRASE)
    page.submit.click()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.split, timeout=NETWORK_MS)
    qtbot.waitUntil(
        lambda: window.sidebar.footer.text == "Connected to 1 relay", timeout=NETWORK_MS
    )
    wait_key_package(qtbot, real)


def wait_key_package(qtbot: QtBot, real: RealApp) -> None:
    """Until the new account's key package is on the relay: others can invite it then."""
    key_packages = real.bridge.session().key_packages

    def published() -> bool:
        found = run(qtbot, key_packages.list_local())
        return any(k.published_at is not None for k in found)

    deadline = time.monotonic() + NETWORK_MS / 1000
    while not published():
        assert time.monotonic() < deadline, "the key package was never published"
        qtbot.wait(50)


class CliPeer:
    """Another person: ``python main.py cli`` processes over their own data folder."""

    def __init__(self, qtbot: QtBot, name: str, data_dir: Path, relay_url: str) -> None:
        self.qtbot = qtbot
        self.client = CliClient(name, data_dir, relay_url)

    @property
    def pubkey(self) -> str:
        return self.client.pubkey

    @property
    def npub(self) -> str:
        return self.client.npub

    def start(self, *args: str, sync: bool = False) -> Callable[[], dict[str, Any]]:
        """Start one command; call the result to wait for its JSON answer."""
        out = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by finish())
        err = tempfile.TemporaryFile("w+")  # noqa: SIM115
        proc = subprocess.Popen(
            self.client.argv(*args, sync=sync),
            stdout=out,
            stderr=err,
            text=True,
            env=self.client.env(),
            cwd=ROOT,
        )

        def finish() -> dict[str, Any]:
            self.qtbot.waitUntil(lambda: proc.poll() is not None, timeout=COMMAND_MS)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
            out.close()
            err.close()
            if proc.returncode != 0:
                raise CliError(args, proc.returncode, stdout, stderr)
            return dict(json.loads(stdout))

        return finish

    def run(self, *args: str, sync: bool = False) -> dict[str, Any]:
        return self.start(*args, sync=sync)()

    def create(self) -> Callable[[], None]:
        pending = self.start("account", "create", "--name", self.client.name)

        def finish() -> None:
            account = pending()["account"]
            self.client.pubkey, self.client.npub = account["pubkey"], account["npub"]

        return finish

    def until(self, probe: Callable[[], T], ok: Callable[[T], bool], timeout: float = 45) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if ok(result):
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout}s; last: {result!r}")
            self.qtbot.wait(100)

    def accept_invite(self, group_id: str) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            try:
                return self.run("invites", "accept", group_id)
            except CliError as error:
                if error.error["type"] != "NotFound":
                    raise
                return {}

        return dict(self.until(attempt, bool)["group"])

    def messages(self, group_id: str) -> list[dict[str, Any]]:
        found = self.run("messages", group_id, "--limit", "200", sync=True)["messages"]
        return list(found)

    def group(self, group_id: str) -> dict[str, Any]:
        return dict(self.run("group", "show", group_id, sync=True)["group"])
