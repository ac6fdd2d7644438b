"""MIP-02 Welcome rumors and their gift wraps (marmot.md section 4)."""

from __future__ import annotations

import base64
import json

import nostr_sdk as sdk
import pytest

from marmot.errors import InvalidWelcome, UsageError
from marmot.group import GroupConfig, create_group, join_group
from marmot.welcome import build_welcome_rumor, parse_welcome_rumor, unwrap_welcome, wrap_welcome
from mls.messages import EncryptedGroupSecrets, HPKECiphertext, MLSMessage, Welcome
from nostr import nip44
from nostr.event import Event, UnsignedEvent
from tests.helpers.marmot_factories import key_package
from tests.helpers.marmot_members import Member
from tests.helpers.nostr_factories import NOW, CountingRng, secret

ALICE, BOB = secret("alice"), secret("bob")
WELCOME = MLSMessage(
    Welcome(1, (EncryptedGroupSecrets(b"\x01" * 32, HPKECiphertext(b"\x02" * 32, b"ct")),), b"gi")
)
KP_ID = "cd" * 32
RELAYS = ["wss://relay.example.com", "wss://two.example"]


def _rumor() -> UnsignedEvent:
    return build_welcome_rumor(
        ALICE.public_key(), NOW, WELCOME, relays=RELAYS, key_package_event_id=KP_ID
    )


def test_rumor_layout() -> None:
    rumor = _rumor()
    assert rumor.kind == 444
    assert rumor.pubkey == ALICE.public_key().hex
    assert rumor.tags == (
        ("relays", *RELAYS),
        ("e", KP_ID),
        ("client", "burrow/0.1.0"),
        ("encoding", "base64"),
    )
    assert base64.b64decode(rumor.content) == WELCOME.to_bytes()
    invite = parse_welcome_rumor(rumor)
    assert invite.welcome == WELCOME.body
    assert invite.relays == tuple(RELAYS)
    assert invite.key_package_event_id == KP_ID
    assert invite.inviter == ALICE.public_key().hex
    assert invite.client == "burrow/0.1.0"
    without_client = build_welcome_rumor(
        ALICE.public_key(),
        NOW,
        WELCOME.to_bytes(),
        relays=RELAYS,
        key_package_event_id=KP_ID,
        client=None,
    )
    assert parse_welcome_rumor(without_client).client is None
    with pytest.raises(UsageError):
        build_welcome_rumor(ALICE.public_key(), NOW, WELCOME, relays=[], key_package_event_id=KP_ID)


def _make(tags: list[list[str]], content: str | None = None, kind: int = 444) -> UnsignedEvent:
    body = base64.b64encode(WELCOME.to_bytes()).decode() if content is None else content
    return UnsignedEvent.create(ALICE.public_key(), NOW, kind, body, tags)


R, E, C, ENC = ["relays", RELAYS[0]], ["e", KP_ID], ["client", "x"], ["encoding", "base64"]
KP_MESSAGE = base64.b64encode(MLSMessage(key_package("bob").key_package).to_bytes()).decode()


@pytest.mark.parametrize(
    ("rumor", "reason"),
    [
        (_make([R, E, ENC], kind=445), "not a Welcome"),
        (_make([R, ENC]), "three tags"),
        (_make([E, C, ENC]), "relay"),
        (_make([["relays", "https://x"], E, ENC]), "relay"),
        (_make([["relays"], E, ENC]), "relay"),
        (_make([R, C, ENC]), "e tag"),
        (_make([R, ["e", ""], ENC]), "e tag"),
        (_make([R, E, C]), "encoding"),
        (_make([R, E, ["encoding", "hex"]]), "encoding"),
        (_make([R, E, ["client", ""], ENC]), "client"),
        (_make([R, E, ["client"], ENC]), "client"),
        (_make([R, E, ENC, ["client", "x"], ["client", ""]]), "client"),  # every one counts
        (_make([R, E, ["encoding"]]), "encoding"),
        (_make([R, E, ENC, ["encoding", "hex"]]), "encoding"),
        (_make([["relays", RELAYS[0], "https://x"], E, ENC]), "relay URL"),  # all must parse
        (_make([R, ["relays", "nonsense"], E, ENC]), "relay URL"),
        (_make([R, E, ENC], "not base64"), "MLSMessage"),
        (_make([R, E, ENC], base64.b64encode(b"\x00\x01\x00\x03").decode()), "MLSMessage"),
        (_make([R, E, ENC], KP_MESSAGE), "not a Welcome"),
    ],
)
def test_invalid_rumors_are_refused(rumor: UnsignedEvent, reason: str) -> None:
    with pytest.raises(InvalidWelcome, match=reason):
        parse_welcome_rumor(rumor)


def test_tags_are_found_in_any_order_like_mdk() -> None:
    later_e = _make([ENC, ["e", ""], ["relays"], R, ["x", "y"], E])
    invite = parse_welcome_rumor(later_e)
    assert invite.key_package_event_id == KP_ID and invite.relays == (RELAYS[0],)
    assert invite.client is None


def test_gift_wrap_round_trip_with_expiration() -> None:
    rumor = _rumor()
    wrap = wrap_welcome(rumor, ALICE, BOB.public_key(), now=NOW, rng=CountingRng())
    assert wrap.kind == 1059
    assert wrap.tags == (("expiration", str(NOW + 30 * 86400)), ("p", BOB.public_key().hex))
    assert wrap.pubkey not in (ALICE.public_key().hex, BOB.public_key().hex)
    invite = unwrap_welcome(wrap, BOB)
    assert invite.rumor == rumor
    with pytest.raises(InvalidWelcome, match="does not open"):
        unwrap_welcome(wrap, secret("carol"))


def test_nostr_sdk_unwraps_our_welcome_and_we_unwrap_theirs() -> None:
    rumor = _rumor()
    wrap = wrap_welcome(rumor, ALICE, BOB.public_key(), now=NOW)
    bob_keys = sdk.Keys(sdk.SecretKey.from_bytes(BOB.data))
    gift = sdk.UnwrappedGift.from_gift_wrap(bob_keys, sdk.Event.from_json(wrap.to_json()))
    assert gift.sender().to_hex() == ALICE.public_key().hex
    assert gift.rumor().as_json() == rumor.to_json()
    theirs = sdk.nip59_make_gift_wrap(
        sdk.Keys(sdk.SecretKey.from_bytes(ALICE.data)),
        bob_keys.public_key(),
        sdk.UnsignedEvent.from_json(rumor.to_json()),
    )
    assert unwrap_welcome(Event.from_json(theirs.as_json()), BOB).rumor == rumor


def test_a_rumor_without_id_is_refused() -> None:
    rumor = _rumor()
    data = rumor.to_dict()
    del data["id"]
    # Hand-build the NIP-59 layers around the id-less rumor JSON.
    seal_content = nip44.encrypt(json.dumps(data), nip44.conversation_key(ALICE, BOB.public_key()))
    seal = UnsignedEvent.create(ALICE.public_key(), NOW, 13, seal_content).sign(ALICE)
    one_time = secret("one time")
    wrap_content = nip44.encrypt(seal.to_json(), nip44.conversation_key(one_time, BOB.public_key()))
    wrap = UnsignedEvent.create(
        one_time.public_key(), NOW, 1059, wrap_content, [["p", BOB.public_key().hex]]
    ).sign(one_time)
    with pytest.raises(InvalidWelcome, match="no id"):
        unwrap_welcome(wrap, BOB)


def test_a_rumor_from_someone_else_than_the_sealer_is_refused() -> None:
    mallory = secret("mallory")
    rumor = _rumor()  # authored by alice
    seal_content = nip44.encrypt(rumor.to_json(), nip44.conversation_key(mallory, BOB.public_key()))
    seal = UnsignedEvent.create(mallory.public_key(), NOW, 13, seal_content).sign(mallory)
    one_time = secret("one time")
    wrap_content = nip44.encrypt(seal.to_json(), nip44.conversation_key(one_time, BOB.public_key()))
    wrap = UnsignedEvent.create(
        one_time.public_key(), NOW, 1059, wrap_content, [["p", BOB.public_key().hex]]
    ).sign(one_time)
    with pytest.raises(InvalidWelcome, match="does not open"):
        unwrap_welcome(wrap, BOB)


def test_each_invitee_gets_only_their_own_group_secrets_and_joins_with_them() -> None:
    members = [Member(label) for label in ("bob", "carol", "dave")]
    created = create_group(
        ALICE.public_key(),
        GroupConfig(name="Trimmed", relays=tuple(RELAYS)),
        [m.key_package() for m in members],
        now=NOW,
        rng=CountingRng("trim"),
    )
    for member, rumor in zip(members, created.welcomes, strict=True):
        welcome = MLSMessage.from_bytes(base64.b64decode(rumor.rumor.content)).body
        assert isinstance(welcome, Welcome)
        assert [s.new_member for s in welcome.secrets] == [member.key_package().ref]
        wrap = rumor.wrap(ALICE, now=NOW, rng=CountingRng(member.label))
        joined = join_group(unwrap_welcome(wrap, member.secret), member.bundle).group
        assert joined.epoch == created.group.epoch
        assert joined.state.tree_hash == created.group.state.tree_hash
