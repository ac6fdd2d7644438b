"""message-protection.json: PublicMessage and PrivateMessage protect/unprotect (RFC 9420
sections 6, 6.1, 6.2, 6.3). Sender is leaf 1 of a 2-member group; one item per case."""

from __future__ import annotations

from typing import Any

import pytest

from mls.crypto import Suite, get_suite
from mls.errors import InvalidMessage, UsageError
from mls.framing import (
    authenticate,
    protect_private,
    protect_public,
    unprotect_private,
    unprotect_public,
)
from mls.messages import (
    AuthenticatedContent,
    Commit,
    Content,
    FramedContent,
    GroupContext,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
    WireFormat,
    proposal_from_bytes,
)
from mls.secret_tree import SecretTree
from tests.vectors import case_ids, mls_vectors

CASES = mls_vectors("message-protection")
pytestmark = pytest.mark.vectors


class Case:
    """The vector's inputs, decoded once."""

    def __init__(self, case: dict[str, Any]) -> None:
        h = {k: bytes.fromhex(v) for k, v in case.items() if isinstance(v, str)}
        self.h = h
        self.suite: Suite = get_suite(case["cipher_suite"])
        if self.suite.signature_scheme.name.startswith("ECDSA"):
            # The suite-5 vector writes its P-521 scalar in 65 bytes (leading zero dropped);
            # the value is the same big-endian integer at the scalar's full width.
            h["signature_priv"] = h["signature_priv"].rjust(self.suite.nsk, b"\0")
        self.group_id, self.epoch = h["group_id"], case["epoch"]
        self.context = GroupContext(
            1,
            case["cipher_suite"],
            h["group_id"],
            case["epoch"],
            h["tree_hash"],
            h["confirmed_transcript_hash"],
        ).to_bytes()

    def tree(self) -> SecretTree:
        return SecretTree(self.suite, self.h["encryption_secret"], 2)

    def signer(self, content: FramedContent) -> bytes:
        assert content.sender == Sender.member(1)
        return self.h["signature_pub"]

    def sign(self, content: Content, wire_format: WireFormat) -> AuthenticatedContent:
        framed = FramedContent(self.group_id, self.epoch, Sender.member(1), b"", content)
        tag = bytes(self.suite.nh) if isinstance(content, Commit) else None
        priv = self.h["signature_priv"]
        return authenticate(
            self.suite, wire_format, framed, self.context, priv, confirmation_tag=tag
        )

    def unprotect_pub(self, data: bytes) -> AuthenticatedContent:
        message = MLSMessage.from_bytes(data).body
        assert isinstance(message, PublicMessage)
        return unprotect_public(
            self.suite, message, self.context, self.h["membership_key"], signature_key=self.signer
        )

    def unprotect_priv(self, data: bytes) -> AuthenticatedContent:
        message = MLSMessage.from_bytes(data).body
        assert isinstance(message, PrivateMessage)
        sds = self.h["sender_data_secret"]
        return unprotect_private(
            self.suite, message, self.tree(), sds, self.context, signature_key=self.signer
        )

    def protect_pub(self, content: Content) -> bytes:
        signed = self.sign(content, WireFormat.PUBLIC_MESSAGE)
        return MLSMessage(
            protect_public(self.suite, signed, self.context, self.h["membership_key"])
        ).to_bytes()

    def protect_priv(self, content: Content) -> bytes:
        signed = self.sign(content, WireFormat.PRIVATE_MESSAGE)
        sds = self.h["sender_data_secret"]
        return MLSMessage(
            protect_private(self.suite, signed, self.tree(), sds, padding=7)
        ).to_bytes()


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 1]) + data[pos + 1 :]


@pytest.mark.parametrize("case", CASES, ids=case_ids("message-protection", CASES))
def test_message_protection(case: dict[str, Any]) -> None:
    c = Case(case)
    raw: dict[str, Content] = {
        "proposal": proposal_from_bytes(c.h["proposal"]),
        "commit": Commit.from_bytes(c.h["commit"]),
        "application": c.h["application"],
    }
    assert raw["commit"].to_bytes() == c.h["commit"]  # type: ignore[union-attr]

    for name, content in raw.items():
        # The vector's own PrivateMessage decrypts and verifies to the raw value.
        assert c.unprotect_priv(c.h[f"{name}_priv"]).content.content == content, name
        # Re-protecting with the secret tree round-trips through a fresh receiver tree.
        assert c.unprotect_priv(c.protect_priv(content)).content.content == content, name

        if name == "application":
            signed = c.sign(content, WireFormat.PUBLIC_MESSAGE)
            with pytest.raises(UsageError):
                protect_public(c.suite, signed, c.context, c.h["membership_key"])
            continue
        # The vector's PublicMessage verifies with the membership key and signature key.
        pub = c.h[f"{name}_pub"]
        assert c.unprotect_pub(pub).content.content == content, name
        mine = c.protect_pub(content)
        assert c.unprotect_pub(mine).content.content == content, name
        # A flipped bit in the membership tag (the last byte) or the signature fails.
        with pytest.raises(InvalidMessage):
            c.unprotect_pub(_flip(pub, len(pub) - 1))
        with pytest.raises(InvalidMessage):
            c.unprotect_pub(_flip(mine, len(mine) - 1))
