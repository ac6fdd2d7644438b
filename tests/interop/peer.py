"""Burrow's MLS interop peer: ``python tests/interop/peer.py serve``.

Speaks the JSON-lines protocol of ``../shared/interop/PROTOCOL.md`` on stdin/stdout (one
response line per request line, nothing else on stdout; logs go to stderr) over our
``mls`` engine, for cipher suites 1 to 7. Each named client has one signature key and
credential (fixed at first use, with its suite), the KeyPackages it published and not
yet used, and at most one group. Group states are immutable values, so a failed request
leaves the client exactly as it was.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Runnable from any working directory: the repository root holds the ``mls`` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mls.crypto import get_suite
from mls.errors import MlsError
from mls.group import (
    ApplicationMessage,
    CommitProcessed,
    GroupState,
    PendingCommit,
    commit,
    create_group,
    group_info,
    join_from_welcome,
    process,
    protect,
    remove_members,
)
from mls.key_package import KeyPackageBundle, create_key_package
from mls.messages import Add, Credential, KeyPackage, MLSMessage, Welcome, WireFormat

log = logging.getLogger("burrow-peer")

Response = dict[str, Any]


class RequestError(Exception):
    """A request the protocol does not allow (missing field, no group, ...)."""


def _hex(request: Response, key: str) -> bytes:
    value = request.get(key)
    if not isinstance(value, str):
        raise RequestError(f"field {key!r} (hex string) is required")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise RequestError(f"field {key!r} is not hex") from None


def _message(request: Response, key: str) -> MLSMessage:
    return MLSMessage.from_bytes(_hex(request, key))


def _wire_format(request: Response) -> WireFormat:
    public = bool(request.get("public_message", False))
    return WireFormat.PUBLIC_MESSAGE if public else WireFormat.PRIVATE_MESSAGE


def _now() -> int:
    return int(time.time())


class Client:
    """One protocol client: identity, suite, signature key, KeyPackages, group."""

    def __init__(self, identity: str, suite: int) -> None:
        self.suite = suite
        self.identity = identity
        self.credential = Credential.basic(identity.encode())
        self.signature_priv, _ = get_suite(suite).generate_signature_key_pair()
        self.pending: list[KeyPackageBundle] = []
        self.state: GroupState | None = None

    def group(self) -> GroupState:
        if self.state is None:
            raise RequestError("client has no group")
        return self.state

    # ------------------------------------------------------------------ operations
    def key_package(self, _: Response) -> Response:
        bundle = create_key_package(
            self.suite, self.credential, now=_now(), signature_priv=self.signature_priv
        )
        self.pending.append(bundle)
        return {"key_package": MLSMessage(bundle.key_package).to_bytes().hex()}

    def create_group(self, request: Response) -> Response:
        group_id = _hex(request, "group_id") if request.get("group_id") else None
        self.state = create_group(
            self.suite,
            self.credential,
            now=_now(),
            signature_priv=self.signature_priv,
            group_id=group_id,
        )
        return self.info(request)

    def _merged(self, pending: PendingCommit) -> Response:
        # PROTOCOL.md: a peer merges its own commit before it answers.
        self.state = pending.next_state
        response: Response = {
            "commit": pending.message.to_bytes().hex(),
            "ratchet_tree": self.state.tree.to_bytes().hex(),
            "epoch": self.state.epoch,
        }
        if pending.welcome is not None:
            response["welcome"] = pending.welcome.to_bytes().hex()
        return response

    def add(self, request: Response) -> Response:
        key_packages = []
        for item in request.get("key_packages") or []:
            body = MLSMessage.from_bytes(bytes.fromhex(item)).body
            if not isinstance(body, KeyPackage):
                raise RequestError("key_packages must hold MLSMessage(KeyPackage)")
            key_packages.append(body)
        pending = commit(
            self.group(),
            proposals=[Add(kp) for kp in key_packages],
            wire_format=_wire_format(request),
            ratchet_tree_extension=bool(request.get("ratchet_tree_extension", True)),
            now=_now(),
        )
        return self._merged(pending)

    def commit(self, request: Response) -> Response:
        pending = commit(
            self.group(),
            path=True,
            wire_format=_wire_format(request),
            ratchet_tree_extension=bool(request.get("ratchet_tree_extension", True)),
            now=_now(),
        )
        return self._merged(pending)

    def remove(self, request: Response) -> Response:
        leaves = request.get("remove_leaves")
        if not isinstance(leaves, list) or not all(isinstance(i, int) for i in leaves):
            raise RequestError("remove_leaves must be a list of leaf indices")
        pending = remove_members(self.group(), leaves, wire_format=_wire_format(request))
        return self._merged(pending)

    def join(self, request: Response) -> Response:
        welcome = _message(request, "welcome").body
        if not isinstance(welcome, Welcome):
            raise RequestError("welcome must be an MLSMessage(Welcome)")
        tree = _hex(request, "ratchet_tree") if request.get("ratchet_tree") else None
        named = {s.new_member for s in welcome.secrets}
        for i, bundle in enumerate(self.pending):
            if bundle.ref in named:
                self.state = join_from_welcome(welcome, bundle, ratchet_tree=tree)
                del self.pending[i]
                return self.info(request)
        raise RequestError("the Welcome names none of this client's KeyPackages")

    def encrypt(self, request: Response) -> Response:
        aad = _hex(request, "authenticated_data") if request.get("authenticated_data") else b""
        message, self.state = protect(
            self.group(), _hex(request, "plaintext"), authenticated_data=aad
        )
        return {"message": message.to_bytes().hex()}

    def process(self, request: Response) -> Response:
        result, state = process(self.group(), _message(request, "message"), now=_now())
        self.state = state
        if isinstance(result, ApplicationMessage):
            return {"kind": "application", "plaintext": result.data.hex(), "epoch": state.epoch}
        if isinstance(result, CommitProcessed):
            return {"kind": "commit", "epoch": result.epoch, "removed": result.removed_self}
        return {"kind": "proposal", "epoch": state.epoch}

    def export(self, request: Response) -> Response:
        label, length = request.get("label"), request.get("length", 32)
        if not isinstance(label, str) or not isinstance(length, int):
            raise RequestError("export needs a text label and an integer length")
        context = _hex(request, "context") if request.get("context") else b""
        return {"secret": self.group().export(label, context, length).hex()}

    def group_info(self, _: Response) -> Response:
        return {"group_info": group_info(self.group()).to_bytes().hex()}

    def info(self, _: Response) -> Response:
        base: Response = {"identity": self.identity, "suite": self.suite}
        if self.state is None:
            return {**base, "has_group": False, "pending_key_packages": len(self.pending)}
        st = self.state
        members = [
            {"leaf": m.leaf_index, "identity": m.credential.identity.decode(errors="replace")}
            for m in st.members()
        ]
        return {
            **base,
            "has_group": True,
            "group_id": st.group_id.hex(),
            "epoch": st.epoch,
            "tree_hash": st.tree_hash.hex(),
            "epoch_authenticator": st.epoch_authenticator.hex(),
            "own_leaf": st.own_leaf,
            "members": members,
        }


OPS: dict[str, Callable[[Client, Response], Response]] = {
    "key_package": Client.key_package,
    "create_group": Client.create_group,
    "add": Client.add,
    "commit": Client.commit,
    "remove": Client.remove,
    "join": Client.join,
    "encrypt": Client.encrypt,
    "process": Client.process,
    "export": Client.export,
    "group_info": Client.group_info,
    "info": Client.info,
}


class Server:
    """The request loop's state: the named clients."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}

    def client(self, request: Response) -> Client:
        name = str(request.get("client", "default"))
        client = self.clients.get(name)
        if client is None:
            suite = request.get("suite", 1)
            if not isinstance(suite, int):
                raise RequestError("suite must be an integer")
            client = Client(str(request.get("identity", name)), suite)
            self.clients[name] = client
        return client

    def handle(self, request: Response) -> Response:
        handler = OPS.get(str(request.get("op")))
        if handler is None:
            raise RequestError(f"unknown op {request.get('op')!r}")
        return handler(self.client(request), request)


def _answer(server: Server, line: str) -> tuple[Response, bool]:
    """The response to one request line, and whether to stop afterwards."""
    request: Response = {}
    try:
        parsed = json.loads(line)
        if not isinstance(parsed, dict):
            raise RequestError("a request must be a JSON object")
        request = parsed
        if request.get("op") == "quit":
            response: Response = {"ok": True}
        else:
            response = {"ok": True, **server.handle(request)}
    except (MlsError, RequestError, ValueError) as exc:
        log.info("%s failed: %s: %s", request.get("op"), type(exc).__name__, exc)
        response = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    except Exception as exc:  # loop boundary: a bug answers as an error, the peer goes on
        log.exception("%s crashed", request.get("op"))
        response = {"ok": False, "error": f"internal error {type(exc).__name__}: {exc}"}
    if "id" in request:
        response["id"] = request["id"]
    return response, request.get("op") == "quit"


def serve() -> None:
    server = Server()
    for line in sys.stdin:
        if not line.strip():
            continue
        response, stop = _answer(server, line)
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()
        if stop:
            return


def main(argv: list[str]) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="peer.py %(message)s")
    if argv[1:] != ["serve"]:
        print("usage: python tests/interop/peer.py serve", file=sys.stderr)
        return 2
    serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
