"""A real Blossom server for tests: ``tests/helpers/blossom/server.mjs`` on Node, over the
npm ``blossom-server-sdk`` (blob storage + SQLite metadata) and ``@noble/curves``.

The npm packages are installed once into ``${XDG_CACHE_HOME:-~/.cache}/burrow/
blossom-server-sdk-<version>/`` (a file lock keeps parallel xdist workers from installing
twice; a stamp file marks a finished install). ``better-sqlite3`` builds from source against
the system's Node headers when no prebuilt binary can be fetched.

Fixtures: ``blossom_server`` (one server, function scope) and ``blossom_factory`` (any
number). ``BlossomProcess``: ``url``, ``blob_dir``, ``start()``, ``stop()``, ``kill()``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import npm_cache
from tests.helpers.npm_cache import cache_root

SERVER = Path(__file__).with_name("blossom") / "server.mjs"
SDK_VERSION = "0.4.0"
PACKAGES = {"blossom-server-sdk": SDK_VERSION, "@noble/curves": "1.9.7"}
START_TIMEOUT = 20.0


def cache_dir() -> Path:
    return cache_root() / f"blossom-server-sdk-{SDK_VERSION}"


def ensure_installed() -> Path:
    """The install folder (with node_modules), installing it first if needed."""
    env = {}
    if Path("/usr/include/node/node.h").exists() and "npm_config_nodedir" not in os.environ:
        env["npm_config_nodedir"] = "/usr"  # build better-sqlite3 offline
    return npm_cache.ensure_installed(cache_dir().name, PACKAGES, env=env)


def _script(install: Path) -> Path:
    return npm_cache.script_in(install, SERVER)


class BlossomProcess:
    def __init__(self, data_dir: Path, *, max_size: int | None = None) -> None:
        self.data_dir = data_dir
        self.max_size = max_size
        self.port: int | None = None
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the Blossom server has not been started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def start(self) -> BlossomProcess:
        if self._proc is not None and self._proc.poll() is None:
            return self
        script = _script(ensure_installed())
        cmd = ["node", str(script), "--port", str(self.port or 0), "--dir", str(self.data_dir)]
        if self.max_size is not None:
            cmd += ["--max-size", str(self.max_size)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until READY (or the process died)
        if not line.startswith("READY "):
            proc.kill()
            raise RuntimeError(f"Blossom server did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        self._proc = proc
        return self

    def _terminate(self, sig: signal.Signals) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        self._terminate(signal.SIGKILL)


BlossomFactory = Callable[..., BlossomProcess]


@pytest.fixture
def blossom_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlossomFactory]:
    started: list[BlossomProcess] = []
    base = tmp_path_factory.mktemp("blossom")

    def make(*, max_size: int | None = None) -> BlossomProcess:
        process = BlossomProcess(base / f"server-{len(started)}", max_size=max_size)
        started.append(process)
        return process.start()

    yield make
    for process in started:
        with contextlib.suppress(Exception):
            process.stop()


@pytest.fixture
def blossom_server(blossom_factory: BlossomFactory) -> BlossomProcess:
    return blossom_factory()
