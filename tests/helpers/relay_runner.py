"""Run rust-nostr's LocalRelay (PyPI ``nostr-sdk``) on 127.0.0.1 until SIGTERM.

    python tests/helpers/relay_runner.py --port 40123 [--rate-limit default|raised]
                                         [--auth] [--db DIR]

Prints ``READY ws://127.0.0.1:<port>`` once serving. ``--rate-limit default`` keeps the
relay's production limits (60 EVENT per minute and 20 open REQs per connection);
``raised`` lifts them for tests that publish in bulk. ``--auth`` requires NIP-42 AUTH for
reads and writes (mode BOTH) and lets only the ``p``-tagged, authenticated recipient read
kinds 4 and 1059 (``auth_dm``). ``--db`` stores events in LMDB under DIR, so a killed and
restarted relay still has them. The relay also stops when its parent process dies.
Used by ``tests/helpers/relay.py``; see there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import nostr_sdk


async def _build(args: argparse.Namespace) -> nostr_sdk.LocalRelay:
    builder = nostr_sdk.LocalRelayBuilder().addr("127.0.0.1").port(args.port)
    if args.rate_limit == "raised":
        builder = builder.rate_limit(nostr_sdk.RateLimit(max_reqs=1000, notes_per_minute=1_000_000))
    if args.auth:
        mode = nostr_sdk.LocalRelayBuilderNip42Mode.BOTH
        builder = builder.nip42(nostr_sdk.LocalRelayBuilderNip42(mode=mode)).auth_dm(True)
    if args.db:
        # Without this the LMDB open below never completes (see ../shared/docs/relay.md).
        nostr_sdk.uniffi_set_event_loop(asyncio.get_running_loop())
        database = await nostr_sdk.NostrLmdb.open(args.db)
        builder = builder.database(database)
    return builder.build()


async def _orphaned(stop: asyncio.Event) -> None:
    """Stop when the parent (the test run) dies, so no relay outlives its tests."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    stop.set()


async def _main(args: argparse.Namespace) -> None:
    relay = await _build(args)
    await relay.run()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(_orphaned(stop))
    print(f"READY ws://127.0.0.1:{args.port}", flush=True)
    await stop.wait()
    watcher.cancel()
    relay.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate-limit", choices=("default", "raised"), default="raised")
    parser.add_argument("--auth", action="store_true")
    parser.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error("--port must be a real port (0 makes the relay misreport its URL)")
    asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
