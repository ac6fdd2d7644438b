"""A 50,000-member group end to end in our engine: the seed's scale (issue 19).

Run with ``make bench`` (or ``.venv/bin/python bench/mls_large_group_bench.py --n 50000``).
The steps are those of ``bench/mls_bench.py`` (same helpers, same clock):

``create``   the creator adds N-1 pre-generated KeyPackages in one commit (UpdatePath and
             a Welcome carrying the whole ratchet tree);
``join``     leaf 1 processes that Welcome (validating every leaf's signature);
``commit``   the creator makes a path commit in the fresh tree (it encrypts to about N
             leaves: the worst case right after creation) and encodes it;
``process``  leaf 1 processes that commit;
``message``  a 1 KiB application message, encrypted by the creator and decrypted by leaf 1.

Peak memory is the peak resident set of this process (``getrusage``), which holds every
KeyPackage bundle, the creator's and leaf 1's states and the Welcome at once; the
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


def run(n: int) -> dict[str, float]:
    start = time.perf_counter()
    group = OurGroup(n, 1, int(time.time()))
    out = {"keypackages (setup)": (time.perf_counter() - start) * 1000}
    welcome: list[bytes] = []
    out["create"] = _timed(lambda: welcome.append(group.create()))
    out["welcome bytes"] = len(welcome[0])
    out["join"] = _timed(lambda: group.join(1, welcome[0]))
    del welcome[:]
    sent: list[bytes] = []

    def path_commit() -> None:
        pending = commit(group.members[0], now=group.now)
        group.members[0] = pending.next_state
        sent.append(pending.message.to_bytes())

    out["commit"] = _timed(path_commit)
    out["commit bytes"] = len(sent[0])
    out["process"] = _timed(lambda: group.accept(1, sent[0]))
    out["message"] = min(_timed(group.message_round, collect=False) for _ in range(20))
    # ru_maxrss is in KiB on Linux.
    out["peak RSS MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=50_000, help="group size")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args()
    CLOCK.name = args.clock
    result = run(args.n)
    print(f"\nMLS engine, one group of {args.n} members (ours; {CLOCK.name} time, ms):")
    for key, value in result.items():
        unit = "" if key.endswith(("bytes", "MiB")) else " ms"
        print(f"  {key:<22}{value:>14,.1f}{unit}")


if __name__ == "__main__":
    main()
