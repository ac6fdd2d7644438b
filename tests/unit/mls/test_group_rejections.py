"""Every way a received message is refused: a typed ``mls`` error and an unchanged state.

Forged commits are signed by a real member with a valid membership tag, so each test
reaches the one check it is about (section 12.4.2 order)."""

from __future__ import annotations

import dataclasses

import pytest

from mls.errors import DecodeError, InvalidMessage, MlsError
from mls.framing import authenticate, protect_private, protect_public, sign_framed_content
from mls.group import (
    GroupState,
    add_members,
    group_info,
    join_by_external_commit,
    join_from_welcome,
    process,
    propose_update,
    protect,
    remove_members,
    self_update,
)
from mls.key_schedule import EpochSecrets, psk_secret
from mls.messages import (
    Add,
    AuthenticatedContent,
    Commit,
    Credential,
    ExternalInit,
    FramedContent,
    FramedContentAuthData,
    GroupContextExtensions,
    MLSMessage,
    PreSharedKey,
    PreSharedKeyID,
    Proposal,
    ProposalOrRef,
    PublicMessage,
    ReInit,
    Remove,
    ResumptionPSKUsage,
    SelfRemove,
    Sender,
    WireFormat,
)
from mls.welcome import build_welcome
from tests.helpers.mls_members import Members, key_package

PUBLIC = WireFormat.PUBLIC_MESSAGE


@pytest.fixture
def g() -> Members:
    return Members.create(["alice", "bob", "carol"], seed=11)


def _sign(state: GroupState, framed: FramedContent, tag: bytes | None) -> MLSMessage:
    """A PublicMessage of ``framed`` with a valid signature and membership tag."""
    signature = sign_framed_content(
        state.suite, PUBLIC, framed, state.context_bytes, state.signature_priv
    )
    content = AuthenticatedContent(PUBLIC, framed, FramedContentAuthData(signature, tag))
    return MLSMessage(
        protect_public(state.suite, content, state.context_bytes, state.secrets.membership_key)
    )


def _forged_commit(state: GroupState, *items: Proposal | bytes, path: bool = False) -> MLSMessage:
    proposals = tuple(
        ProposalOrRef.of_reference(i) if isinstance(i, bytes) else ProposalOrRef.of_proposal(i)
        for i in items
    )
    update_path = None
    if path:  # a real path of this member; the checks under test come before its use
        real = self_update(state, wire_format=PUBLIC).message.body
        assert isinstance(real, PublicMessage) and isinstance(real.content.content, Commit)
        update_path = real.content.content.path
    framed = FramedContent(
        state.group_id,
        state.epoch,
        Sender.member(state.own_leaf),
        b"",
        Commit(proposals, update_path),
    )
    return _sign(state, framed, bytes(state.suite.nh))


def _retag(message: MLSMessage, state: GroupState, **auth_changes: bytes) -> MLSMessage:
    """Change the auth data of a PublicMessage and recompute its membership tag."""
    body = message.body
    assert isinstance(body, PublicMessage)
    auth = dataclasses.replace(body.auth, **auth_changes)
    content = AuthenticatedContent(PUBLIC, body.content, auth)
    return MLSMessage(
        protect_public(state.suite, content, state.context_bytes, state.secrets.membership_key)
    )


def _refused(state: GroupState, message: MLSMessage | bytes, match: str) -> None:
    with pytest.raises(MlsError, match=match) as info:
        process(state, message)
    assert isinstance(info.value, InvalidMessage | DecodeError)


def test_wrong_epoch_and_wrong_group(g: Members) -> None:
    pending = self_update(g["alice"], wire_format=PUBLIC)
    body = pending.message.body
    assert isinstance(body, PublicMessage)
    for changes, match in (({"epoch": 7}, "epoch 7"), ({"group_id": b"other"}, "another group")):
        framed = dataclasses.replace(body.content, **changes)
        _refused(g["bob"], MLSMessage(dataclasses.replace(body, content=framed)), match)
    g.apply("alice", pending)
    _refused(g["bob"], pending.message, "epoch 1")  # a handshake of a past epoch


def test_bad_confirmation_tag(g: Members) -> None:
    message = self_update(g["alice"], wire_format=PUBLIC).message
    tag = message.body.auth.confirmation_tag  # type: ignore[union-attr]
    assert tag is not None
    forged = _retag(message, g["alice"], confirmation_tag=bytes([tag[0] ^ 1]) + tag[1:])
    _refused(g["bob"], forged, "confirmation tag")


def test_bad_membership_tag_and_forged_signature(g: Members) -> None:
    raw = self_update(g["alice"], wire_format=PUBLIC).message.to_bytes()
    _refused(g["bob"], raw[:-1] + bytes([raw[-1] ^ 1]), "membership tag")
    message = MLSMessage.from_bytes(raw)
    signature = message.body.auth.signature  # type: ignore[union-attr]
    forged = _retag(message, g["alice"], signature=bytes([signature[0] ^ 1]) + signature[1:])
    _refused(g["bob"], forged, "signature")


def test_non_member_senders(g: Members) -> None:
    state = g["alice"]
    for leaf in (3, 9):  # a blank leaf of the tree, then a leaf outside it
        framed = FramedContent(state.group_id, state.epoch, Sender.member(leaf), b"", Remove(1))
        _refused(g["bob"], _sign(state, framed, None), "not a member|outside")
    external = FramedContent(state.group_id, state.epoch, Sender.external(0), b"", Remove(1))
    signature = sign_framed_content(
        state.suite, PUBLIC, external, state.context_bytes, state.signature_priv
    )
    message = PublicMessage(external, FramedContentAuthData(signature))
    _refused(g["bob"], MLSMessage(message), "external sender")


@pytest.mark.parametrize(
    ("items", "match"),
    [
        ((Remove(1), Remove(1)), "two proposals change leaf"),
        ((Remove(0),), "remove its committer"),
        ((Remove(5),), "not a member"),
        ((ExternalInit(b"\x01" * 32),), "only allowed in an external commit"),
        ((b"\x00" * 32,), "do not have"),
        ((GroupContextExtensions(()), GroupContextExtensions(())), "more than one"),
        ((ReInit(b"g", 1, 1, ()), Remove(1)), "ReInit"),
        ((PreSharedKey(PreSharedKeyID.external(b"?", bytes(32))),), "not known"),
        ((Remove(1),), "needs an UpdatePath"),
    ],
)
def test_invalid_proposal_lists(
    g: Members, items: tuple[Proposal | bytes, ...], match: str
) -> None:
    message = _forged_commit(g["alice"], *items, path=match != "needs an UpdatePath")
    _refused(g["bob"], message, match)


def test_invalid_adds(g: Members) -> None:
    kp = key_package("dave", rng=g.rng).key_package
    _refused(g["bob"], _forged_commit(g["alice"], Add(kp), Add(kp)), "same client")
    bob_leaf = g["bob"].tree.leaf(g["bob"].own_leaf)
    assert bob_leaf is not None
    leaf = dataclasses.replace(kp.leaf_node, signature_key=bob_leaf.signature_key)
    clone = dataclasses.replace(kp, leaf_node=leaf)
    _refused(g["bob"], _forged_commit(g["alice"], Add(clone)), "signature")
    bad_sig = dataclasses.replace(kp, signature=bytes(len(kp.signature)))
    _refused(g["bob"], _forged_commit(g["alice"], Add(bad_sig)), "KeyPackage signature")


def test_inline_update_from_the_committer(g: Members) -> None:
    _, alice = propose_update(g["alice"])
    update = alice.proposals[0].proposal
    _refused(g["bob"], _forged_commit(g["alice"], update, path=True), "own Update|by reference")


def test_own_messages_and_other_wire_formats(g: Members) -> None:
    pending = self_update(g["alice"])
    _refused(g["alice"], pending.message, "our own")
    assert pending.welcome is None
    welcome = g.add("alice", ["dave"]).welcome
    assert welcome is not None
    _refused(g["bob"], welcome, "not a group message")
    _refused(g["bob"], b"\x00\x01\x00", "truncated|invalid")


def test_tampered_private_messages(g: Members) -> None:
    message, _ = protect(g["alice"], b"secret")
    raw = message.to_bytes()
    _refused(g["bob"], raw[:-1] + bytes([raw[-1] ^ 1]), "AEAD")
    # Content signed with a key that is not the sender's.
    state = g["alice"]
    other_priv, _ = state.suite.generate_signature_key_pair()
    framed = FramedContent(state.group_id, state.epoch, Sender.member(0), b"", b"forged")
    signed = authenticate(
        state.suite, WireFormat.PRIVATE_MESSAGE, framed, state.context_bytes, other_priv
    )
    private = protect_private(
        state.suite, signed, state.secret_tree.copy(), state.secrets.sender_data_secret
    )
    _refused(g["bob"], MLSMessage(private), "signature")


def test_removed_member_reads_nothing_new(g: Members) -> None:
    g.apply("alice", remove_members(g["alice"], [g["carol"].own_leaf]))
    carol = g["carol"]
    assert not carol.active
    message, g.states["alice"] = protect(g["alice"], b"after carol left")
    _refused(carol, message, "epoch")


def test_failure_leaves_the_state_usable(g: Members) -> None:
    bob = g["bob"]
    message, g.states["alice"] = protect(g["alice"], b"first")
    raw = message.to_bytes()
    _refused(bob, raw[:-1] + bytes([raw[-1] ^ 1]), "AEAD")
    result, bob = process(bob, message)  # the key was not consumed by the failure
    assert result.data == b"first"  # type: ignore[union-attr]


def _forged_external(g: Members, *proposals: Proposal) -> MLSMessage:
    """An external commit by a real joiner, its proposal list replaced."""
    state = g["alice"]
    priv, _ = state.suite.generate_signature_key_pair(g.rng)
    real, _ = join_by_external_commit(
        group_info(state), Credential.basic(b"eve"), signature_priv=priv, rng=g.rng
    )
    body = real.body
    assert isinstance(body, PublicMessage) and isinstance(body.content.content, Commit)
    items = tuple(ProposalOrRef.of_proposal(p) for p in proposals)
    framed = dataclasses.replace(body.content, content=Commit(items, body.content.content.path))
    signature = sign_framed_content(state.suite, PUBLIC, framed, state.context_bytes, priv)
    auth = FramedContentAuthData(signature, bytes(state.suite.nh))
    return MLSMessage(PublicMessage(framed, auth))


@pytest.mark.parametrize(
    ("proposals", "match"),
    [
        ((), "exactly one ExternalInit"),
        ((ExternalInit(b"\x01" * 32), ExternalInit(b"\x02" * 32)), "exactly one ExternalInit"),
        ((ExternalInit(b"\x01" * 32), Remove(1), Remove(2)), "at most one"),
        ((ExternalInit(b"\x01" * 32), GroupContextExtensions(())), "only carry"),
        ((ExternalInit(b"\x01" * 32), SelfRemove()), "only carry"),
        ((ExternalInit(b"\x01" * 32), Remove(1)), "old leaf"),
    ],
)
def test_invalid_external_commits(g: Members, proposals: tuple[Proposal, ...], match: str) -> None:
    _refused(g["bob"], _forged_external(g, *proposals), match)


def test_external_init_is_not_a_member_proposal(g: Members) -> None:
    state = g["alice"]
    framed = FramedContent(
        state.group_id, state.epoch, Sender.member(0), b"", ExternalInit(b"\x01" * 32)
    )
    _refused(g["bob"], _sign(state, framed, None), "ExternalInit")


def test_a_branch_welcome_must_start_at_epoch_one(g: Members) -> None:
    """Section 12.4.3.1: a Welcome with a reinit or branch PSK starts a new group."""
    g.apply("alice", self_update(g["alice"], rng=g.rng))
    alice = g["alice"]
    bundle = key_package("dave", rng=g.rng)
    pending = add_members(alice, [bundle.key_package], rng=g.rng)
    assert pending.next_state.epoch == 3
    branch = PreSharedKeyID.resumption(
        ResumptionPSKUsage.BRANCH, alice.group_id, alice.epoch, bytes(alice.suite.nh)
    )
    value = alice.resumption_psk(alice.epoch)
    assert value is not None
    suite, state = alice.suite, pending.next_state
    secrets = EpochSecrets.from_joiner(
        suite, state.secrets.joiner_secret, psk_secret(suite, [(branch, value)]), b""
    )  # the welcome secret is what matters here; the GroupInfo opens with it
    welcome = build_welcome(
        suite, secrets, pending.group_info, pending.summary.adds, [branch], path_secret_for=None
    )
    with pytest.raises(InvalidMessage, match="must start at epoch 1"):
        join_from_welcome(welcome, bundle, resumption_psks={(alice.group_id, alice.epoch): value})
