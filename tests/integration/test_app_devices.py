"""Several devices of our own identity, through `app.Services` and the real relay: the
groups we create or add members to take our other devices along, every device reads
everything, and a removed device stays out."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import AccountSession, Services
from app.events import InviteReceived
from app.models import GroupInfo
from tests.helpers.app_clients import PASSPHRASE, Client, config_for, eventually, make_client
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _second_device(client: Client, tmp_path: Path, relay_url: str) -> Client:
    """The same nsec imported into another data folder: another device of ``client``."""
    nsec = client.services.export_nsec(client.pubkey, PASSPHRASE)
    services = Services(config_for(tmp_path / f"{client.name}-laptop", relay_url))
    events = []
    services.bus.subscribe(events.append)
    session = await services.import_account(nsec, PASSPHRASE, client.name)
    await session.start(live=True)
    await session.flush(10)
    return Client(f"{client.name}-laptop", services, session, events)


async def _texts(session: AccountSession, group: str) -> list[str]:
    try:
        return [m.content for m in await session.messages.list_messages(group)]
    except Exception:  # not joined yet
        return []


async def _everyone_reads(clients: list[Client], group: str, expected: list[str]) -> None:
    for client in clients:
        await eventually(lambda c=client: _texts(c.session, group), lambda t: t == expected)


def _leaves(info: GroupInfo, pubkey: str) -> tuple[int, ...]:
    return next(m.leaves for m in info.members if m.pubkey == pubkey)


async def test_our_other_device_joins_the_groups_we_create_and_reads_everything(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    phone = await make_client(tmp_path, relay.url, "bob")
    laptop = await _second_device(phone, tmp_path, relay.url)
    try:
        group = await phone.session.groups.create("Ours", [alice.npub], profile="mip")
        assert len(_leaves(group, phone.pubkey)) == 2  # this device and the laptop
        phone_slot = await phone.session.key_packages.device_slot()
        laptop_slot = await laptop.session.key_packages.device_slot()
        assert [(d.device, d.current) for d in group.my_devices] == [
            (phone_slot, True),
            (laptop_slot, False),
        ]
        # The laptop joins by itself (our own device invited it); Alice accepts.
        joined = await eventually(laptop.session.groups.list_groups, lambda gs: [g.id for g in gs])
        assert joined[0].id == group.id and not laptop.of(InviteReceived)
        # Its post-join self-update reaches us before Alice accepts: hers then follows it
        # instead of racing it in the same epoch (a race whose outcome the ids decide).
        await eventually(
            lambda: phone.session.groups.info(group.id), lambda g: g.epoch == group.epoch + 1
        )
        invites = await eventually(alice.session.invites.list_invites, bool)
        await alice.session.invites.accept(invites[0].id)

        everyone = [alice, phone, laptop]
        await phone.session.messages.send(group.id, "from the phone")
        await _everyone_reads(everyone, group.id, ["from the phone"])
        await laptop.session.messages.send(group.id, "from the laptop")
        await _everyone_reads(everyone, group.id, ["from the phone", "from the laptop"])
        await alice.session.messages.send(group.id, "from alice")
        expected = ["from the phone", "from the laptop", "from alice"]
        await _everyone_reads(everyone, group.id, expected)
        from_laptop = (await phone.session.messages.list_messages(group.id))[1]
        assert from_laptop.own and from_laptop.author == phone.pubkey  # our words, elsewhere

        devices = {d.id: d for d in await phone.session.devices.list_devices()}
        laptop_leaf = group.my_devices[1].leaf
        assert devices[laptop_slot].leaves == ((group.id, laptop_leaf),)
        assert devices[phone_slot].current and devices[phone_slot].leaves == ((group.id, 0),)
    finally:
        for client in (alice, phone, laptop):
            await client.close()


async def test_adding_members_takes_our_new_device_along_and_a_removed_one_stays_out(
    relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await make_client(tmp_path, relay.url, "alice")
    carol = await make_client(tmp_path, relay.url, "carol")
    phone = await make_client(tmp_path, relay.url, "bob")
    laptop: Client | None = None
    try:
        group = await phone.session.groups.create("Before the laptop", [alice.npub], profile="mip")
        assert len(_leaves(group, phone.pubkey)) == 1
        laptop = await _second_device(phone, tmp_path, relay.url)
        added = await phone.session.groups.add_members(group.id, [carol.npub])
        assert len(_leaves(added, phone.pubkey)) == 2  # the laptop came along
        assert len(added.my_devices) == 2
        await eventually(laptop.session.groups.list_groups, bool)
        await phone.session.messages.send(group.id, "all of us")
        await _everyone_reads([phone, laptop], group.id, ["all of us"])

        # The laptop is lost: removed from the group, its key package deleted, and it
        # is not taken along into the next group.
        laptop_slot = await laptop.session.key_packages.device_slot()
        await laptop.close()
        laptop = None
        removed = await phone.session.devices.remove(laptop_slot[:10])
        assert removed.removed and removed.leaves == ()
        info = await phone.session.groups.info(group.id)
        assert len(_leaves(info, phone.pubkey)) == 1
        later = await phone.session.groups.create("After the laptop", [carol.npub], profile="mip")
        assert len(_leaves(later, phone.pubkey)) == 1
        listed = {d.id: d for d in await phone.session.devices.list_devices()}
        assert laptop_slot not in listed or listed[laptop_slot].removed
    finally:
        for client in (alice, carol, phone, laptop):
            if client is not None:
                await client.close()
