"""Which Marmot generation a KeyPackage event, and so a new group, belongs to.

Both generations publish kind 30443 on the same relays; they differ in the content (Profile
A: ``base64(KeyPackage)``, starting ``00 01 00 01``; Profile B: ``base64(MLSMessage)``
with wire format ``mls_key_package``, starting ``00 01 00 05``) and the tags (A carries
``encoding`` and ``relays``, B ``app_components`` and never ``encoding``). Legacy kind 443
is Profile A only; Burrow publishes its Profile A there (see app.key_packages), because
today's White Noise fails an invitee whose 30443s are not all Profile B.

A group keeps the profile it was created with. For a new group, the invitees' KeyPackages
decide: Profile A when every invitee has a valid Profile A KeyPackage (Burrow and the
older White Noise line; only A carries an account's other devices), else Profile B when
every invitee has a valid B one (today's White Noise apps speak only B); a mix of A-only
and B-only invitees cannot share one group.

::

    key_package_profile(event) -> Profile | None       # by shape only, nothing validated
    choose_profile([Reach(has_a=True, has_b=False), ...]) -> Profile
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from marmot.errors import MarmotError
from marmot.primitives import b64decode
from nostr.event import Event
from nostr.kinds import Kind

__all__ = ["MixedProfiles", "Profile", "Reach", "choose_profile", "key_package_profile"]

_A_PREFIX = bytes.fromhex("00010001")  # KeyPackage: version mls10, suite 0x0001
_B_PREFIX = bytes.fromhex("00010005")  # MLSMessage: version mls10, wire format key_package


class Profile(Enum):
    A = "mip"  # MIP-00..05, mdk-core 0.8 (marmot/)
    B = "darkmatter"  # Marmot v2, MDK 0.9 (marmot/profile_b/)


class MixedProfiles(MarmotError):
    """Some invitees can only join Profile A groups and others only Profile B ones."""


@dataclass(frozen=True, slots=True)
class Reach:
    """Which profiles one invitee has a valid KeyPackage for."""

    has_a: bool
    has_b: bool


def key_package_profile(event: Event) -> Profile | None:
    """The profile a KeyPackage event is shaped for; None for neither (or a contradiction)."""
    if event.kind == Kind.MLS_KEY_PACKAGE_LEGACY:
        return Profile.A
    if event.kind != Kind.MLS_KEY_PACKAGE:
        return None
    try:
        head = b64decode(event.content)[:4]
    except ValueError:
        return None
    names = {t[0] for t in event.tags if t}
    if head == _B_PREFIX and "encoding" not in names:
        return Profile.B
    if head == _A_PREFIX and "app_components" not in names:
        return Profile.A
    return None


def choose_profile(invitees: Sequence[Reach], *, solo: Profile = Profile.B) -> Profile:
    """The profile of a new group with these invitees (``solo`` when there are none)."""
    if not invitees:
        return solo
    if all(r.has_a for r in invitees):
        return Profile.A
    if all(r.has_b for r in invitees):
        return Profile.B
    raise MixedProfiles("some invitees reach only Profile A and others only Profile B")
