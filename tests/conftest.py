"""Settings shared by the whole test suite."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

# Shared fixtures: the real local relay (relay, auth_relay, rate_limited_relay, relay_factory).
pytest_plugins = ["tests.helpers.relay", "tests.helpers.blossom"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The embedded relay's shared store lives under XDG_STATE_HOME: never the user's real one
# in tests (subprocesses inherit it; every xdist worker gets its own).
_STATE = tempfile.mkdtemp(prefix="burrow-test-state-")
os.environ["XDG_STATE_HOME"] = _STATE
atexit.register(shutil.rmtree, _STATE, True)

# dev: quick local runs; ci: derandomized so a red run reproduces.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
