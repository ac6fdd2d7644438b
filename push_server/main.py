"""Run the notification server until SIGINT/SIGTERM.

stdout gets one line once the server listens (``ready pubkey=<hex> npub=<npub>
relays=<urls>``), so scripts and tests can wait for it; logs go to stderr. Exit codes:
0 after a clean stop, 2 for a bad configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence

from push_server.backends import DeliveryBackend, FileLogBackend, WebhookBackend
from push_server.config import ConfigError, ServerConfig, build_parser, config_from_args
from push_server.config import load_secret as _load_secret
from push_server.server import NotificationServer


def make_backend(config: ServerConfig) -> DeliveryBackend:
    if config.backend == "webhook":
        assert config.webhook_url is not None  # config_from_args checked it
        return WebhookBackend(
            config.webhook_url,
            timeout=config.webhook_timeout,
            retries=config.webhook_retries,
            headers=dict(config.webhook_headers),
        )
    assert config.log_file is not None
    return FileLogBackend(config.log_file)


async def serve(config: ServerConfig) -> None:
    server = NotificationServer(config, make_backend(config))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        pk = server.public_key
        print(f"ready pubkey={pk.hex} npub={pk.to_bech32()} relays={','.join(config.relays)}")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await server.close()


def main(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    parser = build_parser(env)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.show_key:
            pk = _load_secret(args, env).public_key()
            print(f"pubkey={pk.hex} npub={pk.to_bech32()}")
            return 0
        config = config_from_args(args, env)
    except ConfigError as exc:
        parser.error(str(exc))
    asyncio.run(serve(config))
    return 0
