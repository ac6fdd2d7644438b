"""Installing Burrow: the wheel ships the assets and the ``burrow`` command, the installed
app finds its assets, and ``make install-desktop`` adds a desktop entry and icon."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
SKIP = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "*.egg-info", "build", "dist", "__pycache__", ".*_cache",
    ".hypothesis", "screenshots", "tests", "bench",
)  # fmt: skip


def assets_in_repo() -> set[str]:
    shipped = (".svg", ".qss", ".woff2", ".md")
    return {f"{p.parent.name}/{p.name}" for p in ASSETS.glob("*/*") if p.suffix in shipped}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the source tree (the tree stays untouched)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=SKIP)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
         "--no-build-isolation", "--quiet", "--wheel-dir", str(base / "out")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (found,) = (base / "out").glob("burrow-*.whl")
    return found


def test_the_wheel_ships_the_assets_and_the_burrow_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = {n.removeprefix("ui/assets/") for n in names if n.startswith("ui/assets/")}
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = configparser.ConfigParser()
        scripts.read_string(archive.read(entry_points).decode())
    assert shipped == assets_in_repo()
    assert len(shipped) > 30 and "icons/burrow.svg" in shipped and "styles/dark.qss" in shipped
    assert scripts["console_scripts"]["burrow"] == "main:entry"
    assert {"main.py", "ui/bridge/__init__.py", "storage/migrations/0001_initial.sql"} <= names


def test_the_installed_app_finds_its_assets(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import ui.theme as t; "
        "print(t.ASSETS); print(len(t.icon_names())); print(t.style_sheet(t.Theme.DARK)[:40])"
    )
    env = {**os.environ, "PYTHONPATH": "", "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True, timeout=60,
    ).stdout.splitlines()  # fmt: skip
    assert Path(out[0]) == site / "ui" / "assets"  # inside the installed package
    assert int(out[1]) == len(list((ASSETS / "icons").glob("*.svg")))
    assert out[2].strip()


def test_desktop_entry_install_and_uninstall(tmp_path: Path) -> None:
    data_home = tmp_path / "share"
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    make = ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed"]
    subprocess.run([*make, "install-desktop"], env=env, check=True, capture_output=True)
    desktop = data_home / "applications" / "burrow.desktop"
    icon = data_home / "icons" / "hicolor" / "scalable" / "apps" / "burrow.svg"
    assert icon.read_bytes() == (ASSETS / "icons" / "burrow.svg").read_bytes()
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read_string(desktop.read_text())
    fields = entry["Desktop Entry"]
    assert fields["Type"] == "Application" and fields["Name"] == "Burrow"
    assert fields["Icon"] == "burrow" and fields["Terminal"] == "false"
    assert fields["Exec"] == str(ROOT / ".venv" / "bin" / "burrow")
    assert "InstantMessaging" in fields["Categories"].split(";")
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(desktop)], check=True)
    subprocess.run([*make, "uninstall-desktop"], env=env, check=True, capture_output=True)
    assert not desktop.exists() and not icon.exists()
