"""Start and drive ``tests/oracle/mdk_peer.py`` (MDK, in its own venv) over JSON lines."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from tests.oracle.mdk_install import ensure_mdk

PEER = Path(__file__).with_name("mdk_peer.py")


class MdkError(AssertionError):
    """The peer answered ``ok: false``."""


class MdkPeer:
    """One peer process; it holds any number of MDK users (each with its own relay client)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.lock = asyncio.Lock()

    @classmethod
    async def start(cls) -> MdkPeer:
        argv = [*ensure_mdk(), os.fspath(PEER)]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**24
        )
        return cls(proc)

    async def call(self, cmd: str, user: str = "", timeout: float = 60.0, **args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        async with self.lock:
            self.next_id += 1
            line = json.dumps({"id": self.next_id, "cmd": cmd, "user": user, **args}) + "\n"
            self.proc.stdin.write(line.encode())
            await self.proc.stdin.drain()
            answer = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), timeout))
        if not answer["ok"]:
            raise MdkError(f"mdk {cmd}: {answer['error']}")
        return answer["result"]

    async def close(self) -> None:
        if self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class MdkUser:
    """A White Noise user on ``relay``, its calls bound to one peer."""

    def __init__(self, peer: MdkPeer, name: str, pubkey: str, npub: str) -> None:
        self.peer, self.name, self.pubkey, self.npub = peer, name, pubkey, npub

    @classmethod
    async def create(cls, peer: MdkPeer, name: str, relay: str) -> MdkUser:
        made = await peer.call("new_user", name, relay=relay)
        return cls(peer, name, made["pubkey"], made["npub"])

    async def __call__(self, cmd: str, **args: Any) -> Any:
        return await self.peer.call(cmd, self.name, **args)
