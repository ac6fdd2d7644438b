"""Account and settings, contacts, profiles and the raw follow list."""

from __future__ import annotations

import pytest

from storage import Connection, NotFound, StorageBug
from storage.connection import translate_errors
from storage.repos import accounts, contacts
from storage.rows import FollowList, Profile
from tests.helpers.storage_factories import ALICE, BOB, CAROL


def test_account_is_a_single_row_and_keeps_its_secret_out_of_repr(conn: Connection) -> None:
    assert accounts.get(conn) is None
    with pytest.raises(NotFound):
        accounts.require(conn)
    with pytest.raises(NotFound):
        accounts.set_profile(conn, "{}", 1)
    secret = bytes(range(32))
    accounts.create(conn, ALICE, secret, now=10)
    with pytest.raises(StorageBug), translate_errors():
        accounts.create(conn, BOB, secret, now=11)
    accounts.set_profile(conn, '{"name":"Alice"}', 12)
    account = accounts.require(conn)
    assert (account.pubkey, account.secret_key, account.profile) == (
        ALICE,
        secret,
        '{"name":"Alice"}',
    )
    assert secret.hex() not in repr(account) and str(list(secret)) not in repr(account)
    assert "secret_key" not in repr(account)


def test_settings_hold_json_values(conn: Connection) -> None:
    accounts.set_setting(conn, "relays", ["ws://a", "ws://b"])
    accounts.set_setting(conn, "notify", {"sound": False})
    accounts.set_setting(conn, "notify", {"sound": True})
    assert accounts.get_setting(conn, "missing", 7) == 7
    assert accounts.settings(conn) == {"relays": ["ws://a", "ws://b"], "notify": {"sound": True}}
    accounts.set_setting(conn, "relays", None)
    assert accounts.get_setting(conn, "relays") is None


def test_contacts_petnames_and_blocking(conn: Connection) -> None:
    contacts.add(conn, BOB, now=1, petname="Bobby")
    refreshed = contacts.add(conn, BOB, now=2)  # no petname given: keep the old one
    assert (refreshed.petname, refreshed.added_at, refreshed.updated_at) == ("Bobby", 1, 2)
    contacts.set_blocked(conn, CAROL, True, now=3)  # blocking a stranger records them
    assert contacts.is_blocked(conn, CAROL) and not contacts.is_blocked(conn, BOB)
    assert not contacts.is_blocked(conn, ALICE)
    assert [c.pubkey for c in contacts.list_contacts(conn)] == [BOB]
    assert {c.pubkey for c in contacts.list_contacts(conn, include_blocked=True)} == {BOB, CAROL}
    assert contacts.blocked(conn) == {CAROL}
    contacts.set_blocked(conn, CAROL, False, now=4)
    assert contacts.blocked(conn) == set()
    assert contacts.set_petname(conn, BOB, None, now=5)
    assert not contacts.set_petname(conn, ALICE, "x", now=5)
    assert contacts.get(conn, BOB).petname is None  # type: ignore[union-attr]
    assert contacts.remove(conn, BOB) and contacts.get(conn, BOB) is None


def test_profiles_keep_the_newest(conn: Connection) -> None:
    newer = Profile(BOB, '{"name":"Bob 2"}', 200, "e2" * 32, 1)
    older = Profile(BOB, '{"name":"Bob 1"}', 100, "e1" * 32, 2)
    assert contacts.save_profile(conn, newer)
    assert not contacts.save_profile(conn, older)
    assert contacts.profile(conn, BOB) == newer
    assert contacts.profile(conn, CAROL) is None
    many = [f"{i:064x}" for i in range(1200)]  # more than one bound-parameter chunk
    for i, pubkey in enumerate(many):
        contacts.save_profile(conn, Profile(pubkey, "{}", i, "ee" * 32, 0))
    found = contacts.profiles(conn, [*many, BOB])
    assert len(found) == 1201 and found[many[1100]].created_at == 1100


def test_follow_list_is_kept_verbatim_and_newest_wins(conn: Connection) -> None:
    tags = (("p", BOB, "wss://r", "bob"), ("t", "hashtag-we-never-show"), ("p", CAROL))
    first = FollowList("e1" * 32, 100, tags, "legacy content")
    assert contacts.save_follow_list(conn, first)
    assert not contacts.save_follow_list(conn, FollowList("e0" * 32, 50, (), ""))
    assert contacts.follow_list(conn) == first
    second = FollowList("e2" * 32, 101, tags[:1], "")
    assert contacts.save_follow_list(conn, second)
    assert contacts.follow_list(conn) == second
