"""End to end, each client a separate CLI process: three users, then a user with two devices."""

from __future__ import annotations

import pytest

from tests.e2e.cli_client import CliClient, parallel, until
from tests.e2e.conftest import People
from tests.helpers.relay import RelayProcess

pytestmark = pytest.mark.e2e


def _settled(clients: list[CliClient], group: str) -> list[dict[str, object]]:
    """Sync everyone until they all agree on the epoch and its authenticator."""

    def probe() -> list[dict[str, object]]:
        return parallel(*(lambda c=c: c.group(group, sync=True) for c in clients))

    return until(
        probe,
        lambda gs: len({(g["epoch"], g["epoch_authenticator"]) for g in gs}) == 1,
    )


def test_three_users_full_flow(relay: RelayProcess, people: People) -> None:
    alice, bob, carol, dave = people(relay, "alice", "bob", "carol", "dave")
    group = alice.run(
        "group",
        "create",
        "Burrowers",
        "--member",
        bob.npub,
        "--member",
        carol.npub,
        "--description",
        "we dig",
    )["group"]
    gid = group["id"]
    assert group["epoch"] == 1 and group["i_am_admin"]
    parallel(lambda: bob.accept_invite(gid), lambda: carol.accept_invite(gid))
    _settled([alice, bob, carol], gid)

    # Messages, a reply, a reaction and deletions.
    hello = alice.run("send", gid[:10], "hello burrow")["message"]
    assert hello["status"] == "sent"
    bob.wait_texts(gid, ["hello burrow"])
    reply = bob.run("send", gid, "hi alice", "--reply-to", hello["id"])["message"]
    react = carol.run("react", gid, hello["id"], "🦫")["reaction"]
    assert react["status"] == "sent"
    oops = carol.run("send", gid, "oops")["message"]
    carol.run("delete", gid, oops["id"])
    assert bob.fails("delete", gid, hello["id"])["type"] == "NotAllowed"  # not his message
    seen = {m["id"]: m for m in alice.messages(gid, sync=True)}
    assert [m["content"] for m in alice.messages(gid)] == ["hello burrow", "hi alice", ""]
    assert seen[reply["id"]]["reply_to"] == hello["id"]
    assert seen[hello["id"]]["reactions"][0]["emoji"] == "🦫"
    assert seen[oops["id"]]["deleted"]

    # A fourth member joins and reads along.
    alice.run("group", "add", gid, dave.npub)
    dave.accept_invite(gid)
    alice.run("send", gid, "welcome dave")
    dave.wait_texts(gid, ["welcome dave"])

    # Carol is removed: she cannot read what comes after.
    alice.run("group", "remove", gid, carol.npub)
    alice.run("send", gid, "carol cannot see this")
    assert carol.group(gid, sync=True)["state"] == "inactive"
    assert "carol cannot see this" not in carol.texts(gid)
    assert carol.fails("send", gid, "let me in")["type"] == "NotAllowed"

    # Dave leaves (SelfRemove, committed by the admin); rename; promote and demote.
    dave.run("group", "leave", gid)
    until(
        lambda: alice.group(gid, sync=True),
        lambda g: {m["pubkey"] for m in g["members"]} == {alice.pubkey, bob.pubkey},
    )
    alice.run("group", "rename", gid, "Burrowers II")
    alice.run("group", "promote", gid, bob.npub)
    assert bob.group(gid, sync=True)["i_am_admin"]
    bob.run("group", "demote", gid, alice.npub)
    final = _settled([alice, bob], gid)
    assert final[0]["name"] == "Burrowers II"
    assert final[0]["admins"] == [bob.pubkey]
    assert bob.texts(gid)[-1] == "carol cannot see this"


def test_a_user_with_two_devices_gets_everything_on_both(
    relay: RelayProcess, people: People, tmp_path: object
) -> None:
    alice, bob = people(relay, "alice", "bob")
    nsec = bob.run("account", "export-nsec")["nsec"]
    laptop = CliClient("bob-laptop", bob.data_dir.parent / "bob-laptop", relay.url)
    laptop.run("account", "import", nsec, "--name", "bob")
    devices = until(lambda: bob.run("devices", "list")["devices"], lambda d: len(d) == 2)
    assert sum(d["current"] for d in devices) == 1

    group = alice.run("group", "create", "Two devices", "--member", bob.npub)["group"]
    gid = group["id"]
    bob_member = next(m for m in group["members"] if m["pubkey"] == bob.pubkey)
    assert len(bob_member["leaves"]) == 2  # one leaf per device
    parallel(lambda: bob.accept_invite(gid), lambda: laptop.accept_invite(gid))
    alice.run("send", gid, "to every bob")
    parallel(*(lambda d=d: d.wait_texts(gid, ["to every bob"]) for d in (bob, laptop)))
    laptop.run("send", gid, "from the laptop")
    both = ["to every bob", "from the laptop"]
    parallel(lambda: bob.wait_texts(gid, both), lambda: alice.wait_texts(gid, both))
    mine = bob.run("devices", "list")["devices"]
    assert {d["groups"] for d in mine} == {1}


def test_a_user_with_two_devices_creates_a_group_and_all_three_read_everything(
    relay: RelayProcess, people: People
) -> None:
    alice, bob = people(relay, "alice", "bob")
    laptop = CliClient("bob-laptop", bob.data_dir.parent / "bob-laptop", relay.url)
    laptop.run("account", "import", bob.run("account", "export-nsec")["nsec"])
    laptop_id = laptop.run("account", "show")["account"]["device"]

    group = bob.run("group", "create", "Mine", "--member", alice.npub)["group"]
    gid = group["id"]
    assert [(d["device"], d["current"]) for d in group["my_devices"]] == [
        (bob.run("account", "show")["account"]["device"], True),
        (laptop_id, False),
    ]
    alice.accept_invite(gid)  # the laptop needs no accepting: our own device added it
    everyone = (alice, bob, laptop)
    expected: list[str] = []
    for author in everyone:
        text = f"from {author.name} ({author.data_dir.name})"
        author.run("send", gid, text, sync=True)
        expected.append(text)
        parallel(*(lambda c=c: c.wait_texts(gid, expected) for c in everyone))
    devices = {d["id"]: d for d in bob.run("devices", "list")["devices"]}
    assert devices[laptop_id]["groups"] == 1 and not devices[laptop_id]["current"]
