"""``python -m push_server`` as a separate process for tests (file backend).

server = PushServerProcess(tmp_path, relay.url).start()   # returns once it listens
server.lines()           # the JSON objects it delivered so far
assert server.stop() == 0
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from nostr.keys import SecretKey

ROOT = Path(__file__).resolve().parents[2]


class PushServerProcess:
    def __init__(self, folder: Path, relay_url: str, *, secret: SecretKey | None = None) -> None:
        self.folder = folder
        self.relay_url = relay_url
        self.secret = secret or SecretKey.generate()
        self.log_file = folder / "pushes.jsonl"
        self.state_file = folder / "seen.jsonl"
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pubkey(self) -> str:
        return self.secret.public_key().hex

    @property
    def npub(self) -> str:
        return self.secret.public_key().to_bech32()

    def start(self) -> PushServerProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        key_file = self.folder / "server.key"
        key_file.write_text(self.secret.secret_hex())
        cmd = [sys.executable, "-m", "push_server", "--key-file", str(key_file)]
        cmd += ["--relay", self.relay_url, "--log-file", str(self.log_file)]
        cmd += ["--state-file", str(self.state_file)]
        stderr = (self.folder / "server.err").open("a")
        self._proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        stderr.close()
        assert self._proc.stdout is not None
        ready = self._proc.stdout.readline()
        if not ready.startswith(f"ready pubkey={self.pubkey}"):
            self.stop()
            raise AssertionError(f"push server did not start: {ready!r}")
        return self

    def lines(self) -> list[dict[str, Any]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def wait_lines(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll until at least ``count`` deliveries were logged."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            if len(lines) >= count:
                return lines
            time.sleep(0.05)
        raise AssertionError(f"{count} deliveries expected, got {self.lines()!r}")

    def stop(self) -> int:
        proc = self._proc
        if proc is None:
            return 0
        self._proc = None
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
