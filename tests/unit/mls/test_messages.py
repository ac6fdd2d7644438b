"""Unit tests of the wire structs: the rules a round trip alone does not show."""

from __future__ import annotations

import pytest

from mls.errors import DecodeError, UsageError
from mls.messages import (
    Capabilities,
    Commit,
    ContentType,
    Credential,
    CredentialType,
    Extension,
    ExtensionType,
    FramedContent,
    FramedContentAuthData,
    FramedContentTBS,
    GroupContext,
    GroupInfo,
    KeyPackage,
    LeafNode,
    LeafNodeSource,
    Lifetime,
    MLSMessage,
    PreSharedKeyID,
    PrivateMessageContent,
    ProposalOrRef,
    ProposalType,
    PSKType,
    PublicMessage,
    RequiredCapabilities,
    SelfRemove,
    Sender,
    SenderData,
    SenderType,
    UnknownProposal,
    WireFormat,
    find_extension,
    framed_content_tbs,
    proposal_from_bytes,
    proposal_to_bytes,
    ratchet_tree_from_bytes,
)

GREASE = 0x3A3A


def leaf(source: LeafNodeSource = LeafNodeSource.KEY_PACKAGE, **kw: object) -> LeafNode:
    extra: dict[str, object] = {}
    if source == LeafNodeSource.KEY_PACKAGE:
        extra["lifetime"] = Lifetime(1, 2)
    elif source == LeafNodeSource.COMMIT:
        extra["parent_hash"] = b"ph"
    extra.update(kw)
    return LeafNode(
        b"enc",
        b"sig",
        Credential.basic(b"alice"),
        Capabilities((1,), (1, GREASE), (ExtensionType.LAST_RESORT, 0xF2EE), (0x000A,), (1,)),
        source,
        (Extension(GREASE, b"grease"), Extension(0xF2EE, b"marmot")),
        b"signature",
        **extra,  # type: ignore[arg-type]
    )


def test_unknown_and_grease_values_survive_round_trips() -> None:
    node = leaf()
    again = LeafNode.from_bytes(node.to_bytes())
    assert again == node
    assert GREASE in again.capabilities.cipher_suites
    assert find_extension(again.extensions, 0xF2EE) == Extension(0xF2EE, b"marmot")
    assert find_extension(again.extensions, ExtensionType.RATCHET_TREE) is None
    cred = Credential.from_bytes(Credential(0x7777, data=b"opaque body").to_bytes())
    assert cred == Credential(0x7777, data=b"opaque body")
    unknown = UnknownProposal(GREASE, b"\x01\x02")
    assert proposal_from_bytes(proposal_to_bytes(unknown)) == unknown


def test_self_remove_is_an_empty_proposal_of_type_0x000a() -> None:
    assert proposal_to_bytes(SelfRemove()) == bytes.fromhex("000a")
    assert proposal_from_bytes(bytes.fromhex("000a")) == SelfRemove()
    commit = Commit((ProposalOrRef.of_proposal(SelfRemove()),))
    assert Commit.from_bytes(commit.to_bytes()) == commit


def test_x509_credential_is_a_certificate_chain() -> None:
    cred = Credential.x509([b"leaf-cert", b"ca-cert"])
    assert (
        cred.to_bytes()
        == bytes.fromhex("0002") + bytes([18, 9]) + b"leaf-cert" + bytes([7]) + b"ca-cert"
    )
    assert Credential.from_bytes(cred.to_bytes()) == cred


@pytest.mark.parametrize("source", [0, 4, 0xFF])
def test_leaf_node_source_is_closed(source: int) -> None:
    node = leaf()
    at = len(b"\x03enc\x03sig") + len(node.credential.to_bytes() + node.capabilities.to_bytes())
    data = node.to_bytes()
    assert data[at] == LeafNodeSource.KEY_PACKAGE
    with pytest.raises(DecodeError):
        LeafNode.from_bytes(data[:at] + bytes([source]) + data[at + 1 :])


@pytest.mark.parametrize("header", ["0000", "0002", "00010000", "00010006", "00013a3a"])
def test_mls_message_version_and_wire_format_are_closed(header: str) -> None:
    with pytest.raises(DecodeError):
        MLSMessage.from_bytes(bytes.fromhex(header) + bytes(8))


@pytest.mark.parametrize("bad", [0, 4, 0xFF])
def test_invalid_enum_bytes_in_nested_structs(bad: int) -> None:
    sender = Sender.member(3).to_bytes()
    with pytest.raises(DecodeError):
        Sender.from_bytes(bytes([bad]) + sender[1:] if bad else b"\x00")
    psk = PreSharedKeyID.external(b"id", b"nonce").to_bytes()
    with pytest.raises(DecodeError):
        PreSharedKeyID.from_bytes(bytes([bad]) + psk[1:])
    ref = ProposalOrRef.of_reference(b"ref").to_bytes()
    with pytest.raises(DecodeError):
        ProposalOrRef.from_bytes(bytes([bad if bad != 4 else 3]) + ref[1:])


def test_leaf_node_source_fields_must_match() -> None:
    with pytest.raises(UsageError):
        leaf(LeafNodeSource.UPDATE, lifetime=Lifetime(1, 2))
    with pytest.raises(UsageError):
        leaf(LeafNodeSource.KEY_PACKAGE, lifetime=None)
    with pytest.raises(UsageError):
        leaf(LeafNodeSource.KEY_PACKAGE, parent_hash=b"x")
    with pytest.raises(UsageError):
        leaf(LeafNodeSource.COMMIT, parent_hash=None)


def test_other_variant_fields_must_match() -> None:
    with pytest.raises(UsageError):
        Credential(CredentialType.BASIC, certificates=(b"c",))
    with pytest.raises(UsageError):
        Credential(0x9999, identity=b"x")
    with pytest.raises(UsageError):
        PreSharedKeyID(PSKType.RESUMPTION, b"n", psk_id=b"x")
    with pytest.raises(UsageError):
        PreSharedKeyID(PSKType.EXTERNAL, b"n", psk_epoch=3)
    with pytest.raises(UsageError):
        Sender(SenderType.MEMBER)
    with pytest.raises(UsageError):
        Sender(SenderType.EXTERNAL, leaf_index=1)
    with pytest.raises(UsageError):
        UnknownProposal(ProposalType.ADD, b"")
    with pytest.raises(UsageError):
        SenderData(1, 2, b"abc")


def test_leaf_node_tbs_adds_group_and_leaf_only_for_update_and_commit() -> None:
    kp_leaf = leaf()
    content = kp_leaf.to_bytes()[: -len(b"signature") - 1]
    assert kp_leaf.tbs(b"group", 5) == content
    for source in (LeafNodeSource.UPDATE, LeafNodeSource.COMMIT):
        node = leaf(source)
        content = node.to_bytes()[: -len(b"signature") - 1]
        assert node.tbs(b"group", 5) == content + b"\x05group" + bytes.fromhex("00000005")


def test_key_package_and_group_info_tbs_drop_only_the_signature() -> None:
    kp = KeyPackage(1, 1, b"init", leaf(), (), b"kp-sig")
    assert kp.to_bytes() == kp.tbs() + b"\x06kp-sig"
    ctx = GroupContext(1, 1, b"g", 7, b"th", b"cth", (Extension(0xF2EE, b"x"),))
    info = GroupInfo(ctx, (), b"tag", 3, b"gi-sig")
    assert info.to_bytes() == info.tbs() + b"\x06gi-sig"
    assert info.tbs().startswith(ctx.to_bytes())


def test_required_capabilities_body() -> None:
    rc = RequiredCapabilities((0xF2EE,), (0x000A,), ())
    assert rc.to_bytes() == bytes.fromhex("02f2ee") + bytes.fromhex("02000a") + b"\x00"
    assert RequiredCapabilities.from_bytes(rc.to_bytes()) == rc


def _framed(sender: Sender, content: bytes | Commit = b"hi") -> FramedContent:
    return FramedContent(b"group", 9, sender, b"aad", content)


def test_framed_content_tbs_includes_the_context_only_for_members_and_new_member_commits() -> None:
    ctx = GroupContext(1, 1, b"group", 9, b"th", b"cth")
    for sender in (Sender.member(1), Sender.new_member_commit()):
        tbs = FramedContentTBS(WireFormat.PUBLIC_MESSAGE, _framed(sender), ctx)
        assert tbs.to_bytes().endswith(ctx.to_bytes())
        fast = framed_content_tbs(WireFormat.PUBLIC_MESSAGE, _framed(sender), ctx.to_bytes())
        assert fast == tbs.to_bytes()
        assert FramedContentTBS.from_bytes(fast) == tbs
    for sender in (Sender.external(0), Sender.new_member_proposal()):
        tbs = FramedContentTBS(WireFormat.PUBLIC_MESSAGE, _framed(sender))
        fast = framed_content_tbs(WireFormat.PUBLIC_MESSAGE, _framed(sender), ctx.to_bytes())
        assert fast == tbs.to_bytes()
        with pytest.raises(UsageError):
            FramedContentTBS(WireFormat.PUBLIC_MESSAGE, _framed(sender), ctx)


def test_public_message_tags_follow_the_sender_and_content_type() -> None:
    with pytest.raises(UsageError):
        PublicMessage(_framed(Sender.member(1)), FramedContentAuthData(b"s"))
    with pytest.raises(UsageError):
        PublicMessage(_framed(Sender.external(1)), FramedContentAuthData(b"s"), b"tag")
    commit = _framed(Sender.member(1), Commit())
    with pytest.raises(UsageError):
        PublicMessage(commit, FramedContentAuthData(b"s"), b"tag")
    ok = PublicMessage(commit, FramedContentAuthData(b"s", b"confirm"), b"tag")
    assert PublicMessage.from_bytes(ok.to_bytes()) == ok


def test_private_message_content_padding_must_be_zero() -> None:
    body = PrivateMessageContent(b"hello", FramedContentAuthData(b"sig"), padding=5)
    plaintext = body.to_bytes()
    assert plaintext.endswith(bytes(5))
    assert PrivateMessageContent.from_plaintext(plaintext, ContentType.APPLICATION) == body
    with pytest.raises(DecodeError):
        PrivateMessageContent.from_plaintext(plaintext[:-1] + b"\x01", ContentType.APPLICATION)


def test_ratchet_tree_rejects_bad_node_type_and_presence_bytes() -> None:
    with pytest.raises(DecodeError):
        ratchet_tree_from_bytes(bytes.fromhex("020103"))  # node_type 3
    with pytest.raises(DecodeError):
        ratchet_tree_from_bytes(bytes.fromhex("0102"))  # presence byte 2
    assert ratchet_tree_from_bytes(bytes.fromhex("0100")) == (None,)
