"""The MDK oracle (mdk-python 0.8.0, White Noise's protocol library), installed from nothing.

Everything lives in ``${XDG_CACHE_HOME:-~/.cache}/burrow/mdk-0.8.0/`` so worktrees and CI
reuse it: a venv of its own with ``mdk-python`` and ``nostr-sdk`` (the peer's Nostr side),
and, where the system glibc is older than the 2.39 the wheel's native library needs
(Debian 12 has 2.36), the ``libc6`` and ``libgcc-s1`` packages of Debian 13 fetched with
apt-get into a private sources list, lists and archive cache, unpacked with ``dpkg-deb -x``.
The peer then runs under that newer loader; nothing else does. The mirror is the one this
machine's apt already uses for Debian (read from its sources), only the suite changes.

A file lock makes concurrent pytest-xdist workers wait for one installer; a stamp makes the
next run a no-op. ``python -m tests.oracle.mdk_install`` installs and prints the command.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MDK_VERSION = "0.8.0"
NOSTR_SDK_VERSION = "0.45.1"
NEEDED_GLIBC = (2, 39)
NEWER_SUITE = "trixie"
NEWER_PACKAGES = ("libc6", "libgcc-s1")
_STAMP = ".installed"
_STAMP_TEXT = f"mdk-python=={MDK_VERSION} nostr-sdk=={NOSTR_SDK_VERSION} glibc-v1\n"
_TIMEOUT = 900
LOADER = "ld-linux-x86-64.so.2"
SYSTEM_LIBS = "/lib/x86_64-linux-gnu"


class MdkUnavailable(RuntimeError):
    """The oracle could not be installed; the message says which step failed and why."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "burrow" / f"mdk-{MDK_VERSION}"


def _run(argv: list[str], what: str, **kwargs: object) -> str:
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False, **kwargs
        )  # type: ignore[call-overload]
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MdkUnavailable(f"{what}: {exc}") from exc
    if proc.returncode != 0:
        raise MdkUnavailable(f"{what} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return str(proc.stdout)


def system_glibc() -> tuple[int, int]:
    text = os.confstr("CS_GNU_LIBC_VERSION") or "glibc 0.0"
    major, minor = text.split()[-1].split(".")[:2]
    return int(major), int(minor)


def debian_mirror() -> tuple[str, str]:
    """(URI, Signed-By keyring) of the Debian archive this machine's apt uses."""
    sources = Path("/etc/apt")
    files = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = {
                    k.strip(): v.strip()
                    for k, _, v in (
                        line.partition(":") for line in stanza.splitlines() if ":" in line
                    )
                    if not k.startswith("#")
                }
                suites = fields.get("Suites", "").split()
                uris = fields.get("URIs", "").split()
                if uris and suites and not any(s.endswith("-security") for s in suites):
                    keyring = fields.get(
                        "Signed-By", "/usr/share/keyrings/debian-archive-keyring.gpg"
                    )
                    if "/debian" in uris[0]:
                        return uris[0], keyring
        else:
            for line in text.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb":
                    uri = next(p for p in parts[1:] if not p.startswith("["))
                    if "/debian" in uri and "security" not in uri:
                        return uri, "/usr/share/keyrings/debian-archive-keyring.gpg"
    raise MdkUnavailable("no Debian archive found in /etc/apt sources")


def _fetch_newer_glibc(root: Path) -> Path:
    """Debian 13's loader and libc unpacked under ``root``; returns the library folder."""
    uri, keyring = debian_mirror()
    apt = root / "apt"
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    source_list = apt / f"{NEWER_SUITE}.sources"
    source_list.write_text(
        f"Types: deb\nURIs: {uri}\nSuites: {NEWER_SUITE}\nComponents: main\nSigned-By: {keyring}\n"
    )
    options = [
        f"-oDir::Etc::SourceList={source_list}",
        "-oDir::Etc::SourceParts=/nonexistent",
        f"-oDir::State::Lists={apt / 'lists'}",
        f"-oDir::Cache={apt / 'cache'}",
        "-oDebug::NoLocking=1",
        "-oAPT::Sandbox::User=root",
        "-oAcquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
        "-oAcquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
        "-oAcquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
        "-oAcquire::Languages=none",
    ]
    _run(["apt-get", *options, "update"], f"apt-get update ({NEWER_SUITE})")
    debs = apt / "debs"
    for old in debs.glob("*.deb"):
        old.unlink()
    _run(["apt-get", *options, "download", *NEWER_PACKAGES], "apt-get download", cwd=debs)
    unpacked = root / "glibc"
    shutil.rmtree(unpacked, ignore_errors=True)
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(unpacked)], f"dpkg-deb -x {deb.name}")
    lib = unpacked / "usr" / "lib" / "x86_64-linux-gnu"
    if not (lib / LOADER).exists():
        raise MdkUnavailable(f"{LOADER} missing after unpacking {NEWER_PACKAGES}")
    return lib


def _venv_python(root: Path) -> Path:
    return root / "venv" / "bin" / "python"


def _glibc_dir(root: Path) -> Path:
    return root / "glibc" / "usr" / "lib" / "x86_64-linux-gnu"


def python_command(root: Path | None = None) -> list[str]:
    """The argv prefix that runs the oracle's Python (under the newer loader if needed)."""
    root = root or cache_dir()
    python = str(_venv_python(root))
    if system_glibc() >= NEEDED_GLIBC:
        return [python]
    lib = _glibc_dir(root)
    return [str(lib / LOADER), "--library-path", f"{lib}:{SYSTEM_LIBS}", python]


def _install(root: Path) -> None:
    python = _venv_python(root)
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(root / "venv")], "python -m venv")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"mdk-python=={MDK_VERSION}",
            f"nostr-sdk=={NOSTR_SDK_VERSION}",
        ],
        "pip install mdk-python",
    )
    if system_glibc() < NEEDED_GLIBC:
        _fetch_newer_glibc(root)
    check = "import mdk, nostr_sdk; print(mdk.__version__)"
    out = _run([*python_command(root), "-c", check], "importing mdk")
    if out.strip() != MDK_VERSION:
        raise MdkUnavailable(f"mdk reports version {out.strip()!r}, expected {MDK_VERSION}")


def ensure_mdk(root: Path | None = None) -> list[str]:
    """Install (or reuse) the oracle; returns the argv prefix that runs its Python."""
    root = root or cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{root.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stamp = root / _STAMP
            if not (stamp.exists() and stamp.read_text() == _STAMP_TEXT):
                stamp.unlink(missing_ok=True)
                _install(root)
                stamp.write_text(_STAMP_TEXT)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return python_command(root)


if __name__ == "__main__":
    print(" ".join(ensure_mdk()))
