"""Marmot parsers on arbitrary input: a typed ``MarmotError`` or a value, never a crash;
and the builders' output always parses back to what went in."""

from __future__ import annotations

import contextlib
import string

from hypothesis import given
from hypothesis import strategies as st

from marmot.errors import (
    InvalidGroupData,
    InvalidMedia,
    InvalidPushMessage,
    InvalidRumor,
    InvalidWelcome,
)
from marmot.group_data import NostrGroupData
from marmot.group_event import encode_rumor, parse_rumor
from marmot.media import MEDIA_MIME_TYPES, MediaReference, build_imeta_tag, parse_imeta_tag
from marmot.push import ENCRYPTED_TOKEN_LEN, decrypt_token, parse_token_message
from marmot.welcome import parse_welcome_rumor
from nostr.event import UnsignedEvent
from tests.helpers.nostr_factories import NOW, secret

SERVER = secret("server")
AUTHOR = secret("author").public_key()
tags = st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=5), max_size=5)


@given(st.binary(max_size=200))
def test_group_data_bytes(data: bytes) -> None:
    try:
        decoded = NostrGroupData.from_bytes(data)
    except InvalidGroupData:
        return
    assert NostrGroupData.from_bytes(decoded.to_bytes()).nostr_group_id == decoded.nostr_group_id


@given(st.binary(min_size=2, max_size=120).map(lambda b: b"\x00\x02" + bytes(32) + b))
def test_group_data_after_a_valid_header(data: bytes) -> None:
    with contextlib.suppress(InvalidGroupData):
        NostrGroupData.from_bytes(data)


@given(st.lists(st.text(max_size=30), max_size=10))
def test_imeta_strings(items: list[str]) -> None:
    with contextlib.suppress(InvalidMedia):
        parse_imeta_tag(["imeta", *items])


@given(
    url=st.text(min_size=1, max_size=30),
    mime=st.sampled_from(sorted(MEDIA_MIME_TYPES)),
    filename=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\"),
        min_size=1,
        max_size=50,
    ),
    file_hash=st.binary(min_size=32, max_size=32),
    nonce=st.binary(min_size=12, max_size=12),
    dims=st.one_of(st.none(), st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))),
    blurhash=st.one_of(st.none(), st.text(alphabet=string.ascii_letters, min_size=1, max_size=20)),
)
def test_imeta_round_trip(
    *,
    url: str,
    mime: str,
    filename: str,
    file_hash: bytes,
    nonce: bytes,
    dims: tuple[int, int] | None,
    blurhash: str | None,
) -> None:
    ref = MediaReference(url, mime, filename, file_hash, nonce, dims, blurhash)
    assert parse_imeta_tag(build_imeta_tag(ref)) == ref


@given(st.integers(447, 449), tags, st.text(max_size=5))
def test_token_messages(kind: int, raw_tags: list[list[str]], content: str) -> None:
    rumor = UnsignedEvent.create(AUTHOR, NOW, kind, content, raw_tags)
    with contextlib.suppress(InvalidPushMessage):
        parse_token_message(rumor)


@given(st.binary(min_size=ENCRYPTED_TOKEN_LEN, max_size=ENCRYPTED_TOKEN_LEN))
def test_random_tokens(data: bytes) -> None:
    try:
        decrypt_token(SERVER, data)
    except InvalidPushMessage:
        return
    raise AssertionError("random bytes decrypted")


@given(st.binary(max_size=300))
def test_rumor_plaintexts(data: bytes) -> None:
    with contextlib.suppress(InvalidRumor):
        parse_rumor(data, AUTHOR.data)


@given(st.text(max_size=200), st.integers(0, 65535), tags)
def test_rumor_round_trip(content: str, kind: int, raw_tags: list[list[str]]) -> None:
    if kind in (5, 7):
        raw_tags = [*raw_tags, ["e", "ab" * 32]]
    rumor = UnsignedEvent.create(AUTHOR, NOW, kind, content, raw_tags)
    assert parse_rumor(encode_rumor(rumor), AUTHOR.data) == rumor


@given(tags, st.text(max_size=60))
def test_welcome_rumors(raw_tags: list[list[str]], content: str) -> None:
    rumor = UnsignedEvent.create(AUTHOR, NOW, 444, content, raw_tags)
    with contextlib.suppress(InvalidWelcome):
        parse_welcome_rumor(rumor)
