"""The preflight before Qt: missing system libraries and no display, said in words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ui.preflight import missing_libraries, package_of, platform_of, problem

ROOT = Path(__file__).resolve().parents[2]
FAKE_LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""


def test_missing_libraries_become_one_apt_line() -> None:
    seen: list[Path] = []

    def ldd(path: Path) -> str:
        seen.append(path)
        return FAKE_LDD

    message = problem({"DISPLAY": ":0"}, ldd=ldd)
    assert message is not None
    assert seen and seen[0].name == "libqxcb.so"  # PySide6's real xcb plugin was checked
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0\n" in message
    assert "burrow cli --help" in message
    assert "Traceback" not in message


def test_nothing_missing_means_no_message() -> None:
    ok = "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"
    assert problem({"DISPLAY": ":0"}, ldd=lambda _: ok) is None
    assert problem({"QT_QPA_PLATFORM": "offscreen"}, ldd=lambda _: FAKE_LDD) is None
    assert missing_libraries("no-such-platform", ldd=lambda _: FAKE_LDD) == []


def test_debian_package_names() -> None:
    assert package_of("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert package_of("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert package_of("libxcb-render-util.so.0") == "libxcb-render-util0"
    assert package_of("libEGL.so.1") == "libegl1"


def test_the_platform_qt_will_pick() -> None:
    assert platform_of({}) == "xcb"
    assert platform_of({"WAYLAND_DISPLAY": "wayland-0"}) == "wayland"
    assert platform_of({"WAYLAND_DISPLAY": "w", "DISPLAY": ":0"}) == "xcb"
    assert platform_of({"QT_QPA_PLATFORM": "offscreen"}) == "offscreen"


def test_no_display_is_one_line_not_a_trace(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["BURROW_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("burrow: no display to open a window on")
    assert "burrow cli --help" in proc.stderr
    assert not any(tmp_path.iterdir())  # nothing started


def test_help_names_the_headless_client() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "burrow cli" in proc.stdout
