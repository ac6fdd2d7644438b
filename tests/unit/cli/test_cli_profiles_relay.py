"""The CLI's Marmot-generation output as real processes over the real relay: a Marmot v1
group says so, offers no edits (``messages edit`` refused), and ``messages --changes``
words the group's history."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli_client import CliClient, parallel
from tests.helpers.relay import RelayProcess

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_a_marmot_v1_group_says_so_and_refuses_edits(relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = (CliClient(n, tmp_path / n, relay.url) for n in ("alice", "bob"))
    parallel(alice.create, bob.create)
    alice.run("contacts", "add", bob.npub, "--name", "Bob")
    group = alice.run("group", "create", "Hikers", "--member", bob.npub, "--profile", "mip")
    group = group["group"]
    gid = group["id"]
    assert (group["protocol"], group["profile"], group["can_edit"]) == ("Marmot v1", "mip", False)
    listed = alice.groups()
    assert [(g["id"], g["protocol"]) for g in listed] == [(gid, "Marmot v1")]
    bob.accept_invite(gid)
    assert bob.group(gid)["protocol"] == "Marmot v1"

    sent = alice.run("send", gid, "Count me inn")["message"]
    refused = alice.fails("messages", "edit", gid, sent["id"], "Count me in")
    assert refused["type"] == "NotAllowed" and "edited" in refused["message"]
    assert [(m["content"], m["edited"]) for m in alice.messages(gid)] == [("Count me inn", False)]

    # The group's own history, worded, among the messages (names from the contacts).
    changes = alice.run("messages", gid, "--changes", sync=True)["messages"]
    lines = [m["text"] for m in changes if m["kind"] == -1]
    assert "You added Bob" in lines
    assert [m["content"] for m in changes if m["kind"] == 9] == ["Count me inn"]
    assert all(m["kind"] == 9 for m in alice.messages(gid))  # without --changes: chat only
