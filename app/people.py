"""People on the web: NIP-05 addresses (find someone by ``name@domain``, verify the
address in a profile) and https profile pictures, both over `app.http` and cached in the
encrypted store.

A picture is accepted only when it is small (`PICTURE_MAX`), says it is an image and
starts like one (JPEG, PNG, GIF or WebP): the window decodes it, with a size limit.
"""

from __future__ import annotations

import base64
import logging

from app.context import Context
from app.errors import InvalidInput, NotFound
from app.http import HttpClient, HttpError
from nostr import nip05
from nostr.errors import DecodeError
from storage.repos import people as people_repo
from storage.repos.people import Nip05Check, Picture

log = logging.getLogger(__name__)

PICTURE_MAX = 2 * 1024 * 1024
CHECK_FRESH = 24 * 3600
"""A NIP-05 result or a fetched picture is fetched again after a day."""
FAILED_FRESH = 3600
_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
_ACCEPT = ", ".join(_MAGIC)
_DATA_PREFIX = "data:image/"


def sniff(data: bytes) -> str:
    """The image type ``data`` starts as, or ''."""
    for mime, prefixes in _MAGIC.items():
        if any(data.startswith(p) for p in prefixes):
            if mime == "image/webp" and data[8:12] != b"WEBP":
                continue
            return mime
    return ""


class People:
    def __init__(self, ctx: Context, http: HttpClient) -> None:
        self._ctx = ctx
        self._http = http

    # --- NIP-05 --------------------------------------------------------------------------

    async def resolve(self, text: str) -> nip05.Resolved:
        """The key (and relay hints) ``name@domain`` stands for, over HTTPS."""
        try:
            identifier = nip05.parse_identifier(text)
        except DecodeError:
            raise InvalidInput(f"{text.strip()[:60]!r} is not a name@domain address") from None
        try:
            response = await self._http.get(
                identifier.url, max_bytes=nip05.MAX_DOCUMENT, accept="application/json"
            )
        except HttpError as exc:
            raise NotFound(f"could not look up {identifier.display}: {exc}") from None
        if response.status != 200:  # a redirect: NIP-05 says to ignore those
            raise NotFound(f"{identifier.domain} does not list {identifier.display}")
        try:
            resolved = nip05.parse_document(response.body, identifier)
        except DecodeError:
            raise NotFound(f"{identifier.domain} does not list {identifier.display}") from None
        await self._save(resolved.pubkey, str(identifier), True)
        return resolved

    async def verify(self, pubkey: str, address: str, *, force: bool = False) -> bool:
        """Whether ``address`` (from ``pubkey``'s profile) names ``pubkey``; cached a day."""
        ctx = self._ctx
        checks = await ctx.db.run(people_repo.nip05_checks, [pubkey])
        known = checks.get(pubkey)
        if (
            not force
            and known is not None
            and known.nip05 == address
            and ctx.now() - known.checked_at < (CHECK_FRESH if known.verified else FAILED_FRESH)
        ):
            return known.verified
        try:
            verified = (await self.resolve(address)).pubkey == pubkey
        except (InvalidInput, NotFound) as exc:
            log.info("NIP-05 %s of %s: %s", address, pubkey[:8], exc)
            verified = False
        await self._save(pubkey, address, verified)
        return verified

    async def _save(self, pubkey: str, address: str, verified: bool) -> None:
        ctx = self._ctx
        check = Nip05Check(pubkey, address, verified, ctx.now())
        await ctx.db.run(people_repo.save_nip05, check)

    async def verified(self, profiles: dict[str, str]) -> dict[str, bool]:
        """From the cache: whether each pubkey's address (``pubkey -> nip05``) checked out."""
        checks = await self._ctx.db.run(people_repo.nip05_checks, list(profiles))
        return {
            p: bool(c.verified and c.nip05 == profiles[p])
            for p, c in checks.items()
            if p in profiles
        }

    # --- pictures ------------------------------------------------------------------------

    async def cached_picture(self, url: str) -> bytes | None:
        """A picture we already have (a ``data:`` URL decodes on the spot); no network."""
        if url.startswith(_DATA_PREFIX):
            return _from_data_url(url)
        stored = await self._ctx.db.run(people_repo.picture, url)
        return stored.data if stored is not None and stored.mime else None

    async def picture(self, url: str, *, force: bool = False) -> bytes | None:
        """The picture at ``url``: from the cache when fresh, else fetched (https only)."""
        if url.startswith(_DATA_PREFIX):
            return _from_data_url(url)
        if not url.startswith("https://"):
            return None
        ctx = self._ctx
        stored = await ctx.db.run(people_repo.picture, url)
        if stored is not None and not force:
            fresh = CHECK_FRESH if stored.mime else FAILED_FRESH
            if ctx.now() - stored.fetched_at < fresh:
                return stored.data if stored.mime else None
        try:
            data, mime = await self._fetch_picture(url)
        except HttpError as exc:
            log.info("picture %s: %s", url[:80], exc)
            if stored is not None and stored.mime:
                return stored.data  # keep showing the one we had
            data, mime = b"", ""
        await ctx.db.run(people_repo.save_picture, Picture(url, mime, data, ctx.now()))
        return data if mime else None

    async def _fetch_picture(self, url: str) -> tuple[bytes, str]:
        response = await self._http.get(url, max_bytes=PICTURE_MAX, accept=_ACCEPT, redirects=3)
        declared = response.content_type
        found = sniff(response.body)
        if not found or (declared not in _MAGIC and declared != "application/octet-stream"):
            raise HttpError(f"not a JPEG, PNG, GIF or WebP picture ({declared or 'no type'})")
        return response.body, found


def _from_data_url(url: str) -> bytes | None:
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64") or len(payload) > PICTURE_MAX * 2:
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError:
        return None
    return data if sniff(data) else None
