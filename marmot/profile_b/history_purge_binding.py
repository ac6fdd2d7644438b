"""A history-purge request bound to the group state it was made against (component
0x800d): what ``history_purge`` reads from an MLS state, and the check that a request's
binding is that state's.

From the candidate parent state:

- capability leaves: every nonblank leaf in leaf order, its account, whether its
  capabilities list the ``app_ephemeral`` (0x0009) and ``app_data_update`` (0x0008)
  proposals and its ``app_components`` list 0x800d; the request is possible only when
  all three hold for every leaf (an old client is never counted as consenting);
- members: the sorted unique accounts of those leaves;
- ``parent_group_context_hash``: SHA-256 of the GroupContext's TLS serialization;
- prior retention: the 0x8005 value when the GroupContext has that component, else absent.
"""

from __future__ import annotations

import dataclasses

from marmot.primitives import sha256
from marmot.profile_b.components import ComponentId, MessageRetention
from marmot.profile_b.history_purge import (
    CapabilityLeaf,
    InvalidHistoryPurge,
    RequestCore,
    capability_state_hash,
)
from marmot.profile_b.leaf_data import advertised_app_components
from mls.app_data import app_data_dictionary
from mls.group_state import GroupState
from mls.messages.codepoints import ProposalType

__all__ = ["APP_EPHEMERAL", "capability_leaves", "check_binding", "request_core_for"]

APP_EPHEMERAL = 0x0009  # MLS extensions draft's suggested value; mls/ does not send it yet
COMPONENT_ID = 0x800D


def capability_leaves(state: GroupState) -> tuple[CapabilityLeaf, ...]:
    leaves = []
    for member in state.members():
        proposals = member.leaf_node.capabilities.proposals
        leaves.append(
            CapabilityLeaf(
                int(member.leaf_index),
                member.credential.identity,
                APP_EPHEMERAL in proposals,
                ProposalType.APP_DATA_UPDATE in proposals,
                COMPONENT_ID in advertised_app_components(member.leaf_node),
            )
        )
    return tuple(leaves)


def _prior_retention(state: GroupState) -> int | None:
    dictionary = app_data_dictionary(state.extensions)
    raw = None if dictionary is None else dictionary.as_dict().get(ComponentId.MESSAGE_RETENTION)
    return None if raw is None else MessageRetention.decode(raw).disappearing_message_secs


def request_core_for(
    state: GroupState,
    proposer: bytes,
    *,
    created_at: int,
    expires_at: int,
    target_retention_secs: int,
) -> RequestCore:
    """The request core for ``state`` as the candidate parent; refuses a group where some
    leaf cannot take part."""
    leaves = capability_leaves(state)
    if not all(leaf.supported for leaf in leaves):
        raise InvalidHistoryPurge("every leaf must support app_ephemeral, app_data_update, 0x800d")
    return RequestCore(
        state.group_id,
        state.epoch,
        sha256(state.context_bytes),
        proposer,
        created_at,
        expires_at,
        _prior_retention(state),
        target_retention_secs,
        tuple(sorted({leaf.account for leaf in leaves})),
        capability_state_hash(leaves),
    )


def check_binding(core: RequestCore, state: GroupState) -> None:
    """Raise unless ``core`` was made against ``state`` exactly (group, epoch, context
    hash, cohort, capability digest, prior retention) and every leaf supports it."""
    expected = request_core_for(
        state,
        core.proposer,
        created_at=core.created_at,
        expires_at=core.expires_at,
        target_retention_secs=core.target_retention_secs,
    )
    for f in dataclasses.fields(RequestCore):
        if getattr(core, f.name) != getattr(expected, f.name):
            raise InvalidHistoryPurge(f"the request's {f.name} is not the parent state's")
