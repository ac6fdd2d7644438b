"""End to end with a remote signer: Alice's key lives only in NDK's bunker (a Node process);
Alice and Bob are `burrow cli` processes on the real relay. Alice creates a group, is
invited to Bob's, both chat; the bunker restarts in the middle and later is away for a
profile change, which waits unsigned in the outbox. Nothing is lost, and the signer round
trips of each command are counted from the bunker's own log."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from nostr.keys import SecretKey
from nostr.nip46_uri import NostrConnectUri
from tests.e2e.cli_client import ROOT, CliClient, until
from tests.helpers.bunker import BunkerFactory
from tests.helpers.relay import RelayProcess


def _cost(bunker_requests: list[str], before: int) -> dict[str, int]:
    new = bunker_requests[before:]
    return {m: new.count(m) for m in sorted(set(new))}


def test_bunker_account_creates_is_invited_and_chats_across_a_signer_restart(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    user = SecretKey.generate()
    bunker = bunker_factory(relay.url, user, secret="first time only")
    alice = CliClient("alice", tmp_path / "alice", relay.url)
    account = alice.run("account", "import", bunker.uri, "--name", "alice")["account"]
    import_cost = _cost(bunker.requests, 0)  # + 1 get_public_key, which NDK does not log
    alice.pubkey, alice.npub = account["pubkey"], account["npub"]
    assert alice.pubkey == user.public_key().hex and account["signer"].startswith("remote")
    assert alice.fails("account", "export-nsec")["type"] == "NotAllowed"
    db = tmp_path / "alice"
    assert not any(
        user.secret_hex().encode() in p.read_bytes() for p in db.rglob("*") if p.is_file()
    )
    bob = CliClient("bob", tmp_path / "bob", relay.url).create()
    costs: dict[str, dict[str, int]] = {"account import (connect + publish)": import_cost}

    mark = len(bunker.requests)
    gid = alice.run("group", "create", "Bunker group", "--member", bob.npub)["group"]["id"]
    costs["group create (1 invitee)"] = _cost(bunker.requests, mark)
    bob.accept_invite(gid)
    mark = len(bunker.requests)
    alice.run("send", gid, "one")
    costs["send"] = _cost(bunker.requests, mark)
    bob.wait_texts(gid, ["one"])

    bunker.restart()  # in the middle: Bob's invite and the replies come after it

    theirs = bob.run("group", "create", "Bob's group", "--member", alice.npub)["group"]["id"]
    mark = len(bunker.requests)
    alice.accept_invite(theirs)  # catches up (opens the Welcome), then accepts
    costs["accept invite (sync + join)"] = _cost(bunker.requests, mark)
    alice.run("send", theirs, "two")
    bob.wait_texts(theirs, ["two"])
    bob.run("send", gid, "three")
    mark = len(bunker.requests)
    alice.wait_texts(gid, ["one", "three"])
    costs["receive (sync)"] = _cost(bunker.requests, mark)

    # The signer goes away: messages need no signer, a profile change waits for it.
    bunker.stop()
    alice.run("send", gid, "four")
    bob.wait_texts(gid, ["one", "three", "four"])
    alice.run("account", "profile", "--name", "Alice Bunker")
    pending = alice.run("sync", "--timeout", "3")["sync"]["outbox_pending"]
    assert pending >= 1  # the profile, unsigned in the outbox
    bunker.start()
    until(lambda: alice.run("sync", "--timeout", "20")["sync"]["outbox_pending"], lambda n: n == 0)
    profile = until(
        lambda: bob.run("contacts", "add", alice.npub)["contact"],
        lambda c: c.get("name") == "Alice Bunker",
    )
    assert profile["name"] == "Alice Bunker"
    assert bob.texts(gid) == ["one", "three", "four"] and bob.texts(theirs) == ["two"]
    print("SIGNER ROUND TRIPS PER COMMAND", costs)
    assert costs["send"] == {} and costs["receive (sync)"] == {}
    assert costs["group create (1 invitee)"].get("nip44_encrypt") == 1
    assert costs["accept invite (sync + join)"].get("nip44_decrypt") == 2


def test_account_connect_offers_nostrconnect_and_the_bunker_takes_it_up(
    relay: RelayProcess, bunker_factory: BunkerFactory, tmp_path: Path
) -> None:
    user = SecretKey.generate()
    alice = CliClient("alice", tmp_path / "alice", relay.url)
    proc = subprocess.Popen(
        alice.argv("account", "connect", "--name", "alice", "--wait", "30"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=alice.env(),
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        offer = ""
        for line in proc.stderr:  # the offer is printed before the wait starts
            if line.startswith("nostrconnect://"):
                offer = line.strip()
                break
        assert NostrConnectUri.parse(offer).relays == (relay.url,)
        bunker_factory(relay.url, user, offer=offer)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    account = json.loads(out)["account"]
    assert account["pubkey"] == user.public_key().hex and account["signer"].startswith("remote")
