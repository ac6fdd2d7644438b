"""Finding people by NIP-05 and fetching https profile pictures, against a real HTTPS
server on 127.0.0.1 (its own CA, trusted by these clients only) and real relays."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from app import InvalidInput, NotFound
from app.http import USER_AGENT
from app.people import PICTURE_MAX
from storage.repos import people as people_repo
from tests.helpers.app_clients import Client, make_client
from tests.helpers.https_server import HttpsServer, Route
from tests.helpers.relay import RelayFactory

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def nostr_json(names: dict[str, str], relays: dict[str, list[str]] | None = None) -> Route:
    body = json.dumps({"names": names, "relays": relays or {}}).encode()
    return Route(200, body, {"Content-Type": "application/json"})


async def _pair(
    relay_factory: RelayFactory, tmp_path: Path, https_server: HttpsServer
) -> tuple[Client, Client, str]:
    home_a, home_b = relay_factory(), relay_factory()
    alice = await make_client(tmp_path, home_a.url, "alice", http=https_server.settings)
    bob = await make_client(tmp_path, home_b.url, "bob", http=https_server.settings)
    return alice, bob, home_b.url


async def test_find_someone_by_nip05_and_show_them_verified(
    relay_factory: RelayFactory, tmp_path: Path, https_server: HttpsServer
) -> None:
    alice, bob, bob_home = await _pair(relay_factory, tmp_path, https_server)
    try:
        https_server.routes["example.test/.well-known/nostr.json?name=bob"] = nostr_json(
            {"bob": bob.pubkey}, {bob.pubkey: [bob_home]}
        )
        await bob.session.contacts.publish_profile(nip05="bob@example.test")
        await bob.session.flush(10)
        # Alice's relays know nothing of Bob: the nostr.json relay hint leads to him.
        contact = await alice.session.contacts.add("Bob@Example.test")
        assert contact.pubkey == bob.pubkey
        assert contact.name == "bob"
        assert (contact.nip05, contact.nip05_verified) == ("bob@example.test", True)
        listed = {c.pubkey: c for c in await alice.session.contacts.list_contacts()}
        assert listed[bob.pubkey].nip05_verified
        # Bob's own profile shows his address verified too.
        mine = await bob.session.contacts.profile(bob.pubkey)
        assert (mine.nip05, mine.nip05_verified) == ("bob@example.test", True)
        # The domain changes its mind: a forced re-check says so.
        https_server.routes["example.test/.well-known/nostr.json?name=bob"] = nostr_json(
            {"bob": alice.pubkey}
        )
        assert not await alice.session.contacts.verify_nip05(bob.pubkey, force=True)
        assert not (await alice.session.contacts.get(bob.pubkey)).nip05_verified
    finally:
        await alice.close()
        await bob.close()


async def test_unknown_names_redirects_and_junk_are_refused_clearly(
    relay_factory: RelayFactory, tmp_path: Path, https_server: HttpsServer
) -> None:
    alice = await make_client(tmp_path, relay_factory().url, "alice", http=https_server.settings)
    try:
        https_server.routes["example.test/.well-known/nostr.json?name=moved"] = Route(
            302, b"", {"Location": "https://elsewhere.test/.well-known/nostr.json?name=moved"}
        )
        https_server.routes["elsewhere.test/.well-known/nostr.json?name=moved"] = nostr_json(
            {"moved": "ab" * 32}
        )
        https_server.routes["example.test/.well-known/nostr.json?name=junk"] = Route(200, b"{[")
        for address in ("nobody@example.test", "moved@example.test", "junk@example.test"):
            with pytest.raises(NotFound):
                await alice.session.contacts.add(address)
        # NIP-05 forbids following redirects: elsewhere.test was never asked.
        assert not any(r["path"].startswith("elsewhere.test") for r in https_server.requests)
        with pytest.raises(NotFound, match="could not look up"):
            await alice.session.contacts.add("someone@not-mapped.test")  # loopback guard
        with pytest.raises(InvalidInput):
            await alice.session.contacts.add("not an address@")
    finally:
        await alice.close()


async def test_https_pictures_are_fetched_privately_checked_and_cached(
    relay_factory: RelayFactory, tmp_path: Path, https_server: HttpsServer
) -> None:
    shared = relay_factory().url
    alice = await make_client(tmp_path, shared, "alice", http=https_server.settings)
    bob = await make_client(tmp_path, shared, "bob", http=https_server.settings)
    image = png()
    routes = https_server.routes
    routes["pictures.test/bob.png"] = Route(200, image, {"Content-Type": "image/png"})
    routes["pictures.test/moved.png"] = Route(302, b"", {"Location": "/bob.png"})
    routes["pictures.test/plain.png"] = Route(
        302, b"", {"Location": "http://pictures.test/bob.png"}
    )
    routes["pictures.test/big.png"] = Route(
        200, image + b"\0" * PICTURE_MAX, {"Content-Type": "image/png"}
    )
    routes["pictures.test/page.png"] = Route(200, b"<html>", {"Content-Type": "image/png"})
    routes["pictures.test/typed.png"] = Route(200, image, {"Content-Type": "text/html"})
    try:
        # Publishing: the URL the user gives goes out as the kind-0 `picture`.
        await bob.session.contacts.publish_profile(picture="https://pictures.test/bob.png")
        await bob.session.flush(10)
        with pytest.raises(InvalidInput):
            await bob.session.contacts.publish_profile(picture="http://pictures.test/bob.png")
        contact = await alice.session.contacts.add(bob.npub)
        assert contact.picture == "https://pictures.test/bob.png"
        people = alice.session.people
        assert await people.cached_picture(contact.picture) is None
        assert await people.picture(contact.picture) == image
        asked = [r for r in https_server.requests if r["path"] == "pictures.test/bob.png"]
        assert len(asked) == 1
        request = {k.lower(): v for k, v in asked[0].items()}
        assert request["user-agent"] == USER_AGENT
        assert "cookie" not in request and "referer" not in request
        # Cached in the encrypted store: no second request.
        assert await people.picture(contact.picture) == image
        assert await people.cached_picture(contact.picture) == image
        stored = await alice.session.ctx.db.run(people_repo.picture, contact.picture)
        assert stored is not None and stored.mime == "image/png"
        assert len([r for r in https_server.requests if r["path"] == "pictures.test/bob.png"]) == 1
        # An https redirect is followed; to plain http, too big, not an image: refused.
        assert await people.picture("https://pictures.test/moved.png") == image
        for name in ("plain", "big", "page", "typed", "missing"):
            assert await people.picture(f"https://pictures.test/{name}.png") is None, name
        assert await people.picture("http://pictures.test/bob.png") is None
    finally:
        await alice.close()
        await bob.close()
