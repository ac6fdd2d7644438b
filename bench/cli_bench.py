"""How fast the headless client starts (issue 19): ``burrow cli --help`` as a new process,
against a bare ``python -c pass`` measured in the same run (the floor any Python CLI pays),
and the import time of ``main`` split by the heaviest modules (``python -X importtime``).

Run with ``make bench`` or ``.venv/bin/python bench/cli_bench.py``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(argv: list[str], runs: int) -> float:
    """Median seconds for ``argv`` to run to completion."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


PARTS = ("mls", "nostr", "marmot", "storage", "app", "cli")
"""Where ``import main`` first pulls each in, that import's cumulative time is its cost
(third-party libraries show inside the first of ours that needs them)."""


def import_costs() -> dict[str, float]:
    """Cumulative milliseconds of the first import of each of ``PARTS`` and of ``main``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import main"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    costs: dict[str, float] = {}
    for line in done.stderr.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[1].strip().isdigit():
            name = fields[2].strip()
            if name in (*PARTS, "main") and name not in costs:
                costs[name] = int(fields[1]) / 1000
    return costs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    bare = wall([sys.executable, "-c", "pass"], args.runs)
    cli = wall([sys.executable, "main.py", "cli", "--help"], args.runs)
    print(f"python -c pass          {bare * 1000:6.0f} ms")
    print(f"burrow cli --help       {cli * 1000:6.0f} ms   ({cli / bare:.1f}x python -c pass)")
    print("\nimport main, by package as first imported (cumulative ms):")
    for name, ms in import_costs().items():
        print(f"  {ms:7.1f}  {name}")


if __name__ == "__main__":
    main()
