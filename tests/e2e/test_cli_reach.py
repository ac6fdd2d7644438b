"""Reaching someone on other relays with the CLI, each command its own process: Alice and
Bob have different home relays and one discovery relay in common; Alice finds Bob by his
NIP-05 address (served by a local HTTPS server), his key package on his 10051 relay, and
her Welcome reaches his 10050 inbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli_client import CliClient, parallel
from tests.helpers.https_server import HttpsServer, Route
from tests.helpers.relay import RelayFactory

pytestmark = pytest.mark.e2e


def test_cli_reaches_bob_by_nip05_through_a_discovery_relay(
    relay_factory: RelayFactory, https_server: HttpsServer, tmp_path: Path
) -> None:
    home_a, home_b, index = relay_factory(), relay_factory(), relay_factory()
    extra = {"BURROW_DISCOVERY": index.url, **https_server.env}
    alice = CliClient("alice", tmp_path / "alice", home_a.url, extra)
    bob = CliClient("bob", tmp_path / "bob", home_b.url, extra)
    created = parallel(
        lambda: alice.run("account", "create", "--name", "alice", "--relays", home_a.url),
        lambda: bob.run("account", "create", "--name", "bob", "--relays", "local"),
    )
    for client, out in zip((alice, bob), created, strict=True):
        client.pubkey, client.npub = out["account"]["pubkey"], out["account"]["npub"]
        assert out["account"]["relays"] == [client.relay_url]
    listed = bob.run("relays", "list")
    assert listed["discovery"] == [index.url]
    assert listed["lists"] == {k: [home_b.url] for k in ("nip65", "inbox", "key_packages")}
    https_server.routes["example.test/.well-known/nostr.json?name=bob"] = Route(
        200, json.dumps({"names": {"bob": bob.pubkey}}).encode()
    )
    bob.run("account", "profile", "--nip05", "bob@example.test")

    contact = alice.run("contacts", "add", "bob@example.test")["contact"]
    assert contact["pubkey"] == bob.pubkey
    assert contact["nip05"] == "bob@example.test" and contact["nip05_verified"]
    gid = alice.run("group", "create", "", "--member", bob.npub)["group"]["id"]
    bob.accept_invite(gid)
    alice.run("send", gid, "found you on your relays")
    assert bob.wait_texts(gid, ["found you on your relays"])
    # An address the domain does not list is a clear error, not a crash.
    missing = alice.fails("contacts", "add", "nobody@example.test")
    assert missing["type"] == "NotFound" and "nobody@example.test" in missing["message"]
