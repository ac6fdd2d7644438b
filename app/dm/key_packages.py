"""The invitees' Profile B key packages (kind 30443, MLSMessage-framed).

A stand-in until ``app.profile_choice`` (which chooses a new group's profile from every
invitee's key packages) is merged: one valid Profile B package per invitee, the best one
by ``select_key_packages_b``, from their key-package relays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.contacts import Person
from app.context import Context
from app.errors import InvalidInput
from app.relays import Relays
from marmot.profile_b.key_package_event import ParsedKeyPackageEvent, select_key_packages_b
from nostr.filters import Filter
from nostr.kinds import Kind


@dataclass(frozen=True, slots=True)
class InviteeB:
    pubkey: str
    key_package: ParsedKeyPackageEvent
    inbox: tuple[str, ...]


async def found_invitees(
    relays: Relays, people: Sequence[Person], found: Sequence[ParsedKeyPackageEvent]
) -> list[InviteeB]:
    """The invitees of key packages already chosen (``app.profile_choice``: one each)."""
    by_author = {kp.author.hex: kp for kp in found}
    out = []
    for person in people:
        if person.pubkey not in by_author:
            raise InvalidInput(f"no Marmot v2 (Dark Matter) key package for {person.pubkey[:12]}…")
        inbox = await relays.inbox_of(person.pubkey, hints=person.hints)
        out.append(InviteeB(person.pubkey, by_author[person.pubkey], inbox))
    return out


async def invitees_b(ctx: Context, relays: Relays, people: Sequence[Person]) -> list[InviteeB]:
    """`InvalidInput` naming everyone without a Profile B key package."""
    out, missing = [], []
    for person in people:
        where = await relays.key_package_relays_of(person.pubkey, hints=person.hints)
        found = await relays.fetch(
            [Filter(authors=[person.pubkey], kinds=[Kind.MLS_KEY_PACKAGE])], where
        )
        ranked = select_key_packages_b(found, now=ctx.now())
        if not ranked:
            missing.append(person.pubkey)
            continue
        inbox = await relays.inbox_of(person.pubkey, hints=person.hints)
        out.append(InviteeB(person.pubkey, ranked[0], inbox))
    if missing:
        names = ", ".join(p[:12] + "…" for p in missing)
        raise InvalidInput(f"no Marmot v2 (Dark Matter) key package found for {names}")
    return out
