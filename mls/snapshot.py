"""A versioned byte serialization of a whole :class:`~mls.group_state.GroupState`.

::

    blob = dump_group(state)            # bytes for storage; holds private keys!
    state = load_group(blob)            # DecodeError if malformed or of a newer format

Layout (TLS presentation language, MLS varint vectors)::

    uint16 format_version = 1;
    uint16 cipher_suite;
    GroupContext context;  opaque ratchet_tree<V>;  opaque interim_transcript_hash<V>;
    opaque confirmation_tag<V>;  opaque epoch_secrets<V><V> (12, field order);
    SecretTree secret_tree;  TreePrivateKeys keys;  opaque signature_priv<V>;
    GroupConfig config;  CachedProposal proposals<V>;  PendingUpdate pending_updates<V>;
    PastEpoch past_epochs<V>;  bool active;  optional<ReInit> reinit;

A past epoch stores only the leaves that differ from the next newer epoch (usually a
handful), not a whole tree: retaining five epochs of a 4096-member group would
otherwise multiply the blob by six. The blob holds every secret of the group; store it
encrypted (Burrow keeps it in SQLCipher) and never log it.
"""

from __future__ import annotations

from dataclasses import fields

from mls.codec import Reader, Writer, decode_all
from mls.crypto import Suite, get_suite
from mls.errors import DecodeError, InvalidMessage, UnsupportedError, UsageError
from mls.group_state import GroupConfig, GroupState, LeafSource, PastEpoch
from mls.key_schedule import EpochSecrets
from mls.messages import (
    GroupContext,
    LeafNode,
    ReInit,
    Sender,
    WireFormat,
    pull_proposal,
    push_proposal,
)
from mls.proposals import CachedProposal
from mls.secret_tree import SecretTree
from mls.tree import RatchetTree
from mls.tree_private import TreePrivateKeys
from mls.types import LeafCount, LeafIndex

FORMAT_VERSION = 1

_SECRET_FIELDS = tuple(f.name for f in fields(EpochSecrets))


class LeafOverlay:
    """The leaves of a restored past epoch: a newer epoch's leaves plus the changes."""

    __slots__ = ("_base", "_changes", "_count")

    def __init__(self, base: LeafSource, changes: dict[int, LeafNode | None], count: int) -> None:
        self._base, self._changes, self._count = base, changes, count

    def __repr__(self) -> str:
        return f"LeafOverlay(leaves={self._count}, changed={len(self._changes)})"

    @property
    def leaf_count(self) -> LeafCount:
        return LeafCount(self._count)

    def leaf(self, i: LeafIndex) -> LeafNode | None:
        if i in self._changes:
            return self._changes[i]
        return self._base.leaf(i) if 0 <= i < self._base.leaf_count else None


def dump_group(state: GroupState) -> bytes:
    """Every part of ``state``, private keys and retained epochs included."""
    w = Writer()
    w.u16(FORMAT_VERSION)
    w.u16(state.cipher_suite)
    state.context.encode(w)
    w.opaque(state.tree.to_bytes())
    w.opaque(state.interim_transcript_hash)
    w.opaque(state.confirmation_tag)
    w.vector([getattr(state.secrets, name) for name in _SECRET_FIELDS], Writer.opaque)
    state.secret_tree.encode(w)
    state.keys.encode(w)
    w.opaque(state.signature_priv)
    _push_config(w, state.config)
    w.vector(state.proposals, _push_cached)
    w.vector(state.pending_updates, _push_pair)
    _push_past_epochs(w, state)
    w.boolean(state.active)
    w.optional(state.reinit, lambda ww, v: v.encode(ww))
    return w.getvalue()


def load_group(blob: bytes) -> GroupState:
    """Restore a state from :func:`dump_group` bytes; ``DecodeError`` if they are bad."""
    try:
        return decode_all(blob, _pull_state)
    except (UsageError, InvalidMessage, UnsupportedError, ValueError) as exc:
        raise DecodeError(f"group snapshot is inconsistent: {exc}") from None


def _pull_state(r: Reader) -> GroupState:
    version = r.u16()
    if version != FORMAT_VERSION:
        raise DecodeError(f"group snapshot format {version} is not {FORMAT_VERSION}")
    suite = get_suite(r.u16())
    context = GroupContext.decode(r)
    if context.cipher_suite != suite.cipher_suite:
        raise DecodeError("snapshot suite and group context disagree")
    tree = RatchetTree.from_bytes(suite, r.opaque())
    interim, tag = r.opaque(), r.opaque()
    values = r.vector(Reader.opaque)
    if len(values) != len(_SECRET_FIELDS):
        raise DecodeError("wrong number of epoch secrets")
    secrets = EpochSecrets(**dict(zip(_SECRET_FIELDS, values, strict=True)))
    secret_tree = SecretTree.decode(r, suite)
    keys = TreePrivateKeys.decode(r)
    signature_priv = r.opaque()
    config = _pull_config(r)
    proposals = tuple(r.vector(_pull_cached))
    pending = tuple(r.vector(_pull_pair))
    past = _pull_past_epochs(r, suite, tree)
    active = r.boolean()
    reinit = r.optional(ReInit.decode)
    return GroupState(
        suite=suite,
        context=context,
        context_bytes=context.to_bytes(),
        tree=tree,
        interim_transcript_hash=interim,
        confirmation_tag=tag,
        secrets=secrets,
        secret_tree=secret_tree,
        keys=keys,
        signature_priv=signature_priv,
        config=config,
        proposals=proposals,
        pending_updates=pending,
        past_epochs=past,
        active=active,
        reinit=reinit,
    )


def _push_config(w: Writer, config: GroupConfig) -> None:
    w.u32(config.out_of_order_tolerance)
    w.u32(config.maximum_forward_distance)
    w.u32(config.max_past_epochs)
    w.u32(config.padding)
    w.boolean(config.ratchet_tree_extension)
    w.u16(config.handshake_wire_format)
    w.u32(config.clock_skew)


def _pull_config(r: Reader) -> GroupConfig:
    tolerance, forward, past, padding = r.u32(), r.u32(), r.u32(), r.u32()
    with_tree, wire_format, skew = r.boolean(), r.u16(), r.u32()
    if wire_format not in (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE):
        raise DecodeError(f"bad handshake wire format {wire_format}")
    return GroupConfig(tolerance, forward, past, padding, with_tree, WireFormat(wire_format), skew)


def _push_cached(w: Writer, cached: CachedProposal) -> None:
    cached.sender.encode(w)
    w.optional(cached.ref, Writer.opaque)
    push_proposal(w, cached.proposal)


def _pull_cached(r: Reader) -> CachedProposal:
    sender = Sender.decode(r)
    ref = r.optional(Reader.opaque)
    return CachedProposal(pull_proposal(r), sender, ref)


def _push_pair(w: Writer, pair: tuple[bytes, bytes]) -> None:
    w.opaque(pair[0])
    w.opaque(pair[1])


def _pull_pair(r: Reader) -> tuple[bytes, bytes]:
    return r.opaque(), r.opaque()


def _push_past_epochs(w: Writer, state: GroupState) -> None:
    body = Writer()
    newer: LeafSource = state.tree
    for past in state.past_epochs:
        body.u64(past.epoch)
        body.opaque(past.group_context)
        _push_leaf_changes(body, newer, past.leaves)
        past.secret_tree.encode(body)
        for secret in (
            past.sender_data_secret,
            past.exporter_secret,
            past.resumption_psk,
            past.epoch_authenticator,
        ):
            body.opaque(secret)
        newer = past.leaves
    w.opaque(body.getvalue())


def _push_leaf_changes(w: Writer, newer: LeafSource, older: LeafSource) -> None:
    """``older``'s leaf count and every leaf in which it differs from ``newer``."""
    count, newer_count = older.leaf_count, newer.leaf_count
    w.u32(count)
    body = Writer()
    for i in range(count):
        leaf = older.leaf(LeafIndex(i))
        other = newer.leaf(LeafIndex(i)) if i < newer_count else None
        if leaf is other or leaf == other:  # identity first: versions share leaf objects
            continue
        body.u32(i)
        body.optional(leaf, lambda ww, v: v.encode(ww))
    w.opaque(body.getvalue())


def _pull_past_epochs(r: Reader, suite: Suite, tree: RatchetTree) -> tuple[PastEpoch, ...]:
    body = r.sub()
    out: list[PastEpoch] = []
    newer: LeafSource = tree
    while not body.at_end():
        epoch, context = body.u64(), body.opaque()
        count = body.u32()
        changes: dict[int, LeafNode | None] = {}
        for i, leaf in body.vector(lambda rr: (rr.u32(), rr.optional(LeafNode.decode))):
            if i >= count:
                raise DecodeError(f"past leaf {i} outside a tree of {count} leaves")
            changes[i] = leaf
        # A tree's right half holds a member, here or (unchanged) in the newer epoch:
        # this bounds ``count`` by what the blob holds (dump_group walks every leaf).
        top = max(newer.leaf_count, max(changes, default=0) + 1)
        if count & (count - 1) or not 0 < count <= 2 * top:
            raise DecodeError(f"a past epoch of {count} leaves")
        leaves = LeafOverlay(newer, changes, count)
        secret_tree = SecretTree.decode(body, suite)
        secrets = [body.opaque() for _ in range(4)]
        out.append(PastEpoch(epoch, context, leaves, secret_tree, *secrets))
        newer = leaves
    return tuple(out)
