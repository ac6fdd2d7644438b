"""``send --file`` and ``media get|servers|uploads|cancel|retry``: encrypted attachments
(MIP-04) through the account's Blossom servers.

The file the user saves with ``media get`` is the only plaintext copy that ever reaches the
disk, and only where they asked for it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import InvalidInput
from app.models import to_jsonable

if TYPE_CHECKING:
    from cli.commands import Cli


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    media = commands.add_parser(
        "media", help="attachments (Blossom)", description="attachments (Blossom)"
    )
    sub = media.add_subparsers(dest="action", required=True)
    get = sub.add_parser("get", help="download, decrypt and save an attachment")
    get.add_argument("group")
    get.add_argument("message", metavar="ID")
    get.add_argument("--index", type=int, default=0, help="which attachment (default 0)")
    get.add_argument(
        "--out", metavar="PATH", help="file or folder to save to (default: its name, here)"
    )
    servers = sub.add_parser("servers", help="show or set your Blossom servers (kind 10063)")
    servers.add_argument("--set", nargs="+", metavar="URL", dest="urls")
    sub.add_parser("uploads", help="attachments still waiting to go out")
    for name, help_ in (("cancel", "cancel a queued upload"), ("retry", "retry an upload now")):
        parser = sub.add_parser(name, help=help_)
        parser.add_argument("upload", type=int, metavar="UPLOAD_ID")


def add_group_picture(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    picture = groups.add_parser(
        "picture", help="show, save, set or remove the group picture (MIP-01, via Blossom)"
    )
    picture.add_argument("group")
    what = picture.add_mutually_exclusive_group()
    what.add_argument("--set", metavar="PATH", dest="picture_set", help="an image file")
    what.add_argument("--clear", action="store_true", help="remove the picture")
    what.add_argument("--out", metavar="PATH", dest="picture_out", help="save it here")


async def group_picture(cli: Cli) -> dict[str, Any]:
    a = cli.args
    images = cli.account.group_images
    if a.picture_set:
        try:
            data = Path(a.picture_set).read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {a.picture_set}: {exc.strerror or exc}") from None
        return {"group": to_jsonable(await images.set(a.group, data))}
    if a.clear:
        return {"group": to_jsonable(await images.clear(a.group))}
    picture = await images.get(a.group)
    if picture is None:
        return {"picture": None}
    info: dict[str, Any] = {"mime_type": picture.mime_type, "size": picture.size}
    info["image_hash"] = picture.file_hash
    if a.picture_out:
        _write_private(Path(a.picture_out), picture.data)
        info["path"] = a.picture_out
    return {"picture": info}


def _write_private(target: Path, data: bytes) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror or exc}") from None


async def send_file(cli: Cli) -> dict[str, Any]:
    """``send GROUP [CAPTION] --file PATH``: queue the file, wait for its first attempt."""
    media = cli.account.media
    upload = await media.send_path(cli.args.group, cli.args.file, caption=cli.args.text or "")
    final = await media.wait(upload.id, cli.args.timeout)
    return {"upload": to_jsonable(final)}


async def get(cli: Cli) -> dict[str, Any]:
    a = cli.args
    file = await cli.account.media.fetch(a.group, a.message, a.index)
    target = Path(a.out) if a.out else Path.cwd() / file.filename
    if target.is_dir():
        target /= file.filename
    _write_private(target, file.data)  # for the owner only: it is the decrypted file
    info = {
        "filename": file.filename,
        "mime_type": file.mime_type,
        "size": file.size,
        "file_hash": file.file_hash,
        "path": str(target),
    }
    return {"file": info}


async def servers(cli: Cli) -> dict[str, Any]:
    media = cli.account.media
    if cli.args.urls:
        chosen = await media.servers.set(cli.args.urls)
    else:
        chosen = await media.servers.refresh()
    return {"servers": list(chosen)}


async def uploads(cli: Cli) -> dict[str, Any]:
    return {"uploads": to_jsonable(await cli.account.media.uploads())}


async def cancel(cli: Cli) -> dict[str, Any]:
    return {"upload": to_jsonable(await cli.account.media.cancel(cli.args.upload))}


async def retry(cli: Cli) -> dict[str, Any]:
    media = cli.account.media
    upload = await media.retry(cli.args.upload)
    return {"upload": to_jsonable(await media.wait(upload.id, cli.args.timeout))}
