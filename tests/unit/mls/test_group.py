"""The group engine end to end with members of our own implementation: stage-then-merge
commits, past epochs, every proposal type, external joins, exporters, every suite."""

from __future__ import annotations

import pytest

from mls.crypto import get_suite
from mls.errors import InvalidMessage, UsageError
from mls.group import (
    ApplicationMessage,
    CommitProcessed,
    GroupConfig,
    LeafChanges,
    ProposalReceived,
    add_members,
    commit,
    external_proposal,
    group_info,
    join_by_external_commit,
    join_from_welcome,
    process,
    propose,
    propose_add,
    propose_self_remove,
    propose_update,
    protect,
    remove_members,
    self_update,
    update_extensions,
)
from mls.key_package import create_key_package, default_capabilities
from mls.messages import (
    Add,
    Credential,
    CredentialType,
    Extension,
    ExtensionType,
    ExternalSender,
    ExternalSenders,
    PreSharedKey,
    PreSharedKeyID,
    ReInit,
    Remove,
    RequiredCapabilities,
    WireFormat,
)
from mls.tree import RatchetTree
from tests.helpers.mls_members import (
    MARMOT_DATA,
    NOW,
    SELF_REMOVE,
    Members,
    key_package,
    seeded_rng,
)

SUITES = range(1, 8)


@pytest.mark.parametrize("cs", SUITES)
def test_lifecycle_in_every_suite(cs: int) -> None:
    g = Members.create(["alice", "bob", "carol"], cs, seed=cs)
    g.agree()
    message, g.states["alice"] = protect(g["alice"], b"hello", authenticated_data=b"ad")
    for name, result in g.deliver("alice", message).items():
        assert isinstance(result, ApplicationMessage), name
        assert (result.data, result.authenticated_data, result.sender) == (b"hello", b"ad", 0)
        assert result.credential == Credential.basic(b"alice")
    g.apply("bob", self_update(g["bob"], rng=g.rng))
    g.agree()
    results = g.apply("carol", remove_members(g["carol"], [g["alice"].own_leaf], rng=g.rng))
    assert isinstance(results["alice"], CommitProcessed) and results["alice"].removed_self
    assert not g["alice"].active
    del g.states["alice"]
    g.agree()
    assert g["bob"].tree.member_count == 2


def test_pending_commit_leaves_the_state_unchanged() -> None:
    g = Members.create(["alice", "bob"])
    before = g["alice"]
    pending = self_update(before, rng=g.rng)
    assert before.epoch == 1 and pending.next_state.epoch == 2
    assert pending.summary.epoch == 2 and pending.summary.sender_leaf == before.own_leaf
    # Discard it: the old state still talks to bob, and a fresh commit works.
    message, alice = protect(before, b"still epoch 1")
    result, g.states["bob"] = process(g["bob"], message)
    assert isinstance(result, ApplicationMessage) and result.epoch == 1
    second = self_update(alice, rng=g.rng)
    g.apply("alice", second)
    g.agree()
    # The discarded commit is now of an old epoch for bob.
    with pytest.raises(InvalidMessage, match="epoch"):
        process(g["bob"], pending.message)


@pytest.mark.parametrize("wire_format", [WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE])
def test_commit_wire_formats_and_paths(wire_format: WireFormat) -> None:
    g = Members.create(["alice", "bob", "carol"])
    kp = key_package("dave", rng=g.rng)
    pending = commit(g["bob"], proposals=[], path=True, wire_format=wire_format, rng=g.rng)
    assert pending.message.wire_format == wire_format
    g.apply("bob", pending)
    g.agree()
    no_path = commit(g["carol"], proposals=[Add(kp.key_package)], path=False, rng=g.rng)
    assert no_path.summary.path_leaf is None
    g.apply("carol", no_path)
    g.agree()
    with pytest.raises(UsageError, match="UpdatePath"):
        commit(g["alice"], path=False)  # an empty commit needs a path


def test_late_application_messages_of_past_epochs() -> None:
    g = Members.create(["alice", "bob"], config=GroupConfig(max_past_epochs=2))
    late = []
    for _ in range(3):
        message, g.states["alice"] = protect(g["alice"], b"epoch %d" % g["alice"].epoch)
        late.append(message)
        g.apply("alice", self_update(g["alice"], rng=g.rng))
    bob = g["bob"]
    assert bob.retained_epochs() == (4, 3, 2)
    with pytest.raises(InvalidMessage, match="epoch 1"):
        process(bob, late[0])  # older than the two retained epochs
    for message, epoch in zip(late[1:], (2, 3), strict=True):
        result, bob = process(bob, message)
        assert isinstance(result, ApplicationMessage)
        assert (result.epoch, result.data) == (epoch, b"epoch %d" % epoch)
    with pytest.raises(InvalidMessage):
        process(bob, late[2])  # each key decrypts once
    assert bob.export_at(3, "x", b"c", 16) == g["alice"].export_at(3, "x", b"c", 16)
    assert bob.export("x", b"c", 16) == g["alice"].export("x", b"c", 16)
    with pytest.raises(UsageError):
        bob.export_at(1, "x", b"", 16)


def test_proposals_by_reference_update_and_self_remove() -> None:
    g = Members.create(["alice", "bob", "carol", "dave"])
    message, g.states["bob"] = propose_update(g["bob"], rng=g.rng)
    received = g.deliver("bob", message)
    assert all(isinstance(r, ProposalReceived) for r in received.values())
    message, g.states["carol"] = propose_self_remove(g["carol"], rng=g.rng)
    assert message.wire_format == WireFormat.PUBLIC_MESSAGE
    g.deliver("carol", message)
    pending = commit(g["alice"], rng=g.rng)
    summary = pending.summary
    assert [u.leaf_index for u in summary.updates] == [g["bob"].own_leaf]
    assert [(r.leaf_index, r.self_remove) for r in summary.removes] == [(2, True)]
    results = g.apply("alice", pending)
    assert results["carol"].removed_self  # type: ignore[union-attr]
    del g.states["carol"]
    g.agree()
    # Bob's leaf now holds the key of his Update: he still decrypts path secrets.
    g.apply("dave", self_update(g["dave"], rng=g.rng))
    g.agree()


def test_committer_cannot_commit_its_own_self_remove_or_update() -> None:
    g = Members.create(["alice", "bob"])
    _, alice = propose_self_remove(g["alice"])
    pending = commit(alice, rng=g.rng)  # our own SelfRemove is left out
    assert pending.summary.removes == ()
    with pytest.raises(UsageError):
        commit(g["alice"], proposals=[propose_update(g["alice"])[1].proposals[0].proposal])


def test_group_context_extensions_carry_unknown_extensions() -> None:
    data = Extension(MARMOT_DATA, b"\x00\x02opaque marmot bytes")
    g = Members.create(["alice", "bob"], extensions=[data])
    assert g["bob"].extensions == (data,)
    new = Extension(MARMOT_DATA, b"renamed")
    results = g.apply("bob", update_extensions(g["bob"], [new], rng=g.rng))
    assert results["alice"].extensions == (new,)  # type: ignore[union-attr]
    assert g["alice"].extensions == (new,)
    g.agree()
    with pytest.raises(InvalidMessage, match="support"):
        update_extensions(g["bob"], [Extension(0x7777, b"")])


def test_proposal_and_extension_support_is_checked_for_every_member() -> None:
    """Counted per type in the tree: a SelfRemove needs every member who stays to list
    it (a leaver need not), a new requirement every member."""
    g = Members.create(["alice", "bob"])
    caps = default_capabilities(1, CredentialType.BASIC, (MARMOT_DATA,))  # no SelfRemove
    carol = create_key_package(1, Credential.basic(b"carol"), now=NOW, capabilities=caps)
    pending = add_members(g["alice"], [carol.key_package], rng=g.rng)
    g.apply("alice", pending)
    assert pending.welcome is not None
    g.states["carol"] = join_from_welcome(pending.welcome, carol)
    needs = RequiredCapabilities(proposal_types=(SELF_REMOVE,))
    with pytest.raises(InvalidMessage, match="lacks the required capabilities"):
        update_extensions(
            g["alice"], [Extension(ExtensionType.REQUIRED_CAPABILITIES, needs.to_bytes())]
        )
    message, g.states["bob"] = propose_self_remove(g["bob"], rng=g.rng)
    g.deliver("bob", message)
    with pytest.raises(InvalidMessage, match="does not support proposal type 0x000a"):
        commit(g["alice"], rng=g.rng)  # carol would stay and cannot handle SelfRemove
    # Once carol leaves too, everyone who stays supports SelfRemove.
    message, g.states["carol"] = propose_self_remove(g["carol"], rng=g.rng)
    g.deliver("carol", message)
    results = g.apply("alice", commit(g["alice"], rng=g.rng))
    assert all(r.removed_self for r in results.values())  # type: ignore[union-attr]
    assert g["alice"].tree.member_count == 1


def test_support_checks_do_not_walk_the_members(monkeypatch: pytest.MonkeyPatch) -> None:
    g = Members.create(["alice", "bob", "carol"])
    message, g.states["carol"] = propose_self_remove(g["carol"], rng=g.rng)
    g.deliver("carol", message)
    leave = commit(g["alice"], rng=g.rng)
    data = Extension(MARMOT_DATA, b"renamed")
    rename = update_extensions(leave.next_state, [data], rng=g.rng)

    def walk(self: object) -> None:
        raise AssertionError("a commit walked every member")

    monkeypatch.setattr(RatchetTree, "members", walk)
    _, bob = process(g["bob"], leave.message)
    _, bob = process(bob, rename.message)
    assert bob.extensions == (data,) and bob.tree.member_count == 2


def test_external_psk_and_resumption_psk() -> None:
    g = Members.create(["alice", "bob"])
    psk_id = PreSharedKeyID.external(b"shared", bytes(32))
    psks = {b"shared": b"secret value"}
    message, g.states["bob"] = propose(g["bob"], PreSharedKey(psk_id))
    result, alice = process(g["alice"], message, psks=psks)
    assert isinstance(result, ProposalReceived)
    pending = commit(alice, psks=psks, rng=g.rng)
    assert pending.summary.psks == (psk_id,)
    with pytest.raises(InvalidMessage, match="PSK"):
        process(g["bob"], pending.message)  # bob lacks the PSK value
    result, bob = process(g["bob"], pending.message, psks=psks)
    assert bob.epoch_authenticator == pending.next_state.epoch_authenticator
    # A resumption PSK of the epoch before, which both members retain.
    resumption = PreSharedKeyID.resumption(1, bob.group_id, 1, bytes(32))  # type: ignore[arg-type]
    pending = commit(pending.next_state, proposals=[PreSharedKey(resumption)], rng=g.rng)
    _, bob = process(bob, pending.message)
    assert bob.epoch_authenticator == pending.next_state.epoch_authenticator


def test_reinit_ends_the_group() -> None:
    g = Members.create(["alice", "bob"])
    reinit = ReInit(b"new group", 1, 1, ())
    results = g.apply("alice", commit(g["alice"], proposals=[reinit], rng=g.rng))
    assert results["bob"].reinit == reinit  # type: ignore[union-attr]
    with pytest.raises(UsageError):
        protect(g["bob"], b"too late")


@pytest.mark.parametrize("cs", [1, 2])
def test_external_commit_join_and_resync(cs: int) -> None:
    g = Members.create(["alice", "bob"], cs, seed=7)
    info = group_info(g["alice"])
    message, eve = join_by_external_commit(info, Credential.basic(b"eve"), rng=g.rng)
    results = g.deliver("eve", message)
    assert all(r.external and r.adds == () for r in results.values())  # type: ignore[union-attr]
    g.states["eve"] = eve
    g.agree()
    message, g.states["alice"] = protect(g["alice"], b"welcome eve")
    assert g.deliver("alice", message)["eve"].data == b"welcome eve"  # type: ignore[union-attr]
    # Eve lost her state: she rejoins, replacing her old leaf.
    old = eve.own_leaf
    message, eve2 = join_by_external_commit(
        group_info(g["bob"], ratchet_tree=False),
        Credential.basic(b"eve"),
        ratchet_tree=g["bob"].tree.to_bytes(),
        remove_leaf=old,
        rng=g.rng,
    )
    results = g.deliver("eve", message, skip=["eve"])
    assert [r.leaf_index for r in results["alice"].removes] == [old]  # type: ignore[union-attr]
    g.states["eve"] = eve2
    g.agree()
    with pytest.raises(InvalidMessage, match="old leaf"):
        join_by_external_commit(
            group_info(g["bob"]), Credential.basic(b"mallory"), remove_leaf=0, rng=g.rng
        )


def test_new_signature_key_in_a_self_update() -> None:
    g = Members.create(["alice", "bob"])
    new_priv, new_pub = g["bob"].suite.generate_signature_key_pair(g.rng)
    g.apply("bob", self_update(g["bob"], leaf=LeafChanges(signature_priv=new_priv), rng=g.rng))
    assert g["bob"].signature_public_key == new_pub
    assert g["alice"].member(g["bob"].own_leaf).signature_key == new_pub  # type: ignore[union-attr]
    message, g.states["bob"] = protect(g["bob"], b"signed with the new key")
    assert g.deliver("bob", message)["alice"].data == b"signed with the new key"  # type: ignore[union-attr]


def test_propose_add_then_commit_by_reference() -> None:
    g = Members.create(["alice", "bob"])
    kp = key_package("carol", rng=g.rng)
    message, g.states["bob"] = propose_add(g["bob"], kp.key_package, now=NOW)
    g.deliver("bob", message)
    pending = commit(g["alice"], rng=g.rng)
    assert [a.key_package for a in pending.summary.adds] == [kp.key_package]
    g.apply("alice", pending)
    assert pending.welcome is not None
    g.states["carol"] = join_from_welcome(pending.welcome, kp)
    g.agree()


def test_states_are_values_copy_on_write() -> None:
    g = Members.create(["alice", "bob", "carol"])
    alice, bob = g["alice"], g["bob"]
    message, alice_after = protect(alice, b"one")
    assert alice_after.secret_tree is not alice.secret_tree
    first, bob_after = process(bob, message)
    again, _ = process(bob, message)  # ``bob`` itself never consumed the key
    assert first.data == again.data == b"one"  # type: ignore[union-attr]
    with pytest.raises(InvalidMessage):
        process(bob_after, message)  # the state after reading it has
    # Carol's message still reads in both of bob's states.
    message, _ = protect(g["carol"], b"two")
    for state in (bob, bob_after):
        result, _ = process(state, message)
        assert result.data == b"two"  # type: ignore[union-attr]


def test_external_sender_and_new_member_proposals() -> None:
    server_priv, server_pub = get_suite(1).generate_signature_key_pair(seeded_rng(9))
    server = ExternalSender(server_pub, Credential.basic(b"delivery service"))
    ext = Extension(ExtensionType.EXTERNAL_SENDERS, ExternalSenders((server,)).to_bytes())
    g = Members.create(["alice", "bob", "carol"], extensions=[ext])
    state = g["alice"]
    removal = external_proposal(
        1, state.group_id, state.epoch, Remove(2), signature_priv=server_priv, sender_index=0
    )
    results = g.deliver("nobody", removal, skip=["carol"])
    received = results["alice"]
    assert isinstance(received, ProposalReceived)
    assert received.sender_leaf is None and received.credential == server.credential
    joiner = key_package("dave", rng=g.rng)
    ask = external_proposal(
        1,
        state.group_id,
        state.epoch,
        Add(joiner.key_package),
        signature_priv=joiner.private.signature_priv,
    )
    g.deliver("nobody", ask, skip=["carol"])
    pending = commit(g["bob"], rng=g.rng)
    assert [r.leaf_index for r in pending.summary.removes] == [2]
    assert [a.key_package for a in pending.summary.adds] == [joiner.key_package]
    # A forged external sender signature is refused.
    forged = external_proposal(
        1,
        state.group_id,
        state.epoch,
        Remove(1),
        signature_priv=joiner.private.signature_priv,
        sender_index=0,
    )
    with pytest.raises(InvalidMessage, match="signature"):
        process(g["alice"], forged)


def test_welcome_without_tree_and_with_a_psk() -> None:
    g = Members.create(["alice", "bob"])
    kp = key_package("carol", rng=g.rng)
    psk_id = PreSharedKeyID.external(b"k", bytes(32))
    psks = {b"k": b"value"}
    pending = commit(
        g["alice"],
        proposals=[Add(kp.key_package), PreSharedKey(psk_id)],
        psks=psks,
        ratchet_tree_extension=False,
        rng=g.rng,
    )
    assert pending.welcome is not None
    with pytest.raises(UsageError, match="ratchet tree"):
        join_from_welcome(pending.welcome, kp, psks=psks)
    tree = pending.next_state.tree.to_bytes()
    with pytest.raises(InvalidMessage, match="PSK"):
        join_from_welcome(pending.welcome, kp, ratchet_tree=tree)
    carol = join_from_welcome(pending.welcome, kp, ratchet_tree=tree, psks=psks)
    assert carol.epoch_authenticator == pending.next_state.epoch_authenticator
    other = key_package("dave", rng=g.rng)
    with pytest.raises(InvalidMessage, match="no entry"):
        join_from_welcome(pending.welcome, other, ratchet_tree=tree, psks=psks)
