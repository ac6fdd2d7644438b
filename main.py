"""Burrow's entry point and composition root.

python main.py                 the desktop app (GUI)
python main.py cli COMMAND ... the headless client (see ``python main.py cli --help``)
"""

from __future__ import annotations

import sys

from cli import main as cli_main

VERSION = "0.1.0"


def run_cli(argv: list[str]) -> int:
    return cli_main(argv)


def run_gui(argv: list[str]) -> int:
    """Start the desktop app. Hook for the GUI front end (issue 8): build the
    QApplication and qasync loop here, hand it ``app.Services`` and the main window."""
    print(
        f"Burrow {VERSION}: the desktop window is not wired in yet; try `python main.py cli --help`"
    )
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "cli":
        return run_cli(argv[1:])
    return run_gui(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
