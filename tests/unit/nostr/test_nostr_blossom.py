"""nostr.blossom: server URLs, kind 24242 authorizations, descriptors, kind 10063 lists."""

from __future__ import annotations

import base64
import json

import pytest

from nostr.blossom import (
    BlobDescriptor,
    authorization,
    authorization_header,
    blob_url,
    check_authorization,
    hash_of_url,
    normalize_server_url,
    parse_server_list,
    server_list_event,
    server_of_url,
)
from nostr.errors import DecodeError
from nostr.event import Event, UnsignedEvent
from nostr.keys import SecretKey
from nostr.kinds import Kind

SHA = "ab" * 32


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://Blossom.Example/", "https://blossom.example"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("HTTPS://host.example:8443/media/", "https://host.example:8443/media"),
    ],
)
def test_server_urls_are_normalized(url: str, normal: str) -> None:
    assert normalize_server_url(url) == normal


@pytest.mark.parametrize(
    "url",
    [
        "ws://host.example",
        "https://user:pw@host.example",
        "https://host .example",
        "https://host.example:0",
        "https://host.example/?q=1",
        "https://",
        "ftp://host.example",
    ],
)
def test_bad_server_urls_are_refused(url: str) -> None:
    with pytest.raises(DecodeError):
        normalize_server_url(url)


def test_blob_urls_name_their_hash_and_server() -> None:
    url = blob_url("https://Host.Example/", SHA)
    assert url == f"https://host.example/{SHA}"
    assert hash_of_url(url) == SHA
    assert hash_of_url(f"https://host.example/{SHA}.bin") == SHA
    assert server_of_url(f"https://host.example/media/{SHA}.jpg") == "https://host.example/media"
    assert hash_of_url("https://host.example/not-a-hash") is None
    assert server_of_url("https://host.example/x") is None


def test_authorization_event_shape_and_header() -> None:
    key = SecretKey.generate()
    unsigned = authorization(key.public_key(), "upload", created_at=1000, hashes=[SHA])
    assert unsigned.kind == Kind.BLOSSOM_AUTH == 24242
    assert unsigned.tags == (("t", "upload"), ("x", SHA), ("expiration", "1300"))
    event = unsigned.sign(key)
    header = authorization_header(event)
    assert header.startswith("Nostr ")
    decoded = Event.from_json(base64.b64decode(header[6:]))
    assert decoded == event
    decoded.verify()


def test_authorization_refuses_bad_input() -> None:
    key = SecretKey.generate().public_key()
    with pytest.raises(ValueError, match="verb"):
        authorization(key, "steal", created_at=1)
    with pytest.raises(ValueError, match="hex"):
        authorization(key, "upload", created_at=1, hashes=["AB" * 32])


def test_descriptor_parsing() -> None:
    good = {"url": f"http://h/{SHA}", "sha256": SHA, "size": 3, "type": "", "uploaded": 5}
    d = BlobDescriptor.from_json(json.loads(json.dumps(good)))
    assert (d.size, d.type, d.uploaded) == (3, "application/octet-stream", 5)
    for bad in (
        [],
        {**good, "url": "file:///etc/passwd"},
        {**good, "sha256": "xyz"},
        {**good, "size": -1},
        {**good, "size": True},
    ):
        with pytest.raises(DecodeError):
            BlobDescriptor.from_json(bad)


def test_server_list_round_trip_skips_bad_entries() -> None:
    key = SecretKey.generate().public_key()
    event = server_list_event(
        key, ["https://a.example/", "https://b.example", "https://a.example"], created_at=7
    )
    assert event.kind == Kind.BLOSSOM_SERVERS == 10063
    assert parse_server_list(event) == ("https://a.example", "https://b.example")
    hostile = UnsignedEvent.create(
        key,
        7,
        Kind.BLOSSOM_SERVERS,
        "",
        [
            ("server", "javascript:alert(1)"),
            ("server",),
            ("r", "https://c.example"),
            ("server", "https://d.example"),
        ],
    )
    assert parse_server_list(hostile) == ("https://d.example",)
    with pytest.raises(DecodeError):
        parse_server_list(UnsignedEvent.create(key, 7, Kind.RELAY_LIST))


def test_a_server_checks_authorizations() -> None:
    key = SecretKey.generate()
    event = authorization(key.public_key(), "upload", created_at=1000, hashes=[SHA]).sign(key)
    header = authorization_header(event)
    assert check_authorization(header, "upload", SHA, now=1100) == event
    unpadded = header.rstrip("=")  # blossom-rs sends base64 without padding
    assert check_authorization(unpadded, "upload", None, now=1100) == event
    refused = [
        (header, "upload", SHA, 1300, "expired"),
        (header, "delete", SHA, 1100, "not for delete"),
        (header, "upload", "cd" * 32, 1100, "does not cover"),
        (header, "upload", SHA, 900, "future"),
        ("Bearer x", "upload", SHA, 1100, "missing"),
        ("Nostr !!!", "upload", SHA, 1100, "bad authorization"),
    ]
    for value, verb, sha, now, why in refused:
        with pytest.raises(DecodeError, match=why):
            check_authorization(value, verb, sha, now=now)
    forged = Event(
        **{
            **{
                f: getattr(event, f)
                for f in ("id", "pubkey", "created_at", "kind", "tags", "content")
            },
            "sig": "00" * 64,
        }
    )
    with pytest.raises(DecodeError, match="bad authorization"):
        check_authorization(authorization_header(forged), "upload", SHA, now=1100)
