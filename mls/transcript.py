"""Transcript hashes, confirmation tag and membership tag (RFC 9420 sections 8.2 and 6.2).

::

    struct {
        WireFormat wire_format;
        FramedContent content; /* with content_type == commit */
        opaque signature<V>;
    } ConfirmedTranscriptHashInput;

    struct {
        MAC confirmation_tag;
    } InterimTranscriptHashInput;

    confirmed_transcript_hash_[epoch] =
        Hash(interim_transcript_hash_[epoch - 1] || ConfirmedTranscriptHashInput_[epoch]);
    interim_transcript_hash_[epoch] =
        Hash(confirmed_transcript_hash_[epoch] || InterimTranscriptHashInput_[epoch]);

A new group starts with both hashes empty (section 8.2).
"""

from __future__ import annotations

from mls.codec import Writer, opaque_v
from mls.crypto import Suite
from mls.errors import InvalidMessage, UsageError
from mls.messages import AuthenticatedContent, ContentType, FramedContent, WireFormat


def confirmed_transcript_hash_input(
    wire_format: WireFormat, content: FramedContent, signature: bytes
) -> bytes:
    """The encoded ``ConfirmedTranscriptHashInput``; only commits enter the transcript."""
    if content.content_type != ContentType.COMMIT:
        raise UsageError("only a commit updates the transcript hash")
    w = Writer()
    w.u16(wire_format)
    content.encode(w)
    w.opaque(signature)
    return w.getvalue()


def confirmed_transcript_hash(
    suite: Suite,
    interim_transcript_hash: bytes,
    wire_format: WireFormat,
    content: FramedContent,
    signature: bytes,
) -> bytes:
    """The confirmed transcript hash after a commit, from the previous interim hash."""
    tbh = confirmed_transcript_hash_input(wire_format, content, signature)
    return suite.hash(interim_transcript_hash + tbh)


def interim_transcript_hash(
    suite: Suite, confirmed_transcript_hash: bytes, confirmation_tag: bytes
) -> bytes:
    """The interim transcript hash of an epoch (also what a joiner computes from its
    GroupInfo's confirmed hash and confirmation tag)."""
    return suite.hash(confirmed_transcript_hash + opaque_v(confirmation_tag))


def transcript_hashes_after(
    suite: Suite, interim_transcript_hash_before: bytes, content: AuthenticatedContent
) -> tuple[bytes, bytes]:
    """(confirmed, interim) transcript hashes after applying an authenticated commit."""
    tag = content.auth.confirmation_tag
    if tag is None:
        raise UsageError("a commit's auth data carries a confirmation tag")
    confirmed = confirmed_transcript_hash(
        suite,
        interim_transcript_hash_before,
        content.wire_format,
        content.content,
        content.auth.signature,
    )
    return confirmed, interim_transcript_hash(suite, confirmed, tag)


def confirmation_tag(suite: Suite, confirmation_key: bytes, confirmed_hash: bytes) -> bytes:
    """``MAC(confirmation_key, GroupContext.confirmed_transcript_hash)`` (section 6.1)."""
    return suite.mac(confirmation_key, confirmed_hash)


def verify_confirmation_tag(
    suite: Suite, confirmation_key: bytes, confirmed_hash: bytes, tag: bytes
) -> None:
    """Raise :class:`InvalidMessage` unless ``tag`` confirms ``confirmed_hash``."""
    try:
        suite.verify_mac(confirmation_key, confirmed_hash, tag)
    except InvalidMessage:
        raise InvalidMessage("confirmation tag does not verify") from None


def membership_tag(suite: Suite, membership_key: bytes, tbs: bytes, auth: bytes) -> bytes:
    """``MAC(membership_key, AuthenticatedContentTBM)`` (section 6.2)::

        struct {
          FramedContentTBS content_tbs;
          FramedContentAuthData auth;
        } AuthenticatedContentTBM;

    ``tbs`` and ``auth`` are the encoded FramedContentTBS and FramedContentAuthData.
    """
    return suite.mac(membership_key, tbs + auth)


def verify_membership_tag(
    suite: Suite, membership_key: bytes, tbs: bytes, auth: bytes, tag: bytes
) -> None:
    try:
        suite.verify_mac(membership_key, tbs + auth, tag)
    except InvalidMessage:
        raise InvalidMessage("membership tag does not verify") from None
