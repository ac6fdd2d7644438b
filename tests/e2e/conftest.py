"""Fixtures for the end-to-end tests: CLI clients in their own data folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.cli_client import CliClient, parallel
from tests.helpers.relay import RelayProcess

People = Callable[..., list[CliClient]]


@pytest.fixture
def people(tmp_path: Path) -> People:
    """``people(relay, "alice", "bob")``: created accounts (in parallel), one folder each."""

    def make(relay: RelayProcess, *names: str) -> list[CliClient]:
        clients = [CliClient(n, tmp_path / n, relay.url) for n in names]
        parallel(*(c.create for c in clients))
        return clients

    return make
