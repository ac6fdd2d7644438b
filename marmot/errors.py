"""The errors of the Marmot package: one base class, a few kinds, each with a reason.

Remote faults (a peer, relay or server sent something we must refuse) carry the protocol
object they are about in their type; ``UsageError`` is a bug on our side; ``NotAdmin`` and
``PolicyViolation`` report the admin rules of MIP-03, from either side.
"""

from __future__ import annotations


class MarmotError(Exception):
    """Base class of every error raised by ``marmot``; ``reason`` says why, for a human."""

    def __init__(self, reason: str, *, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


class InvalidGroupData(MarmotError):
    """A ``marmot_group_data`` (0xF2EE) extension that does not decode or validate."""


class InvalidKeyPackageEvent(MarmotError):
    """A kind 30443/443 KeyPackage event that breaks a rule of MIP-00."""


class InvalidWelcome(MarmotError):
    """A kind 444 Welcome rumor (or its gift wrap) that breaks a rule of MIP-02."""


class InvalidGroupEvent(MarmotError):
    """A kind 445 group event refused by MIP-03: envelope, time window, tags, decryption,
    or the MLS message inside it."""


class InvalidRumor(InvalidGroupEvent):
    """The unsigned inner event of an application message breaks MIP-03 section 5.8."""


class PolicyViolation(InvalidGroupEvent):
    """A commit or proposal the admin policy of MIP-03 forbids (e.g. a non-admin's add)."""


class NotAdmin(MarmotError):
    """A local operation only admins may perform was asked of a non-admin."""


class InvalidMedia(MarmotError):
    """An ``imeta`` tag, file or blob that breaks MIP-04 (or the MIP-01 group image)."""


class InvalidPushMessage(MarmotError):
    """A MIP-05 token or kind 446/447/448/449 rumor that breaks its rules."""


class UsageError(MarmotError):
    """The caller asked for something illegal: a bug on our side, never the peer's."""


class AlreadyInGroup(UsageError):
    """A KeyPackage to add whose leaf is already in the group, or one given twice.

    Another KeyPackage of an identity that is already a member (another device) is
    not this error: each device is its own leaf.
    """
