"""The errors of the MLS package: one base class, split by who is at fault."""

from __future__ import annotations


class MlsError(Exception):
    """Base class of every error raised by ``mls``."""


class DecodeError(MlsError):
    """Bytes do not parse as the expected TLS structure (truncated, trailing, non-minimal)."""


class InvalidMessage(MlsError):
    """The peer sent something that is well-formed but not acceptable.

    Bad signature or MAC, wrong epoch or group, an unknown sender, a proposal list that
    breaks RFC 9420 section 12.2, a tree that fails validation.
    """


class MissingProposal(InvalidMessage):
    """A commit references a proposal we have not received: perhaps not yet, since relays
    may deliver a commit before the proposals it covers."""


class UnsupportedError(MlsError):
    """A cipher suite, version, or feature this implementation does not offer."""


class UsageError(MlsError):
    """The caller asked for something illegal: a bug on our side, never the peer's."""
