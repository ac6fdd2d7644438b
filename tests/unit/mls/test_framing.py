"""Framing beyond the vectors: sender rules, tampering, replay, reordering, padding."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace

import pytest

from mls.crypto import Suite, get_suite
from mls.errors import DecodeError, InvalidMessage, MlsError, UsageError
from mls.framing import (
    authenticate,
    decrypt_sender_data,
    protect_private,
    protect_public,
    sign_framed_content,
    unprotect_private,
    unprotect_public,
    verify_signature,
)
from mls.messages import (
    AuthenticatedContent,
    Commit,
    Content,
    FramedContent,
    FramedContentAuthData,
    GroupContext,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Remove,
    Sender,
    WireFormat,
    framed_content_tbs,
)
from mls.secret_tree import SecretTree
from mls.transcript import membership_tag
from mls.types import Rng

PUB, PRIV = WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE


def det_rng(seed: bytes) -> Rng:
    counter = itertools.count()
    return lambda n: hashlib.shake_256(seed + next(counter).to_bytes(4, "big")).digest(n)


class Group:
    """Two members (leaves 0 and 1) of one epoch, with independent secret trees."""

    def __init__(self, cs: int = 1) -> None:
        self.suite: Suite = get_suite(cs)
        rng = det_rng(b"framing")
        self.keys = [self.suite.generate_signature_key_pair(rng) for _ in range(2)]
        self.context = GroupContext(1, cs, b"group", 4, b"th" * 16, b"cth" * 10).to_bytes()
        self.membership_key = rng(self.suite.nh)
        self.encryption_secret = rng(self.suite.nh)
        self.sender_data_secret = rng(self.suite.nh)
        self.trees = [self.tree(), self.tree()]

    def tree(self) -> SecretTree:
        return SecretTree(self.suite, self.encryption_secret, 2)

    def pub_key(self, content: FramedContent) -> bytes:
        leaf = content.sender.leaf_index
        if leaf is None or leaf > 1:
            raise InvalidMessage("unknown sender")
        return self.keys[leaf][1]

    def signed(
        self, content: Content, wire_format: WireFormat, sender: int = 0, epoch: int = 4
    ) -> AuthenticatedContent:
        framed = FramedContent(b"group", epoch, Sender.member(sender), b"ad", content)
        tag = b"t" * self.suite.nh if isinstance(content, Commit) else None
        priv = self.keys[sender][0]
        return authenticate(
            self.suite, wire_format, framed, self.context, priv, confirmation_tag=tag
        )

    def send(self, content: Content, sender: int = 0, padding: int = 0) -> PrivateMessage:
        signed = self.signed(content, PRIV, sender)
        tree = self.trees[sender]
        return protect_private(
            self.suite, signed, tree, self.sender_data_secret, padding=padding, rng=det_rng(b"g")
        )

    def receive(self, message: PrivateMessage, receiver: int = 1) -> AuthenticatedContent:
        return unprotect_private(
            self.suite,
            message,
            self.trees[receiver],
            self.sender_data_secret,
            self.context,
            signature_key=self.pub_key,
        )


@pytest.mark.parametrize("cs", [1, 2, 3, 4, 5, 6, 7])
def test_private_round_trip_every_suite(cs: int) -> None:
    g = Group(cs)
    for content in (b"hello", Remove(1), Commit()):
        wire = MLSMessage(g.send(content)).to_bytes()
        body = MLSMessage.from_bytes(wire).body
        assert isinstance(body, PrivateMessage)
        assert g.receive(body).content.content == content


def test_out_of_order_delivery_and_replay() -> None:
    g = Group()
    messages = [g.send(f"m{i}".encode()) for i in range(5)]
    for i in (3, 0, 4, 1, 2):
        assert g.receive(messages[i]).content.content == f"m{i}".encode()
    with pytest.raises(InvalidMessage):
        g.receive(messages[2])  # its key was consumed


def test_generations_and_ratchets_are_per_content_type() -> None:
    g = Group()
    app = [g.send(b"a"), g.send(b"b")]
    handshake = g.send(Remove(1))
    sds = g.sender_data_secret
    assert [decrypt_sender_data(g.suite, m, sds).generation for m in app] == [0, 1]
    assert decrypt_sender_data(g.suite, handshake, sds).generation == 0
    assert decrypt_sender_data(g.suite, handshake, sds).leaf_index == 0


def test_padding_hides_length_and_stays_decryptable() -> None:
    g = Group()
    short = g.send(b"x", padding=0)
    padded = g.send(b"x", padding=100)
    assert len(padded.ciphertext) == len(short.ciphertext) + 100
    assert g.receive(short).content.content == b"x"
    assert g.receive(padded).content.content == b"x"
    with pytest.raises(UsageError):
        g.send(b"x", padding=-1)


@pytest.mark.parametrize(
    "field", ["ciphertext", "encrypted_sender_data", "authenticated_data", "epoch", "group_id"]
)
def test_any_tampering_with_a_private_message_fails(field: str) -> None:
    g = Group()
    message = g.send(b"secret")
    value = getattr(message, field)
    tampered = value + 1 if isinstance(value, int) else bytes([value[0] ^ 1]) + value[1:]
    with pytest.raises(InvalidMessage):
        g.receive(replace(message, **{field: tampered}))


def test_private_message_with_wrong_signature_key_or_context_fails() -> None:
    g = Group()
    message = g.send(b"hi")
    with pytest.raises(InvalidMessage):
        unprotect_private(
            g.suite,
            message,
            g.tree(),
            g.sender_data_secret,
            g.context,
            signature_key=lambda _: g.keys[1][1],
        )
    other_context = GroupContext(1, 1, b"group", 5, b"th" * 16, b"cth" * 10).to_bytes()
    with pytest.raises(InvalidMessage):
        unprotect_private(
            g.suite,
            message,
            g.tree(),
            g.sender_data_secret,
            other_context,
            signature_key=g.pub_key,
        )


def test_sender_outside_the_tree_is_rejected() -> None:
    g = Group()
    big_tree = SecretTree(g.suite, g.encryption_secret, 4)
    signed = g.signed(b"hi", PRIV, sender=0)
    framed = replace(signed.content, sender=Sender.member(3))
    auth = FramedContentAuthData(
        sign_framed_content(g.suite, PRIV, framed, g.context, g.keys[0][0])
    )
    message = protect_private(
        g.suite, AuthenticatedContent(PRIV, framed, auth), big_tree, g.sender_data_secret
    )
    with pytest.raises(InvalidMessage):
        g.receive(message)


def test_protect_private_rejects_non_members_and_wrong_wire_format() -> None:
    g = Group()
    with pytest.raises(UsageError):
        protect_private(g.suite, g.signed(b"x", PUB), g.trees[0], g.sender_data_secret)
    external = FramedContent(b"group", 4, Sender.external(0), b"", Remove(1))
    signed = authenticate(g.suite, PRIV, external, g.context, g.keys[0][0])
    with pytest.raises(UsageError):
        protect_private(g.suite, signed, g.trees[0], g.sender_data_secret)


def test_public_round_trip_and_membership_tag() -> None:
    g = Group()
    message = protect_public(g.suite, g.signed(Remove(1), PUB), g.context, g.membership_key)
    assert message.membership_tag is not None
    got = unprotect_public(g.suite, message, g.context, g.membership_key, signature_key=g.pub_key)
    assert got.content.content == Remove(1)
    with pytest.raises(InvalidMessage):
        unprotect_public(g.suite, message, g.context, b"k" * 32, signature_key=g.pub_key)
    with pytest.raises(UsageError):
        protect_public(g.suite, g.signed(Remove(1), PUB), g.context, None)
    with pytest.raises(UsageError):
        protect_public(g.suite, g.signed(Remove(1), PRIV), g.context, g.membership_key)


def test_application_data_never_travels_publicly() -> None:
    g = Group()
    signed = g.signed(b"text", PUB)
    with pytest.raises(UsageError):
        protect_public(g.suite, signed, g.context, g.membership_key)
    # A peer that frames it anyway, with a valid membership tag, is rejected on receipt.
    tbs = framed_content_tbs(PUB, signed.content, g.context)
    tag = membership_tag(g.suite, g.membership_key, tbs, signed.auth.to_bytes())
    forged = PublicMessage(signed.content, signed.auth, tag)
    with pytest.raises(InvalidMessage):
        unprotect_public(g.suite, forged, g.context, g.membership_key, signature_key=g.pub_key)


def test_external_sender_rules() -> None:
    g = Group()
    ext_priv, ext_pub = g.suite.generate_signature_key_pair(det_rng(b"ext"))
    proposal = FramedContent(b"group", 4, Sender.external(0), b"", Remove(1))
    signed = authenticate(g.suite, PUB, proposal, g.context, ext_priv)
    message = protect_public(g.suite, signed, g.context, None)
    assert message.membership_tag is None
    got = unprotect_public(
        g.suite, message, g.context, g.membership_key, signature_key=lambda _: ext_pub
    )
    assert got.content == proposal
    verify_signature(g.suite, got, g.context, ext_pub)
    # An external sender may not commit; a new member may not send a proposal as a commit.
    for sender, content in (
        (Sender.external(0), Commit()),
        (Sender.new_member_commit(), Remove(1)),
    ):
        framed = FramedContent(b"group", 4, sender, b"", content)
        tag = b"t" * 32 if isinstance(content, Commit) else None
        bad = authenticate(g.suite, PUB, framed, g.context, ext_priv, confirmation_tag=tag)
        with pytest.raises(InvalidMessage):
            unprotect_public(
                g.suite,
                protect_public(g.suite, bad, g.context, None),
                g.context,
                g.membership_key,
                signature_key=lambda _: ext_pub,
            )


def test_garbage_private_messages_raise_only_mls_errors() -> None:
    g = Group()
    message = g.send(b"hello")
    for cut in range(0, len(message.ciphertext), 7):
        with pytest.raises(MlsError):
            g.receive(replace(message, ciphertext=message.ciphertext[:cut]))
    with pytest.raises((InvalidMessage, DecodeError)):
        g.receive(replace(message, encrypted_sender_data=b""))
