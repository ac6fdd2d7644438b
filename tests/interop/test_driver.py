"""The peer driver turns a dead, silent or babbling peer into ``PeerCrashed`` with the
peer's stderr, and an ``ok: false`` answer into ``PeerFailed``."""

from __future__ import annotations

import sys

import pytest

from tests.interop.driver import Peer, PeerCrashed, PeerFailed

pytestmark = pytest.mark.interop


def _script(source: str) -> list[str]:
    return [sys.executable, "-c", source]


def test_peer_that_dies() -> None:
    source = "import sys; sys.stderr.write('boom\\n')"
    with Peer.start(_script(source), name="dies") as peer, pytest.raises(PeerCrashed) as err:
        peer.request("info", "a")
    assert "exited" in str(err.value) and "boom" in str(err.value)


def test_peer_that_writes_garbage() -> None:
    peer = Peer.start(_script("print('hello'); input()"), name="garbage")
    with peer, pytest.raises(PeerCrashed, match="non-JSON"):
        peer.request("info", "a")


def test_peer_that_stays_silent() -> None:
    peer = Peer.start(_script("import time; time.sleep(30)"), name="silent", timeout=0.3)
    with peer, pytest.raises(PeerCrashed, match="no answer"):
        peer.request("info", "a")
    assert not peer.alive  # closing a broken peer kills it at once


def test_failed_answer() -> None:
    echo = (
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    r = json.loads(line)\n"
        "    print(json.dumps({'ok': False, 'error': 'nope', 'id': r['id']}), flush=True)\n"
    )
    with Peer.start(_script(echo), name="refuses") as peer:
        with pytest.raises(PeerFailed, match="info failed: nope"):
            peer.request("info", "a")
        assert peer.alive
