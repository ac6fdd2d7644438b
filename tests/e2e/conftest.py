"""Fixtures for the end-to-end tests: CLI clients in their own data folders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_client import TRANSCRIPT, CliClient, parallel
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed e2e test shows the stderr of its recent commands, successful ones too
    (an incomplete ``--sync`` only warns there)."""
    if call.when == "setup":
        TRANSCRIPT.clear()
    outcome = yield
    report = outcome.get_result()
    if report.failed and TRANSCRIPT:
        report.sections.append(("CLI stderr (most recent last)", "\n".join(TRANSCRIPT)))
