"""``push register|show|remove``: this account's MIP-05 push registration."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.models import to_jsonable

if TYPE_CHECKING:
    from cli.commands import Cli


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    push = commands.add_parser(
        "push", help="push notifications (MIP-05)", description="push notifications (MIP-05)"
    )
    sub = push.add_subparsers(dest="action", required=True)
    register = sub.add_parser(
        "register",
        help="register this device's push token and share it with your groups",
        description="register this device's push token and share it with your groups",
    )
    register.add_argument("--platform", required=True, choices=("apns", "fcm"))
    register.add_argument("--token", required=True, help="APNs: hex; FCM: the token text")
    register.add_argument("--server", required=True, help="notification server (hex or npub)")
    register.add_argument(
        "--relay", help="where the server's inbox relay list is (without it nothing is shared)"
    )
    sub.add_parser("show", help="the registration and which groups have tokens")
    sub.add_parser("remove", help="forget the registration and withdraw it from every group")


async def register(cli: Cli) -> dict[str, Any]:
    a = cli.args
    status = await cli.account.push.register(a.platform, a.token, a.server, a.relay)
    return {"push": to_jsonable(status)}


async def show(cli: Cli) -> dict[str, Any]:
    return {"push": to_jsonable(await cli.account.push.status())}


async def remove(cli: Cli) -> dict[str, Any]:
    return {"push": to_jsonable(await cli.account.push.unregister())}
