"""npm packages for test peers, installed once into ``${XDG_CACHE_HOME:-~/.cache}/burrow/
<name>-<version>/`` (shared by every worktree and xdist worker).

A file lock keeps parallel workers from installing twice; a stamp file marks a finished
install. ``script_in`` copies a Node script beside the install's ``node_modules`` (ESM
resolves packages from the script's folder upwards, and NODE_PATH does not apply to it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

INSTALL_TIMEOUT = 900


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "burrow"


def ensure_installed(
    folder: str, packages: Mapping[str, str], *, env: Mapping[str, str] | None = None
) -> Path:
    """The install folder ``cache_root()/folder`` (with node_modules), installing first."""
    target = cache_root() / folder
    stamp = target / ".installed"
    if stamp.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return target
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"the test peer in {folder} needs Node.js and npm")
        package = {"name": f"burrow-{folder}", "private": True, "type": "module"}
        package["dependencies"] = dict(packages)  # type: ignore[assignment]
        (target / "package.json").write_text(json.dumps(package, indent=2))
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target,
            env={**os.environ, **(env or {})},
            check=True,
            timeout=INSTALL_TIMEOUT,
            stdout=subprocess.DEVNULL,
        )
        stamp.write_text(json.dumps(dict(packages)))
    return target


def script_in(install: Path, source_path: Path) -> Path:
    """``source_path`` copied into ``install`` under a content-hashed name."""
    source = source_path.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:12]
    script = install / f"{source_path.stem}-{digest}{source_path.suffix}"
    if not script.exists():
        tmp = script.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(source)
        tmp.replace(script)
    return script
