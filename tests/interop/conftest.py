"""Peer processes for the interop tests: one ts-mls, one mls-rs and one of ours per worker.

Starting a peer costs far more than a request, so each pytest-xdist worker keeps its
peers for the whole session and every test uses fresh client names (``names``). A peer
that died (a crash is a failure of the test that caused it) is replaced for the next test.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.interop.driver import Peer
from tests.interop.mls_rs import mls_rs_command
from tests.interop.ts_mls import ts_mls_command

PEER_PY = Path(__file__).with_name("peer.py")


def burrow_command() -> list[str]:
    return [sys.executable, str(PEER_PY)]


class _Peers:
    def __init__(self) -> None:
        self._live: dict[str, Peer] = {}

    def get(self, name: str, argv: Callable[[], list[str]]) -> Peer:
        peer = self._live.get(name)
        if peer is None or not peer.usable:
            if peer is not None:
                peer.close()
            peer = self._live[name] = Peer.start(argv(), name=name)
        return peer

    def close(self) -> None:
        for peer in self._live.values():
            peer.close()


@pytest.fixture(scope="session")
def _peers() -> Iterator[_Peers]:
    peers = _Peers()
    yield peers
    peers.close()


@pytest.fixture
def ts_peer(_peers: _Peers) -> Peer:
    return _peers.get("ts-mls", ts_mls_command)


@pytest.fixture
def rs_peer(_peers: _Peers) -> Peer:
    return _peers.get("mls-rs", mls_rs_command)


@pytest.fixture
def our_peer(_peers: _Peers) -> Peer:
    return _peers.get("burrow", burrow_command)


@pytest.fixture
def names() -> Callable[[str], str]:
    """Client names unique to this test (peers outlive tests)."""
    prefix = uuid.uuid4().hex[:8]
    return lambda name: f"{name}-{prefix}"
