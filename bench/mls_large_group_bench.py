"""A 50,000-member group end to end in our engine: the seed's scale (issue 19).

Run with ``make bench`` (or ``.venv/bin/python bench/mls_large_group_bench.py --n 50000``).
The steps are those of ``bench/mls_bench.py`` (same helpers, same clock):

``create``   the creator adds N-1 pre-generated KeyPackages in one commit (UpdatePath and
             a Welcome carrying the whole ratchet tree);
``join``     leaf 1 processes that Welcome (validating every leaf's signature);
``commit``   the creator makes a path commit in the fresh tree (it encrypts to about N
             leaves: the worst case right after creation) and encodes it;
``process``  leaf 1 processes that commit;
``message``  a 1 KiB application message, encrypted by the creator and decrypted by leaf 1;
``process, populated``  then, as in mls_bench.py's ``commit``, leaves 16, 32, ..., N/2 join
             and commit once and leaf 1 processes the creator's next path commit (best of
             ``--reps``): processing in a group that has lived a while, logarithmic in N.

Peak memory is the peak resident set of this process (``getrusage``), which holds every
KeyPackage bundle, the creator's and leaf 1's states and the Welcome at once (and, for the
second figure, the states of every member that joins); the
benchmark runs in its own process so nothing else counts. mls-rs and ts-mls are not run at
this size (mls-rs's one-commit add of 8,191 members already takes it about 20 s).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mls_bench import CLOCK, CLOCKS, OurGroup, _timed

from mls.group import commit


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(n: int, reps: int) -> dict[str, float]:
    start = time.perf_counter()
    group = OurGroup(n, 1, int(time.time()))
    out = {"keypackages (setup)": (time.perf_counter() - start) * 1000}
    welcome: list[bytes] = []
    out["create"] = _timed(lambda: welcome.append(group.create()))
    out["welcome bytes"] = len(welcome[0])
    out["join"] = _timed(lambda: group.join(1, welcome[0]))
    sent: list[bytes] = []

    def path_commit() -> None:
        pending = commit(group.members[0], now=group.now)
        group.members[0] = pending.next_state
        sent.append(pending.message.to_bytes())

    out["commit"] = _timed(path_commit)
    out["commit bytes"] = len(sent[0])
    out["process"] = _timed(lambda: group.accept(1, sent[0]))
    out["message"] = min(_timed(group.message_round, collect=False) for _ in range(20))
    out["peak RSS MiB"] = _peak_rss_mib()
    # Processing stays logarithmic: as in mls_bench.py, leaves 16, 32, ..., N/2 join and
    # commit once, then leaf 1 processes path commits of the creator in that lived-in tree.
    for leaf in group.tracked[1:]:
        group.join(leaf, welcome[0])
        group.accept(leaf, sent[0])
    del welcome[:], sent[:]
    group.populate(False)
    populated = []
    for _ in range(reps):
        message = group.commit(0)
        populated.append(_timed(lambda m=message: group.accept(1, m)))
    out["process, populated"] = min(populated)
    out["peak RSS MiB, all joined"] = _peak_rss_mib()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=50_000, help="group size")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--reps", type=int, default=3, help="populated commits (best kept)")
    args = parser.parse_args()
    CLOCK.name = args.clock
    result = run(args.n, args.reps)
    print(f"\nMLS engine, one group of {args.n} members (ours; {CLOCK.name} time, ms):")
    for key, value in result.items():
        unit = "" if "bytes" in key or "MiB" in key else " ms"
        print(f"  {key:<22}{value:>14,.1f}{unit}")


if __name__ == "__main__":
    main()
