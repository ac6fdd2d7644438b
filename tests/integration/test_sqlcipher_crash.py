"""Crash safety: a writer killed with SIGKILL at random moments never leaves half an event.

A child process (`sqlcipher_crash_child.py`) applies group events in a loop, each one a
state write, a message and a processed mark or outbox entry in a single transaction. It is
killed with SIGKILL after a random delay, many times; sometimes that lands during its start
(creating or migrating the database), mostly in the middle of writing. After every kill the
database must open, pass ``PRAGMA integrity_check`` (and the foreign-key and search-index
checks), and every group's state, marks, outbox and messages must agree exactly.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration import sqlcipher_crash_child as child

pytestmark = pytest.mark.slow

KILLS = 30
CHILD = Path(child.__file__).resolve()


def _run_and_kill(db: Path, seed: int, delay: float, *, after_ready: bool) -> bool:
    """Start the writer and SIGKILL it ``delay`` s after it starts (or, with ``after_ready``,
    after it reports that it writes, so a slow machine still gets mid-write kills);
    True if it had started writing."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(db), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=CHILD.parents[2],
    )
    try:
        ready = False
        if after_ready:
            assert proc.stdout is not None
            ready = proc.stdout.readline() == b"ready\n"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, err.decode(errors="replace")
    return ready or b"ready" in out


def test_sigkill_never_leaves_a_half_applied_event(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(0xB0220)
    progress = [0]
    writing_kills = 0
    for attempt in range(KILLS):
        # Early attempts include kills during start-up (interpreter, open, migrations).
        early = attempt < 5
        delay = rng.uniform(0.02, 0.3) if early else rng.uniform(0.0, 0.4)
        writing_kills += _run_and_kill(db, seed=attempt, delay=delay, after_ready=not early)
        if db.exists():
            applied = child.check(str(db))
            assert applied >= progress[-1]  # committed work is never lost
            progress.append(applied)
    assert writing_kills >= KILLS // 2, "the writer was rarely killed mid-write"
    assert progress[-1] > 10 * KILLS, f"too little was written to be a meaningful test: {progress}"
