"""Checking a conformance vector's expected outcomes against a finished
:class:`tests.helpers.darkmatter_sim.Simulation` (one checker per outcome type; an
outcome type without a checker raises ``Unsupported``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marmot.profile_b.convergence import Selection
from tests.helpers.darkmatter_sim import ScenarioFailure, Simulation, Unsupported

__all__ = ["check", "run_vector"]


def check(sim: Simulation) -> None:
    vector = sim.vector
    if sim.assert_failures:
        raise ScenarioFailure("; ".join(sim.assert_failures))
    outcomes = vector.get("expected_outcomes") or vector.get("case", {}).get("expected_outcomes")
    if outcomes is None:
        outcomes = _trace_outcomes(vector["expected_trace"])
    for outcome in outcomes:
        checker = CHECKS.get(outcome["type"])
        if checker is None:
            raise Unsupported(f"outcome {outcome['type']}")
        checker(sim, outcome)


def _trace_outcomes(trace: dict[str, Any]) -> list[dict[str, Any]]:
    out = [{"type": "pending_resolution", **r} for r in trace["pending_resolutions"]]
    for obs in trace["observations"]:
        out.append({"type": "trace_observation", **obs})
    return out


def _obs(sim: Simulation, client: str) -> dict[str, Any]:
    if client not in sim.observations:
        raise ScenarioFailure(f"{client} was never observed")
    return sim.observations[client]


def _expect(ok: bool, what: str, expected: object, actual: object) -> None:
    if not ok:
        raise ScenarioFailure(f"{what}: expected {expected!r}, got {actual!r}")


def _pending_resolution(sim: Simulation, o: dict[str, Any]) -> None:
    want = {k: o[k] for k in ("step_index", "client", "pending", "resolution")}
    _expect(want in sim.resolutions, "pending resolution", want, sim.resolutions)


def _client_state(sim: Simulation, o: dict[str, Any]) -> None:
    obs = _obs(sim, o["client"])
    got = {"epoch": obs["epoch"], "member_count": obs["member_count"]}
    _expect(
        got == {"epoch": o["epoch"], "member_count": o["member_count"]},
        f"{o['client']} state",
        o,
        got,
    )
    if "received_payloads" in o:
        got_p, want_p = _payloads(sim, obs["received_payloads"], o["received_payloads"])
        _expect(got_p == want_p, f"{o['client']} payloads", want_p, got_p)
    for key, got_key in (("added_members", "added"), ("removed_members", "removed")):
        if key in o:
            _expect(obs[got_key] == o[key], f"{o['client']} {key}", o[key], obs[got_key])


def _payloads(sim: Simulation, got: list[str], want: list[str]) -> tuple[list[str], list[str]]:
    """Payloads in arrival order; as multisets when the run shuffled arrival (the order
    of receipt then legitimately differs, what arrived must not)."""
    if sim.shuffle is None:
        return list(got), list(want)
    return sorted(got), sorted(want)


def _trace_observation(sim: Simulation, o: dict[str, Any]) -> None:
    obs = _obs(sim, o["client"])
    for key in ("epoch", "member_count", "group_name"):
        _expect(obs[key] == o[key], f"{o['client']} {key}", o[key], obs[key])
    got_p, want_p = _payloads(sim, obs["received_payloads"], o["received_payloads"])
    _expect(got_p == want_p, f"{o['client']} received_payloads", want_p, got_p)
    counts = {k: obs["event_counts"].get(k, 0) for k in o["event_counts"]}
    _expect(counts == o["event_counts"], f"{o['client']} events", o["event_counts"], counts)
    _expect(
        obs["removed"] == o["removed_members"],
        f"{o['client']} removed",
        o["removed_members"],
        obs["removed"],
    )


def _group_profile(sim: Simulation, o: dict[str, Any]) -> None:
    obs = _obs(sim, o["client"])
    got = (obs["group_name"], obs["group_description"])
    _expect(
        got == (o["name"], o["description"]),
        f"{o['client']} profile",
        (o["name"], o["description"]),
        got,
    )


def _decision(sim: Simulation, o: dict[str, Any]) -> None:
    names = [o["client"]] if "client" in o else list(sim.observations)
    decisions = [sim.observations[n]["decision"] for n in names if n in sim.observations]
    settled = [d for d in decisions if d is not None and d.selected is not None]

    def fits(d: Selection) -> bool:
        score = d.selected_score
        assert d.selected is not None and score is not None
        return (
            o.get("selected_tip_epoch", d.selected.tip_epoch) == d.selected.tip_epoch
            and o.get("decisive_rule", d.decisive_rule) == d.decisive_rule
            and o.get("witness_quorum_met", score.witness_quorum_met) == score.witness_quorum_met
            and score.app_witness_score >= o.get("min_app_witness_score", 0)
        )

    _expect(
        any(fits(d) for d in settled),
        "convergence decision",
        o,
        [(d.selected.tip_epoch if d.selected else None, d.decisive_rule) for d in settled],
    )


def _converged(sim: Simulation, o: dict[str, Any]) -> None:
    obs = [_obs(sim, c) for c in o["clients"]]
    exact = {x["exact"] for x in obs}
    _expect(len(exact) == 1, "clients converged", o["clients"], [x["epoch"] for x in obs])
    for key in ("epoch", "member_count"):
        if key in o:
            _expect(
                all(x[key] == o[key] for x in obs),
                f"converged {key}",
                o[key],
                [x[key] for x in obs],
            )


def _exactly_equivalent(sim: Simulation, o: dict[str, Any]) -> None:
    obs = [_obs(sim, c) for c in o["clients"]]
    _expect(
        len({x["exact"] for x in obs}) == 1,
        "exact equivalence",
        o["clients"],
        [x["epoch"] for x in obs],
    )


def _no_pending_work(sim: Simulation, o: dict[str, Any]) -> None:
    for name in o["clients"]:
        _expect(not _obs(sim, name)["pending"], f"{name} pending work", False, True)


def _admin_policy(sim: Simulation, o: dict[str, Any]) -> None:
    got = sim.admin_observations.get(o["client"])
    _expect(got == sorted(o["admins"]), f"{o['client']} admins", sorted(o["admins"]), got)


def _expected_error(sim: Simulation, o: dict[str, Any]) -> None:
    want = {k: o[k] for k in ("step_index", "client", "operation", "error")}
    _expect(want in sim.errors, "expected error", want, sim.errors)


def _decryptable(sim: Simulation, o: dict[str, Any]) -> None:
    _expect(
        sim.probes.get(frozenset(o["clients"])) is True,
        "bidirectional decryptability",
        True,
        sim.probes,
    )


def _epoch_changes(sim: Simulation, o: dict[str, Any]) -> None:
    got = _obs(sim, o["client"])["epoch_changes"]
    _expect(got == o["changes"], f"{o['client']} epoch changes", o["changes"], got)


CHECKS: dict[str, Callable[[Simulation, dict[str, Any]], None]] = {
    "pending_resolution": _pending_resolution,
    "client_state": _client_state,
    "trace_observation": _trace_observation,
    "group_profile": _group_profile,
    "convergence_decision": _decision,
    "clients_converged": _converged,
    "clients_exactly_equivalent": _exactly_equivalent,
    "no_pending_work": _no_pending_work,
    "admin_policy": _admin_policy,
    "expected_error": _expected_error,
    "clients_bidirectionally_decryptable": _decryptable,
    "client_epoch_changes": _epoch_changes,
}


def run_vector(
    vector: dict[str, Any], *, shuffle: int | None = None, twice: bool = False
) -> Simulation:
    sim = Simulation(vector, shuffle=shuffle, twice=twice)
    sim.run()
    check(sim)
    return sim
