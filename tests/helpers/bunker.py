"""A real NIP-46 remote signer for tests: ``tests/helpers/bunker/bunker.mjs`` on Node, over
NDK's ``NDKNip46Backend`` (npm ``@nostr-dev-kit/ndk``) and ``ws``, installed once into
``${XDG_CACHE_HOME:-~/.cache}/burrow/ndk-bunker-<version>/`` (``tests.helpers.npm_cache``).

``BunkerProcess(relay_url, key)``: ``start()`` (returns once it listens), ``uri`` (its
``bunker://`` string), ``requests`` (every method it handled, in order), ``approve()``
(answers an ``approval`` policy's auth_url challenge), ``stop()``, ``restart()``.
Fixture: ``bunker_factory``.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nostr.keys import SecretKey
from tests.helpers import npm_cache

SCRIPT = Path(__file__).with_name("bunker") / "bunker.mjs"
NDK_VERSION = "3.0.3"
PACKAGES = {"@nostr-dev-kit/ndk": NDK_VERSION, "ws": "8.18.3"}


def ensure_installed() -> Path:
    return npm_cache.ensure_installed(f"ndk-bunker-{NDK_VERSION}", PACKAGES)


class BunkerProcess:
    def __init__(
        self,
        relay_url: str,
        key: SecretKey,
        *,
        secret: str | None = None,
        policy: str = "allow",
        delay_ms: int = 0,
        offer: str | None = None,
    ) -> None:
        self.relay_url = relay_url
        self.key = key
        self.secret = secret
        self.policy = policy
        self.delay_ms = delay_ms
        self.offer = offer
        self.uri = ""
        self.requests: list[str] = []
        """Every request the signer handled (across restarts), by method."""
        self.signed_kinds: list[int] = []
        """The kind of every event it signed, in order."""
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def _command(self, script: Path) -> list[str]:
        cmd = ["node", str(script), "--relay", self.relay_url, "--key", self.key.secret_hex()]
        cmd += ["--policy", self.policy, "--delay-ms", str(self.delay_ms)]
        if self.secret:
            cmd += ["--secret", self.secret]
        if self.offer:
            cmd += ["--offer", self.offer]
        return cmd

    def start(self) -> BunkerProcess:
        if self._proc is not None and self._proc.poll() is None:
            return self
        script = npm_cache.script_in(ensure_installed(), SCRIPT)
        proc = subprocess.Popen(
            self._command(script),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        # Blocks until READY (or the process died). A restarted bunker may log a request
        # the relay kept for it before it says READY: count that one too.
        line = proc.stdout.readline()
        while line.startswith("REQ "):
            self._note(line)
            line = proc.stdout.readline()
        if not line.startswith("READY "):
            proc.kill()
            raise RuntimeError(f"the NDK bunker did not start: {line!r}")
        self.uri = line.split(" ", 1)[1].strip()
        self._proc = proc
        self._reader = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._reader.start()
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._note(line)

    def _note(self, line: str) -> None:
        words = line.split()
        if len(words) >= 2 and words[0] == "REQ":
            self.requests.append(words[1])
            if words[1] == "sign_event" and len(words) > 2 and words[2].isdigit():
                self.signed_kinds.append(int(words[2]))

    def count(self, method: str) -> int:
        return self.requests.count(method)

    def approve(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write("approve\n")
        self._proc.stdin.flush()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(2)

    def restart(self) -> BunkerProcess:
        self.stop()
        self.offer = None  # an offer is taken up once
        return self.start()


BunkerFactory = Callable[..., BunkerProcess]


@pytest.fixture
def bunker_factory() -> Iterator[BunkerFactory]:
    started: list[BunkerProcess] = []

    def make(relay_url: str, key: SecretKey | None = None, **kwargs: object) -> BunkerProcess:
        process = BunkerProcess(relay_url, key or SecretKey.generate(), **kwargs)  # type: ignore[arg-type]
        started.append(process)
        return process.start()

    yield make
    for process in started:
        with contextlib.suppress(Exception):
            process.stop()
