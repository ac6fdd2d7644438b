"""Transcript hashes beyond the vector: only commits enter, the chain links epochs."""

from __future__ import annotations

import pytest

from mls.codec import opaque_v
from mls.crypto import get_suite
from mls.errors import UsageError
from mls.messages import (
    AuthenticatedContent,
    Commit,
    FramedContent,
    FramedContentAuthData,
    Remove,
    Sender,
    WireFormat,
)
from mls.transcript import (
    confirmed_transcript_hash,
    confirmed_transcript_hash_input,
    interim_transcript_hash,
    transcript_hashes_after,
)

SUITE = get_suite(1)


def _commit(epoch: int) -> AuthenticatedContent:
    framed = FramedContent(
        b"g",
        epoch,
        Sender.member(0),
        b"",
        Commit(
            (),
        ),
    )
    auth = FramedContentAuthData(b"sig%d" % epoch, b"tag%d" % epoch)
    return AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, framed, auth)


def test_input_is_authenticated_content_without_the_confirmation_tag() -> None:
    ac = _commit(0)
    tbh = confirmed_transcript_hash_input(ac.wire_format, ac.content, ac.auth.signature)
    assert ac.to_bytes() == tbh + opaque_v(b"tag0")


def test_only_commits_enter_the_transcript() -> None:
    framed = FramedContent(b"g", 0, Sender.member(0), b"", Remove(1))
    with pytest.raises(UsageError):
        confirmed_transcript_hash(SUITE, b"", WireFormat.PUBLIC_MESSAGE, framed, b"sig")


def test_hashes_chain_from_an_empty_start() -> None:
    interim = b""  # a new group starts with an empty interim hash
    seen = set()
    for epoch in range(3):
        ac = _commit(epoch)
        confirmed, next_interim = transcript_hashes_after(SUITE, interim, ac)
        assert confirmed == SUITE.hash(
            interim + confirmed_transcript_hash_input(ac.wire_format, ac.content, b"sig%d" % epoch)
        )
        assert next_interim == interim_transcript_hash(SUITE, confirmed, b"tag%d" % epoch)
        seen |= {confirmed, next_interim}
        interim = next_interim
    assert len(seen) == 6
