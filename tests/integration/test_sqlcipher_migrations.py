"""Upgrading real encrypted databases written at every earlier schema version.

The fixtures are the committed ``tests/data/db/v<N>.db`` files, built once by
``tests/data/db/make_fixtures.py`` with the pinned cipher profile and kept as released Burrows
would have left them on disk. Each is copied to a temporary folder (the committed file is
never modified), opened, upgraded to the latest schema, and read back through today's API.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storage import LATEST_VERSION, Connection, Database, connect, integrity_errors
from storage.migrations import schema_version
from storage.repos import (
    accounts,
    contacts,
    drafts,
    groups,
    key_packages,
    messages,
    outbox,
    processed,
    push,
    relays,
    search,
)
from storage.rows import GroupState, Member, RelayListKind
from tests.data.db import make_fixtures as fx

VERSIONS = list(range(1, LATEST_VERSION))


def test_there_is_a_fixture_for_every_earlier_version() -> None:
    committed = sorted(int(p.stem[1:]) for p in fx.HERE.glob("v*.db"))
    assert committed == VERSIONS, "run tests/data/db/make_fixtures.py after adding a migration"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.asyncio
async def test_fixture_upgrades_to_the_latest_schema(tmp_path: Path, version: int) -> None:
    original = fx.fixture_path(version)
    original_bytes = original.read_bytes()
    path = tmp_path / original.name
    shutil.copyfile(original, path)
    raw = connect(path, fx.PASSPHRASE, migrate=False)
    assert schema_version(raw) == version
    raw.close()

    db = await Database.open(path, fx.PASSPHRASE)
    assert await db.run(schema_version) == LATEST_VERSION
    assert await db.run(integrity_errors) == []
    await db.run(_check_contents, version)
    # And the upgraded database takes new writes of the newest schema.
    await db.transact(drafts.save, fx.GROUP, "written after the upgrade", now=2_000_000_000)
    await db.transact(groups.set_self_updated, fx.GROUP, now=2_000_000_000)
    await db.close()
    assert original.read_bytes() == original_bytes


def _check_contents(c: Connection, version: int) -> None:
    account = accounts.require(c)
    assert (account.pubkey, account.secret_key) == (fx.ME, bytes(range(32)))
    assert accounts.get_setting(c, "theme") == "dark"
    assert contacts.get(c, fx.FRIEND).petname == "Friend"  # type: ignore[union-attr]
    assert relays.urls(c, fx.ME, RelayListKind.INBOX) == ["ws://127.0.0.1:7777"]
    (kp,) = key_packages.live(c)
    assert kp.private_material == b"\x5e\xc7"
    group = groups.require(c, fx.GROUP)
    assert (group.metadata.name, group.epoch, group.state, group.metadata.admins) == (
        "Old friends",
        3,
        GroupState.ACTIVE,
        (fx.ME,),
    )
    assert group.last_self_update_at is None  # column added by migration 3: a self-update is due
    assert groups.members(c, fx.GROUP) == [Member(0, fx.ME), Member(1, fx.FRIEND)]
    assert groups.load_state(c, fx.GROUP).state.data == bytes(range(5))
    page = messages.page(c, fx.GROUP)
    assert tuple(m.content for m in page) == fx.EXPECTED_MESSAGES
    assert page[1].reply_to == page[0].rumor_id and page[2].deleted_at is not None
    assert messages.reactions(c, fx.GROUP, [page[0].rumor_id])[page[0].rumor_id][0].content == "+"
    hits = search.search(c, fx.SEARCH_WORD)
    assert [h.message.rumor_id for h in hits] == [page[1].rumor_id]
    assert processed.is_done(c, "f1" * 32)
    assert [e.event_id for e in outbox.pending(c)] == ["f2" * 32]
    assert push.registration(c) is None
    draft = drafts.get(c, fx.GROUP)
    assert (draft is not None) == (version >= 3)
