"""The Marmot protocol (MIP-00 to MIP-05, Profile A = mdk-core 0.8), pure: built on
``mls`` and the pure part of ``nostr``; no I/O, no storage; time and randomness are
parameters.

The service layer mostly needs this surface::

    # MIP-00 KeyPackages
    bundle = create_marmot_key_package(identity, now=now)
    data = key_package_event_data(bundle.key_package, relays=[...])   # 30443 + 443 tags
    kp = parse_key_package_event(event, now=now)                      # MarmotKeyPackage
    # MIP-01/02 groups and invites
    created = create_group(identity, GroupConfig(...), [kp, ...], now=now)
    # (the kp may include our other devices' KeyPackages: each device is its own leaf)
    invite = unwrap_welcome(gift_wrap, secret)                        # WelcomeInvite
    pending = join_group(invite, bundle)                              # PendingJoin
    # MIP-03 traffic
    out = add_members(group, [kp], now=now)        # OutgoingCommit: publish, then adopt
                                                   # (a new member or another device)
    out = remove_leaves(group, [leaf], now=now)    # one device (e.g. our lost one)
    out = create_message(group, rumor, now=now)    # OutgoingMessage
    outcome = process_event(group, event, now=now) # ApplicationReceived | ProposalHandled |
                                                   # CommitApplied | StaleCommit |
                                                   # StaleProposal |
                                                   # CommitWaiting | Rejected
    # MIP-04 media, MIP-05 push: marmot.media, marmot.push

Every refusal is a :class:`MarmotError` subclass carrying a ``reason``.
"""

from __future__ import annotations

from marmot.errors import (
    AlreadyInGroup,
    InvalidGroupData,
    InvalidGroupEvent,
    InvalidKeyPackageEvent,
    InvalidMedia,
    InvalidPushMessage,
    InvalidRumor,
    InvalidWelcome,
    MarmotError,
    NotAdmin,
    PolicyViolation,
    UsageError,
)
from marmot.group import (
    GroupConfig,
    GroupCreated,
    MarmotGroup,
    PendingJoin,
    create_group,
    join_group,
)
from marmot.group_data import NostrGroupData
from marmot.inbound import (
    ApplicationReceived,
    CommitApplied,
    CommitWaiting,
    Outcome,
    ProposalHandled,
    Rejected,
    StaleCommit,
    StaleProposal,
    process_event,
)
from marmot.key_package_event import (
    KeyPackageEventData,
    MarmotKeyPackage,
    create_marmot_key_package,
    key_package_event_data,
    parse_key_package_event,
)
from marmot.operations import (
    OutgoingCommit,
    OutgoingMessage,
    OutgoingProposal,
    add_members,
    commit_pending_self_removes,
    create_message,
    leave_group,
    remove_leaves,
    remove_members,
    self_demote,
    self_update,
    update_group_data,
)
from marmot.policy import CommitOrder, ProposalAction, RaceDecision, race_decision
from marmot.welcome import WelcomeInvite, WelcomeRumor, parse_welcome_rumor, unwrap_welcome

__all__ = [
    # errors
    "AlreadyInGroup",
    "InvalidGroupData",
    "InvalidGroupEvent",
    "InvalidKeyPackageEvent",
    "InvalidMedia",
    "InvalidPushMessage",
    "InvalidRumor",
    "InvalidWelcome",
    "MarmotError",
    "NotAdmin",
    "PolicyViolation",
    "UsageError",
    # MIP-00
    "KeyPackageEventData",
    "MarmotKeyPackage",
    "create_marmot_key_package",
    "key_package_event_data",
    "parse_key_package_event",
    # MIP-01/02
    "NostrGroupData",
    "GroupConfig",
    "GroupCreated",
    "MarmotGroup",
    "PendingJoin",
    "WelcomeRumor",
    "WelcomeInvite",
    "create_group",
    "join_group",
    "parse_welcome_rumor",
    "unwrap_welcome",
    # MIP-03
    "OutgoingCommit",
    "OutgoingMessage",
    "OutgoingProposal",
    "add_members",
    "commit_pending_self_removes",
    "create_message",
    "leave_group",
    "remove_leaves",
    "remove_members",
    "self_demote",
    "self_update",
    "update_group_data",
    "ApplicationReceived",
    "CommitApplied",
    "Outcome",
    "ProposalHandled",
    "Rejected",
    "StaleCommit",
    "StaleProposal",
    "CommitWaiting",
    "process_event",
    "CommitOrder",
    "ProposalAction",
    "RaceDecision",
    "race_decision",
]
