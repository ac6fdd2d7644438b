"""Corrupted and hostile group messages and Welcomes only ever raise typed ``mls`` errors.

Two attackers: one on the wire (flipped bytes, caught by signatures, MACs and AEADs),
and an insider who re-signs whatever it mutates, so that the checks behind the
signatures run: a member's commits and proposals (KeyPackages and leaves it can sign
re-signed), a member's Welcome (GroupInfo re-signed, ratchet tree with a matching tree
hash, all encrypted properly to the joiner) and an outsider's external commit.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from functools import cache
from typing import TypeVar

from hypothesis import event, given, settings
from hypothesis import strategies as st

from mls.errors import MlsError
from mls.framing import authenticate, protect_public
from mls.group import (
    GroupState,
    add_members,
    commit,
    group_info,
    join_by_external_commit,
    join_from_welcome,
    process,
    propose_self_remove,
    propose_update,
    protect,
    self_update,
)
from mls.group_framing import protect as frame_private
from mls.key_package import KeyPackageBundle, sign_leaf_node
from mls.key_schedule import psk_secret, welcome_secret
from mls.messages import (
    Add,
    Commit,
    Content,
    Credential,
    Extension,
    ExtensionType,
    FramedContent,
    GroupContextExtensions,
    GroupInfo,
    GroupSecrets,
    LeafNode,
    LeafNodeSource,
    MLSMessage,
    PreSharedKey,
    PreSharedKeyID,
    Proposal,
    ProposalOrRef,
    PublicMessage,
    ReInit,
    Remove,
    RequiredCapabilities,
    Sender,
    Update,
    Welcome,
    WireFormat,
    find_extension,
    proposal_from_bytes,
    proposal_to_bytes,
)
from mls.tree import RatchetTree
from mls.welcome_crypto import (
    decrypt_group_info,
    decrypt_group_secrets,
    encrypt_group_info,
    encrypt_group_secrets,
    sign_group_info,
)
from tests.helpers.mls_members import MARMOT_DATA, NOW, Members, key_package

PSKS = {b"psk-1": b"k" * 32}
T = TypeVar("T")
PUBLIC = WireFormat.PUBLIC_MESSAGE


@cache
def _samples() -> tuple[Members, dict[str, bytes], KeyPackageBundle]:
    g = Members.create(["alice", "bob", "carol"], seed=21)
    alice = g["alice"]
    raw = {
        "application": protect(alice, b"x" * 40)[0].to_bytes(),
        "proposal": propose_update(alice, wire_format=PUBLIC)[0].to_bytes(),
        "public commit": self_update(alice, wire_format=PUBLIC).message.to_bytes(),
        "private commit": self_update(alice).message.to_bytes(),
    }
    bundle = key_package("dave", rng=g.rng)
    pending = add_members(alice, [bundle.key_package])
    assert pending.welcome is not None
    raw["welcome"] = pending.welcome.to_bytes()
    return g, raw, bundle


# -- mutation: overwrite, flip, insert, delete and swap a few bytes --

_EDITS = st.lists(
    st.tuples(st.sampled_from("ofids"), st.integers(0, 1 << 16), st.integers(0, 255)),
    min_size=1,
    max_size=4,
)


def _edit(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    b = bytearray(data)
    for kind, where, value in edits:
        pos = where % (len(b) or 1)
        if kind == "o" and b:
            b[pos] = value
        elif kind == "f" and b:
            b[pos] ^= 1 << (value & 7)
        elif kind == "i":
            b[pos:pos] = bytes((value,))
        elif kind == "d":
            del b[pos : pos + 1 + (value & 1)]
        elif b:
            other = value % len(b)
            b[pos], b[other] = b[other], b[pos]
    return bytes(b)


def _mutate(data: bytes, position: int, value: int, cut: int) -> bytes:
    position %= len(data)
    mutated = data[:position] + bytes([value]) + data[position + 1 :]
    return mutated[: len(mutated) - cut] if cut else mutated


# -- the wire attacker --


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["application", "proposal", "public commit", "private commit"]),
    position=st.integers(0, 10_000),
    value=st.integers(0, 255),
    cut=st.integers(0, 3),
)
def test_corrupted_messages_raise_mls_errors(
    kind: str, position: int, value: int, cut: int
) -> None:
    g, raw, _ = _samples()
    data = _mutate(raw[kind], position, value, cut)
    with contextlib.suppress(MlsError):
        process(g["bob"], data)


@settings(max_examples=60, deadline=None)
@given(position=st.integers(0, 100_000), value=st.integers(0, 255), cut=st.integers(0, 2))
def test_corrupted_welcomes_raise_mls_errors(position: int, value: int, cut: int) -> None:
    _, raw, bundle = _samples()
    data = _mutate(raw["welcome"], position, value, cut)
    with contextlib.suppress(MlsError):
        join_from_welcome(MLSMessage.from_bytes(data), bundle)


def _outcome(step: Callable[[], T]) -> T | None:
    """``step()``, or None after an ``MlsError`` (the expected refusal, whose kind is
    reported by ``--hypothesis-show-statistics``); any other exception fails the test."""
    try:
        result = step()
    except MlsError as exc:
        event(f"{type(exc).__name__}: {str(exc)[:40]}")
        return None
    event("accepted")
    return result


# -- an insider: alice signs mutated commits and proposals --


@dataclasses.dataclass
class _Insider:
    g: Members
    commits: list[tuple[Commit, bytes]]  # with their confirmation tags
    proposals: list[Proposal]
    keys: dict[bytes, bytes]  # signature key -> private key, of what alice can sign
    check: bytes  # an application message every untouched receiver reads


def _public(pending_message: MLSMessage) -> tuple[Content, bytes | None]:
    body = pending_message.body
    assert isinstance(body, PublicMessage)
    return body.content.content, body.auth.confirmation_tag


@cache
def _insider() -> _Insider:
    g = Members.create(["alice", "bob", "carol", "dave"], seed=5)
    message, g.states["bob"] = propose_update(g["bob"], rng=g.rng)
    g.deliver("bob", message)  # a proposal alice's commits may reference
    alice, rng = g["alice"], g.rng
    erin = key_package("erin", rng=rng)
    psk = PreSharedKeyID.external(b"psk-1", rng(32))
    needs = RequiredCapabilities((MARMOT_DATA,), (), ())
    gce = GroupContextExtensions(
        (
            Extension(MARMOT_DATA, b"x"),
            Extension(ExtensionType.REQUIRED_CAPABILITIES, needs.to_bytes()),
        )
    )
    variants: list[dict[str, object]] = [
        {},
        {"include_pending": False},
        {"proposals": [Add(erin.key_package)], "path": False, "include_pending": False},
        {"proposals": [Add(erin.key_package), Remove(3)]},
        {"proposals": [gce], "include_pending": False},
        {"proposals": [PreSharedKey(psk)], "psks": PSKS, "path": False, "include_pending": False},
        {"proposals": [ReInit(b"new", 1, 1, ())], "path": False, "include_pending": False},
    ]
    commits = []
    for kwargs in variants:
        content, tag = _public(commit(alice, wire_format=PUBLIC, rng=rng, **kwargs).message)  # type: ignore[arg-type]
        assert isinstance(content, Commit) and tag is not None
        commits.append((content, tag))
    proposals: list[Proposal] = [Add(erin.key_package), Remove(2), PreSharedKey(psk), gce]
    proposals.append(ReInit(b"g", 1, 1, ()))
    for message in (
        propose_update(alice, wire_format=PUBLIC, rng=rng)[0],
        propose_self_remove(alice, rng=rng)[0],
    ):
        content, _ = _public(message)
        assert not isinstance(content, bytes | Commit)
        proposals.append(content)
    own_key = g["alice"].signature_public_key
    keys = {
        own_key: alice.signature_priv,
        erin.key_package.leaf_node.signature_key: erin.private.signature_priv,
    }
    check = protect(g["dave"], b"still fine")[0].to_bytes()
    return _Insider(g, commits, proposals, keys, check)


def _resign_leaf(state: GroupState, leaf: LeafNode, keys: dict[bytes, bytes], at: int) -> LeafNode:
    priv = keys.get(leaf.signature_key)
    if priv is None:
        return leaf
    if leaf.leaf_node_source == LeafNodeSource.KEY_PACKAGE:
        return sign_leaf_node(state.suite, leaf, priv)
    return sign_leaf_node(state.suite, leaf, priv, state.group_id, at)


def _resign_proposal(state: GroupState, p: Proposal, keys: dict[bytes, bytes]) -> Proposal:
    if isinstance(p, Update):
        return Update(_resign_leaf(state, p.leaf_node, keys, state.own_leaf))
    if not isinstance(p, Add):
        return p
    kp = p.key_package
    priv = keys.get(kp.leaf_node.signature_key)
    if priv is None:
        return p
    kp = dataclasses.replace(kp, leaf_node=_resign_leaf(state, kp.leaf_node, keys, 0))
    signed = state.suite.sign_with_label(priv, "KeyPackageTBS", kp.tbs())
    return Add(dataclasses.replace(kp, signature=signed))


def _resign(state: GroupState, content: Commit, keys: dict[bytes, bytes], at: int) -> Commit:
    items = tuple(
        i
        if i.proposal is None
        else ProposalOrRef.of_proposal(_resign_proposal(state, i.proposal, keys))
        for i in content.proposals
    )
    path = content.path
    if path is not None:
        path = dataclasses.replace(path, leaf_node=_resign_leaf(state, path.leaf_node, keys, at))
    return Commit(items, path)


def _signed_by(
    state: GroupState, content: Content, tag: bytes | None, wire_format: WireFormat
) -> MLSMessage:
    framed = FramedContent(state.group_id, state.epoch, Sender.member(state.own_leaf), b"", content)
    signed = authenticate(
        state.suite,
        wire_format,
        framed,
        state.context_bytes,
        state.signature_priv,
        confirmation_tag=tag,
    )
    if wire_format == WireFormat.PRIVATE_MESSAGE:
        return frame_private(state, signed)[0]
    return MLSMessage(
        protect_public(state.suite, signed, state.context_bytes, state.secrets.membership_key)
    )


@settings(max_examples=200, deadline=None)
@given(
    pick=st.integers(0, 1000),
    edits=_EDITS,
    is_commit=st.booleans(),
    zero_tag=st.booleans(),
    wire=st.sampled_from([WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE]),
)
def test_a_members_hostile_commits_and_proposals_raise_mls_errors(
    pick: int, edits: list[tuple[str, int, int]], is_commit: bool, zero_tag: bool, wire: WireFormat
) -> None:
    s = _insider()
    alice, carol = s.g["alice"], s.g["carol"]
    content: Content
    tag: bytes | None = None
    try:
        if is_commit:
            seed, tag = s.commits[pick % len(s.commits)]
            mutated = Commit.from_bytes(_edit(seed.to_bytes(), edits))
            content = _resign(alice, mutated, s.keys, alice.own_leaf)
            tag = bytes(len(tag)) if zero_tag else tag
        else:
            proposal = s.proposals[pick % len(s.proposals)]
            mutated_p = proposal_from_bytes(_edit(proposal_to_bytes(proposal), edits))
            content = _resign_proposal(alice, mutated_p, s.keys)
    except MlsError:
        return  # undecodable: the codec properties cover that
    message = _signed_by(alice, content, tag, wire)
    accepted = _outcome(lambda: process(carol, message, now=NOW, psks=PSKS))
    if accepted is not None and is_commit:  # a confirmation tag cannot be forged
        assert content == seed
    # Whatever happened, carol's state is a value and still reads the group's messages.
    process(carol, s.check)


# -- an insider's Welcome --


@dataclasses.dataclass(frozen=True)
class _WelcomeParts:
    adder: GroupState  # signs the GroupInfo
    joined: GroupState  # the epoch the honest Welcome leads to (the adder's next state)
    bundle: KeyPackageBundle
    info: GroupInfo
    secrets: GroupSecrets


@cache
def _welcome_parts() -> _WelcomeParts:
    g = Members.create(["alice", "bob", "carol"], seed=8)
    bundle = key_package("dave", rng=g.rng)
    pending = add_members(g["alice"], [bundle.key_package], rng=g.rng)
    assert pending.welcome is not None and isinstance(pending.welcome.body, Welcome)
    welcome, suite = pending.welcome.body, g["alice"].suite
    secrets = decrypt_group_secrets(suite, welcome, bundle.ref, bundle.private.init_priv)
    key = welcome_secret(suite, secrets.joiner_secret, psk_secret(suite, []))
    info = decrypt_group_info(suite, welcome, key)
    return _WelcomeParts(g["alice"], pending.next_state, bundle, info, secrets)


def _with_tree(state: GroupState, info: GroupInfo, tree_bytes: bytes) -> GroupInfo:
    """``info`` carrying another ratchet tree, with that tree's hash in its context."""
    tree = RatchetTree.from_bytes(state.suite, tree_bytes)
    extensions = tuple(
        Extension(e.extension_type, tree_bytes)
        if e.extension_type == ExtensionType.RATCHET_TREE
        else e
        for e in info.extensions
    )
    context = dataclasses.replace(info.group_context, tree_hash=tree.tree_hash())
    return dataclasses.replace(info, group_context=context, extensions=extensions)


@settings(max_examples=150, deadline=None)
@given(edits=_EDITS, target=st.sampled_from(["tree", "group info", "group secrets"]))
def test_an_insiders_hostile_welcomes_raise_mls_errors(
    edits: list[tuple[str, int, int]], target: str
) -> None:
    parts = _welcome_parts()
    alice, bundle, info, secrets = parts.adder, parts.bundle, parts.info, parts.secrets
    suite = alice.suite
    try:
        if target == "tree":
            ext = find_extension(info.extensions, ExtensionType.RATCHET_TREE)
            assert ext is not None
            info = _with_tree(alice, info, _edit(ext.extension_data, edits))
        elif target == "group info":
            info = GroupInfo.from_bytes(_edit(info.to_bytes(), edits))
        else:
            secrets = GroupSecrets.from_bytes(_edit(secrets.to_bytes(), edits))
    except MlsError:
        return
    info = sign_group_info(suite, info, alice.signature_priv)
    key = welcome_secret(suite, secrets.joiner_secret, psk_secret(suite, []))
    encrypted = encrypt_group_info(suite, info, key)
    entry = encrypt_group_secrets(
        suite, bundle.key_package.init_key, bundle.ref, secrets, encrypted
    )
    welcome = Welcome(suite.cipher_suite, (entry,), encrypted)
    joined = _outcome(lambda: join_from_welcome(welcome, bundle))
    if joined is not None:  # only ever the real group, whatever the wrapping
        assert joined.context == parts.joined.context
        assert joined.epoch_authenticator == parts.joined.epoch_authenticator


# -- an outsider's external commit --


@cache
def _outsider() -> tuple[Members, list[tuple[Commit, bytes]], bytes]:
    g = Members.create(["alice", "bob", "carol"], seed=9)
    alice = g["alice"]
    priv, _ = alice.suite.generate_signature_key_pair(g.rng)
    joins = [
        join_by_external_commit(
            group_info(alice), Credential.basic(b"eve"), signature_priv=priv, rng=g.rng
        ),
        join_by_external_commit(
            group_info(alice),
            Credential.basic(b"bob"),
            signature_priv=priv,
            remove_leaf=1,
            rng=g.rng,
        ),
    ]
    commits = []
    for message, _ in joins:
        content, tag = _public(message)
        assert isinstance(content, Commit) and tag is not None
        commits.append((content, tag))
    return g, commits, priv


@settings(max_examples=100, deadline=None)
@given(pick=st.integers(0, 1), edits=_EDITS)
def test_an_outsiders_hostile_external_commits_raise_mls_errors(
    pick: int, edits: list[tuple[str, int, int]]
) -> None:
    g, commits, priv = _outsider()
    carol = g["carol"]
    seed, tag = commits[pick]
    try:
        mutated = Commit.from_bytes(_edit(seed.to_bytes(), edits))
    except MlsError:
        return
    joiner_key = seed.path.leaf_node.signature_key if seed.path else b""
    lands_on = (3, 1)[pick]  # the leftmost free leaf, after the resync's removal
    content = _resign(carol, mutated, {joiner_key: priv}, lands_on)
    framed = FramedContent(carol.group_id, carol.epoch, Sender.new_member_commit(), b"", content)
    signed = authenticate(
        carol.suite, PUBLIC, framed, carol.context_bytes, priv, confirmation_tag=tag
    )
    message = MLSMessage(protect_public(carol.suite, signed, carol.context_bytes, None))
    accepted = _outcome(lambda: process(carol, message, now=NOW))
    if accepted is not None:
        assert content == seed
