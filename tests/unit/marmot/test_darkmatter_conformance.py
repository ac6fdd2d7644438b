"""MDK's conformance scenario vectors, run against Burrow's Profile B.

One test per scenario vector file in ``shared/marmot-vectors/mdk/conformance-vectors``
(the manifest and the byte fixtures, which have their own tests, excluded). Each test
executes the scenario with :mod:`tests.helpers.darkmatter_sim` (our KeyPackages, groups,
445/444 events, payloads and convergence rule) and checks every expected outcome.

The vectors we cannot execute yet are not skipped and not faked: they are listed in
``NOT_EXECUTED`` with the reason, and a test pins that exact list, so the executed count
is honest and a newly executable (or newly added) vector fails loudly until listed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.darkmatter_sim import ScenarioFailure, Unsupported, run_vector
from tests.vectors import load_json, shared_path

pytestmark = [pytest.mark.darkmatter, pytest.mark.vectors]

ROOT = "marmot-vectors/mdk/conformance-vectors"
_ROOT_DIR = Path(shared_path(*ROOT.split("/")))
ALL_VECTORS = sorted(
    str(p.relative_to(_ROOT_DIR))
    for p in _ROOT_DIR.rglob("*.json")
    if p.name != "manifest.v1.json" and p.parent.name != "byte-fixtures"
)

NOT_EXECUTED = {
    # after the fork every client (the passive observers too) acknowledges an outbound
    # that no step created: work MDK's engine publishes on its own after convergence; we
    # do not know its shape from the vectors and emit nothing, so the run stops there
    "route-equivalence.v1.json": "engine_emitted_outbound",
}
EXECUTED = [name for name in ALL_VECTORS if name not in NOT_EXECUTED]


def _vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_json(f"{ROOT}/{name}")
    return data


def test_every_vector_file_is_either_executed_or_listed() -> None:
    assert len(ALL_VECTORS) == 32
    assert sorted(NOT_EXECUTED) == ["route-equivalence.v1.json"]
    assert set(NOT_EXECUTED) <= set(ALL_VECTORS)
    assert len(EXECUTED) == 31


@pytest.mark.parametrize("name", EXECUTED)
def test_conformance_vector(name: str) -> None:
    run_vector(_vector(name))


@pytest.mark.parametrize("name", sorted(NOT_EXECUTED))
def test_not_executed_vectors_really_need_what_is_missing(name: str) -> None:
    """Each listed vector stops at exactly the unsupported feature named for it (so the
    list cannot hide a vector that would simply fail)."""
    with pytest.raises(Unsupported) as info:
        run_vector(_vector(name))
    assert str(info.value).split()[-1] == NOT_EXECUTED[name]


def _outcomes(vector: dict[str, Any]) -> list[dict[str, Any]]:
    if "expected_outcomes" in vector:
        return list(vector["expected_outcomes"])
    return list(vector["case"]["expected_outcomes"])


@pytest.mark.parametrize(
    ("name", "field", "change"),
    [
        ("convergence-committer-selected.v1.json", "decisive_rule", "tip_digest"),
        ("convergence-witness-selected.v1.json", "witness_quorum_met", False),
        ("group-profile-update.v1.json", "name", "stale"),
        ("readd-after-eviction.v1.json", "epoch", 2),
        ("queue-faults.v1.json", "received_payloads", ["bob:first", "carol:second"]),
        ("admin-policy-update.v1.json", "admins", ["alice", "bob"]),
        ("cross-route-own-commit-recovery.v1.json", "changes", [{"from": 1, "to": 3}]),
        ("partition-clear-leave.v1.json", "removed_members", []),
    ],
)
def test_a_wrong_expectation_fails(name: str, field: str, change: object) -> None:
    """The checks bite: the same run against one altered expectation is refused."""
    vector = copy.deepcopy(_vector(name))
    outcomes = _outcomes(vector)
    target = next(o for o in outcomes if field in o)
    target[field] = change
    with pytest.raises(ScenarioFailure):
        run_vector(vector)
