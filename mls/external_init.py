"""GroupInfo for outsiders and joining by external commit (RFC 9420 sections 8.3, 12.4.3.2).

::

    info = group_info(state)                       # MLSMessage(GroupInfo) with external_pub
    message, state = join_by_external_commit(info, credential, now=now)

A joiner encapsulates to the epoch's ``external_pub``; both sides derive the new epoch's
``init_secret`` as the HPKE export ``"MLS 1.0 external init secret"``. The commit is a
PublicMessage from a ``new_member_commit`` sender carrying ExternalInit (and, for a
resync, a Remove of the joiner's old leaf) and an UpdatePath from the leaf it takes.
Pending SelfRemove proposals are not folded into our external commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mls.crypto import DEFAULT_RNG, Suite, get_suite
from mls.epoch import ExternalPsks, ResumptionPsks, next_epoch, provisional_context, resolve_psks
from mls.errors import InvalidMessage, UsageError
from mls.extensions import external_pub, required_capabilities
from mls.framing import protect_public, sign_framed_content
from mls.group_state import GroupConfig, GroupState
from mls.key_package import default_capabilities
from mls.messages import (
    AuthenticatedContent,
    Capabilities,
    Commit,
    Credential,
    Extension,
    ExternalInit,
    FramedContent,
    FramedContentAuthData,
    GroupContext,
    GroupInfo,
    LeafNode,
    LeafNodeSource,
    MLSMessage,
    PreSharedKey,
    PreSharedKeyID,
    Proposal,
    ProposalOrRef,
    Remove,
    Sender,
    UpdatePath,
    WireFormat,
)
from mls.proposal_effects import apply_proposals
from mls.proposals import CachedProposal, ProposalRules
from mls.transcript import interim_transcript_hash
from mls.tree import RatchetTree
from mls.tree_validation import CredentialValidator, validate_tree
from mls.treekem import PreparedPath, create_update_path, encrypt_path_secrets
from mls.types import LeafIndex, Rng
from mls.welcome import group_info_extensions, signed_group_info, tree_of
from mls.welcome_crypto import verify_group_info

EXTERNAL_INIT_LABEL = b"MLS 1.0 external init secret"


def receive_external_init(state: GroupState, proposal: ExternalInit) -> bytes:
    """The ``init_secret`` an external joiner's ExternalInit sets (section 8.3)."""
    private, _ = state.secrets.external_key_pair(state.suite)
    return state.suite.hpke_export_receiver(
        proposal.kem_output, private, b"", EXTERNAL_INIT_LABEL, state.suite.nh
    )


def group_info(state: GroupState, *, ratchet_tree: bool = True) -> MLSMessage:
    """Our signed GroupInfo of the current epoch, with ``external_pub`` (and the tree)."""
    extensions = group_info_extensions(state, tree=ratchet_tree, external_pub=True)
    return MLSMessage(signed_group_info(state, extensions))


@dataclass(frozen=True, slots=True)
class _Join:
    """Everything an external commit is made from."""

    info: GroupInfo
    tree: RatchetTree
    template: LeafNode
    signature_priv: bytes = field(repr=False)
    proposals: tuple[Proposal, ...]
    init_secret: bytes = field(repr=False)
    psk_secret: bytes = field(repr=False)
    authenticated_data: bytes


def join_by_external_commit(
    info: GroupInfo | MLSMessage,
    credential: Credential,
    *,
    signature_priv: bytes | None = None,
    capabilities: Capabilities | None = None,
    leaf_extensions: Sequence[Extension] = (),
    ratchet_tree: bytes | RatchetTree | None = None,
    remove_leaf: int | None = None,
    psk_ids: Sequence[PreSharedKeyID] = (),
    psks: ExternalPsks | None = None,
    resumption_psks: ResumptionPsks | None = None,
    authenticated_data: bytes = b"",
    config: GroupConfig | None = None,
    validate_credential: CredentialValidator | None = None,
    rng: Rng = DEFAULT_RNG,
) -> tuple[MLSMessage, GroupState]:
    """Join the group of ``info`` by committing ourselves in (section 12.4.3.2).

    ``remove_leaf`` replaces an old leaf of ours (a resync; same credential required).
    Returns the commit to send and our state in the new epoch.
    """
    info = _group_info_of(info)
    suite = get_suite(info.group_context.cipher_suite)
    tree = _verified_tree(suite, info, ratchet_tree, validate_credential)
    pub = external_pub(info.extensions)
    if pub is None:
        raise InvalidMessage("the GroupInfo has no external_pub")
    if signature_priv is None:
        signature_priv, _ = suite.generate_signature_key_pair(rng)
    if capabilities is None:
        used = [e.extension_type for e in (*info.group_context.extensions, *leaf_extensions)]
        capabilities = default_capabilities(suite.cipher_suite, credential.credential_type, used)
    template = LeafNode(  # create_update_path sets the key and the parent hash
        b"",
        suite.signature_public_key(signature_priv),
        credential,
        capabilities,
        LeafNodeSource.COMMIT,
        tuple(leaf_extensions),
        b"",
        parent_hash=b"",
    )
    kem_output, init_secret = suite.hpke_export_sender(pub, b"", EXTERNAL_INIT_LABEL, suite.nh, rng)
    proposals: list[Proposal] = [ExternalInit(kem_output)]
    if remove_leaf is not None:
        proposals.append(Remove(remove_leaf))
    proposals += [PreSharedKey(p) for p in psk_ids]
    join = _Join(
        info,
        tree,
        template,
        signature_priv,
        tuple(proposals),
        init_secret,
        resolve_psks(suite, psk_ids, None, psks, resumption_psks),
        authenticated_data,
    )
    return _commit_in(suite, join, config or GroupConfig(), rng)


def _group_info_of(info: GroupInfo | MLSMessage) -> GroupInfo:
    if isinstance(info, GroupInfo):
        return info
    if not isinstance(info.body, GroupInfo):
        raise UsageError("not a GroupInfo message")
    return info.body


def _verified_tree(
    suite: Suite,
    info: GroupInfo,
    supplied: bytes | RatchetTree | None,
    validate_credential: CredentialValidator | None,
) -> RatchetTree:
    tree = tree_of(suite, info, supplied)
    signer = tree.leaf(LeafIndex(info.signer)) if info.signer < tree.leaf_count else None
    if signer is None:
        raise InvalidMessage("the GroupInfo signer is not a member")
    verify_group_info(suite, info, signer.signature_key)
    context = info.group_context
    validate_tree(
        tree,
        group_id=context.group_id,
        tree_hash=context.tree_hash,
        required_capabilities=required_capabilities(context.extensions),
        validate_credential=validate_credential,
    )
    return tree


def _commit_in(
    suite: Suite, join: _Join, config: GroupConfig, rng: Rng
) -> tuple[MLSMessage, GroupState]:
    context = join.info.group_context
    sender = Sender.new_member_commit()
    rules = ProposalRules(suite, join.tree, context, now=None, psk_known=lambda _p: True)
    covered = [CachedProposal(p, sender) for p in join.proposals]
    rules.check_list(covered, sender, joiner_leaf=join.template)
    effects = apply_proposals(rules, covered)
    reserved, me = effects.tree.reserve_leaf()
    prepared = create_update_path(
        reserved,
        me,
        group_id=context.group_id,
        signature_private_key=join.signature_priv,
        leaf_template=join.template,
        rng=rng,
    )
    provisional = provisional_context(context, prepared.tree, effects.extensions)
    path = encrypt_path_secrets(prepared, provisional.to_bytes(), rng=rng)
    return _sign_in(suite, join, prepared, provisional, path=path, config=config)


def _sign_in(
    suite: Suite,
    join: _Join,
    prepared: PreparedPath,
    provisional: GroupContext,
    *,
    path: UpdatePath,
    config: GroupConfig,
) -> tuple[MLSMessage, GroupState]:
    """Frame, sign and confirm the external commit; our state in the new epoch."""
    info, context, sender = join.info, join.info.group_context, Sender.new_member_commit()
    body = Commit(tuple(ProposalOrRef.of_proposal(p) for p in join.proposals), path)
    framed = FramedContent(context.group_id, context.epoch, sender, join.authenticated_data, body)
    wf = WireFormat.PUBLIC_MESSAGE
    context_bytes = context.to_bytes()
    signature = sign_framed_content(suite, wf, framed, context_bytes, join.signature_priv)
    step = next_epoch(
        suite,
        provisional,
        interim_transcript_hash(suite, context.confirmed_transcript_hash, info.confirmation_tag),
        framed,
        wire_format=wf,
        signature=signature,
        init_secret=join.init_secret,
        commit_secret=prepared.commit_secret,
        psk_secret=join.psk_secret,
    )
    auth = FramedContentAuthData(signature, step.confirmation_tag)
    content = AuthenticatedContent(wf, framed, auth)
    message = MLSMessage(protect_public(suite, content, context_bytes, None))
    state = GroupState.start(
        suite,
        step.context,
        prepared.tree,
        interim_transcript_hash=step.interim_transcript_hash,
        confirmation_tag=step.confirmation_tag,
        secrets=step.secrets,
        keys=prepared.private,
        signature_priv=join.signature_priv,
        config=config,
    )
    return message, state
