"""MDK's conformance scenario vectors, run against Burrow's Profile B.

One test per scenario vector file in ``shared/marmot-vectors/mdk/conformance-vectors``
(the manifest and the byte fixtures, which have their own tests, excluded). Each test
executes the scenario with :mod:`tests.helpers.darkmatter_sim` (our KeyPackages, groups,
445/444 events, payloads and convergence rule) and checks every expected outcome.

A vector we cannot execute is not skipped and not faked: it goes into ``NOT_EXECUTED``
with the feature it needs, a test pins that exact list (today empty: all 32 files run),
and a newly added vector file fails the count until it runs or is listed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.darkmatter_checks import run_vector
from tests.helpers.darkmatter_sim import ScenarioFailure, Unsupported
from tests.vectors import load_json, shared_path

pytestmark = [pytest.mark.darkmatter, pytest.mark.vectors]

ROOT = "marmot-vectors/mdk/conformance-vectors"
_ROOT_DIR = Path(shared_path(*ROOT.split("/")))
ALL_VECTORS = sorted(
    str(p.relative_to(_ROOT_DIR))
    for p in _ROOT_DIR.rglob("*.json")
    if p.name != "manifest.v1.json" and p.parent.name != "byte-fixtures"
)

NOT_EXECUTED: dict[str, str] = {}
"""Vector file -> the step or outcome our executor lacks. Empty: every file runs."""
EXECUTED = [name for name in ALL_VECTORS if name not in NOT_EXECUTED]


def _vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_json(f"{ROOT}/{name}")
    return data


def test_every_vector_file_is_either_executed_or_listed() -> None:
    assert len(ALL_VECTORS) == 32
    assert sorted(NOT_EXECUTED) == []
    assert set(NOT_EXECUTED) <= set(ALL_VECTORS)
    assert len(EXECUTED) == 32


@pytest.mark.parametrize("name", EXECUTED)
def test_conformance_vector(name: str) -> None:
    run_vector(_vector(name))


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", EXECUTED)
def test_conformance_vector_in_another_arrival_order(name: str, seed: int) -> None:
    """Each batch reaches each client shuffled: the outcomes hold all the same (payloads
    compared as multisets, since the order of receipt then rightly differs). Arrival
    order must not choose group state (spec protocol-core/convergence.md)."""
    run_vector(_vector(name), shuffle=seed)


def test_not_executed_vectors_really_need_what_is_missing() -> None:
    """Each listed vector stops at exactly the unsupported feature named for it (so the
    list cannot hide a vector that would simply fail)."""
    for name, missing in NOT_EXECUTED.items():
        with pytest.raises(Unsupported) as info:
            run_vector(_vector(name))
        assert str(info.value).split()[-1] == missing


def test_a_step_the_executor_lacks_stops_the_run() -> None:
    """What keeps the list honest: an unknown step or outcome is never passed over."""
    vector = copy.deepcopy(_vector("publish-fail.v1.json"))
    vector["scenario"]["steps"].insert(1, {"type": "crash_process", "process": "alice"})
    with pytest.raises(Unsupported, match="crash_process"):
        run_vector(vector)
    vector = copy.deepcopy(_vector("invite-member.v1.json"))
    vector["expected_outcomes"].append({"type": "scenario_input_ledger", "client": "bob"})
    with pytest.raises(Unsupported, match="scenario_input_ledger"):
        run_vector(vector)


@pytest.mark.parametrize("name", EXECUTED)
def test_conformance_vector_with_every_delivery_twice(name: str) -> None:
    """Relays redeliver: each object arrives a second time right after the first and the
    outcomes, payload lists included, stay exactly the same."""
    run_vector(_vector(name), twice=True)


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
        ("route-equivalence.v1.json", "name", "alice branch"),
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
