"""The ts-mls interop peer, installed once into a writable cache.

``../shared/interop/ts-mls/`` is read-only in CI, so it is copied to ``.cache/ts-mls/`` (ignored
by git) and ``npm install`` runs there. The install is reused while ``package.json`` is
unchanged (a stamp holds its hash). A file lock makes concurrent pytest-xdist workers (and a
benchmark started meanwhile) wait for one installer instead of racing it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from tests.vectors import shared_path

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".cache" / "ts-mls"
_STAMP = ".installed-package-json"
_NPM_TIMEOUT = 600


class TsMlsUnavailable(RuntimeError):
    """node/npm missing or the install failed; the message says which and why."""


def copy_if_changed(src: Path, dst: Path) -> None:
    data = src.read_bytes()
    if dst.exists() and dst.read_bytes() == data:
        return
    tmp = dst.with_suffix(dst.suffix + ".tmp")
    tmp.write_bytes(data)
    # Atomic: a node process of another worker never reads a half-written peer.mjs.
    tmp.replace(dst)


def _npm_install(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise TsMlsUnavailable("npm is not installed (needed for the ts-mls interop peer)")
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=_NPM_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise TsMlsUnavailable(f"npm install failed in {target}:\n{proc.stderr[-4000:]}")


def ensure_ts_mls(target: Path = CACHE_DIR) -> Path:
    """Install (or reuse) the ts-mls peer under ``target``; returns the path of ``peer.mjs``."""
    source = shared_path("interop", "ts-mls")
    package_json = (source / "package.json").read_bytes()
    digest = hashlib.sha256(package_json).hexdigest()
    target.mkdir(parents=True, exist_ok=True)
    with target.with_name(target.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stamp = target / _STAMP
            fresh = stamp.exists() and stamp.read_text() == digest
            if not (fresh and (target / "node_modules" / "ts-mls").is_dir()):
                stamp.unlink(missing_ok=True)
                (target / "package.json").write_bytes(package_json)
                _npm_install(target)
                stamp.write_text(digest)
            copy_if_changed(source / "peer.mjs", target / "peer.mjs")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target / "peer.mjs"


def ts_mls_command(target: Path = CACHE_DIR) -> list[str]:
    """The argv prefix that starts the ts-mls peer (append ``serve``)."""
    node = shutil.which("node")
    if node is None:
        raise TsMlsUnavailable("node is not installed (needed for the ts-mls interop peer)")
    return [node, os.fspath(ensure_ts_mls(target))]
