"""Framing for the group engine: our outgoing content, and who signed incoming content.

Outgoing content is signed with the current GroupContext and goes out as a
PublicMessage (membership tag) or a PrivateMessage (the epoch's handshake or application
ratchet). The secret tree is copied before a key is taken, so the state we were given
stays valid; the copy goes into the state we return.
"""

from __future__ import annotations

from mls.crypto import DEFAULT_RNG
from mls.errors import InvalidMessage
from mls.extensions import external_senders
from mls.framing import protect_private, protect_public
from mls.group_state import GroupState, LeafSource
from mls.messages import (
    Add,
    AuthenticatedContent,
    Commit,
    Credential,
    FramedContent,
    MLSMessage,
    SenderType,
    WireFormat,
)
from mls.secret_tree import SecretTree
from mls.types import LeafIndex, Rng


def protect(
    state: GroupState, content: AuthenticatedContent, *, rng: Rng = DEFAULT_RNG
) -> tuple[MLSMessage, SecretTree]:
    """Frame signed content of the current epoch; returns the message and the secret tree
    to keep (a fresh copy if a ratchet moved, else the state's own)."""
    if content.wire_format == WireFormat.PUBLIC_MESSAGE:
        message = protect_public(
            state.suite, content, state.context_bytes, state.secrets.membership_key
        )
        return MLSMessage(message), state.secret_tree
    tree = state.secret_tree.fork(state.own_leaf)
    private = protect_private(
        state.suite,
        content,
        tree,
        state.secrets.sender_data_secret,
        padding=state.config.padding,
        rng=rng,
    )
    return MLSMessage(private), tree


def member_leaf(leaves: LeafSource, leaf_index: int | None) -> tuple[LeafIndex, bytes, Credential]:
    """A member sender's leaf index, signature key and credential; a blank or
    out-of-range leaf is the peer's error."""
    if leaf_index is None or not 0 <= leaf_index < leaves.leaf_count:
        raise InvalidMessage(f"sender leaf {leaf_index} is outside the tree")
    leaf = leaves.leaf(LeafIndex(leaf_index))
    if leaf is None:
        raise InvalidMessage(f"sender leaf {leaf_index} is not a member")
    return LeafIndex(leaf_index), leaf.signature_key, leaf.credential


def sender_key(state: GroupState, framed: FramedContent) -> tuple[bytes, Credential]:
    """Signature key and credential of the sender of current-epoch content (section 6)."""
    sender = framed.sender
    kind = sender.sender_type
    if kind == SenderType.MEMBER:
        _, key, credential = member_leaf(state.tree, sender.leaf_index)
        return key, credential
    if kind == SenderType.EXTERNAL:
        senders = external_senders(state.extensions)
        index = sender.sender_index
        if index is None or index >= len(senders):
            raise InvalidMessage(f"external sender {index} is not in the group's list")
        return senders[index].signature_key, senders[index].credential
    content = framed.content
    if kind == SenderType.NEW_MEMBER_PROPOSAL and isinstance(content, Add):
        leaf = content.key_package.leaf_node
        return leaf.signature_key, leaf.credential
    if kind == SenderType.NEW_MEMBER_COMMIT and isinstance(content, Commit) and content.path:
        leaf = content.path.leaf_node
        return leaf.signature_key, leaf.credential
    raise InvalidMessage(f"a {kind.name} sender may not send this content")
