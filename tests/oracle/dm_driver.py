"""Drive Dark Matter users: one ``dmd`` daemon per user, commanded through ``dm --json``.

Each :class:`DmUser` owns a ``DM_HOME`` under the test's ``tmp_path`` (file secret store, never
the keychain) and its own daemon on a private unix socket (in a short temporary folder: socket
paths are limited to 107 bytes and ``tmp_path`` can be longer). The daemon's discovery and
account relays are exactly the URLs given (the test's relay on 127.0.0.1); the oracle has no
built-in relay, so nothing else is dialled. Every command returns the ``result`` of dm's stable
JSON envelope or raises :class:`DmError` with its ``error.code``.

::

    bob = await DmUser.start(binaries, tmp_path / "bob", [relay.url])
    account = await bob.create_identity()      # publishes relay lists and a KeyPackage
    made = await bob.create_group("name", [alice_hex])
    await bob.send(made["group_id"], "hello")
    await bob.close()                          # SIGTERM, then SIGKILL; always awaited
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from nostr.keys import PublicKey
from tests.helpers.app_clients import eventually

T = TypeVar("T")
START_TIMEOUT = 20.0
COMMAND_TIMEOUT = 60.0


_LIVE: set[int] = set()  # daemon process groups not yet stopped


@atexit.register
def _kill_leftovers() -> None:
    """A test run that dies mid-test must not leave daemons behind (they have their own
    session, so nothing else would stop them)."""
    for pgid in list(_LIVE):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


class DmError(RuntimeError):
    """A ``dm`` command answered ``ok: false`` (or did not answer JSON)."""

    def __init__(self, args: Sequence[str], code: str, message: str) -> None:
        super().__init__(f"dm {' '.join(args)}: {code}: {message}")
        self.code = code
        self.message = message


class DmUser:
    """One Dark Matter user: a home, a daemon and (after identity setup) one account."""

    def __init__(self, binaries: Path, home: Path, relays: Sequence[str]) -> None:
        self.binaries = binaries
        self.home = home
        self.relays = list(relays)
        self._sockdir = Path(tempfile.mkdtemp(prefix="dmd-"))
        self.socket = self._sockdir / "dmd.sock"
        self.log_path = home / "dmd.out"
        self.account: str | None = None
        self._proc: asyncio.subprocess.Process | None = None

    @classmethod
    async def start(cls, binaries: Path, home: Path, relays: Sequence[str]) -> DmUser:
        user = cls(binaries, home, relays)
        try:
            await user._start_daemon()
        except BaseException:
            await user.close()
            raise
        return user

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DM_")}
        env.update(
            DM_HOME=str(self.home),
            DM_SOCKET=str(self.socket),
            DM_SECRET_STORE="file",
            # Dev/test knob of the oracle: converge at once instead of after 1000 ms of quiet.
            DM_DEV_SETTLEMENT_QUIESCENCE_MS="0",
        )
        return env

    async def _start_daemon(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        relays = ",".join(self.relays)
        with self.log_path.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                str(self.binaries / "dmd"),
                "--home",
                str(self.home),
                "--socket",
                str(self.socket),
                "--secret-store",
                "file",
                "--discovery-relays",
                relays,
                "--default-account-relays",
                relays,
                env=self._env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        _LIVE.add(self._proc.pid)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.returncode is not None:
                raise RuntimeError(f"dmd exited ({self._proc.returncode}): {self.log_tail()}")
            with contextlib.suppress(DmError):
                status = await self.run("daemon", "status", account=False)
                if status.get("running") is True:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"dmd did not serve {self.socket}: {self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    async def run(
        self, *args: str, account: bool = True, stdin: str | None = None
    ) -> dict[str, Any]:
        """``dm --json [--account A] args...``; the envelope's ``result``."""
        argv = ["--home", str(self.home), "--socket", str(self.socket), "--json"]
        if account and self.account is not None:
            argv += ["--account", self.account]
        argv += list(args)
        proc = await asyncio.create_subprocess_exec(
            str(self.binaries / "dm"),
            *argv,
            env=self._env(),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(None if stdin is None else stdin.encode()), COMMAND_TIMEOUT
            )
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DmError(args, "timeout", f"no answer in {COMMAND_TIMEOUT} s") from None
        try:
            envelope = json.loads(out)
        except json.JSONDecodeError:
            text = (out + err).decode(errors="replace")[-2000:]
            raise DmError(args, "no_json", f"exit {proc.returncode}: {text}") from None
        if not envelope.get("ok"):
            error = envelope.get("error") or {}
            raise DmError(args, str(error.get("code")), str(error.get("message")))
        result: dict[str, Any] = envelope.get("result") or {}
        return result

    @property
    def npub(self) -> str:
        assert self.account is not None
        return PublicKey(bytes.fromhex(self.account)).to_bech32()

    # -- identity and key packages

    async def create_identity(self) -> str:
        """A fresh account; the daemon publishes its relay lists and a KeyPackage."""
        made = await self.run("create-identity", account=False)
        self.account = str(made["account_id"])
        return self.account

    async def login(self, nsec: str) -> str:
        """Import a secret key (over stdin, never argv); same publishing as create_identity."""
        made = await self.run("login", "--nsec-stdin", account=False, stdin=nsec + "\n")
        self.account = str(made["account_id"])
        return self.account

    async def publish_key_package(self) -> dict[str, Any]:
        return await self.run("keys", "rotate")

    async def key_packages(self) -> dict[str, Any]:
        return await self.run("keys", "list")

    # -- groups and chats

    async def create_group(
        self, name: str, members: Sequence[str], description: str | None = None
    ) -> dict[str, Any]:
        extra = ["--description", description] if description is not None else []
        return await self.run("groups", "create", name, *members, *extra)

    async def chats(self) -> list[dict[str, Any]]:
        listed = await self.run("chats", "list")
        return list(listed.get("chats") or [])

    async def group(self, group_id: str) -> dict[str, Any]:
        return await self.run("groups", "show", group_id)

    async def name(self, group_id: str) -> str:
        shown = await self.group(group_id)
        return str(shown["group"]["profile"]["name"])

    async def members(self, group_id: str) -> list[str]:
        listed = await self.run("groups", "members", group_id)
        return sorted(str(m["member_id"]) for m in listed.get("members") or [])

    async def add(self, group_id: str, members: Sequence[str]) -> dict[str, Any]:
        return await self.run("groups", "add-members", group_id, *members)

    async def remove(self, group_id: str, members: Sequence[str]) -> dict[str, Any]:
        return await self.run("groups", "remove-members", group_id, *members)

    async def rename(self, group_id: str, name: str) -> dict[str, Any]:
        return await self.run("groups", "rename", group_id, name)

    async def leave(self, group_id: str) -> dict[str, Any]:
        return await self.run("groups", "leave", group_id)

    # -- messages

    async def send(self, group_id: str, text: str) -> dict[str, Any]:
        return await self.run("messages", "send", "--group", group_id, text)

    async def messages(self, group_id: str, limit: int = 100) -> list[dict[str, Any]]:
        listed = await self.run("messages", "list", group_id, "--limit", str(limit))
        return list(listed.get("messages") or [])

    async def texts(self, group_id: str) -> list[tuple[str, str]]:
        """(sender hex, plaintext) of the group's chat messages, oldest first."""
        return [
            (str(m["from"]), str(m["plaintext"]))
            for m in await self.messages(group_id)
            if m.get("kind", 9) == 9
        ]

    async def sync(self) -> dict[str, Any]:
        return await self.run("sync")

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        if proc is not None:
            _LIVE.discard(proc.pid)
        shutil.rmtree(self._sockdir, ignore_errors=True)


async def poll(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    timeout: float = 20.0,
    interval: float = 0.15,
) -> T:
    """``eventually`` at a gentler pace: every ``dm`` probe is a process and a daemon
    round trip, and two cores are shared."""
    return await eventually(probe, ok, timeout, interval)
