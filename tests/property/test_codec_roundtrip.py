"""Every wire struct round-trips; malformed bytes only ever raise ``DecodeError``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mls.messages
from mls.codec import decode_all
from mls.errors import DecodeError
from mls.messages import (
    ContentType,
    FramedContentAuthData,
    PrivateMessageContent,
    node_from_bytes,
    node_to_bytes,
    proposal_from_bytes,
    proposal_to_bytes,
    ratchet_tree_from_bytes,
    ratchet_tree_to_bytes,
)
from mls.messages._base import Struct
from tests.property.mls_strategies import (
    STRUCTS,
    nodes,
    private_message_contents,
    proposals,
    ratchet_trees,
)


def _all_structs(cls: type = Struct) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_structs(sub)
    return found


def _auth_decoder(content_type: ContentType) -> Callable[[bytes], Any]:
    return lambda data: decode_all(
        data, lambda r: FramedContentAuthData.decode_for(r, content_type)
    )


def _content_decoder(content_type: ContentType) -> Callable[[bytes], Any]:
    return lambda data: PrivateMessageContent.from_plaintext(data, content_type)


# (name, encode, decode, strategy) for the values that are not a single Struct class.
UNIONS: list[tuple[str, Callable[[Any], bytes], Callable[[bytes], Any], Any]] = [
    ("Proposal", proposal_to_bytes, proposal_from_bytes, proposals),
    ("Node", node_to_bytes, node_from_bytes, nodes),
    ("ratchet_tree", ratchet_tree_to_bytes, ratchet_tree_from_bytes, ratchet_trees),
]
CODECS = [(c.__name__, c.to_bytes, c.from_bytes, s) for c, s in STRUCTS.items()] + UNIONS
DECODERS: list[tuple[str, Callable[[bytes], Any]]] = (
    [(n, d) for n, _, d, _ in CODECS]
    + [(f"PrivateMessageContent-{ct.name}", _content_decoder(ct)) for ct in ContentType]
    + [(f"FramedContentAuthData-{ct.name}", _auth_decoder(ct)) for ct in ContentType]
)

codec_params = pytest.mark.parametrize(
    ("encode", "decode", "strategy"), [c[1:] for c in CODECS], ids=[c[0] for c in CODECS]
)


def test_every_struct_has_a_strategy() -> None:
    exported = {getattr(mls.messages, n) for n in mls.messages.__all__}
    structs = {c for c in _all_structs() if c in exported}
    assert structs and structs <= set(STRUCTS)


@codec_params
@given(data=st.data())
def test_round_trip_truncation_and_mutation(
    encode: Any, decode: Any, strategy: Any, data: st.DataObject
) -> None:
    """One drawn value, four properties (drawing dominates the cost, so it is shared)."""
    value = data.draw(strategy)
    encoded = encode(value)
    # decode(encode(x)) == x, and the encoding is canonical.
    assert decode(encoded) == value
    assert encode(decode(encoded)) == encoded
    if not encoded:
        return
    # Any strict prefix is truncated; anything appended is trailing.
    cut = data.draw(st.integers(0, len(encoded) - 1), label="cut")
    with pytest.raises(DecodeError):
        decode(encoded[:cut])
    with pytest.raises(DecodeError):
        decode(encoded + data.draw(st.binary(min_size=1, max_size=3), label="extra"))
    # Overwritten bytes either still parse or raise DecodeError, never anything else.
    mutated = bytearray(encoded)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(DecodeError):
        decode(bytes(mutated))


@pytest.mark.parametrize("decode", [d for _, d in DECODERS], ids=[n for n, _ in DECODERS])
@given(data=st.binary(max_size=96))
def test_random_bytes_raise_only_decode_error(decode: Any, data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


@given(content=private_message_contents())
def test_private_message_content_round_trips_with_padding(
    content: PrivateMessageContent,
) -> None:
    ct = mls.messages.content_type_of(content.content)
    plaintext = content.to_bytes()
    assert plaintext.endswith(bytes(content.padding))
    assert PrivateMessageContent.from_plaintext(plaintext, ct) == content
    if content.padding:
        bad = plaintext[:-1] + b"\x01"
        with pytest.raises(DecodeError):
            PrivateMessageContent.from_plaintext(bad, ct)
