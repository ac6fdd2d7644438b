"""Processing received group messages (RFC 9420 sections 6, 12.1, 12.4.2).

::

    result, state = process(state, message, now=now, psks=external_psks)

``result`` is an :class:`~mls.group_events.ApplicationMessage`, a
:class:`~mls.group_events.ProposalReceived` or a :class:`~mls.group_events.CommitProcessed`;
``state`` is the next state to keep. The input state is never changed, so a message that
fails (any :class:`~mls.errors.MlsError`) leaves the caller where it was.

Both wire formats are accepted for handshakes (Marmot's MIXED policy). Application
messages of a retained past epoch still decrypt; handshakes must be of the current epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mls.epoch import (
    ExternalPsks,
    ResumptionPsks,
    proposal_rules,
)
from mls.errors import InvalidMessage
from mls.framing import decrypt_sender_data, unprotect_private, unprotect_public
from mls.group_events import (
    ApplicationMessage,
    ProcessResult,
    ProposalReceived,
)
from mls.group_framing import member_leaf, sender_key
from mls.group_state import GroupState
from mls.messages import (
    AuthenticatedContent,
    Commit,
    ContentType,
    Credential,
    MLSMessage,
    PrivateMessage,
    Proposal,
    PublicMessage,
    Sender,
    SenderType,
)
from mls.process_commit import process_commit
from mls.proposals import CachedProposal, ProposalRules
from mls.refs import proposal_ref
from mls.secret_tree import SecretTree
from mls.tree_validation import CredentialValidator
from mls.types import LeafIndex


@dataclass(frozen=True, slots=True)
class _Inputs:
    now: int | None
    psks: ExternalPsks | None
    resumption_psks: ResumptionPsks | None
    validate_credential: CredentialValidator | None


def process(
    state: GroupState,
    message: MLSMessage | bytes,
    *,
    now: int | None = None,
    psks: ExternalPsks | None = None,
    resumption_psks: ResumptionPsks | None = None,
    validate_credential: CredentialValidator | None = None,
) -> tuple[ProcessResult, GroupState]:
    """Process one PublicMessage or PrivateMessage; see the module docstring.

    ``now`` enables lifetime checks of KeyPackages in Add proposals; ``psks`` holds the
    external PSKs by id; ``validate_credential`` is the application's credential check.
    """
    if isinstance(message, bytes):
        message = MLSMessage.from_bytes(message)
    inputs = _Inputs(now, psks, resumption_psks, validate_credential)
    body = message.body
    if isinstance(body, PrivateMessage):
        return _private(state, body, inputs)
    if isinstance(body, PublicMessage):
        return _public(state, body, inputs)
    raise InvalidMessage(f"a {message.wire_format.name} is not a group message")


def _check_group(state: GroupState, group_id: bytes) -> None:
    if group_id != state.group_id:
        raise InvalidMessage("the message belongs to another group")


def _wrong_epoch(state: GroupState, epoch: int) -> InvalidMessage:
    return InvalidMessage(f"message of epoch {epoch}, the group is at epoch {state.epoch}")


def _private(
    state: GroupState, message: PrivateMessage, inputs: _Inputs
) -> tuple[ProcessResult, GroupState]:
    _check_group(state, message.group_id)
    if message.epoch != state.epoch:
        if message.content_type == ContentType.APPLICATION:
            return _past_application(state, message)
        raise _wrong_epoch(state, message.epoch)
    tree = _fork(state.secret_tree, message, state.secrets.sender_data_secret, state)
    content = unprotect_private(
        state.suite,
        message,
        tree,
        state.secrets.sender_data_secret,
        state.context_bytes,
        signature_key=lambda framed: member_leaf(state.tree, framed.sender.leaf_index)[1],
    )
    return _dispatch(replace(state, secret_tree=tree), content, inputs)


def _past_application(
    state: GroupState, message: PrivateMessage
) -> tuple[ProcessResult, GroupState]:
    """A late application message of a retained past epoch."""
    past = state.past_epoch(message.epoch)
    if past is None:
        raise _wrong_epoch(state, message.epoch)
    tree = _fork(past.secret_tree, message, past.sender_data_secret, state)
    content = unprotect_private(
        state.suite,
        message,
        tree,
        past.sender_data_secret,
        past.group_context,
        signature_key=lambda framed: member_leaf(past.leaves, framed.sender.leaf_index)[1],
    )
    framed = content.content
    leaf, _, credential = member_leaf(past.leaves, framed.sender.leaf_index)
    assert isinstance(framed.content, bytes)
    result = ApplicationMessage(
        message.epoch, leaf, credential, framed.content, framed.authenticated_data
    )
    pasts = tuple(replace(p, secret_tree=tree) if p is past else p for p in state.past_epochs)
    return result, replace(state, past_epochs=pasts)


def _fork(
    tree: SecretTree, message: PrivateMessage, sender_data_secret: bytes, state: GroupState
) -> SecretTree:
    """Copy on write: the secret tree with its own copy of the sender's ratchets, so a
    failure (or the caller keeping the old state) leaves ``state`` as it was."""
    sender = decrypt_sender_data(state.suite, message, sender_data_secret)
    return tree.fork(sender.leaf_index)


def _public(
    state: GroupState, message: PublicMessage, inputs: _Inputs
) -> tuple[ProcessResult, GroupState]:
    framed = message.content
    _check_group(state, framed.group_id)
    if framed.epoch != state.epoch:
        raise _wrong_epoch(state, framed.epoch)
    key, _ = sender_key(state, framed)
    content = unprotect_public(
        state.suite,
        message,
        state.context_bytes,
        state.secrets.membership_key,
        signature_key=lambda _framed: key,
    )
    return _dispatch(state, content, inputs)


def _dispatch(
    state: GroupState, content: AuthenticatedContent, inputs: _Inputs
) -> tuple[ProcessResult, GroupState]:
    framed = content.content
    sender = framed.sender
    if sender.sender_type == SenderType.MEMBER and sender.leaf_index == state.own_leaf:
        raise InvalidMessage("the message is our own")
    body = framed.content
    if isinstance(body, bytes):
        leaf, _, credential = member_leaf(state.tree, sender.leaf_index)
        return ApplicationMessage(
            state.epoch, leaf, credential, body, framed.authenticated_data
        ), state
    if not state.active or state.reinit is not None:
        raise InvalidMessage("the group takes no more handshake messages")
    if isinstance(body, Commit):
        return process_commit(
            state,
            content,
            _rules(state, inputs),
            psks=inputs.psks,
            resumption_psks=inputs.resumption_psks,
            validate_credential=inputs.validate_credential,
        )
    return _proposal(state, content, body, inputs)


def _rules(state: GroupState, inputs: _Inputs) -> ProposalRules:
    return proposal_rules(
        state,
        now=inputs.now,
        psks=inputs.psks,
        resumption_psks=inputs.resumption_psks,
        validate_credential=inputs.validate_credential,
    )


def _proposal(
    state: GroupState, content: AuthenticatedContent, proposal: Proposal, inputs: _Inputs
) -> tuple[ProcessResult, GroupState]:
    framed = content.content
    sender = framed.sender
    _rules(state, inputs).check_proposal(proposal, sender)
    ref = proposal_ref(state.suite, content)
    cached = state.proposals
    if all(p.ref != ref for p in cached):
        cached = (*cached, CachedProposal(proposal, sender, ref))
    leaf, credential = _sender_identity(state, framed.sender, content)
    result = ProposalReceived(
        state.epoch,
        ref,
        proposal,
        sender,
        leaf,
        credential,
        content.wire_format,
        framed.authenticated_data,
    )
    return result, replace(state, proposals=cached)


def _sender_identity(
    state: GroupState, sender: Sender, content: AuthenticatedContent
) -> tuple[LeafIndex | None, Credential]:
    if sender.sender_type == SenderType.MEMBER:
        leaf, _, credential = member_leaf(state.tree, sender.leaf_index)
        return leaf, credential
    return None, sender_key(state, content.content)[1]
