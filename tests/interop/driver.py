"""A driver for interop peers speaking ``../shared/interop/PROTOCOL.md`` (JSON lines).

``Peer.start(argv)`` spawns ``<argv> serve``; ``peer.request(op, client, **fields)`` writes one
JSON line and reads exactly one response line, raising :class:`PeerFailed` when the peer
answers ``"ok": false`` and :class:`PeerCrashed` when it dies, times out or writes something
that is not a JSON response. The peer's stderr is collected all the time (a crashed or
failing peer's last stderr lines are part of the error message). ``PeerClient`` wraps one
named client of a peer with a method per operation; bytes in and out are ``bytes``.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
from collections import deque
from collections.abc import Sequence
from typing import IO, Any

DEFAULT_TIMEOUT = 120.0


class PeerError(Exception):
    """Base of the driver's errors."""


class PeerFailed(PeerError):
    """The peer answered ``"ok": false``; its state is unchanged (PROTOCOL.md)."""

    def __init__(self, peer: str, op: str, error: str) -> None:
        super().__init__(f"{peer}: {op} failed: {error}")
        self.op = op
        self.error = error


class PeerCrashed(PeerError):
    """The peer died, timed out, or broke the protocol."""


class Peer:
    """One peer process, serving any number of named clients."""

    def __init__(self, proc: subprocess.Popen[bytes], name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        self._proc = proc
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=200)
        self._next_id = 0
        self._broken = False  # after a crash or timeout: no quit handshake, just stop it
        assert proc.stdout is not None and proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump_stdout, args=(proc.stdout,), daemon=True),
            threading.Thread(target=self._pump_stderr, args=(proc.stderr,), daemon=True),
        ]
        for t in self._readers:
            t.start()

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        name: str = "peer",
        timeout: float = DEFAULT_TIMEOUT,
        cwd: str | None = None,
    ) -> Peer:
        proc = subprocess.Popen(
            [*argv, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
        )
        return cls(proc, name, timeout)

    def _pump_stdout(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            self._lines.put(line)
        self._lines.put(b"")  # EOF marker

    def _pump_stderr(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            self._stderr.append(line.decode(errors="replace").rstrip())

    def stderr_tail(self, lines: int = 30) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    def _crash(self, why: str) -> PeerCrashed:
        self._broken = True
        return PeerCrashed(f"{self.name}: {why}\n--- stderr ---\n{self.stderr_tail()}")

    def call(self, request: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send one request; return the raw response (``ok`` may be false)."""
        self._next_id += 1
        request = {**request, "id": self._next_id}
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except OSError as exc:
            raise self._crash(f"cannot write request ({exc})") from exc
        try:
            line = self._lines.get(timeout=self.timeout if timeout is None else timeout)
        except queue.Empty:
            raise self._crash(f"no answer to {request['op']} within the timeout") from None
        if not line:
            raise self._crash(f"exited (code {self._proc.wait()}) during {request['op']}")
        try:
            response: dict[str, Any] = json.loads(line)
        except ValueError:
            raise self._crash(f"non-JSON line on stdout: {line[:200]!r}") from None
        if not isinstance(response, dict) or response.get("id") != self._next_id:
            raise self._crash(f"response out of order: {str(response)[:200]}")
        return response

    def request(self, op: str, client: str, **fields: Any) -> dict[str, Any]:
        """Send ``op`` for ``client``; return the response's fields (without ``ok`` and
        ``id``) or raise :class:`PeerFailed`."""
        response = self.call({"op": op, "client": client, **fields})
        if response.pop("ok", None) is not True:
            raise PeerFailed(self.name, op, str(response.get("error")))
        del response["id"]
        return response

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def usable(self) -> bool:
        """Running and never crashed or timed out (a late answer would be misread)."""
        return self.alive and not self._broken

    def wait(self, timeout: float) -> int:
        """Wait for the peer to exit; its exit code."""
        return self._proc.wait(timeout)

    def close(self) -> None:
        """Send quit and close stdin (EOF ends a peer too); kill a peer that hangs."""
        stdin = self._proc.stdin
        assert stdin is not None
        with contextlib.suppress(OSError):
            if self.usable:  # the answer is not read: ts-mls does not echo the id of quit
                stdin.write(b'{"op": "quit", "client": "-"}\n')
            stdin.close()
        try:
            self._proc.wait(timeout=0.1 if self._broken else 5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for reader in self._readers:  # they end at EOF, now that the process is gone
            reader.join(timeout=5)
        for pipe in (self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PeerClient:
    """One named client (identity, suite) on a peer; one method per protocol operation."""

    def __init__(self, peer: Peer, name: str, suite: int = 1) -> None:
        self.peer = peer
        self.name = name
        self.suite = suite

    def __repr__(self) -> str:
        return f"PeerClient({self.peer.name}:{self.name}, suite={self.suite})"

    def _req(self, op: str, **fields: Any) -> dict[str, Any]:
        return self.peer.request(op, self.name, suite=self.suite, **fields)

    def key_package(self) -> bytes:
        return bytes.fromhex(self._req("key_package")["key_package"])

    def create_group(self, group_id: bytes | None = None) -> dict[str, Any]:
        fields = {} if group_id is None else {"group_id": group_id.hex()}
        return self._req("create_group", **fields)

    def _commit(self, op: str, **fields: Any) -> dict[str, Any]:
        resp = self._req(op, **fields)
        for key in ("commit", "welcome", "ratchet_tree"):
            if resp.get(key):
                resp[key] = bytes.fromhex(resp[key])
        return resp

    def add(
        self, key_packages: Sequence[bytes], *, tree_ext: bool = True, public: bool = False
    ) -> dict[str, Any]:
        kps = [kp.hex() for kp in key_packages]
        return self._commit(
            "add", key_packages=kps, ratchet_tree_extension=tree_ext, public_message=public
        )

    def commit(self, *, tree_ext: bool = True, public: bool = False) -> dict[str, Any]:
        return self._commit("commit", ratchet_tree_extension=tree_ext, public_message=public)

    def remove(self, leaves: Sequence[int], *, public: bool = False) -> dict[str, Any]:
        return self._commit("remove", remove_leaves=list(leaves), public_message=public)

    def join(self, welcome: bytes, ratchet_tree: bytes | None = None) -> dict[str, Any]:
        fields = {"welcome": welcome.hex()}
        if ratchet_tree is not None:
            fields["ratchet_tree"] = ratchet_tree.hex()
        return self._req("join", **fields)

    def encrypt(self, plaintext: bytes, authenticated_data: bytes = b"") -> bytes:
        fields = {"plaintext": plaintext.hex()}
        if authenticated_data:
            fields["authenticated_data"] = authenticated_data.hex()
        return bytes.fromhex(self._req("encrypt", **fields)["message"])

    def process(self, message: bytes) -> dict[str, Any]:
        resp = self._req("process", message=message.hex())
        if "plaintext" in resp:
            resp["plaintext"] = bytes.fromhex(resp["plaintext"])
        return resp

    def export(self, label: str, context: bytes, length: int) -> bytes:
        resp = self._req("export", label=label, context=context.hex(), length=length)
        return bytes.fromhex(resp["secret"])

    def group_info(self) -> bytes:
        return bytes.fromhex(self._req("group_info")["group_info"])

    def info(self) -> dict[str, Any]:
        return self._req("info")
