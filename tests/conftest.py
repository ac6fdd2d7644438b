"""Settings shared by the whole test suite."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

# Shared fixtures: the real local relay (relay, auth_relay, rate_limited_relay, relay_factory),
# a local HTTPS server with its own CA (https_server) and a Blossom server (blossom_server).
pytest_plugins = [
    "tests.helpers.relay",
    "tests.helpers.https_server",
    "tests.helpers.blossom",
    "tests.helpers.bunker",
]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The embedded relay's shared store lives under XDG_STATE_HOME: never the user's real one
# in tests (subprocesses inherit it; every xdist worker gets its own).
_STATE = tempfile.mkdtemp(prefix="burrow-test-state-")
os.environ["XDG_STATE_HOME"] = _STATE
atexit.register(shutil.rmtree, _STATE, True)
# Tests never dial a public address: the relay pool and the HTTP client refuse anything off
# 127.0.0.1 (tests/integration/test_loopback_guard.py proves it trips), and no default
# discovery relay is configured (a test that wants one sets its own, on 127.0.0.1).
# Subprocesses (CLI clients, the app) inherit both.
os.environ["BURROW_LOOPBACK_ONLY"] = "1"
os.environ["BURROW_DISCOVERY"] = ""

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
