"""Group snapshots: a byte-exact round trip that keeps working, typed errors for bad
blobs, and no secret in any ``repr``."""

from __future__ import annotations

import pytest

from mls.errors import DecodeError
from mls.group import (
    ApplicationMessage,
    GroupState,
    process,
    propose_update,
    protect,
    remove_members,
    self_update,
)
from mls.key_package import KeyPackagePrivate
from mls.snapshot import FORMAT_VERSION, dump_group, load_group
from tests.helpers.mls_members import Members, key_package


def _busy_group() -> tuple[Members, list[object]]:
    """A group with past epochs, used ratchets, a cached proposal and a pending Update."""
    g = Members.create(["alice", "bob", "carol"], seed=5)
    late = []
    for sender in ("bob", "carol", "bob"):
        message, g.states[sender] = protect(g[sender], b"late from " + sender.encode())
        late.append(message)
        g.apply("alice", self_update(g["alice"], rng=g.rng))
    message, g.states["alice"] = protect(g["alice"], b"read before the snapshot")
    g.deliver("alice", message)
    message, g.states["bob"] = propose_update(g["bob"], rng=g.rng)
    g.deliver("bob", message)
    return g, late


def test_round_trip_is_exact_and_keeps_working() -> None:
    g, late = _busy_group()
    for name in ("alice", "bob"):
        blob = dump_group(g[name])
        assert blob[:2] == FORMAT_VERSION.to_bytes(2, "big")
        restored = load_group(blob)
        assert dump_group(restored) == blob
        assert restored.epoch_authenticator == g[name].epoch_authenticator
        assert restored.retained_epochs() == g[name].retained_epochs()
        g.states[name] = restored
    # Late messages of three past epochs decrypt from the restored past epochs.
    alice = g["alice"]
    for message, sender in zip(late, ("bob", "carol", "bob"), strict=True):
        result, alice = process(alice, message)  # type: ignore[arg-type]
        assert isinstance(result, ApplicationMessage)
        assert result.data == b"late from " + sender.encode()
    # The cached Update and bob's pending private key survive: commit it.
    pending = self_update(g["carol"], rng=g.rng)
    assert [u.leaf_index for u in pending.summary.updates] == [g["bob"].own_leaf]
    g.apply("carol", pending)
    g.agree()
    message, g.states["bob"] = protect(g["bob"], b"after reload")
    assert g.deliver("bob", message)["alice"].data == b"after reload"  # type: ignore[union-attr]


def test_restored_past_epoch_leaves_follow_changes() -> None:
    g = Members.create(["alice", "bob"], seed=3)
    message, g.states["bob"] = protect(g["bob"], b"from bob's old key")
    g.add("alice", ["carol"])
    g.apply("alice", remove_members(g["alice"], [g["bob"].own_leaf], rng=g.rng))
    # Bob's leaf is blank now but still known to the retained epoch after a reload.
    alice = load_group(dump_group(g["alice"]))
    result, _ = process(alice, message)  # type: ignore[arg-type]
    assert result.sender == 1 and result.data == b"from bob's old key"  # type: ignore[union-attr]


def test_bad_blobs_raise_decode_error() -> None:
    g, _ = _busy_group()
    blob = dump_group(g["alice"])
    for bad in (
        b"",
        blob[:-1],
        blob + b"\x00",
        (FORMAT_VERSION + 1).to_bytes(2, "big") + blob[2:],
        blob[:2] + b"\x00\x99" + blob[4:],  # an unknown cipher suite
        blob[:2] + b"\x00\x02" + blob[4:],  # suite and GroupContext disagree
    ):
        with pytest.raises(DecodeError):
            load_group(bad)


def test_a_past_epoch_of_absurd_size_is_refused() -> None:
    """Its leaf count is checked against what the blob holds: dumping such a state
    again would walk billions of leaves."""
    g, _ = _busy_group()
    state = g["alice"]
    blob = dump_group(state)
    context = state.past_epochs[0].group_context
    at = blob.index(context) + len(context)  # the past epoch's leaf count follows
    assert int.from_bytes(blob[at : at + 4], "big") == state.tree.leaf_count
    for count in (1 << 31, 3, 0):
        bad = blob[:at] + count.to_bytes(4, "big") + blob[at + 4 :]
        with pytest.raises(DecodeError):
            load_group(bad)


def _secrets_of(state: GroupState) -> list[bytes]:
    s = state.secrets
    values = [getattr(s, name) for name in s.__dataclass_fields__]
    values += [state.signature_priv, state.keys.encryption_key, state.interim_transcript_hash]
    values += [priv for _, priv in state.keys.path_keys.values()]
    values += [p.exporter_secret for p in state.past_epochs]
    return values


def test_no_secret_in_any_repr() -> None:
    g, _ = _busy_group()
    state = g["bob"]
    pending = self_update(state, rng=g.rng)
    bundle = key_package("dave", rng=g.rng)
    texts = [
        repr(state),
        repr(pending),
        repr(state.secrets),
        repr(state.keys),
        repr(state.past_epochs),
        repr(bundle),
        repr(bundle.private),
        repr(KeyPackagePrivate(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)),
    ]
    secrets = [*_secrets_of(state), *_secrets_of(pending.next_state), bundle.private.init_priv]
    for text in texts:
        for secret in secrets:
            assert secret.hex() not in text and repr(secret) not in text
    assert "epoch=" in repr(state) and "group_id=" in repr(state)
