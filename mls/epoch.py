"""Moving a group to its next epoch: shared by committers, receivers and joiners.

::

    provisional = provisional_context(state.context, tree, extensions)  # UpdatePath HPKE
    step = next_epoch(suite, provisional, interim_before, content, wire_format=...,
                      signature=..., init_secret=..., commit_secret=..., psk_secret=...)
    state = advanced_state(state, step, tree, keys)               # past epoch retained

PSKs (section 8.4) are looked up with :func:`resolve_psks`: external ones in the
caller's table (``psk_id -> psk``), resumption ones in the state's own retained epochs
or in the caller's ``(group_id, epoch) -> psk`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from mls.crypto import Suite
from mls.errors import InvalidMessage
from mls.group_state import GroupState
from mls.key_schedule import EpochSecrets, psk_secret
from mls.messages import Extension, FramedContent, GroupContext, PreSharedKeyID, PSKType, WireFormat
from mls.proposals import ProposalRules
from mls.transcript import (
    confirmation_tag,
    confirmed_transcript_hash,
    interim_transcript_hash,
)
from mls.tree import RatchetTree
from mls.tree_private import TreePrivateKeys
from mls.tree_validation import CredentialValidator

ExternalPsks = Mapping[bytes, bytes]
"""External PSKs by ``psk_id``."""
ResumptionPsks = Mapping[tuple[bytes, int], bytes]
"""Resumption PSKs of other groups by ``(group_id, epoch)``."""

_NO_PSKS: Mapping[bytes, bytes] = {}
_NO_RESUMPTION: Mapping[tuple[bytes, int], bytes] = {}


@dataclass(frozen=True, slots=True)
class EpochStep:
    """The new epoch's GroupContext, secrets and transcript values."""

    context: GroupContext
    context_bytes: bytes = field(repr=False)
    secrets: EpochSecrets = field(repr=False)
    confirmation_tag: bytes = field(repr=False)
    interim_transcript_hash: bytes = field(repr=False)


def provisional_context(
    c: GroupContext, tree: RatchetTree, extensions: Sequence[Extension]
) -> GroupContext:
    """Section 12.4.1/12.4.2: the context after ``c`` with the new tree hash and
    extensions but the old confirmed hash, used to encrypt and decrypt the UpdatePath."""
    return GroupContext(
        c.version,
        c.cipher_suite,
        c.group_id,
        c.epoch + 1,
        tree.tree_hash(),
        c.confirmed_transcript_hash,
        tuple(extensions),
    )


def next_epoch(
    suite: Suite,
    provisional: GroupContext,
    interim_before: bytes,
    content: FramedContent,
    *,
    wire_format: WireFormat,
    signature: bytes,
    init_secret: bytes,
    commit_secret: bytes,
    psk_secret: bytes,
) -> EpochStep:
    """Transcript hash, key schedule and confirmation tag of the epoch a commit starts."""
    confirmed = confirmed_transcript_hash(suite, interim_before, wire_format, content, signature)
    context = replace(provisional, confirmed_transcript_hash=confirmed)
    context_bytes = context.to_bytes()
    secrets = EpochSecrets.advance(suite, init_secret, commit_secret, psk_secret, context_bytes)
    tag = confirmation_tag(suite, secrets.confirmation_key, confirmed)
    interim = interim_transcript_hash(suite, confirmed, tag)
    return EpochStep(context, context_bytes, secrets, tag, interim)


def advanced_state(
    state: GroupState, step: EpochStep, tree: RatchetTree, keys: TreePrivateKeys
) -> GroupState:
    """``state`` moved to ``step``'s epoch; the epoch left behind becomes a past epoch."""
    config = state.config
    past = (state.as_past_epoch(), *state.past_epochs)[: config.max_past_epochs]
    return replace(
        state,
        context=step.context,
        context_bytes=step.context_bytes,
        tree=tree,
        interim_transcript_hash=step.interim_transcript_hash,
        confirmation_tag=step.confirmation_tag,
        secrets=step.secrets,
        secret_tree=config.new_secret_tree(
            state.suite, step.secrets.encryption_secret, tree.leaf_count
        ),
        keys=keys,
        proposals=(),
        pending_updates=(),
        past_epochs=past,
    )


def find_psk(
    psk: PreSharedKeyID,
    state: GroupState | None,
    external: ExternalPsks,
    resumption: ResumptionPsks,
) -> bytes | None:
    """The value of one PSK, or None when we do not have it."""
    if psk.psktype == PSKType.EXTERNAL:
        return external.get(psk.psk_id)
    if state is not None and psk.psk_group_id == state.group_id:
        return state.resumption_psk(psk.psk_epoch)
    return resumption.get((psk.psk_group_id, psk.psk_epoch))


def proposal_rules(
    state: GroupState,
    *,
    now: int | None,
    psks: ExternalPsks | None,
    resumption_psks: ResumptionPsks | None,
    validate_credential: CredentialValidator | None = None,
) -> ProposalRules:
    """The proposal checks of ``state``'s epoch: a PSK is known when :func:`find_psk`
    finds it in the caller's tables or in our retained epochs."""
    external, resumption = psks or _NO_PSKS, resumption_psks or _NO_RESUMPTION

    def known(psk: PreSharedKeyID) -> bool:
        return find_psk(psk, state, external, resumption) is not None

    return ProposalRules(
        state.suite,
        state.tree,
        state.context,
        now=now,
        psk_known=known,
        clock_skew=state.config.clock_skew,
        validate_credential=validate_credential,
    )


def resolve_psks(
    suite: Suite,
    psks: Sequence[PreSharedKeyID],
    state: GroupState | None,
    external: ExternalPsks | None,
    resumption: ResumptionPsks | None,
) -> bytes:
    """``psk_secret`` (section 8.4) of ``psks`` in order; a missing PSK is refused."""
    values = []
    for psk in psks:
        value = find_psk(psk, state, external or _NO_PSKS, resumption or _NO_RESUMPTION)
        if value is None:
            raise InvalidMessage("a PSK of this commit or Welcome is not known")
        values.append((psk, value))
    return psk_secret(suite, values)
