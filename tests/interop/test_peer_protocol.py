"""The protocol details beyond the group flows: GroupInfo (with an external join by our
engine), failed requests leaving state unchanged, and how our peer runs."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mls.crypto import get_suite
from mls.group import join_by_external_commit
from mls.messages import Credential, ExtensionType, GroupInfo, MLSMessage, find_extension
from mls.tree import RatchetTree
from mls.types import LeafIndex
from mls.welcome_crypto import verify_group_info
from tests.interop.conftest import burrow_command
from tests.interop.driver import Peer, PeerClient, PeerFailed
from tests.interop.scenario import EXPORT_LABEL, Group

pytestmark = pytest.mark.interop

PEERS = ["our_peer", "ts_peer", "rs_peer"]


def _checked_group_info(member: PeerClient) -> MLSMessage:
    """The member's GroupInfo, checked against its info: context, extensions, signature."""
    message = MLSMessage.from_bytes(member.group_info())
    gi = message.body
    assert isinstance(gi, GroupInfo)
    info, context = member.info(), gi.group_context
    assert context.epoch == info["epoch"] and context.group_id.hex() == info["group_id"]
    assert context.tree_hash.hex() == info["tree_hash"]
    types = {e.extension_type for e in gi.extensions}
    assert {ExtensionType.EXTERNAL_PUB, ExtensionType.RATCHET_TREE} <= types
    suite = get_suite(context.cipher_suite)
    tree_ext = find_extension(gi.extensions, ExtensionType.RATCHET_TREE)
    assert tree_ext is not None
    tree = RatchetTree.from_bytes(suite, tree_ext.extension_data)
    assert tree.tree_hash() == context.tree_hash
    signer = tree.leaf(LeafIndex(gi.signer))
    assert signer is not None
    verify_group_info(suite, gi, signer.signature_key)
    return message


GI_PAIRS = [
    ("our_peer", "ts_peer"),
    ("ts_peer", "our_peer"),
    ("our_peer", "rs_peer"),
    ("rs_peer", "our_peer"),
]


@pytest.mark.parametrize(("creator", "joiner"), GI_PAIRS)
def test_group_info_and_external_join(
    request: pytest.FixtureRequest, creator: str, joiner: str, names: Callable[[str], str]
) -> None:
    """Every peer's GroupInfo carries the tree and external_pub and is signed; our engine
    joins by external commit from a GroupInfo (mls-rs's where it takes part, else ours) and
    both peers accept the commit.

    (ts-mls 1.6.4 writes the external_pub extension as the bare key, without the
    ``ExternalPub`` struct's length prefix (RFC 9420 section 12.4.3.2), so its GroupInfo
    cannot be used for an external join by a conforming client.)
    """
    here: Peer = request.getfixturevalue(creator)
    there: Peer = request.getfixturevalue(joiner)
    alice, bob = PeerClient(here, names("alice")), PeerClient(there, names("bob"))
    group = Group(alice, names("gi").encode())
    group.add(alice, [bob], tree_ext=True, public=False)
    infos = {m.peer.name: _checked_group_info(m) for m in (alice, bob)}
    erin = names("erin")
    source = infos.get("mls-rs", infos["burrow"])
    commit, state = join_by_external_commit(source, Credential.basic(erin.encode()))
    for member in (alice, bob):
        result = member.process(commit.to_bytes())
        assert result == {**result, "kind": "commit", "epoch": group.epoch + 1}
    context = (group.epoch + 1).to_bytes(8, "big")
    secret = state.export(EXPORT_LABEL, context, 32)
    assert alice.export(EXPORT_LABEL, context, 32) == secret
    assert bob.export(EXPORT_LABEL, context, 32) == secret
    assert alice.info()["epoch_authenticator"] == state.epoch_authenticator.hex()


@pytest.mark.parametrize("receiver", PEERS)
def test_rejected_messages_leave_state_unchanged(
    request: pytest.FixtureRequest, receiver: str, our_peer: Peer, names: Callable[[str], str]
) -> None:
    """Garbage, tampered and replayed messages fail; the receiver still works after."""
    bob_peer: Peer = request.getfixturevalue(receiver)
    other = request.getfixturevalue("ts_peer") if receiver == "our_peer" else our_peer
    alice, bob = PeerClient(other, names("alice")), PeerClient(bob_peer, names("bob"))
    group = Group(alice, names("bad").encode())
    group.add(alice, [bob], tree_ext=True, public=False)
    before = bob.info()
    message = alice.encrypt(b"intact")
    tampered = message[:-1] + bytes([message[-1] ^ 1])
    for bad in (b"", b"\x00\x01\x00\x02", tampered, alice.key_package()):
        with pytest.raises(PeerFailed):
            bob.process(bad)
    assert bob.info() == before
    assert bob.process(message)["plaintext"] == b"intact"
    with pytest.raises(PeerFailed):  # a replay: that generation's key is gone
        bob.process(message)
    commit = alice.commit()["commit"]
    group.epoch += 1
    with pytest.raises(PeerFailed):  # a tampered commit
        bob.process(commit[:-2] + bytes([commit[-2] ^ 1, commit[-1]]))
    assert bob.process(commit)["kind"] == "commit"
    group.check()
    group.exchange()


BAD_REQUESTS = (
    {"op": "nonsense"},
    {"op": "export", "label": "x", "context": "", "length": 32},
    {"op": "join", "welcome": "zz"},
    {"op": "add", "key_packages": ["00"]},
    {"op": "encrypt"},
    {"op": "process", "message": "0001"},
)


def test_bad_requests_to_mls_rs(rs_peer: Peer, names: Callable[[str], str]) -> None:
    """The mls-rs peer, too, answers what the protocol does not allow with ok=false."""
    for request in BAD_REQUESTS:
        response = rs_peer.call({**request, "client": names("carol")})
        assert response["ok"] is False and response["error"], request
    assert PeerClient(rs_peer, names("carol")).info()["has_group"] is False
    assert rs_peer.alive


def test_bad_requests(our_peer: Peer, names: Callable[[str], str]) -> None:
    """Requests the protocol does not allow are answered with ok=false, never a crash."""
    carol = names("carol")
    for request in (
        {"op": "nonsense", "client": carol},
        {"op": "export", "client": carol, "label": "x", "context": "", "length": 32},
        {"op": "join", "client": carol, "welcome": "zz"},
        {"op": "add", "client": carol, "key_packages": ["00"]},
        {"op": "encrypt", "client": carol},
    ):
        response = our_peer.call(request)
        assert response["ok"] is False and response["error"], request
    client = PeerClient(our_peer, carol)
    assert client.info()["has_group"] is False
    dave = PeerClient(our_peer, names("dave"))
    dave.create_group()
    welcome = dave.add([PeerClient(our_peer, names("erin")).key_package()])["welcome"]
    client.key_package()
    with pytest.raises(PeerFailed, match="names none"):
        client.join(welcome)
    assert client.info() == {**client.info(), "has_group": False, "pending_key_packages": 1}
    assert our_peer.alive


def test_peer_runs_from_any_directory(tmp_path: Path) -> None:
    with Peer.start(burrow_command(), name="elsewhere", cwd=str(tmp_path)) as peer:
        info = PeerClient(peer, "x", suite=3).create_group(b"\x01\x02")
        assert info["group_id"] == "0102" and info["suite"] == 3
        assert peer.call({"op": "quit", "client": "-"})["ok"] is True
        assert peer.wait(timeout=10) == 0
    usage = subprocess.run(burrow_command(), capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "usage" in usage.stderr and usage.stdout == ""
