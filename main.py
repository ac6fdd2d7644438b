"""Burrow's entry point and composition root.

python main.py [--data-dir DIR]   the desktop app (GUI)
python main.py cli COMMAND ...    the headless client (see ``python main.py cli --help``)

Before Qt starts, `ui.preflight` checks for a display and for the system libraries Qt's
platform plugin needs, and says in words what to install instead of a Qt trace.

The GUI runs asyncio on Qt's event loop (qasync): one thread for the window and the
services. Closing the window (or SIGINT/SIGTERM) stops gracefully: the outbox gets a short
flush, subscriptions and sockets close, the databases close, the embedded relay stops.
``BURROW_DATA_DIR`` (or ``--data-dir``) picks the data folder, so several instances with
their own accounts can run side by side; see the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from typing import TYPE_CHECKING

from cli import main as cli_main

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from app import AppConfig

VERSION = "0.1.0"
APP_ID = "burrow"


def run_cli(argv: list[str]) -> int:
    return cli_main(argv)


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="burrow",
        description="Burrow: private group chats. Opens the window; `burrow cli COMMAND` "
        "is the headless client (`burrow cli --help` lists its commands).",
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("BURROW_DATA_DIR"),
        help="data folder (default: $BURROW_DATA_DIR, else ~/.local/share/burrow)",
    )
    parser.add_argument("--version", action="version", version=f"Burrow {VERSION}")
    return parser


def run_gui(argv: list[str]) -> int:
    """Start the desktop app on a qasync loop; returns the exit code."""
    args, qt_args = gui_parser().parse_known_args(argv)
    from ui.preflight import problem  # noqa: PLC0415  (imports no Qt)

    trouble = problem(os.environ)
    if trouble is not None:
        sys.stderr.write(trouble + "\n")
        return 1
    # Qt, qasync and the services load only for the GUI: `main.py cli` stays light.
    import qasync  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from app import AppConfig, AppError  # noqa: PLC0415

    try:
        config = AppConfig.from_env(args.data_dir)
    except AppError as error:
        sys.stderr.write(f"burrow: {error.message}\n")
        return 2
    app = QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("Burrow")
    app.setDesktopFileName(APP_ID)
    # Closing the window starts the graceful stop; the loop keeps running until it is done.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        code: int = loop.run_until_complete(_gui(app, config))
        return code
    finally:
        loop.close()
        asyncio.set_event_loop(None)


async def _gui(app: QApplication, config: AppConfig) -> int:
    from app import Services  # noqa: PLC0415
    from ui import MainWindow  # noqa: PLC0415
    from ui.bridge import Bridge  # noqa: PLC0415

    stop = asyncio.Event()
    app.lastWindowClosed.connect(stop.set)
    app.aboutToQuit.connect(stop.set)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    bridge = Bridge(Services(config))
    try:
        await bridge.start()
        window = MainWindow(bridge)
        window.show()
        await window.start()
        await stop.wait()
        await window.shutdown()
    finally:
        await bridge.close()
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "cli":
        return run_cli(argv[1:])
    return run_gui(argv)


def entry() -> None:
    """The ``burrow`` command of an installed Burrow."""
    raise SystemExit(main(sys.argv[1:]))


if __name__ == "__main__":
    entry()
