"""Which of an identity's 30443 slots are live devices (`app.key_packages`)."""

from __future__ import annotations

from app.key_packages import select_key_packages
from marmot.key_package_event import key_package_event_data
from nostr.event import Event, UnsignedEvent
from tests.helpers.marmot_factories import RELAY, key_package
from tests.helpers.nostr_factories import NOW, CountingRng, secret

BOB = secret("bob")


def _slot(device: str, client: str | None, created_at: int) -> Event:
    """A 30443 of Bob's ``device`` in its own ``d`` slot, from app ``client``."""
    bundle = key_package("bob", device=device)
    data = key_package_event_data(
        bundle.key_package, relays=[RELAY], rng=CountingRng("slot" + device)
    )
    tags = [t for t in data.tags_30443 if t[0] != "client"]
    if client is not None:
        tags.append(("client", client))
    unsigned = UnsignedEvent.create(BOB.public_key(), created_at, 30443, data.content, tags)
    return unsigned.sign(BOB, rng=CountingRng(device))


def _devices(events: list[Event]) -> set[str | None]:
    return {kp.event_id for kp in select_key_packages(events, now=NOW)}


def test_a_white_noise_identity_with_stale_slots_is_one_device() -> None:
    """Older White Noise published a fresh ``d`` slot each time: only the newest is live."""
    old, older = _slot("a", "White Noise", NOW - 500), _slot("b", "White Noise", NOW - 900)
    newest = _slot("c", "White Noise/0.3", NOW - 10)
    assert _devices([old, newest, older]) == {newest.id}
    bare_old, bare_new = _slot("d", None, NOW - 50), _slot("e", None, NOW - 40)
    assert _devices([bare_new, bare_old]) == {bare_new.id}


def test_each_burrow_slot_is_a_device_beside_other_apps() -> None:
    laptop, phone = _slot("a", "burrow/0.1.0", NOW - 900), _slot("b", "burrow/0.2.0", NOW - 5)
    white_noise = _slot("c", "whitenoise", NOW - 500)
    assert _devices([white_noise, phone, laptop]) == {laptop.id, phone.id, white_noise.id}
