"""NIP-46 pure core: connection strings, messages, and checking what a signer answers."""

from __future__ import annotations

import json

import pytest

from nostr import nip44, nip46
from nostr.errors import DecodeError, DecryptionError, InvalidEvent
from nostr.event import UnsignedEvent
from nostr.keys import SecretKey
from nostr.nip46_uri import BunkerUri, NostrConnectUri, looks_like_bunker, quote, unquote

USER = SecretKey(bytes([1]) * 32)
CLIENT = SecretKey(bytes([2]) * 32)
OTHER = SecretKey(bytes([3]) * 32)
SIGNER_HEX = USER.public_key().hex


def test_bunker_uri_round_trip_with_several_relays_and_a_secret() -> None:
    text = f"bunker://{SIGNER_HEX}?relay=wss%3A%2F%2Frelay.example.com&relay=ws://127.0.0.1:7777&secret=s%20x"
    uri = BunkerUri.parse(text)
    assert uri.signer == USER.public_key()
    assert uri.relays == ("wss://relay.example.com", "ws://127.0.0.1:7777")
    assert uri.secret == "s x"
    assert BunkerUri.parse(uri.to_uri()) == uri
    assert "s x" not in repr(uri)


def test_bunker_uri_without_secret_and_duplicate_relays() -> None:
    uri = BunkerUri.parse(f"  BUNKER://{SIGNER_HEX}?relay=wss://a.example&relay=wss://a.example ")
    assert uri.relays == ("wss://a.example",) and uri.secret is None
    assert looks_like_bunker(" bunker://x")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nostrconnect://" + SIGNER_HEX + "?relay=wss://a.example&secret=x",
        "bunker://nothex?relay=wss://a.example",
        f"bunker://{SIGNER_HEX}",
        f"bunker://{SIGNER_HEX}?relay=https://a.example",
        f"bunker://{SIGNER_HEX}?relay=wss://a.example&secret=%zz",
        f"bunker://{SIGNER_HEX}?relay=wss://a.example&secret=%ff",
        "bunker://" + "f" * 64 + "?relay=wss://a.example",  # not a curve point
        "bunker://" + "a" * 9000,
    ],
)
def test_bad_bunker_strings_are_decode_errors(text: str) -> None:
    with pytest.raises(DecodeError):
        BunkerUri.parse(text)


def test_nostrconnect_uri_round_trip() -> None:
    uri = NostrConnectUri(
        CLIENT.public_key(),
        ("ws://127.0.0.1:4869",),
        "0123abcd",
        nip46.PERMISSIONS,
        "Burrow",
        "https://burrow.example",
    )
    text = uri.to_uri()
    assert text.startswith("nostrconnect://" + CLIENT.public_key().hex + "?relay=ws%3A%2F%2F")
    assert NostrConnectUri.parse(text) == uri
    assert "sign_event:13" in uri.perms and "nip44_decrypt" in uri.perms
    with pytest.raises(DecodeError, match="secret"):
        NostrConnectUri.parse(text.replace("secret=0123abcd", "x=1"))


def test_quote_unquote_unicode() -> None:
    assert unquote(quote("é ,/")) == "é ,/"
    assert unquote("a+b") == "a b"


def test_request_event_round_trip_and_only_the_receiver_opens_it() -> None:
    request = nip46.connect(USER.public_key(), "sec", nip46.PERMISSIONS, "id1")
    event = nip46.seal_message(request, CLIENT, USER.public_key(), now=1000)
    assert event.kind == nip46.KIND and event.tags == (("p", SIGNER_HEX),)
    assert "sec" not in event.content
    assert nip46.open_message(event, USER) == request
    assert request.params[0] == SIGNER_HEX and request.params[1] == "sec"
    with pytest.raises(DecryptionError):
        nip46.open_message(event, OTHER)


def test_open_rejects_other_kinds_and_bad_plaintext() -> None:
    wrong = UnsignedEvent.create(CLIENT.public_key(), 1, 1, "x").sign(CLIENT)
    with pytest.raises(InvalidEvent):
        nip46.open_message(wrong, USER)
    conversation = nip44.conversation_key(CLIENT, USER.public_key())
    for plaintext in ("not json", "[1]", '{"id": 5}', '{"id":"a","method":"x","params":[1]}'):
        content = nip44.encrypt(plaintext, conversation)
        event = UnsignedEvent.create(CLIENT.public_key(), 1, nip46.KIND, content).sign(CLIENT)
        with pytest.raises(DecodeError):
            nip46.open_message(event, USER)


def test_response_parsing_auth_challenge_and_errors() -> None:
    challenge = nip46.parse_message('{"id":"a","result":"auth_url","error":"https://x/ok"}')
    assert isinstance(challenge, nip46.Response) and challenge.auth_url == "https://x/ok"
    request = nip46.simple(nip46.Method.PING, "a")
    refused = nip46.parse_message('{"id":"a","result":"error","error":"Not authorized"}')
    assert isinstance(refused, nip46.Response)
    with pytest.raises(nip46.RemoteSignerError, match="Not authorized") as caught:
        nip46.check_result(request, refused)
    assert caught.value.method == "ping"
    ok = nip46.parse_message('{"id":"a","result":"pong"}')
    assert isinstance(ok, nip46.Response) and nip46.check_result(request, ok) == "pong"
    # An object result is taken as its JSON text (some signers do this).
    loose = nip46.parse_message('{"id":"a","result":{"k":1}}')
    assert isinstance(loose, nip46.Response) and json.loads(loose.result) == {"k": 1}


def test_sign_event_request_and_checked_answer() -> None:
    unsigned = UnsignedEvent.create(USER.public_key(), 5, 0, '{"name":"é"}', [("t", "x")])
    request = nip46.sign_event(unsigned, "r1")
    sent = json.loads(request.params[0])
    assert sent == {
        "kind": 0,
        "content": '{"name":"é"}',
        "tags": [["t", "x"]],
        "created_at": 5,
        "pubkey": SIGNER_HEX,
    }
    good = unsigned.sign(USER)
    assert nip46.signed_event(unsigned, good.to_json()) == good
    other = UnsignedEvent.create(USER.public_key(), 5, 0, "swapped").sign(USER)
    with pytest.raises(InvalidEvent, match="different event"):
        nip46.signed_event(unsigned, other.to_json())
    forged = json.loads(good.to_json())
    forged["sig"] = other.sig
    with pytest.raises(InvalidEvent):
        nip46.signed_event(unsigned, json.dumps(forged))
    with pytest.raises(DecodeError):
        nip46.signed_event(unsigned, "nope")


def test_connect_answers_and_offers() -> None:
    nip46.connect_ack("ack", None)
    nip46.connect_ack("sec", "sec")
    with pytest.raises(nip46.RemoteSignerError):
        nip46.connect_ack("nope", "sec")
    assert nip46.answers_offer(nip46.Response("any", "sec"), "sec")
    assert not nip46.answers_offer(nip46.Response("any", "ack"), "sec")
    assert not nip46.answers_offer(nip46.simple(nip46.Method.PING, "x"), "sec")


def test_public_key_and_request_ids() -> None:
    assert nip46.public_key(SIGNER_HEX.upper()) == USER.public_key()
    with pytest.raises(DecodeError):
        nip46.public_key("zz")
    assert nip46.request_id() != nip46.request_id()
    with pytest.raises(ValueError, match="NIP-44"):
        nip46.nip44_request(nip46.Method.PING, USER.public_key(), "x", "i")


def test_nostr_sdk_reads_our_strings_and_we_read_its() -> None:
    # rust-nostr's parser (nostr-sdk 0.45) as an independent check of both string forms.
    import nostr_sdk

    bunker = BunkerUri(USER.public_key(), ("ws://127.0.0.1:4869",), "abc")
    theirs = str(nostr_sdk.NostrConnectUri.parse(bunker.to_uri()))
    assert BunkerUri.parse(theirs) == bunker
    offer = NostrConnectUri(
        CLIENT.public_key(), ("ws://127.0.0.1:4869",), "s3cret", (), "Burrow", "https://b.example"
    )
    theirs = str(nostr_sdk.NostrConnectUri.parse(offer.to_uri()))
    back = NostrConnectUri.parse(theirs)  # they keep metadata=, relay= and secret=
    assert (back.client, back.relays, back.secret, back.name) == (
        offer.client,
        offer.relays,
        offer.secret,
        "Burrow",
    )
