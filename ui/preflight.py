"""Before Qt starts: is there a display, and can Qt's platform plugin load on it?

A fresh Debian/Ubuntu desktop lacks some of the libraries PySide6's xcb plugin links to, and
Qt then aborts with a trace that names the wrong ones. `problem` finds the missing ones with
``ldd`` and says which packages to install, in one ``sudo apt install`` line. No Qt import.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

Ldd = Callable[[Path], str]

CLI_HINT = "or use Burrow without a window: `burrow cli --help` (or make run ARGS='cli --help')"
_DEBIAN = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
}
_SONAME = re.compile(r"^\s*(\S+\.so[.\d]*) => not found", re.M)


def package_of(soname: str) -> str:
    """The Debian package that ships ``soname`` (Debian names a library package after the
    soname: libxcb-icccm.so.4 → libxcb-icccm4, libxkbcommon-x11.so.0 → libxkbcommon-x11-0)."""
    if soname in _DEBIAN:
        return _DEBIAN[soname]
    name, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    name = name.lower()
    return f"{name}-{version}" if name[-1:].isdigit() else f"{name}{version}"


def platform_of(env: Mapping[str, str]) -> str:
    """The platform plugin Qt will pick: QT_QPA_PLATFORM, else wayland or xcb by session."""
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    return "wayland" if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY") else "xcb"


def run_ldd(library: Path) -> str:
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""  # no ldd: let Qt try
    try:
        done = subprocess.run(  # noqa: S603  (our own plugin path)
            [ldd, str(library)], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""  # no ldd: let Qt try
    return done.stdout


def plugin_path(platform: str) -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "Qt" / "plugins" / "platforms" / f"libq{platform}.so"
    return path if path.is_file() else None


def missing_libraries(platform: str, ldd: Ldd = run_ldd) -> list[str]:
    plugin = plugin_path(platform)
    if plugin is None:
        return []
    return sorted(set(_SONAME.findall(ldd(plugin))))


def problem(env: Mapping[str, str], ldd: Ldd = run_ldd) -> str | None:
    """What stops the window from opening, for a person (None when nothing seems to)."""
    platform = platform_of(env)
    if platform in ("xcb", "wayland") and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "burrow: no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset); "
            f"start it from a desktop session, {CLI_HINT}"
        )
    missing = missing_libraries(platform, ldd) if platform in ("xcb", "wayland") else []
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(package_of(s) for s in missing))
    return (
        f"burrow: the window needs system libraries that are missing: {', '.join(missing)}\n"
        f"On Debian or Ubuntu install them with:\n\n    sudo apt install {packages}\n\n"
        f"{CLI_HINT[0].upper()}{CLI_HINT[1:]}"
    )
