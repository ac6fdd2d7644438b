"""Message framing (RFC 9420 section 6): signing, PublicMessage and PrivateMessage.

The group engine calls these with the suite, the encoded GroupContext of the current
epoch, the epoch's keys and a signature key. The flow for a commit is::

    signature = sign_framed_content(suite, wire_format, content, group_context, sig_priv)
    ... transcript hash, next epoch, confirmation_tag ...
    ac = AuthenticatedContent(wire_format, content, FramedContentAuthData(signature, tag))
    msg = protect_public(suite, ac, group_context, membership_key)   # or protect_private

and other content is signed in one step with :func:`authenticate`. Unprotecting always
verifies the signature: the caller passes ``signature_key``, which maps the (decrypted)
FramedContent to its sender's signature public key, and raises ``InvalidMessage`` for
an unknown or blank sender. Group id and epoch checks belong to the engine, which must
pick the epoch's keys before calling in.
"""

from __future__ import annotations

from collections.abc import Callable

from mls.crypto import DEFAULT_RNG, Suite
from mls.errors import InvalidMessage, UsageError
from mls.messages import (
    AuthenticatedContent,
    ContentType,
    FramedContent,
    FramedContentAuthData,
    PrivateContentAAD,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    Sender,
    SenderData,
    SenderDataAAD,
    SenderType,
    WireFormat,
    framed_content_tbs,
)
from mls.secret_tree import RatchetType, SecretTree, apply_reuse_guard, sender_data_key_nonce
from mls.transcript import membership_tag, verify_membership_tag
from mls.types import LeafIndex, Rng

SignatureKeyLookup = Callable[[FramedContent], bytes]
"""Maps received content to its sender's signature public key (raises if unknown)."""

_TBS_LABEL = "FramedContentTBS"

# Section 6 / 12.1.8: which content each non-member sender type may carry.
_ALLOWED_CONTENT: dict[SenderType, tuple[ContentType, ...]] = {
    SenderType.MEMBER: (ContentType.PROPOSAL, ContentType.COMMIT),
    SenderType.EXTERNAL: (ContentType.PROPOSAL,),
    SenderType.NEW_MEMBER_PROPOSAL: (ContentType.PROPOSAL,),
    SenderType.NEW_MEMBER_COMMIT: (ContentType.COMMIT,),
}


def sign_framed_content(
    suite: Suite,
    wire_format: WireFormat,
    content: FramedContent,
    group_context: bytes,
    signature_priv: bytes,
) -> bytes:
    """``SignWithLabel(., "FramedContentTBS", FramedContentTBS)`` (section 6.1)."""
    tbs = framed_content_tbs(wire_format, content, group_context)
    return suite.sign_with_label(signature_priv, _TBS_LABEL, tbs)


def authenticate(
    suite: Suite,
    wire_format: WireFormat,
    content: FramedContent,
    group_context: bytes,
    signature_priv: bytes,
    *,
    confirmation_tag: bytes | None = None,
) -> AuthenticatedContent:
    """Sign ``content``; a commit also needs its ``confirmation_tag``."""
    signature = sign_framed_content(suite, wire_format, content, group_context, signature_priv)
    auth = FramedContentAuthData(signature, confirmation_tag)
    return AuthenticatedContent(wire_format, content, auth)


def verify_signature(
    suite: Suite, content: AuthenticatedContent, group_context: bytes, signature_pub: bytes
) -> None:
    """Raise :class:`InvalidMessage` unless the content's signature verifies."""
    tbs = framed_content_tbs(content.wire_format, content.content, group_context)
    suite.verify_with_label(signature_pub, _TBS_LABEL, tbs, content.auth.signature)


# -- PublicMessage (section 6.2) --


def protect_public(
    suite: Suite,
    content: AuthenticatedContent,
    group_context: bytes,
    membership_key: bytes | None,
) -> PublicMessage:
    """Frame signed content as a PublicMessage, adding the membership tag for members.

    Application data may never travel as a PublicMessage (section 6.2): ``UsageError``.
    """
    framed = content.content
    if framed.content_type == ContentType.APPLICATION:
        raise UsageError("application data must be sent as a PrivateMessage")
    if content.wire_format != WireFormat.PUBLIC_MESSAGE:
        raise UsageError("content was signed for another wire format")
    if framed.sender.sender_type != SenderType.MEMBER:
        return PublicMessage(framed, content.auth)
    if membership_key is None:
        raise UsageError("a member's PublicMessage needs the membership key")
    tbs = framed_content_tbs(WireFormat.PUBLIC_MESSAGE, framed, group_context)
    tag = membership_tag(suite, membership_key, tbs, content.auth.to_bytes())
    return PublicMessage(framed, content.auth, tag)


def unprotect_public(
    suite: Suite,
    message: PublicMessage,
    group_context: bytes,
    membership_key: bytes,
    *,
    signature_key: SignatureKeyLookup,
) -> AuthenticatedContent:
    """Check the membership tag (member senders) and the signature of a PublicMessage."""
    framed = message.content
    sender_type = framed.sender.sender_type
    if framed.content_type not in _ALLOWED_CONTENT[sender_type]:
        raise InvalidMessage(
            f"a {sender_type.name} sender may not send {framed.content_type.name} publicly"
        )
    tbs = framed_content_tbs(WireFormat.PUBLIC_MESSAGE, framed, group_context)
    if message.membership_tag is not None:
        auth = message.auth.to_bytes()
        verify_membership_tag(suite, membership_key, tbs, auth, message.membership_tag)
    suite.verify_with_label(signature_key(framed), _TBS_LABEL, tbs, message.auth.signature)
    return AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, framed, message.auth)


# -- PrivateMessage (section 6.3) --


def protect_private(
    suite: Suite,
    content: AuthenticatedContent,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    *,
    padding: int = 0,
    rng: Rng = DEFAULT_RNG,
) -> PrivateMessage:
    """Encrypt signed member content with the sender's next ratchet key.

    ``padding`` zero bytes are appended to the plaintext (section 6.3.1) to hide its
    length; ``rng`` draws the 4-byte reuse guard.
    """
    framed = content.content
    leaf = framed.sender.leaf_index
    if leaf is None:
        raise UsageError("only members send PrivateMessages")
    if content.wire_format != WireFormat.PRIVATE_MESSAGE:
        raise UsageError("content was signed for another wire format")
    if padding < 0:
        raise UsageError("padding must not be negative")
    content_type = framed.content_type
    key = secret_tree.next_key(LeafIndex(leaf), _ratchet_type(content_type))
    reuse_guard = rng(4)
    plaintext = PrivateMessageContent(framed.content, content.auth, padding).to_bytes()
    aad = PrivateContentAAD(
        framed.group_id, framed.epoch, content_type, framed.authenticated_data
    ).to_bytes()
    ciphertext = suite.aead_seal(key.key, apply_reuse_guard(key.nonce, reuse_guard), aad, plaintext)

    sender_data = SenderData(leaf, key.generation, reuse_guard)
    encrypted_sender_data = _seal_sender_data(
        suite, sender_data_secret, framed, sender_data, ciphertext
    )
    return PrivateMessage(
        framed.group_id,
        framed.epoch,
        content_type,
        framed.authenticated_data,
        encrypted_sender_data,
        ciphertext,
    )


def unprotect_private(
    suite: Suite,
    message: PrivateMessage,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    group_context: bytes,
    *,
    signature_key: SignatureKeyLookup,
) -> AuthenticatedContent:
    """Decrypt the sender data and then the content of a PrivateMessage, and verify
    its signature. The ratchet key used is consumed from ``secret_tree``."""
    sender_data = decrypt_sender_data(suite, message, sender_data_secret)
    content_type = message.content_type
    key = secret_tree.key_for(
        LeafIndex(sender_data.leaf_index), _ratchet_type(content_type), sender_data.generation
    )
    aad = PrivateContentAAD(
        message.group_id, message.epoch, content_type, message.authenticated_data
    ).to_bytes()
    nonce = apply_reuse_guard(key.nonce, sender_data.reuse_guard)
    plaintext = suite.aead_open(key.key, nonce, aad, message.ciphertext)
    body = PrivateMessageContent.from_plaintext(plaintext, content_type)
    framed = FramedContent(
        message.group_id,
        message.epoch,
        Sender.member(sender_data.leaf_index),
        message.authenticated_data,
        body.content,
    )
    content = AuthenticatedContent(WireFormat.PRIVATE_MESSAGE, framed, body.auth)
    verify_signature(suite, content, group_context, signature_key(framed))
    return content


def decrypt_sender_data(
    suite: Suite, message: PrivateMessage, sender_data_secret: bytes
) -> SenderData:
    """Section 6.3.2: the sender's leaf, generation and reuse guard."""
    key, nonce = sender_data_key_nonce(suite, sender_data_secret, message.ciphertext)
    aad = SenderDataAAD(message.group_id, message.epoch, message.content_type).to_bytes()
    return SenderData.from_bytes(suite.aead_open(key, nonce, aad, message.encrypted_sender_data))


def _seal_sender_data(
    suite: Suite,
    sender_data_secret: bytes,
    framed: FramedContent,
    sender_data: SenderData,
    ciphertext: bytes,
) -> bytes:
    """Section 6.3.2: the key and nonce come from a sample of the content ciphertext."""
    key, nonce = sender_data_key_nonce(suite, sender_data_secret, ciphertext)
    aad = SenderDataAAD(framed.group_id, framed.epoch, framed.content_type).to_bytes()
    return suite.aead_seal(key, nonce, aad, sender_data.to_bytes())


def _ratchet_type(content_type: ContentType) -> RatchetType:
    if content_type == ContentType.APPLICATION:
        return RatchetType.APPLICATION
    return RatchetType.HANDSHAKE
