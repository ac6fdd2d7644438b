"""Which of an identity's key-package slots are live devices (`app.key_packages`): the
``d`` of a 30443, or of a 443 (Burrow's Profile A)."""

from __future__ import annotations

from app.key_packages import select_key_packages
from marmot.key_package_event import key_package_event_data
from nostr.event import Event, UnsignedEvent
from tests.helpers.marmot_factories import RELAY, key_package
from tests.helpers.nostr_factories import NOW, CountingRng, secret

BOB = secret("bob")


def _slot(
    device: str, client: str | None, created_at: int, *, kind: int = 30443, slot: str = ""
) -> Event:
    """A ``kind`` event of Bob's ``device`` in its own ``d`` slot (``slot`` names it:
    packages of one device share it), from app ``client``."""
    bundle = key_package("bob", device=device)
    data = key_package_event_data(
        bundle.key_package, relays=[RELAY], rng=CountingRng("slot" + (slot or device))
    )
    tags = [t for t in data.tags_30443 if t[0] != "client"]
    if client is not None:
        tags.append(("client", client))
    unsigned = UnsignedEvent.create(BOB.public_key(), created_at, kind, data.content, tags)
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


def test_burrow_443s_are_devices_by_slot_and_the_newest_of_each_wins() -> None:
    """443 is regular: a rotated one stays up until its deletion lands; only the newest of
    a slot is offered, whether the older one was a 443 or an older Burrow's 30443."""
    burrow = "burrow/0.1.0"
    old = _slot("a", burrow, NOW - 900, kind=30443, slot="laptop")
    rotated = _slot("b", burrow, NOW - 500, kind=443, slot="laptop")
    fresh = _slot("c", burrow, NOW - 100, kind=443, slot="laptop")
    phone = _slot("d", burrow, NOW - 800, kind=443, slot="phone")
    assert _devices([fresh, phone, old, rotated]) == {fresh.id, phone.id}
    assert _devices([rotated, old]) == {rotated.id}


def test_an_unslotted_443_counts_only_without_a_slotted_package() -> None:
    twin = _unslotted(NOW - 5)
    slotted = _slot("a", "whitenoise", NOW - 50)
    assert _devices([twin, slotted]) == {slotted.id}
    assert _devices([twin, _unslotted(NOW - 90)]) == {twin.id}


def _unslotted(created_at: int) -> Event:
    """A 443 without ``d`` (MDK's legacy twin)."""
    bundle = key_package("bob", device=f"twin{created_at}")
    data = key_package_event_data(bundle.key_package, relays=[RELAY], rng=CountingRng("t"))
    unsigned = data.unsigned(BOB.public_key(), created_at, legacy=True)
    return unsigned.sign(BOB, rng=CountingRng(str(created_at)))
