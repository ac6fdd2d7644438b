"""Profile B helpers for the service-layer integration tests.

Until our account publishes a Profile B KeyPackage of its own (the dual key packages of
``app.key_packages``, another helper's work), `publish_b_key_package` mints one for a
client the way the app stores its own: private material in the key package table, the
30443 (its own ``d`` slot, so the Profile A one stays) published to the client's relays.
"""

from __future__ import annotations

from app.key_packages import encode_private
from app.models import GroupInfo
from marmot.profile_b.key_package import create_key_package_b
from marmot.profile_b.key_package_event import key_package_event
from storage import Connection
from storage.repos import key_packages as kp_repo
from tests.helpers.app_clients import Client, catch_up, join

DARKMATTER = "darkmatter"


async def publish_b_key_package(client: Client) -> str:
    """A fresh Profile B KeyPackage of ``client``, stored and on its relays; its event id."""
    session = client.session
    ctx = session.ctx
    secret = session.account.secret
    assert secret is not None
    now = ctx.now()
    bundle = create_key_package_b(secret, now=now, rng=ctx.rng)
    unsigned = key_package_event(
        bundle.key_package, secret.public_key(), created_at=now, rng=ctx.rng
    )
    event = unsigned.sign(secret, rng=ctx.rng)
    relays = session.relays.mine

    def store(conn: Connection) -> None:
        kp_repo.add(
            conn,
            bundle.ref,
            "darkmatter-" + event.id[:16],
            bundle.key_package.to_bytes(),
            encode_private(bundle.private),
            now=now,
        )
        kp_repo.mark_published(conn, bundle.ref, event.id, relays, now=now)

    await ctx.db.transact(store)
    result = await session.pool.publish(event, relays=relays)
    assert result.success, result
    return event.id


async def dm_group_with(owner: Client, name: str, *guests: Client) -> GroupInfo:
    """``owner`` creates a Profile B group; the ``guests`` accept their invites in turn."""
    for guest in guests:
        await publish_b_key_package(guest)
    group = await owner.session.groups.create(name, [g.npub for g in guests], profile=DARKMATTER)
    assert group.profile == DARKMATTER
    await owner.session.flush(10)  # the Welcomes are on the relay before anyone asks
    for guest in guests:
        await catch_up(guest)
        await join(guest, group)
        await catch_up(owner, *guests)
    return group
