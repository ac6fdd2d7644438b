"""Joining a Profile B group from a gift-wrapped kind 444 (pending until accepted).

Both generations gift-wrap a kind 444 rumor whose content is ``base64(MLSMessage(Welcome))``;
a Profile A rumor carries ``encoding`` (MIP-02 requires it), a Profile B one never does and
carries exactly one ``relays`` tag. The KeyPackage it names must be one of this device's;
`marmot.profile_b.inbound.join_b` checks the group's Profile B state and every leaf's
account proof. The group is stored *pending* with its one-node branch tree, and an invite
row, in one transaction, as Profile A does.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.dm.tree import dump_state, members, metadata, to_rows
from app.key_packages import bundle_of
from marmot.errors import MarmotError
from marmot.primitives import b64decode
from marmot.profile_b.branches import BranchTree
from marmot.profile_b.group import group_view
from marmot.profile_b.inbound import join_b
from marmot.profile_b.transport import ParsedWelcomeRumor, parse_welcome_rumor_b
from marmot.profiles import Profile
from mls.errors import MlsError
from mls.group import GroupState
from nostr.event import Event, UnsignedEvent
from nostr.kinds import Kind
from storage import Connection
from storage.repos import branches as branches_repo
from storage.repos import groups as groups_repo
from storage.repos import invites as invites_repo
from storage.repos import key_packages as kp_repo
from storage.repos import processed as processed_repo
from storage.rows import GroupState as Lifecycle
from storage.rows import Invite, KeyPackageRecord, NewGroup, Outcome


def is_profile_b(rumor: UnsignedEvent) -> bool:
    names = [t[0] for t in rumor.tags if t]
    return rumor.kind == Kind.MLS_WELCOME and "encoding" not in names


@dataclass(frozen=True, slots=True)
class Joined:
    """A joined Welcome's invite and the key package it used (as it was before being
    marked consumed), or why it was not joined."""

    invite: Invite | None
    reason: str = ""
    used: KeyPackageRecord | None = None


def join_rows(
    conn: Connection, wrap: Event, rumor: UnsignedEvent, *, blocked: bool, now: int
) -> Joined:
    """Join and store, or why not (the gift wrap's mark is written either way)."""
    joined = _join(conn, wrap, rumor, blocked=blocked, now=now)
    invite, reason = joined.invite, joined.reason
    processed_repo.mark(
        conn,
        wrap.id,
        kind=wrap.kind,
        created_at=wrap.created_at,
        outcome=Outcome.PROCESSED if invite is not None else Outcome.FAILED,
        now=now,
        reason=reason or "invite",
        mls_group_id=None if invite is None else invite.mls_group_id,
    )
    return joined


def _join(  # noqa: PLR0911 (one refusal per check)
    conn: Connection, wrap: Event, rumor: UnsignedEvent, *, blocked: bool, now: int
) -> Joined:
    try:
        parsed = parse_welcome_rumor_b(rumor)
    except MarmotError as exc:
        return Joined(None, exc.reason)
    if blocked:
        return Joined(None, "the inviter is blocked")
    record = kp_repo.by_event_id(conn, parsed.key_package_event_id)
    if record is None:
        return Joined(None, "not one of this device's key packages")
    if record.private_material is None:
        return Joined(None, "the key package's private keys were already deleted")
    try:
        state = join_b(parsed, bundle_of(record))
    except (MlsError, MarmotError) as exc:
        return Joined(None, f"cannot join: {exc}")
    if groups_repo.get(conn, state.group_id) is not None:
        return Joined(None, "already in this group")
    invite = _invite(state, parsed, wrapper_id=wrap.id, rumor=rumor, ref=record.ref, now=now)
    groups_repo.create(conn, _pending_group(state), now=now)
    branches_repo.save_tree(conn, state.group_id, to_rows(BranchTree(state)))
    invites_repo.add(conn, invite)
    kp_repo.mark_consumed(conn, record.ref, now=now)
    return Joined(invite, "", record)


def _pending_group(state: GroupState) -> NewGroup:
    return NewGroup(
        state.group_id,
        metadata(group_view(state)),
        Lifecycle.PENDING,
        state.epoch,
        state.own_leaf,
        dump_state(state),
        members(state),
        profile=Profile.B.value,
    )


def _invite(
    state: GroupState,
    parsed: ParsedWelcomeRumor,
    *,
    wrapper_id: str,
    rumor: UnsignedEvent,
    ref: bytes,
    now: int,
) -> Invite:
    meta = metadata(group_view(state))
    return Invite(
        wrapper_id,
        rumor.id,
        parsed.inviter,
        b64decode(rumor.content),
        now,
        state.group_id,
        meta.nostr_group_id,
        meta.name,
        ref,
        parsed.relays,
    )
