"""An MDK (mdk-python 0.8.0) client driven over JSON lines, mimicking how whitenoise-rs drives MDK.

Runs in the oracle's own venv (``tests/oracle/mdk_install.py``), never imports Burrow. MDK does
MLS and Marmot; the Nostr side is nostr-sdk's ``Client`` talking to the real relay (NIP-42 AUTH
answered by its ``SignerAuthenticator``), as in whitenoise-rs:

- key packages: MDK's ``create_key_package_for_event`` content, published as kind 30443 with
  MDK's ``tags`` and its kind 443 twin with ``tags_legacy``; relay lists 10002/10050/10051;
  an invitee's is looked up as whitenoise-rs does (``key_package_of``: Burrow's is a 443);
- Welcomes: each rumor from ``create_group``/``add_members`` gift-wrapped (NIP-59) to the
  pubkey of the key package its ``e`` tag names, with a 30-day expiration tag;
- commits: publish the evolution event first, then ``merge_pending_commit``;
- incoming: gift wraps first (``process_welcome`` then ``accept_welcome``; no post-join
  ``self_update``: whitenoise-rs disabled it in March 2026, its PR 562), then kind 445 in
  (created_at, id) order; a proposal MDK auto-commits is published and merged. No retry:
  whitenoise-rs retries a failed event, but MDK 0.8.0 recorded the failure and answers
  ``UNPROCESSABLE`` from then on;
- media (MIP-04): ``encrypt_media`` / ``media_tag`` / ``decrypt_media`` wrap MDK's own calls;
  the driver moves the blobs to and from Blossom;
- replies / reactions / deletions: kind 9 / 7 / 5 rumors with an ``e`` tag (whitenoise-cli).

Protocol: one request per stdin line, ``{"id": n, "cmd": ..., "user": name, ...}``; one answer
per stdout line, ``{"id": n, "ok": true, "result": ...}`` or ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import tempfile
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

import mdk
import nostr_sdk as sdk

TIMEOUT = timedelta(seconds=5)
WELCOME_EXPIRY = 30 * 24 * 3600
MAX_FUTURE_SKEW = 3600


def _tags(rows: list[list[str]]) -> list[sdk.Tag]:
    return [sdk.Tag.parse(r) for r in rows]


def _tag_values(event: sdk.Event, name: str) -> set[str]:
    rows = [t.to_vec() for t in event.tags()]
    values = [v for row in rows if row and row[0] == name for v in row[1:]]
    return {part.lower() for v in values for part in v.replace(",", " ").split()}


def _baseline(event: sdk.Event) -> bool:
    """whitenoise-rs's consumer baseline for a key package event (facts from its source)."""
    if event.created_at().as_secs() > _now() + MAX_FUTURE_SKEW:
        return False
    rows = [t.to_vec() for t in event.tags()]
    if not any(row[:2] == ["encoding", "base64"] for row in rows):
        return False
    try:
        base64.b64decode(event.content(), validate=True)
    except ValueError:
        return False
    suites, extensions = _tag_values(event, "mls_ciphersuite"), _tag_values(event, "mls_extensions")
    return "0x0001" in suites and "0xf2ee" in extensions


class User:
    def __init__(self, name: str, relay: str, folder: Path) -> None:
        self.name = name
        self.relay = relay
        self.keys = sdk.Keys.generate()
        self.pubkey = self.keys.public_key().to_hex()
        self.mdk = mdk.new_mdk_with_key(str(folder / f"{name}.db"), os.urandom(32), None)
        self.client = self.new_client()
        self.seen: set[str] = set()
        self.outcomes: list[dict[str, Any]] = []

    def new_client(self) -> sdk.Client:
        return sdk.ClientBuilder().authenticator(sdk.SignerAuthenticator(self.keys)).build()

    async def connect(self) -> None:
        await self.client.add_relay(sdk.RelayUrl.parse(self.relay))
        await self.client.try_connect(TIMEOUT)

    async def start(self) -> None:
        await self.connect()
        for kind in (10002, 10050, 10051):
            tag = "r" if kind == 10002 else "relay"
            await self.publish_builder(
                sdk.EventBuilder(sdk.Kind(kind), "").tags(_tags([[tag, self.relay]]))
            )
        await self.publish_key_package()

    async def publish_builder(self, builder: sdk.EventBuilder) -> str:
        return await self.publish(builder.finalize(self.keys))

    async def publish(self, event: sdk.Event) -> str:
        out = await self.client.send_event(event)
        if not out.success:
            raise RuntimeError(f"relay refused {event.kind().as_u16()}: {out.failed}")
        return event.id().to_hex()

    async def publish_key_package(self) -> str:
        kp = self.mdk.create_key_package_for_event(self.pubkey, [self.relay])
        event_id = await self.publish_builder(
            sdk.EventBuilder(sdk.Kind(30443), kp.key_package).tags(_tags(kp.tags))
        )
        await self.publish_builder(
            sdk.EventBuilder(sdk.Kind(443), kp.key_package).tags(_tags(kp.tags_legacy))
        )
        return event_id

    async def fetch(self, flt: dict[str, Any]) -> list[sdk.Event]:
        target = sdk.ReqTarget.auto([sdk.Filter.from_json(json.dumps(flt))])
        events = await self.client.fetch_events(target, TIMEOUT)
        return sorted(events, key=lambda e: (e.created_at().as_secs(), e.id().to_hex()))

    async def key_package_of(self, pubkey: str) -> sdk.Event:
        """As whitenoise-rs looks one up: both kinds, only events passing its baseline
        (not over an hour ahead, ``encoding`` base64, suite 0x0001, extension 0xf2ee),
        the newest 30443, else the newest 443."""
        events = await self.fetch({"kinds": [30443, 443], "authors": [pubkey]})
        valid = [e for e in events if _baseline(e)]
        for kind in (30443, 443):
            of_kind = [e for e in valid if e.kind().as_u16() == kind]
            if of_kind:
                return of_kind[-1]  # fetch sorts by (created_at, id)
        raise RuntimeError(f"no key package of {pubkey}")

    async def send_welcomes(self, rumors: list[str], kp_events: list[sdk.Event]) -> None:
        owner = {e.id().to_hex(): e.author() for e in kp_events}
        for rumor_json in rumors:
            rumor = sdk.UnsignedEvent.from_json(rumor_json)
            kp_id = next(t.to_vec()[1] for t in rumor.tags() if t.to_vec()[0] == "e")
            wrap = sdk.nip59_make_gift_wrap(
                self.keys,
                owner[kp_id],
                rumor,
                extra_tags=_tags([["expiration", str(int(_now()) + WELCOME_EXPIRY)]]),
            )
            await self.publish(wrap)

    async def publish_and_merge(self, result: mdk.UpdateGroupResult) -> None:
        await self.publish(sdk.Event.from_json(result.evolution_event_json))
        self.mdk.merge_pending_commit(result.mls_group_id)

    # ---- commands -------------------------------------------------------------------------

    async def create_group(self, members: list[str], name: str, description: str) -> dict[str, Any]:
        kps = [await self.key_package_of(m) for m in members]
        result = self.mdk.create_group(
            self.pubkey, [e.as_json() for e in kps], name, description, [self.relay], [self.pubkey]
        )
        await self.send_welcomes(result.welcome_rumors_json, kps)
        info = self.group_info(result.group.mls_group_id)
        info["key_package_kinds"] = [e.kind().as_u16() for e in kps]  # which ones it took
        return info

    async def add_members(self, group: str, members: list[str]) -> dict[str, Any]:
        kps = [await self.key_package_of(m) for m in members]
        result = self.mdk.add_members(group, [e.as_json() for e in kps])
        await self.publish_and_merge(result)
        await self.send_welcomes(result.welcome_rumors_json or [], kps)
        return self.group_info(group)

    async def sync(self) -> dict[str, Any]:
        for wrap in await self.fetch({"kinds": [1059], "#p": [self.pubkey]}):
            wid = wrap.id().to_hex()
            if wid in self.seen:
                continue
            self.seen.add(wid)
            rumor = sdk.UnwrappedGift.from_gift_wrap(self.keys, wrap).rumor()
            if rumor.kind().as_u16() != 444:
                continue
            welcome = self.mdk.process_welcome(wid, rumor.as_json())
            self.mdk.accept_welcome(welcome)
        for group in self.mdk.get_groups():
            if group.state != "active":
                continue
            for event in await self.fetch({"kinds": [445], "#h": [group.nostr_group_id]}):
                eid = event.id().to_hex()
                if eid in self.seen:
                    continue
                self.seen.add(eid)
                await self.process(event)
        return {"groups": [self.group_info(g.mls_group_id) for g in self.mdk.get_groups()]}

    async def process(self, event: sdk.Event) -> None:
        try:
            result = self.mdk.process_message(event.as_json())
        except mdk.MdkUniffiError as exc:
            self.outcomes.append({"event": event.id().to_hex(), "error": str(exc)})
            return
        if result.is_proposal():  # an admin auto-commits a member's leave proposal
            await self.publish_and_merge(result.result)
        kind = type(result).__name__
        self.outcomes.append({"event": event.id().to_hex(), "result": kind})

    def group_info(self, group: str) -> dict[str, Any]:
        g = self.mdk.get_group(group)
        if g is None:
            raise RuntimeError(f"no group {group}")
        try:
            members = sorted(self.mdk.get_members(group))
        except mdk.MdkUniffiError:
            members = []
        return {
            "id": g.mls_group_id,
            "nostr_group_id": g.nostr_group_id,
            "name": g.name,
            "description": g.description,
            "admins": sorted(g.admin_pubkeys),
            "epoch": g.epoch,
            "state": g.state,
            "members": members,
        }

    async def send(
        self, group: str, content: str, kind: int, tags: list[list[str]]
    ) -> dict[str, Any]:
        before = {m["id"] for m in self.messages(group)}
        event_json = self.mdk.create_message(group, self.pubkey, content, kind, tags or None, None)
        await self.publish(sdk.Event.from_json(event_json))
        [sent] = [m for m in self.messages(group) if m["id"] not in before]
        return sent

    def messages(self, group: str) -> list[dict[str, Any]]:
        return [_message(m) for m in self.mdk.get_messages(group, None, None, "created_at_first")]


def _now() -> float:
    import time

    return time.time()


def _message(m: mdk.Message) -> dict[str, Any]:
    rumor = json.loads(m.event_json)
    return {
        "id": rumor.get("id", m.id),
        "author": m.sender_pubkey,
        "kind": m.kind,
        "content": rumor.get("content", ""),
        "tags": rumor.get("tags", []),
        "created_at": m.created_at,
    }


# ---- MIP-04 media (issue 17): MDK encrypts and decrypts, the driver moves the blobs --------

_UPLOADS: dict[str, mdk.EncryptedMediaUploadResult] = {}


async def _encrypt_media(user: User, req: dict[str, Any]) -> dict[str, Any]:
    """``encrypt_media_for_upload``; the blob (base64) and its hash, kept for ``media_tag``."""
    data = base64.b64decode(req["data"])
    done = user.mdk.encrypt_media_for_upload(req["group"], data, req["mime"], req["filename"])
    _UPLOADS[done.encrypted_hash.hex()] = done
    return {
        "blob": base64.b64encode(done.encrypted_data).decode(),
        "hash": done.encrypted_hash.hex(),
    }


async def _media_tag(user: User, req: dict[str, Any]) -> list[list[str]]:
    """``create_media_imeta_tag`` for an encrypted upload stored at ``url``."""
    return user.mdk.create_media_imeta_tag(req["group"], _UPLOADS[req["hash"]], req["url"])


async def _decrypt_media(user: User, req: dict[str, Any]) -> str:
    """``parse_media_imeta_tag`` + ``decrypt_media_from_download``; the file (base64)."""
    ref = user.mdk.parse_media_imeta_tag(req["group"], [req["tag"]])
    data = user.mdk.decrypt_media_from_download(req["group"], base64.b64decode(req["blob"]), ref)
    return base64.b64encode(data).decode()


async def _group_image_set(user: User, req: dict[str, Any]) -> dict[str, Any]:
    """``prepare_group_image_for_upload`` and the commit naming it; the blob to upload."""
    up = mdk.prepare_group_image_for_upload(base64.b64decode(req["data"]), req["mime"])
    update = mdk.GroupDataUpdate(
        name=None,
        description=None,
        image_hash=up.encrypted_hash,
        image_key=up.image_key,
        image_nonce=up.image_nonce,
        relays=None,
        admins=None,
    )
    await user.publish_and_merge(user.mdk.update_group_data(req["group"], update))
    return {"blob": base64.b64encode(up.encrypted_data).decode(), "hash": up.encrypted_hash.hex()}


async def _group_image_get(user: User, req: dict[str, Any]) -> dict[str, Any]:
    """The group's image fields as MDK stores them, and (given the blob) the picture."""
    g = user.mdk.get_group(req["group"])
    if g is None or g.image_hash is None:
        return {"hash": None}
    out: dict[str, Any] = {"hash": g.image_hash.hex()}
    if req.get("blob"):
        blob = base64.b64decode(req["blob"])
        picture = mdk.decrypt_group_image(blob, g.image_hash, g.image_key, g.image_nonce)
        out["data"] = base64.b64encode(picture).decode()
    return out


MEDIA_COMMANDS = {
    "encrypt_media": _encrypt_media,
    "media_tag": _media_tag,
    "decrypt_media": _decrypt_media,
    "group_image_set": _group_image_set,
    "group_image_get": _group_image_get,
}


class Peer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mdk-peer-"))
        self.users: dict[str, User] = {}

    async def handle(self, req: dict[str, Any]) -> Any:  # noqa: PLR0911, PLR0912 (a dispatch table)
        cmd = req["cmd"]
        if cmd == "new_user":
            user = User(req["user"], req["relay"], self.folder)
            await user.start()
            self.users[user.name] = user
            return {"pubkey": user.pubkey, "npub": user.keys.public_key().to_bech32()}
        user = self.users[req["user"]]
        if cmd == "create_group":
            return await user.create_group(req["members"], req["name"], req.get("description", ""))
        if cmd == "add_members":
            return await user.add_members(req["group"], req["members"])
        if cmd == "remove_members":
            result = user.mdk.remove_members(req["group"], req["members"])
            await user.publish_and_merge(result)
            return user.group_info(req["group"])
        if cmd == "rename":
            update = mdk.GroupDataUpdate(
                name=req.get("name"),
                description=req.get("description"),
                image_hash=None,
                image_key=None,
                image_nonce=None,
                relays=None,
                admins=req.get("admins"),
            )
            await user.publish_and_merge(user.mdk.update_group_data(req["group"], update))
            return user.group_info(req["group"])
        if cmd == "self_update":
            await user.publish_and_merge(user.mdk.self_update(req["group"]))
            return user.group_info(req["group"])
        if cmd == "leave":  # a proposal: published, not merged; an admin commits it
            result = user.mdk.leave_group(req["group"])
            await user.publish(sdk.Event.from_json(result.evolution_event_json))
            return user.group_info(req["group"])
        if cmd == "sync":
            return await user.sync()
        if cmd == "group":
            return user.group_info(req["group"])
        if cmd == "groups":
            return [user.group_info(g.mls_group_id) for g in user.mdk.get_groups()]
        if cmd == "send":
            return await user.send(
                req["group"], req["content"], req.get("kind", 9), req.get("tags", [])
            )
        if cmd == "messages":
            return user.messages(req["group"])
        if cmd == "outcomes":
            return user.outcomes
        if cmd == "key_package":
            return await user.publish_key_package()
        if cmd == "offline":  # not connected: nothing is fetched or sent until "online"
            await user.client.disconnect()
            return True
        if cmd == "online":  # as after an app restart: a fresh relay client
            user.client = user.new_client()
            await user.connect()
            return True
        if cmd in MEDIA_COMMANDS:
            return await MEDIA_COMMANDS[cmd](user, req)
        raise ValueError(f"unknown cmd {cmd}")


async def main() -> None:
    peer = Peer()
    loop = asyncio.get_running_loop()
    # nostr-sdk calls the AUTH signer back from its own threads: give uniffi our loop.
    sdk.uniffi_set_event_loop(loop)
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        req = json.loads(line)
        try:
            answer = {"id": req.get("id"), "ok": True, "result": await peer.handle(req)}
        except Exception as exc:  # every failure goes back to the driver
            traceback.print_exc(file=sys.stderr)
            answer = {"id": req.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
