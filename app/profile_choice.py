"""Which Marmot profile a new group uses, decided by the invitees' key packages.

Each invitee's key package events (kinds 30443 and 443: Burrow publishes Profile A as a
slotted 443 and Profile B as its 30443; others and older Burrows put A on 30443 too) are
fetched where `KeyPackages.fetch_events` looks: their 10051, their NIP-65 write relays
(where Profile B publishes), the nprofile hints, ours and the discovery relays. Each
event is sorted by shape (`marmot.profiles.key_package_profile`) and checked by its own
profile's rules: Profile A as for every invite until now (`select_key_packages`: every
live device), Profile B by `select_key_packages_b` (its best candidate; Profile B has no
multi-device).

The choice (`marmot.profiles.choose_profile`): Profile A when every invitee has a valid
Profile A key package, else Profile B when every invitee has a Profile B one. So a
contact who publishes both (another Burrow) gets a Profile A group, which carries every
device of both accounts (Profile B has no multi-device yet), and anyone on today's White
Noise apps (B only) gets a Profile B group; the user may force B. A group of us alone is
Profile A: our other devices are found by their Profile A key packages.

Refusals, each naming who: nobody's key package found at all -> `NoKeyPackage` (as
before: it says where we looked, and it may be the network's fault); a forced profile
an invitee lacks, or A-only and B-only invitees together -> `InvalidInput`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.context import Context
from app.errors import InvalidInput, NoKeyPackage
from app.key_packages import KeyPackages, select_key_packages
from marmot.key_package_event import MarmotKeyPackage
from marmot.profile_b.key_package_event import ParsedKeyPackageEvent, select_key_packages_b
from marmot.profiles import MixedProfiles, Profile, Reach, choose_profile, key_package_profile
from nostr.errors import NostrError
from nostr.event import Event
from nostr.keys import PublicKey

__all__ = ["Chosen", "Found", "choose", "classify", "invitee_key_packages", "profile_name"]

NAMES = {Profile.A: "Marmot v1 (MIP)", Profile.B: "Marmot v2 (Dark Matter)"}


@dataclass(frozen=True, slots=True)
class Chosen:
    """The profile of the new group and the key package events to invite: Profile B one
    per invitee, Profile A every live device of each (in the invitees' order). The parsed
    packages of the chosen profile come along (the other tuple is empty)."""

    profile: str
    events: tuple[Event, ...]
    a_packages: tuple[MarmotKeyPackage, ...] = ()
    b_packages: tuple[ParsedKeyPackageEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class Found:
    """One invitee's valid key packages of each profile, and where we looked."""

    pubkey: str
    relays: tuple[str, ...]
    events: Mapping[str, Event]
    a: tuple[MarmotKeyPackage, ...]
    b: tuple[ParsedKeyPackageEvent, ...]

    @property
    def reach(self) -> Reach:
        return Reach(has_a=bool(self.a), has_b=bool(self.b))


def profile_name(profile: Profile) -> str:
    """The words front ends show for a profile."""
    return NAMES[profile]


def parse_profile(value: str | None) -> Profile | None:
    """``"mip"`` / ``"darkmatter"`` / None (let the key packages choose)."""
    if value is None:
        return None
    for profile in Profile:
        if profile.value == value:
            return profile
    raise InvalidInput(f"unknown group profile {value!r}: use 'mip' or 'darkmatter'")


def classify(pubkey: str, events: Sequence[Event], relays: Sequence[str], *, now: int) -> Found:
    """Sort ``pubkey``'s events by profile and keep the valid ones (pure)."""
    own = [e for e in events if e.pubkey == pubkey]
    shaped_a = [e for e in own if key_package_profile(e) is Profile.A]
    shaped_b = [e for e in own if key_package_profile(e) is Profile.B]
    return Found(
        pubkey,
        tuple(relays),
        {e.id: e for e in own},
        tuple(select_key_packages(shaped_a, now=now)),
        tuple(select_key_packages_b(shaped_b, now=now)),
    )


def choose(found: Sequence[Found], profile: str | None) -> Chosen:
    """The profile (forced, or chosen from what was found) and the events to invite."""
    forced = parse_profile(profile)
    if missing := [f for f in found if not f.a and not f.b]:
        raise NoKeyPackage(missing[0].pubkey, missing[0].relays)
    if forced is None:
        try:
            chosen = choose_profile([f.reach for f in found], solo=Profile.A)
        except MixedProfiles:
            raise InvalidInput(_mixed(found)) from None
    else:
        chosen = forced
        if lacking := [f for f in found if not (f.a if forced is Profile.A else f.b)]:
            raise InvalidInput(_lacking(lacking, forced))
    if chosen is Profile.A:
        a = tuple(kp for f in found for kp in f.a)
        events = tuple(f.events[kp.event_id] for f in found for kp in f.a)
        return Chosen(chosen.value, events, a_packages=a)
    b = tuple(f.b[0] for f in found)
    events = tuple(f.events[kp.event_id] for f, kp in zip(found, b, strict=True))
    return Chosen(chosen.value, events, b_packages=b)


async def invitee_key_packages(
    ctx: Context,
    pubkeys: Sequence[str],
    profile: str | None,
    *,
    key_packages: KeyPackages,
    hints: Mapping[str, Sequence[str]] | None = None,
) -> Chosen:
    """Fetch every invitee's key packages (concurrently) and `choose`. ``profile`` None
    lets them decide; ``hints`` are relays from each one's nprofile."""
    parse_profile(profile)  # an unknown name is refused before any network
    hints = hints or {}

    async def one(pubkey: str) -> Found:
        relays, events = await key_packages.fetch_events(pubkey, hints=hints.get(pubkey, ()))
        return classify(pubkey, events, relays, now=ctx.now())

    found = await asyncio.gather(*(one(p) for p in dict.fromkeys(pubkeys)))
    return choose(found, profile)


def _who(found: Sequence[Found]) -> str:
    return ", ".join(_short(f.pubkey) for f in found)


def _short(pubkey: str) -> str:
    try:
        npub = PublicKey.from_hex(pubkey).to_bech32()
    except NostrError:
        return pubkey[:16] + "…"
    return f"{npub[:14]}…{npub[-6:]}"


def _lacking(lacking: Sequence[Found], forced: Profile) -> str:
    other = Profile.A if forced is Profile.B else Profile.B
    return (
        f"{_who(lacking)} cannot join a {NAMES[forced]} group: no key package of that "
        f"version found, only {NAMES[other]}; create the group as {NAMES[other]} instead"
    )


def _mixed(found: Sequence[Found]) -> str:
    only_a = [f for f in found if not f.b]
    only_b = [f for f in found if not f.a]
    return (
        f"these people cannot be in one group: {_who(only_a)} can only join "
        f"{NAMES[Profile.A]} groups and {_who(only_b)} only {NAMES[Profile.B]} groups; "
        "make a group for each"
    )
