"""Trigger chunk sizes: MDK's 25, and the 19 that fits relays capping events at 64 KiB."""

from __future__ import annotations

import pytest

from marmot.errors import UsageError
from marmot.push import (
    MAX_TOKENS_PER_TRIGGER,
    TOKENS_PER_64K_WRAP,
    TokenTag,
    build_notification_batches,
    encrypt_token,
)
from tests.helpers.nostr_factories import NOW, CountingRng, secret
from tests.helpers.push_factories import fcm

SERVER = secret("chunk server").public_key()
RELAY_EVENT_LIMIT = 65_536


def _tags(n: int) -> list[TokenTag]:
    rng = CountingRng("chunks")
    return [
        TokenTag(encrypt_token(SERVER, fcm(f"t{i}"), rng=rng), SERVER, "wss://r.example")
        for i in range(n)
    ]


@pytest.mark.parametrize(("count", "fits"), [(TOKENS_PER_64K_WRAP, True), (20, False)])
def test_64k_chunk_is_the_largest_that_fits(count: int, fits: bool) -> None:
    [batch] = build_notification_batches(_tags(count), now=NOW, max_tokens=count)
    [wrap] = batch.events
    assert (len(wrap.to_json()) <= RELAY_EVENT_LIMIT) is fits


def test_chunking_by_max_tokens() -> None:
    [batch] = build_notification_batches(_tags(40), now=NOW, max_tokens=TOKENS_PER_64K_WRAP)
    assert len(batch.events) == 3
    [default] = build_notification_batches(_tags(26), now=NOW)
    assert len(default.events) == 2


@pytest.mark.parametrize("bad", [0, MAX_TOKENS_PER_TRIGGER + 1])
def test_chunk_size_must_be_1_to_25(bad: int) -> None:
    with pytest.raises(UsageError):
        build_notification_batches(_tags(1), now=NOW, max_tokens=bad)
