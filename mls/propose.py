"""Creating a group and sending proposals (RFC 9420 sections 11 and 12.1).

::

    state = create_group(cs, credential, now=now)            # a one-member group, epoch 0
    message, state = propose(state, Remove(3))               # any proposal
    message, state = propose_add(state, key_package)
    message, state = propose_update(state)                   # fresh leaf encryption key
    message, state = propose_self_remove(state)              # always a PublicMessage
    message = external_proposal(cs, group_id, epoch, Remove(3), signature_priv=k,
                                sender_index=0)              # an external sender's

A sent proposal enters our own proposal cache, so our next commit covers it and a
commit by someone else that references it resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from mls.crypto import DEFAULT_RNG, get_suite
from mls.errors import UsageError
from mls.extensions import check_extension_list, required_capabilities, supports_required
from mls.framing import authenticate
from mls.group_framing import protect
from mls.group_state import GroupConfig, GroupState
from mls.key_package import (
    KeyPackageBundle,
    create_key_package,
    default_capabilities,
    sign_leaf_node,
)
from mls.key_schedule import EpochSecrets
from mls.messages import (
    DEFAULT_EXTENSION_TYPES,
    Add,
    Capabilities,
    Credential,
    Extension,
    FramedContent,
    GroupContext,
    KeyPackage,
    LeafNode,
    LeafNodeSource,
    MLSMessage,
    Proposal,
    ProtocolVersion,
    PublicMessage,
    SelfRemove,
    Sender,
    Update,
    WireFormat,
)
from mls.proposals import CachedProposal, ProposalRules
from mls.refs import proposal_ref
from mls.transcript import confirmation_tag, interim_transcript_hash
from mls.tree import RatchetTree
from mls.tree_private import TreePrivateKeys
from mls.types import LeafIndex, Rng


def create_group(
    cipher_suite: int,
    credential: Credential,
    *,
    now: int,
    key_package: KeyPackageBundle | None = None,
    signature_priv: bytes | None = None,
    group_id: bytes | None = None,
    extensions: Sequence[Extension] = (),
    capabilities: Capabilities | None = None,
    config: GroupConfig | None = None,
    rng: Rng = DEFAULT_RNG,
) -> GroupState:
    """A new group with us as its only member, at epoch 0 (section 11).

    Our leaf comes from ``key_package`` or from a fresh one for ``credential``.
    ``group_id`` defaults to 16 random bytes. ``extensions`` become the GroupContext
    extensions (unknown ones carried as they are); our leaf must support them.
    """
    suite = get_suite(cipher_suite)
    if key_package is None:
        if capabilities is None:
            used = [e.extension_type for e in extensions]
            capabilities = default_capabilities(cipher_suite, credential.credential_type, used)
        key_package = create_key_package(
            cipher_suite,
            credential,
            now=now,
            signature_priv=signature_priv,
            capabilities=capabilities,
            rng=rng,
        )
    leaf = key_package.key_package.leaf_node
    _check_own_support(leaf, extensions)
    tree = RatchetTree.create(suite, leaf)
    context = GroupContext(
        ProtocolVersion.MLS10,
        cipher_suite,
        rng(16) if group_id is None else group_id,
        0,
        tree.tree_hash(),
        b"",
        tuple(extensions),
    )
    zero = bytes(suite.nh)
    secrets = EpochSecrets.advance(suite, rng(suite.nh), zero, zero, context.to_bytes())
    tag = confirmation_tag(suite, secrets.confirmation_key, b"")
    return GroupState.start(
        suite,
        context,
        tree,
        interim_transcript_hash=interim_transcript_hash(suite, b"", tag),
        confirmation_tag=tag,
        secrets=secrets,
        keys=TreePrivateKeys(LeafIndex(0), key_package.private.encryption_priv),
        signature_priv=key_package.private.signature_priv,
        config=config or GroupConfig(),
    )


def _check_own_support(leaf: LeafNode, extensions: Sequence[Extension]) -> None:
    check_extension_list(extensions)
    caps = leaf.capabilities
    for ext in extensions:
        t = ext.extension_type
        if t not in DEFAULT_EXTENSION_TYPES and t not in caps.extensions:
            raise UsageError(f"our leaf does not list extension 0x{t:04x} in its capabilities")
    required = required_capabilities(extensions)
    if required is not None and not supports_required(caps, required):
        raise UsageError("our leaf does not meet the group's required capabilities")


def propose(
    state: GroupState,
    proposal: Proposal,
    *,
    wire_format: WireFormat | None = None,
    authenticated_data: bytes = b"",
    now: int | None = None,
    rng: Rng = DEFAULT_RNG,
) -> tuple[MLSMessage, GroupState]:
    """Send ``proposal`` as ourselves; it is checked like a received one first."""
    state.require_active()
    sender = Sender.member(state.own_leaf)
    rules = ProposalRules(
        state.suite,
        state.tree,
        state.context,
        now=now,
        psk_known=lambda _psk: True,  # our own PSK proposals: the caller holds the key
        clock_skew=state.config.clock_skew,
    )
    rules.check_proposal(proposal, sender)
    framed = FramedContent(state.group_id, state.epoch, sender, authenticated_data, proposal)
    signed = authenticate(
        state.suite,
        wire_format or state.config.handshake_wire_format,
        framed,
        state.context_bytes,
        state.signature_priv,
    )
    message, secret_tree = protect(state, signed, rng=rng)
    ref = proposal_ref(state.suite, signed)
    cached = (*state.proposals, CachedProposal(proposal, sender, ref))
    return message, replace(state, secret_tree=secret_tree, proposals=cached)


def propose_add(
    state: GroupState, key_package: KeyPackage, *, now: int | None = None, rng: Rng = DEFAULT_RNG
) -> tuple[MLSMessage, GroupState]:
    return propose(state, Add(key_package), now=now, rng=rng)


def propose_self_remove(
    state: GroupState, *, rng: Rng = DEFAULT_RNG
) -> tuple[MLSMessage, GroupState]:
    """Leave (MLS extensions draft): a SelfRemove proposal, always as a PublicMessage so
    that external joiners can include it too."""
    return propose(state, SelfRemove(), wire_format=WireFormat.PUBLIC_MESSAGE, rng=rng)


def propose_update(
    state: GroupState,
    *,
    capabilities: Capabilities | None = None,
    extensions: Sequence[Extension] | None = None,
    wire_format: WireFormat | None = None,
    rng: Rng = DEFAULT_RNG,
) -> tuple[MLSMessage, GroupState]:
    """An Update with a fresh leaf encryption key (section 12.1.2); its private key is
    kept until a commit applies the proposal or the epoch ends."""
    current = state.tree.leaf(state.own_leaf)
    assert current is not None
    private, public = state.suite.generate_hpke_key_pair(rng)
    unsigned = LeafNode(
        public,
        current.signature_key,
        current.credential,
        current.capabilities if capabilities is None else capabilities,
        LeafNodeSource.UPDATE,
        current.extensions if extensions is None else tuple(extensions),
        b"",
    )
    leaf = sign_leaf_node(
        state.suite, unsigned, state.signature_priv, state.group_id, state.own_leaf
    )
    message, new_state = propose(state, Update(leaf), wire_format=wire_format, rng=rng)
    ref = new_state.proposals[-1].ref
    assert ref is not None
    pending = (*new_state.pending_updates, (ref, private))
    return message, replace(new_state, pending_updates=pending)


def external_proposal(
    cipher_suite: int,
    group_id: bytes,
    epoch: int,
    proposal: Proposal,
    *,
    signature_priv: bytes,
    sender_index: int | None = None,
    authenticated_data: bytes = b"",
) -> MLSMessage:
    """A proposal from outside the group, as a PublicMessage (section 12.1.8).

    With ``sender_index`` it comes from that entry of the group's ``external_senders``
    extension; without, it is a new member asking to join (its own Add).
    """
    if sender_index is None:
        if not isinstance(proposal, Add):
            raise UsageError("a new member may only propose its own Add")
        sender = Sender.new_member_proposal()
    else:
        sender = Sender.external(sender_index)
    framed = FramedContent(group_id, epoch, sender, authenticated_data, proposal)
    signed = authenticate(
        get_suite(cipher_suite), WireFormat.PUBLIC_MESSAGE, framed, b"", signature_priv
    )
    return MLSMessage(PublicMessage(framed, signed.auth))
