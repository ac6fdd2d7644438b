"""The shared real-relay fixtures: rust-nostr's LocalRelay in a separate process.

Registered for the whole suite from ``tests/conftest.py`` (``pytest_plugins``). Every
relay listens on 127.0.0.1 only, on a free port picked here (``.port(0)`` would make the
relay misreport its URL), and the fixture returns only once the port accepts connections.

Fixtures (function scope, stopped with SIGTERM at teardown):

``relay``
    Rate limits raised (bulk publishing is fine), no AUTH, in memory.
``auth_relay``
    NIP-42 AUTH required for reads and writes (mode BOTH) with ``auth_dm``: only the
    authenticated, ``p``-tagged recipient can read kinds 4 and 1059, and a filter without
    ``kinds`` is refused. Limits raised.
``rate_limited_relay``
    The relay's production defaults: 60 EVENT per minute and 20 open REQs per connection.
``relay_factory``
    ``relay_factory(auth=False, rate_limit="raised", persist=False)`` starts one more relay
    (any number per test); ``persist=True`` keeps events in LMDB under ``tmp_path`` so a
    killed and restarted relay still serves them.

``RelayProcess`` is the handle: ``url``, ``port``, ``start()``, ``stop()`` (SIGTERM, then
SIGKILL), ``kill()`` (SIGKILL: a crash), ``restart(kill=False)`` (same port, same data
dir), ``running``. Example::

    async def test_reconnects(relay_factory):
        relay = relay_factory(persist=True)
        pool = RelayPool()
        await pool.add_relay(relay.url)
        ...
        relay.kill()
        relay.restart()

Safe under ``pytest -n auto``: each test gets its own process and port, and a port lost to
a race with another worker is retried on a fresh one.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

RUNNER = Path(__file__).with_name("relay_runner.py")
HOST = "127.0.0.1"
START_TIMEOUT = 15.0
_PORT_ATTEMPTS = 5


def free_port() -> int:
    """A port that was free a moment ago (the OS picks it from the ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


class RelayStartError(RuntimeError):
    """The relay process exited or never served its port."""


class RelayProcess:
    """One LocalRelay process on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        *,
        auth: bool = False,
        rate_limit: str = "raised",
        data_dir: Path | None = None,
        log_path: Path | None = None,
    ) -> None:
        if rate_limit not in ("default", "raised"):
            raise ValueError("rate_limit is 'default' or 'raised'")
        self.auth = auth
        self.rate_limit = rate_limit
        self.data_dir = data_dir
        self.log_path = log_path
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the relay has not been started")
        return f"ws://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> RelayProcess:
        """Start (on the previous port if there was one) and wait until it serves."""
        if self.running:
            return self
        if self.port is not None:
            self._launch(self.port)  # restart: the same URL, clients reconnect to it
            return self
        for attempt in range(_PORT_ATTEMPTS):
            try:
                self._launch(free_port())
                return self
            except RelayStartError:
                self.port = None
                if attempt == _PORT_ATTEMPTS - 1:
                    raise
        return self

    def _command(self, port: int) -> list[str]:
        cmd = [sys.executable, str(RUNNER), "--port", str(port), "--rate-limit", self.rate_limit]
        if self.auth:
            cmd.append("--auth")
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            cmd += ["--db", str(self.data_dir)]
        return cmd

    def _launch(self, port: int) -> None:
        self.port = port
        log = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(self._command(port), stdout=log, stderr=log)
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        self._proc = proc
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                raise RelayStartError(f"relay exited with {proc.returncode} on port {port}")
            if _accepts(port):
                return
            time.sleep(0.02)
        self._terminate(signal.SIGKILL)
        raise RelayStartError(f"relay did not serve port {port} within {START_TIMEOUT}s")

    def _terminate(self, sig: signal.Signals, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        """Clean shutdown (SIGTERM), escalating to SIGKILL after 5 s."""
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        """Crash it (SIGKILL): connections drop without a close frame."""
        self._terminate(signal.SIGKILL)

    def restart(self, *, kill: bool = False) -> RelayProcess:
        """Stop (or kill) and start again on the same port and data directory."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start()

    def __enter__(self) -> RelayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


RelayFactory = Callable[..., RelayProcess]


@pytest.fixture
def relay_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayFactory]:
    started: list[RelayProcess] = []
    base = tmp_path_factory.mktemp("relays")

    def make(
        *, auth: bool = False, rate_limit: str = "raised", persist: bool = False
    ) -> RelayProcess:
        n = len(started)
        process = RelayProcess(
            auth=auth,
            rate_limit=rate_limit,
            data_dir=base / f"lmdb-{n}" if persist else None,
            log_path=base / f"relay-{n}.log",
        )
        started.append(process)
        return process.start()

    yield make
    for process in started:
        with contextlib.suppress(Exception):
            process.stop()


@pytest.fixture
def relay(relay_factory: RelayFactory) -> RelayProcess:
    return relay_factory()


@pytest.fixture
def auth_relay(relay_factory: RelayFactory) -> RelayProcess:
    return relay_factory(auth=True)


@pytest.fixture
def rate_limited_relay(relay_factory: RelayFactory) -> RelayProcess:
    return relay_factory(rate_limit="default")
