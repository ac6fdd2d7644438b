"""The key schedule (RFC 9420 section 8): one epoch's secrets from the previous epoch.

::

    init_secret_[n-1] -> KDF.Extract(salt=init_secret, ikm=commit_secret)
      -> ExpandWithLabel(., "joiner", GroupContext_[n], Nh)   = joiner_secret
    joiner_secret     -> KDF.Extract(salt=joiner_secret, ikm=psk_secret)
      -> DeriveSecret(., "welcome")                           = welcome_secret
      -> ExpandWithLabel(., "epoch", GroupContext_[n], Nh)    = epoch_secret
    epoch_secret      -> DeriveSecret(., label) for each secret of table 4

``group_context`` is always the TLS-encoded GroupContext of the new epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mls.crypto import Suite
from mls.errors import UsageError
from mls.messages.proposals import PreSharedKeyID


@dataclass(frozen=True, slots=True)
class EpochSecrets:
    """Every secret of one epoch (RFC 9420 section 8, table 4, plus the joiner chain)."""

    joiner_secret: bytes = field(repr=False)
    welcome_secret: bytes = field(repr=False)
    epoch_secret: bytes = field(repr=False)
    sender_data_secret: bytes = field(repr=False)
    encryption_secret: bytes = field(repr=False)
    exporter_secret: bytes = field(repr=False)
    external_secret: bytes = field(repr=False)
    confirmation_key: bytes = field(repr=False)
    membership_key: bytes = field(repr=False)
    resumption_psk: bytes = field(repr=False)
    epoch_authenticator: bytes = field(repr=False)
    init_secret: bytes = field(repr=False)

    @classmethod
    def from_joiner(
        cls, suite: Suite, joiner_secret: bytes, psk_secret: bytes, group_context: bytes
    ) -> EpochSecrets:
        """The epoch a Welcome joins: the joiner secret comes from GroupSecrets."""
        member = suite.extract(joiner_secret, psk_secret)
        epoch = suite.expand_with_label(member, "epoch", group_context, suite.nh)
        derive = suite.derive_secret
        return cls(
            joiner_secret=joiner_secret,
            welcome_secret=derive(member, "welcome"),
            epoch_secret=epoch,
            sender_data_secret=derive(epoch, "sender data"),
            encryption_secret=derive(epoch, "encryption"),
            exporter_secret=derive(epoch, "exporter"),
            external_secret=derive(epoch, "external"),
            confirmation_key=derive(epoch, "confirm"),
            membership_key=derive(epoch, "membership"),
            resumption_psk=derive(epoch, "resumption"),
            epoch_authenticator=derive(epoch, "authentication"),
            init_secret=derive(epoch, "init"),
        )

    @classmethod
    def advance(
        cls,
        suite: Suite,
        init_secret: bytes,
        commit_secret: bytes,
        psk_secret: bytes,
        group_context: bytes,
    ) -> EpochSecrets:
        """The next epoch from the previous epoch's ``init_secret``."""
        joiner = joiner_secret(suite, init_secret, commit_secret, group_context)
        return cls.from_joiner(suite, joiner, psk_secret, group_context)

    def exporter(self, suite: Suite, label: str, context: bytes, length: int) -> bytes:
        """MLS-Exporter (section 8.5)."""
        return mls_exporter(suite, self.exporter_secret, label, context, length)

    def external_key_pair(self, suite: Suite) -> tuple[bytes, bytes]:
        """(external_priv, external_pub) of section 8.7."""
        return suite.derive_key_pair(self.external_secret)


def joiner_secret(
    suite: Suite, init_secret: bytes, commit_secret: bytes, group_context: bytes
) -> bytes:
    prk = suite.extract(init_secret, commit_secret)
    return suite.expand_with_label(prk, "joiner", group_context, suite.nh)


def welcome_key_nonce(suite: Suite, welcome_secret: bytes) -> tuple[bytes, bytes]:
    """The AEAD key and nonce that protect a Welcome's GroupInfo (section 12.4.3.1)."""
    key = suite.expand_with_label(welcome_secret, "key", b"", suite.nk)
    return key, suite.expand_with_label(welcome_secret, "nonce", b"", suite.nn)


def welcome_secret(suite: Suite, joiner_secret: bytes, psk_secret: bytes) -> bytes:
    """welcome_secret without the rest of the epoch (a joiner needs it first)."""
    return suite.derive_secret(suite.extract(joiner_secret, psk_secret), "welcome")


def mls_exporter(
    suite: Suite, exporter_secret: bytes, label: str, context: bytes, length: int
) -> bytes:
    """``ExpandWithLabel(DeriveSecret(exporter_secret, label), "exported", Hash(context), L)``."""
    derived = suite.derive_secret(exporter_secret, label)
    return suite.expand_with_label(derived, "exported", suite.hash(context), length)


def psk_secret(suite: Suite, psks: Sequence[tuple[PreSharedKeyID, bytes]]) -> bytes:
    """Section 8.4: chain every (PreSharedKeyID, psk) in order; all zeros when empty.

    ::

        psk_extracted_[i] = KDF.Extract(0, psk_[i])
        psk_input_[i]     = ExpandWithLabel(psk_extracted_[i], "derived psk", PSKLabel, Nh)
        psk_secret_[i+1]  = KDF.Extract(psk_input_[i], psk_secret_[i])
    """
    if len(psks) > 0xFFFF:
        raise UsageError(f"{len(psks)} PSKs: PSKLabel.count is a uint16")
    nh = suite.nh
    zero = bytes(nh)
    secret = zero
    count = len(psks).to_bytes(2, "big")
    for index, (psk_id, psk) in enumerate(psks):
        label = psk_id.to_bytes() + index.to_bytes(2, "big") + count  # PSKLabel
        extracted = suite.extract(zero, psk)
        psk_input = suite.expand_with_label(extracted, "derived psk", label, nh)
        secret = suite.extract(psk_input, secret)
    return secret
