"""Drive ``python main.py cli`` as separate processes, one data folder per client.

Each client is a person (or a device) whose every command is its own process, talking
to the real relay fixture; ``--json`` output is parsed. The embedded relay is off: the
fixture serves the configured local relay address.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e passphrase"
COMMAND_TIMEOUT = 60.0
PYCACHE = Path(tempfile.gettempdir()) / "burrow-e2e-pycache"
TRANSCRIPT: deque[str] = deque(maxlen=40)
"""The last commands whose stderr was not empty (warnings of successful ones included):
the e2e conftest adds them to a failed test's report."""


class CliError(AssertionError):
    def __init__(self, args: Iterable[str], code: int, out: str, err: str) -> None:
        super().__init__(f"`{' '.join(args)}` exited {code}\nstdout: {out}\nstderr: {err[-3000:]}")
        self.code = code
        self.stdout = out
        self.stderr = err

    @property
    def error(self) -> dict[str, Any]:
        return dict(json.loads(self.stdout)["error"])


class CliClient:
    def __init__(
        self, name: str, data_dir: Path, relay_url: str, extra: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.data_dir = data_dir
        self.relay_url = relay_url
        self.extra = extra or {}
        """More environment (discovery relays, the test HTTPS server)."""
        self.pubkey = ""
        self.npub = ""

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Every command is a fresh interpreter: let them share compiled bytecode (kept
        # outside the repository) instead of compiling every module each time.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        env.update(
            BURROW_PASSPHRASE=PASSPHRASE,
            BURROW_EMBEDDED_RELAY="0",
            BURROW_LOCAL_RELAY=self.relay_url,
            BURROW_LOG="WARNING",
            BURROW_RECONNECT_MAX="1",
            BURROW_SIGNER_TIMEOUT="2",
        )
        env.update(self.extra)
        return env

    def argv(self, *args: str, sync: bool = False) -> list[str]:
        flags = ["--json", "--timeout", "10", *(["--sync"] if sync else [])]
        return [
            sys.executable,
            str(ROOT / "main.py"),
            "cli",
            "--data-dir",
            str(self.data_dir),
            *flags,
            *args,
        ]

    def run(self, *args: str, ok: bool = True, sync: bool = False) -> dict[str, Any]:
        """One command; ``sync`` catches up first (the global ``--sync`` flag)."""
        proc = subprocess.run(
            self.argv(*args, sync=sync),
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=COMMAND_TIMEOUT,
            cwd=ROOT,
            check=False,
        )
        if proc.stderr.strip():
            TRANSCRIPT.append(
                f"{self.name}: {' '.join(args)} (exit {proc.returncode})\n{proc.stderr[-2000:]}"
            )
        if ok and proc.returncode != 0:
            raise CliError(args, proc.returncode, proc.stdout, proc.stderr)
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected exactly one JSON object, got {proc.stdout!r}"
        return dict(json.loads(lines[0]))

    def fails(self, *args: str) -> dict[str, Any]:
        """Run a command that must be refused; returns its error object."""
        out = self.run(*args, ok=False)
        assert "error" in out, out
        return dict(out["error"])

    # --- the common steps ----------------------------------------------------------------

    def create(self) -> CliClient:
        account = self.run("account", "create", "--name", self.name)["account"]
        self.pubkey, self.npub = account["pubkey"], account["npub"]
        return self

    def sync(self) -> dict[str, Any]:
        return dict(self.run("sync", "--timeout", "20")["sync"])

    def groups(self) -> list[dict[str, Any]]:
        return list(self.run("group", "list")["groups"])

    def group(self, group_id: str, *, sync: bool = False) -> dict[str, Any]:
        return dict(self.run("group", "show", group_id, sync=sync)["group"])

    def messages(self, group_id: str, *, sync: bool = False) -> list[dict[str, Any]]:
        return list(self.run("messages", group_id, "--limit", "500", sync=sync)["messages"])

    def texts(self, group_id: str, *, sync: bool = False) -> list[str]:
        return [m["content"] for m in self.messages(group_id, sync=sync)]

    def accept_invite(self, group_id: str) -> dict[str, Any]:
        """Wait for the invite to ``group_id`` (catching up each time) and accept it."""
        return dict(until(lambda: self._accept(group_id), bool)["group"])

    def _accept(self, group_id: str) -> dict[str, Any]:
        try:
            return self.run("invites", "accept", group_id)
        except CliError as exc:
            if exc.error["type"] != "NotFound":
                raise
            return {}

    def wait_texts(self, group_id: str, expected: list[str]) -> list[str]:
        """Catch up until the group's chat reads exactly ``expected``."""
        return list(until(lambda: self.texts(group_id, sync=True), lambda t: t == expected))

    def listen(self, log_path: Path) -> subprocess.Popen[str]:
        """Start ``listen`` in the background, its JSON lines going to ``log_path``."""
        out = log_path.open("w")
        return subprocess.Popen(
            self.argv("listen"),
            stdout=out,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env(),
            cwd=ROOT,
        )


def stop(proc: subprocess.Popen[str], *, kill: bool = False) -> None:
    proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def until(probe: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 45.0) -> Any:
    """Call ``probe`` until ``ok(result)`` (no fixed sleeps: each probe is a process)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if ok(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s; last: {result!r}")
        time.sleep(0.1)


def parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent client commands at the same time (they are separate processes)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]
