"""RFC 9420 Messaging Layer Security, pure: bytes in, bytes out; no I/O.

The group engine's API is documented in :mod:`mls.group`; wire structs live in
:mod:`mls.messages`, the suites' cryptography in :mod:`mls.crypto`.
"""

from __future__ import annotations

from mls.commit import LeafChanges
from mls.errors import (
    DecodeError,
    InvalidMessage,
    MissingProposal,
    MlsError,
    UnsupportedError,
    UsageError,
)
from mls.group import (
    add_members,
    commit,
    create_group,
    external_proposal,
    group_info,
    join_by_external_commit,
    join_from_welcome,
    process,
    propose,
    propose_add,
    propose_self_remove,
    propose_update,
    protect,
    remove_members,
    self_update,
    update_extensions,
)
from mls.group_events import (
    ApplicationMessage,
    CommitProcessed,
    PendingCommit,
    ProcessResult,
    ProposalReceived,
)
from mls.group_state import GroupConfig, GroupState, Member
from mls.key_package import (
    KeyPackageBundle,
    KeyPackagePrivate,
    create_key_package,
    key_package_ref,
    validate_key_package,
)
from mls.proposal_effects import AddedMember, RemovedMember, UpdatedMember
from mls.proposals import CachedProposal
from mls.snapshot import dump_group, load_group

__all__ = [
    # errors
    "DecodeError",
    "InvalidMessage",
    "MissingProposal",
    "MlsError",
    "UnsupportedError",
    "UsageError",
    # key packages
    "KeyPackageBundle",
    "KeyPackagePrivate",
    "create_key_package",
    "key_package_ref",
    "validate_key_package",
    # group state and operations
    "GroupConfig",
    "GroupState",
    "LeafChanges",
    "Member",
    "add_members",
    "commit",
    "create_group",
    "external_proposal",
    "group_info",
    "join_by_external_commit",
    "join_from_welcome",
    "process",
    "propose",
    "propose_add",
    "propose_self_remove",
    "propose_update",
    "protect",
    "remove_members",
    "self_update",
    "update_extensions",
    # results
    "AddedMember",
    "ApplicationMessage",
    "CachedProposal",
    "CommitProcessed",
    "PendingCommit",
    "ProcessResult",
    "ProposalReceived",
    "RemovedMember",
    "UpdatedMember",
    # storage
    "dump_group",
    "load_group",
]
