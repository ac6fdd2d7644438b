"""MLS group engine benchmark: our ``mls`` against mls-rs and ts-mls, same scenario, same run.

Run with ``make bench`` (or ``.venv/bin/python bench/mls_bench.py --sizes 2,16,128``).
The mls-rs half is the ``bench`` mode of our mls-rs interop peer
(``tests/interop/mls_rs_peer/src/bench.rs``, built once into the shared cache as for the
interop tests; mls-rs 0.57 with OpenSSL crypto, built without its rayon feature, so all
three engines run on one core). The ts-mls half is ``bench/ts_mls_bench.mjs``, run by node
next to the ts-mls install in ``.cache/ts-mls/``; ts-mls is measured up to ``--ts-mls-max``
only (N = 8192 takes it many minutes). All halves time the same steps in-process and include
encoding (sender) or decoding (receiver) of the MLSMessage bytes. For a group of N members:

``create``
    The creator adds N-1 pre-generated KeyPackages in one commit (with an UpdatePath and
    a Welcome carrying the ratchet tree).
``join``
    A new member processes that Welcome (validating the whole tree); best over the
    members that join (leaf 1 and the committers below).
``commit-fresh``
    Leaf 1 processes the creator's next path commit. The tree is still almost blank, so
    its UpdatePath encrypts to about N leaves: the worst case right after creation. Best
    of ``--reps`` receptions of that one commit by the same state (ts-mls: at most 3).
``commit``
    Leaf 1 processes a path commit of the creator once the tree is populated: leaves 16,
    32, ..., N/2 have each committed once, so every copath node of the creator covering at
    least 16 leaves holds one key. The UpdatePath then has at most 15 + log2(N)
    ciphertexts, as in a group that has lived a while. Best of ``--reps`` commits
    (ts-mls: at most 3 above N = 1024, where each takes seconds).
``message``
    Encrypt a 1 KiB application message (creator) and decrypt it (leaf 1); best of
    ``--reps`` x 20.

"Best" is the minimum over the repeats, on every engine: on a shared machine the higher
values are mostly the neighbours' (the advice of the ``timeit`` documentation).

Times are CPU time of the engine's process by default (``--clock wall`` for wall time):
the machine is shared, so wall time mostly measures the neighbours, and every engine runs
on one thread here. KeyPackages are generated outside the timed regions on every side. The
table gives milliseconds and the ratios ours/mls-rs and ours/ts-mls (below 1: we are
faster); below it, our ``commit`` times per N with the growth per doubling of N and the
log-log slope (1.0 would be linear in N, 0 constant).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mls.group import (
    ApplicationMessage,
    add_members,
    commit,
    create_group,
    join_from_welcome,
    process,
    protect,
)
from mls.group_state import GroupState
from mls.key_package import KeyPackageBundle, create_key_package
from mls.messages import Credential, MLSMessage

ROOT = Path(__file__).resolve().parents[1]
POPULATE_FROM = 16  # copath subtrees of at least this many leaves get a commit
PAYLOAD = b"a" * 1024
OPS = ("create", "join", "commit-fresh", "commit", "message")

Timings = dict[str, Any]


def _log(verbose: bool, *parts: object) -> None:
    if verbose:
        print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


class OurGroup:
    """Our side of the scenario: the tracked members' states, keyed by leaf."""

    def __init__(self, n: int, suite: int, now: int) -> None:
        self.n, self.suite, self.now = n, suite, now
        self.tracked = [1, *(leaf for leaf in _powers(POPULATE_FROM) if leaf < n)]
        self.bundles = [self._bundle(f"member-{i}") for i in range(1, n)]
        self.creator_bundle = self._bundle("creator")
        self.members: dict[int, GroupState] = {}

    def _bundle(self, name: str) -> KeyPackageBundle:
        return create_key_package(self.suite, Credential.basic(name.encode()), now=self.now)

    def create(self) -> bytes:
        """Create the group and add everyone; returns the Welcome bytes."""
        state = create_group(
            self.suite,
            self.creator_bundle.key_package.leaf_node.credential,
            now=self.now,
            key_package=self.creator_bundle,
            group_id=f"bench-{self.n}".encode(),
        )
        pending = add_members(state, [b.key_package for b in self.bundles], now=self.now)
        pending.message.to_bytes()  # what would be sent: encoding is part of the work
        assert pending.welcome is not None
        welcome = pending.welcome.to_bytes()
        self.members[0] = pending.next_state
        return welcome

    def join(self, leaf: int, welcome: bytes) -> None:
        message = MLSMessage.from_bytes(welcome)
        self.members[leaf] = join_from_welcome(message, self.bundles[leaf - 1])

    def commit(self, leaf: int) -> bytes:
        pending = commit(self.members[leaf], now=self.now)
        self.members[leaf] = pending.next_state
        return pending.message.to_bytes()

    def receive(self, leaf: int, message: bytes) -> GroupState:
        _, state = process(self.members[leaf], message, now=self.now)
        return state

    def accept(self, leaf: int, message: bytes) -> None:
        self.members[leaf] = self.receive(leaf, message)

    def populate(self, verbose: bool) -> None:
        """Leaves 16, 32, ..., N/2 commit once each; every commit goes to the members that
        still need it: leaves 0 and 1 and the committers still to come."""
        committers = [leaf for leaf in reversed(self.tracked) if leaf > 1]
        for i, leaf in enumerate(committers):
            message = self.commit(leaf)
            for other in (0, 1, *committers[i + 1 :]):
                self.accept(other, message)
            _log(verbose, self.n, "populated by leaf", leaf)

    def message_round(self) -> None:
        message, self.members[0] = protect(self.members[0], PAYLOAD)
        result, self.members[1] = process(self.members[1], message.to_bytes())
        assert isinstance(result, ApplicationMessage) and result.data == PAYLOAD


def _powers(start: int) -> list[int]:
    return [start << k for k in range(40)]


# CPU time by default: this machine is shared, and wall time then measures the neighbours.
# All three engines run on one thread here, so CPU time is the work each does.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


class CLOCK:
    """The clock in use (``--clock``); the other engines' halves get it as BENCH_CLOCK."""

    name = "cpu"

    @classmethod
    def now(cls) -> float:
        return CLOCKS[cls.name]()


def _timed(step: Callable[[], object], *, collect: bool = True) -> float:
    """Milliseconds for ``step()`` on the bench's clock; set-up garbage is collected first,
    not timed."""
    if collect:
        gc.collect()
    start = CLOCK.now()
    step()
    return (CLOCK.now() - start) * 1000


def run_ours(n: int, suite: int, reps: int, *, verbose: bool) -> Timings:
    g = OurGroup(n, suite, int(time.time()))
    welcome: list[bytes] = []
    out: Timings = {"n": n, "create": _timed(lambda: welcome.append(g.create()))}
    out["join"] = [_timed(partial(g.join, leaf, welcome[0])) for leaf in g.tracked]
    _log(verbose, n, "created and joined")
    # A side branch, then discarded: states are values, so leaves 0 and 1 keep theirs.
    fresh = commit(g.members[0], now=g.now).message.to_bytes()
    out["commit_fresh"] = [_timed(partial(g.receive, 1, fresh)) for _ in range(reps)]
    g.populate(verbose)
    out["commit"] = []
    for _ in range(reps):
        message = g.commit(0)
        out["commit"].append(_timed(partial(g.accept, 1, message)))
    out["message"] = [_timed(g.message_round, collect=False) for _ in range(reps * 20)]
    return out


def _json_lines(argv: list[str], what: str, verbose: bool) -> list[Timings]:
    env = {**os.environ, "BENCH_CLOCK": CLOCK.name}
    if verbose:
        env["BENCH_VERBOSE"] = "1"
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if verbose:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"{what} benchmark failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def _flags(sizes: list[int], suite: int, reps: int) -> list[str]:
    return ["--suite", str(suite), "--reps", str(reps), "--sizes", ",".join(map(str, sizes))]


def run_ts_mls(sizes: list[int], suite: int, reps: int, verbose: bool) -> list[Timings]:
    from tests.interop.ts_mls import CACHE_DIR, copy_if_changed, ts_mls_command

    node, _ = ts_mls_command()
    script = CACHE_DIR / "ts_mls_bench.mjs"
    copy_if_changed(ROOT / "bench" / "ts_mls_bench.mjs", script)
    return _json_lines([node, str(script), *_flags(sizes, suite, reps)], "ts-mls", verbose)


def run_mls_rs(sizes: list[int], suite: int, reps: int, verbose: bool) -> list[Timings]:
    from tests.interop.mls_rs import mls_rs_command

    argv = [*mls_rs_command(), "bench", *_flags(sizes, suite, reps)]
    return _json_lines(argv, "mls-rs", verbose)


def _listed(value: float | list[float]) -> list[float]:
    return value if isinstance(value, list) else [value]


def _merge(rounds: list[list[Timings]]) -> list[Timings]:
    """One engine's rounds as one run: per N, every timing of every round (best is taken)."""
    merged = []
    for same_n in zip(*rounds, strict=True):
        out: Timings = {"n": same_n[0]["n"]}
        for key in ("create", "join", "commit_fresh", "commit", "message"):
            out[key] = [x for t in same_n for x in _listed(t[key])]
        merged.append(out)
    return merged


def _summary(t: Timings) -> dict[str, float]:
    """One number per operation: single timings as they are, repeated ones by their best."""
    return {
        "create": min(_listed(t["create"])),
        "join": min(t["join"]),
        "commit-fresh": min(_listed(t["commit_fresh"])),
        "commit": min(t["commit"]),
        "message": min(t["message"]),
    }


def print_table(suite: int, ours: list[Timings], others: dict[str, list[Timings]]) -> None:
    """Milliseconds per operation and N, and ours/other for every other engine measured."""
    print(
        f"\nMLS engine, cipher suite {suite}: milliseconds of {CLOCK.name} time "
        "(best of the repeats)"
    )
    names = list(others)
    header = f"{'operation':<14}{'N':>6}{'ours':>11}" + "".join(f"{n:>11}" for n in names)
    print(header + "".join(f"{'ours/' + n:>15}" for n in names))
    rows = {t["n"]: _summary(t) for t in ours}
    theirs = {name: {t["n"]: _summary(t) for t in runs} for name, runs in others.items()}
    for op in OPS:
        for n, summary in rows.items():
            cells = [theirs[name].get(n, {}).get(op) for name in names]
            line = f"{op:<14}{n:>6}{summary[op]:>11.2f}"
            line += "".join(f"{c:>11.2f}" if c else f"{'-':>11}" for c in cells)
            line += "".join(f"{summary[op] / c:>15.3f}" if c else f"{'-':>15}" for c in cells)
            print(line)
    for name in names:
        for n, summary in rows.items():
            if n in theirs[name]:
                worst = max(OPS, key=lambda op: summary[op] / theirs[name][n][op])
                ratio = summary[worst] / theirs[name][n][worst]
                print(f"  N={n}: worst ours/{name} {ratio:.3f} ({worst})")


def print_growth(ours: list[Timings]) -> None:
    """Our commit-processing time against N: growth per doubling and log-log slope."""
    points = [(t["n"], _summary(t)["commit"]) for t in ours]
    print("\nProcessing a path commit (populated tree), ours:")
    for (n0, t0), (n1, t1) in itertools.pairwise(points):
        per_doubling = (t1 / t0) ** (1 / math.log2(n1 / n0))
        print(
            f"  N {n0:>5} -> {n1:>5}: {t0:8.2f} -> {t1:8.2f} ms, x{per_doubling:.3f} per doubling"
        )
    big = [(n, t) for n, t in points if n >= 128] or points
    if len(big) >= 2:
        slope = _fit([math.log(n) for n, _ in big], [math.log(t) for _, t in big])
        ms_per_doubling = _fit([math.log2(n) for n, _ in big], [t for _, t in big])
        print(
            f"  N >= {big[0][0]}: log-log slope {slope:.3f} (1.0 = linear in N); "
            f"{ms_per_doubling:+.3f} ms per doubling of N"
        )


def _fit(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="2,16,128,1024,8192", help="group sizes, all engines")
    parser.add_argument(
        "--ours-only", default="", help="larger sizes for our engine alone ('' for none)"
    )
    parser.add_argument(
        "--ts-mls-max", type=int, default=1024, help="largest N for ts-mls (minutes above)"
    )
    parser.add_argument("--suite", type=int, default=1, help="cipher suite (1-7)")
    parser.add_argument("--reps", type=int, default=7, help="repetitions of the fast steps")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds of ours and mls-rs (best kept)"
    )
    parser.add_argument("--no-ts-mls", action="store_true", help="leave ts-mls out")
    parser.add_argument("--no-mls-rs", action="store_true", help="leave mls-rs out")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="CPU time (default) or wall time"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    return parser.parse_args()


def main() -> None:
    args = _args()
    CLOCK.name = args.clock
    sizes = [int(s) for s in args.sizes.split(",")]
    ours_only = [int(s) for s in args.ours_only.split(",") if s]
    run_ours(2, args.suite, 1, verbose=False)  # warm-up: imports and caches
    ts_sizes = [n for n in sizes if n <= args.ts_mls_max]
    rounds: dict[str, list[list[Timings]]] = {"ours": [], "mls-rs": [], "ts-mls": []}
    # Rounds alternate the engines, so a busy spell of the machine hits each of them.
    for _ in range(args.rounds):
        ours_round = []
        for n in sizes + ours_only:
            start = time.perf_counter()
            ours_round.append(run_ours(n, args.suite, args.reps, verbose=args.verbose))
            _log(True, f"ours N={n} done in {time.perf_counter() - start:.1f} s")
        rounds["ours"].append(ours_round)
        if not args.no_mls_rs:
            start = time.perf_counter()
            rounds["mls-rs"].append(run_mls_rs(sizes, args.suite, args.reps, args.verbose))
            _log(True, f"mls-rs done in {time.perf_counter() - start:.1f} s")
        if not args.no_ts_mls and ts_sizes and not rounds["ts-mls"]:  # one round: minutes
            start = time.perf_counter()
            rounds["ts-mls"].append(run_ts_mls(ts_sizes, args.suite, args.reps, args.verbose))
            _log(True, f"ts-mls done in {time.perf_counter() - start:.1f} s")
    ours = _merge(rounds.pop("ours"))
    others = {name: _merge(runs) for name, runs in rounds.items() if runs}
    print_table(args.suite, ours, others)
    if "ts-mls" in others and len(ts_sizes) < len(sizes):
        print(f"  (ts-mls skipped above N={args.ts_mls_max}: minutes per size; --ts-mls-max)")
    print_growth(ours)


if __name__ == "__main__":
    main()
