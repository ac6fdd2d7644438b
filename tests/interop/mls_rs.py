"""The mls-rs interop peer (``tests/interop/mls_rs_peer/``), built once into the shared cache.

The crate is copied to ``${XDG_CACHE_HOME:-~/.cache}/burrow/mls-rs-<version>/src/`` and built
there with ``cargo build --release --locked`` (its ``CARGO_TARGET_DIR`` beside it), so no
build output lands in the clone and every worktree and CI run reuses one binary. A stamp
holds the hash of the crate's sources: the build is redone only when they change (cargo
then rebuilds just the peer, not its dependencies). A file lock makes concurrent pytest-xdist
workers (and a benchmark started meanwhile) wait for one builder instead of racing it.
``python -m tests.interop.mls_rs`` builds and prints the binary's path.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

MLS_RS_VERSION = "0.57.0"
CRATE = Path(__file__).with_name("mls_rs_peer")
BINARY = "mls-rs-peer"
_STAMP = ".built"
_BUILD_TIMEOUT = 1800


class MlsRsUnavailable(RuntimeError):
    """cargo missing or the build failed; the message says which and why."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "burrow" / f"mls-rs-{MLS_RS_VERSION}"


def _sources() -> list[Path]:
    files = [CRATE / "Cargo.toml", CRATE / "Cargo.lock", *sorted((CRATE / "src").glob("*.rs"))]
    return [f for f in files if f.is_file()]


def _digest() -> str:
    h = hashlib.sha256()
    for f in _sources():
        h.update(f.relative_to(CRATE).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _copy_sources(dst: Path) -> None:
    shutil.rmtree(dst / "src", ignore_errors=True)
    (dst / "src").mkdir(parents=True)
    for f in _sources():
        shutil.copyfile(f, dst / f.relative_to(CRATE))


def _cargo_build(root: Path) -> None:
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists():
        raise MlsRsUnavailable("cargo is not installed (needed for the mls-rs interop peer)")
    env = {**os.environ, "CARGO_TARGET_DIR": str(root / "target")}
    # One job at the lowest priority: the machine is small and shared (tests run meanwhile);
    # the build is a one-off per cache.
    nice = shutil.which("nice")
    argv = [*([nice, "-n", "19"] if nice else []), cargo, "build", "--release", "--locked"]
    argv += ["--quiet", "-j1"]
    try:
        proc = subprocess.run(
            argv,
            cwd=root / "crate",
            env=env,
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MlsRsUnavailable(f"cargo build of the mls-rs peer: {exc}") from exc
    if proc.returncode != 0:
        raise MlsRsUnavailable(f"cargo build of the mls-rs peer failed:\n{proc.stderr[-4000:]}")


def ensure_mls_rs(root: Path | None = None) -> Path:
    """Build (or reuse) the mls-rs peer; returns the path of its binary."""
    root = root or cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    binary = root / "target" / "release" / BINARY
    digest = _digest()
    with (root.parent / f"{root.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stamp = root / _STAMP
            if not (stamp.exists() and stamp.read_text() == digest and binary.exists()):
                stamp.unlink(missing_ok=True)
                _copy_sources(root / "crate")
                _cargo_build(root)
                if not binary.exists():
                    raise MlsRsUnavailable(f"cargo build left no {binary}")
                stamp.write_text(digest)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return binary


def mls_rs_command(root: Path | None = None) -> list[str]:
    """The argv prefix that starts the mls-rs peer (append ``serve`` or ``bench ...``)."""
    return [os.fspath(ensure_mls_rs(root))]


if __name__ == "__main__":
    print(ensure_mls_rs())
