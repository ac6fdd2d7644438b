"""Contacts: people we follow (kind 3), their cached profiles (kind 0), blocking.

Our follow list is kept verbatim (every tag, the content) and re-published with our change
applied, so entries another client added, which we never show, are never dropped. Before
changing it we fetch the newest copy from our relays, so a list edited elsewhere is the
base. Blocking is local: a blocked person's invites and messages are dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.context import Context
from app.errors import InvalidInput
from app.events import ContactUpdated
from app.key_text import explain
from app.models import ContactInfo, ProfileInfo
from app.people import People
from app.relays import Relays
from nostr import nip05, nip19
from nostr.errors import DecodeError, InvalidKey
from nostr.event import Event, UnsignedEvent
from nostr.filters import Filter
from nostr.keys import PublicKey
from nostr.kinds import Kind
from nostr.metadata import Metadata, metadata_event
from nostr.relay_url import normalize_relay_url
from storage import Connection
from storage.repos import accounts as accounts_repo
from storage.repos import contacts as contacts_repo
from storage.repos import groups as groups_repo
from storage.rows import FollowList, Profile

PERSON = ("npub", "nprofile")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TLV_VALUE_MAX = 255
"""NIP-19 TLV values carry a one-byte length."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named by the user: the key and any relay hints that came with it."""

    pubkey: str
    hints: tuple[str, ...] = ()


def parse_person(text: str) -> Person:
    """An npub, nprofile (with relay hints) or 64-hex key; `InvalidInput` otherwise."""
    text = text.strip().removeprefix("nostr:")
    try:
        if len(text) == 64:
            return Person(PublicKey.from_hex(text.lower()).hex)
        entity = nip19.decode(text)
    except (DecodeError, InvalidKey, ValueError):
        raise InvalidInput(explain(text, PERSON)) from None
    if isinstance(entity, PublicKey):
        return Person(entity.hex)
    if isinstance(entity, nip19.Profile):
        return Person(entity.public_key.hex, _relay_urls(entity.relays))
    raise InvalidInput(explain(text, PERSON))


def _relay_urls(hints: Sequence[str]) -> tuple[str, ...]:
    """An nprofile's hints as relay URLs; what is none is dropped (it would end up as
    the relay of a ``p`` tag in our published follow list)."""
    out: dict[str, None] = {}
    for hint in hints:
        with contextlib.suppress(DecodeError):
            out[normalize_relay_url(hint)] = None
    return tuple(out)


def display_name(pubkey: str, profile: Profile | None, petname: str | None = None) -> str:
    if petname:
        return petname
    if profile is not None:
        try:
            meta = Metadata.from_content(profile.content)
        except DecodeError:
            meta = Metadata()
        if meta.display_name or meta.name:
            return meta.display_name or meta.name or ""
    return PublicKey.from_hex(pubkey).to_bech32()[:16] + "…"


class Contacts:
    def __init__(self, ctx: Context, relays: Relays, people: People | None = None) -> None:
        self._ctx = ctx
        self._relays = relays
        self._people = people

    async def find(self, text: str) -> Person:
        """Someone named by npub, nprofile, hex key or NIP-05 ``name@domain`` (looked up
        over HTTPS; the document's relays become hints)."""
        if self._people is not None and nip05.looks_like_identifier(text.strip()):
            resolved = await self._people.resolve(text)
            return Person(resolved.pubkey, resolved.relays)
        return parse_person(text)

    async def _verified(self, pubkeys: Sequence[str], profiles: dict[str, Profile]) -> set[str]:
        if self._people is None:
            return set()
        addresses = {
            p: _metadata(profiles[p].content).nip05 or "" for p in pubkeys if p in profiles
        }
        checked = await self._people.verified({p: a for p, a in addresses.items() if a})
        return {p for p, ok in checked.items() if ok}

    async def verify_nip05(self, pubkey: str, *, force: bool = False) -> bool:
        """Check the address in ``pubkey``'s stored profile (cached a day)."""
        stored = await self._ctx.db.run(contacts_repo.profile, pubkey)
        address = _metadata(stored.content if stored else None).nip05
        if self._people is None or not address:
            return False
        return await self._people.verify(pubkey, address, force=force)

    # --- the follow list -----------------------------------------------------------------

    async def refresh_follow_list(self) -> FollowList | None:
        """Fetch our newest kind 3 from our relays into the store; returns the stored one."""
        ctx = self._ctx
        found = await self._relays.fetch(
            [Filter(authors=[ctx.pubkey], kinds=[Kind.FOLLOW_LIST])], self._relays.mine
        )
        for event in found:
            await self.remember(event)
        return await ctx.db.run(contacts_repo.follow_list)

    async def add(self, text: str, name: str | None = None) -> ContactInfo:
        """Follow someone (npub / nprofile / hex / name@domain) and publish the updated
        follow list."""
        person = await self.find(text)
        if person.pubkey == self._ctx.pubkey:
            raise InvalidInput("that is your own key")
        ctx = self._ctx
        petname = name.strip() if name and name.strip() else None
        await ctx.db.run(contacts_repo.add, person.pubkey, now=ctx.now(), petname=petname)
        current = await self.refresh_follow_list()
        tags = list(current.tags) if current else []
        content = current.content if current else ""
        if not any(len(t) > 1 and t[0] == "p" and t[1] == person.pubkey for t in tags):
            hint = person.hints[0] if person.hints else ""
            tags.append(_follow_tag(person.pubkey, hint, petname))
            await self._publish_follow_list(tags, content, current)
        await self.fetch_profiles([person.pubkey], hints=person.hints)
        await self._relays.lists_of(person.pubkey, hints=person.hints, refresh=True)
        await self.verify_nip05(person.pubkey)
        ctx.emit(ContactUpdated(ctx.pubkey, person.pubkey))
        return await self.get(person.pubkey)

    async def _publish_follow_list(
        self, tags: Sequence[tuple[str, ...]], content: str, previous: FollowList | None
    ) -> None:
        ctx = self._ctx
        created_at = max(ctx.now(), previous.created_at + 1 if previous else 0)
        unsigned = UnsignedEvent(ctx.pubkey, created_at, Kind.FOLLOW_LIST, tuple(tags), content)
        event = await ctx.prepare(unsigned)
        await ctx.db.run(
            contacts_repo.save_follow_list, FollowList(event.id, created_at, event.tags, content)
        )
        await ctx.enqueue(event, self._relays.lookup, "follow_list")

    async def following(self) -> list[str]:
        stored = await self._ctx.db.run(contacts_repo.follow_list)
        if stored is None:
            return []
        # Our kind 3 may come from another client: a malformed key is no one to follow (it
        # made the contact list raise and every discovery filter invalid).
        return list(
            dict.fromkeys(
                t[1] for t in stored.tags if len(t) > 1 and t[0] == "p" and _HEX64.fullmatch(t[1])
            )
        )

    # --- queries ---------------------------------------------------------------------------

    async def get(self, pubkey: str) -> ContactInfo:
        ctx = self._ctx
        contact = await ctx.db.run(contacts_repo.get, pubkey)
        profile = await ctx.db.run(contacts_repo.profile, pubkey)
        follows = await self.following()
        verified = await self._verified([pubkey], {pubkey: profile} if profile else {})
        return _contact_info(
            pubkey,
            contact.petname if contact else None,
            contact.blocked if contact else False,
            profile,
            pubkey in follows,
            pubkey in verified,
        )

    async def list_contacts(self) -> list[ContactInfo]:
        """Everyone we follow or added, blocked people included (flagged)."""
        ctx = self._ctx
        stored = await ctx.db.run(contacts_repo.list_contacts, include_blocked=True)
        follows = await self.following()
        pubkeys = list(dict.fromkeys([*(c.pubkey for c in stored), *follows]))
        profiles = await ctx.db.run(contacts_repo.profiles, pubkeys)
        by_key = {c.pubkey: c for c in stored}
        verified = await self._verified(pubkeys, profiles)
        out = []
        for pubkey in pubkeys:
            c = by_key.get(pubkey)
            out.append(
                _contact_info(
                    pubkey,
                    c.petname if c else None,
                    c.blocked if c else False,
                    profiles.get(pubkey),
                    pubkey in follows,
                    pubkey in verified,
                )
            )
        return out

    async def set_blocked(self, text: str, blocked: bool) -> ContactInfo:
        ctx = self._ctx
        person = parse_person(text)
        await ctx.db.run(contacts_repo.set_blocked, person.pubkey, blocked, now=ctx.now())
        ctx.emit(ContactUpdated(ctx.pubkey, person.pubkey))
        return await self.get(person.pubkey)

    async def is_blocked(self, pubkey: str) -> bool:
        return await self._ctx.db.run(contacts_repo.is_blocked, pubkey)

    async def name_of(self, pubkey: str) -> str:
        ctx = self._ctx
        contact = await ctx.db.run(contacts_repo.get, pubkey)
        profile = await ctx.db.run(contacts_repo.profile, pubkey)
        return display_name(pubkey, profile, contact.petname if contact else None)

    async def names(self, pubkeys: Sequence[str]) -> dict[str, str]:
        ctx = self._ctx
        unique = list(dict.fromkeys(pubkeys))
        profiles = await ctx.db.run(contacts_repo.profiles, unique)
        contacts = {
            c.pubkey: c for c in await ctx.db.run(contacts_repo.list_contacts, include_blocked=True)
        }
        return {
            p: display_name(p, profiles.get(p), contacts[p].petname if p in contacts else None)
            for p in unique
        }

    async def profile(self, pubkey: str, *, fetch: bool = False) -> ProfileInfo:
        ctx = self._ctx
        if fetch:
            await self.fetch_profiles([pubkey])
            await self.verify_nip05(pubkey)
        stored = await ctx.db.run(contacts_repo.profile, pubkey)
        verified = await self._verified([pubkey], {pubkey: stored} if stored else {})
        meta = _metadata(stored.content if stored is not None else None)
        lists = await self._relays.lists_of(pubkey) if pubkey != ctx.pubkey else {}
        urls = [u for urls in lists.values() for u in urls] if lists else self._relays.mine
        key = PublicKey.from_hex(pubkey)
        return ProfileInfo(
            pubkey,
            key.to_bech32(),
            meta.display_name or meta.name or "",
            meta.about or "",
            meta.picture or "",
            nip19.encode_profile(nip19.Profile(key, _hints(urls))),
            meta.nip05 or "",
            pubkey in verified,
        )

    async def authors(self) -> list[str]:
        """Whose profiles and relay lists discovery follows: us, contacts, group members."""
        ctx = self._ctx
        stored = await ctx.db.run(contacts_repo.list_contacts, include_blocked=True)
        members = await ctx.db.run(_all_member_keys)
        follows = await self.following()
        return list(dict.fromkeys([ctx.pubkey, *(c.pubkey for c in stored), *follows, *members]))

    # --- profiles ------------------------------------------------------------------------

    async def fetch_profiles(self, pubkeys: Sequence[str], *, hints: Sequence[str] = ()) -> int:
        if not pubkeys:
            return 0
        found = await self._relays.fetch(
            [Filter(authors=list(pubkeys), kinds=[Kind.METADATA])], (*hints, *self._relays.lookup)
        )
        stored = 0
        for event in found:
            stored += await self.remember(event)
        return stored

    async def remember(self, event: Event) -> bool:
        """Cache a kind 0 or our own kind 3 (discovery events); True when it was newer."""
        ctx = self._ctx
        if event.kind == Kind.METADATA:
            profile = Profile(event.pubkey, event.content, event.created_at, event.id, ctx.now())
            changed = bool(await ctx.db.run(contacts_repo.save_profile, profile))
            if changed and _metadata(event.content).nip05:
                ctx.spawn(self._verify_and_tell(event.pubkey), "checking a NIP-05 address")
            elif changed:
                # Our own too: a key imported from another app brings its name and
                # picture with the first fetch, and the window shows them then.
                ctx.emit(ContactUpdated(ctx.pubkey, event.pubkey))
            return changed
        if event.kind == Kind.FOLLOW_LIST and event.pubkey == ctx.pubkey:
            follows = FollowList(event.id, event.created_at, event.tags, event.content)
            return bool(await ctx.db.run(contacts_repo.save_follow_list, follows))
        return False

    async def _verify_and_tell(self, pubkey: str) -> None:
        await self.verify_nip05(pubkey)
        self._ctx.emit(ContactUpdated(self._ctx.pubkey, pubkey))

    async def publish_profile(
        self,
        *,
        name: str | None = None,
        about: str | None = None,
        picture: str | None = None,
        nip05: str | None = None,
    ) -> ProfileInfo:
        """Publish our kind 0 with the given fields changed (others kept as they were;
        "" removes a field). ``picture`` is a URL: White Noise shows an https one."""
        ctx = self._ctx
        account = await ctx.db.run(accounts_repo.require)
        meta = _metadata(account.profile)
        meta = replace(
            meta,
            name=name if name is not None else meta.name,
            about=about if about is not None else meta.about,
            picture=(picture.strip() or None) if picture is not None else meta.picture,
            nip05=(nip05.strip() or None) if nip05 is not None else meta.nip05,
        )
        if meta.picture and not meta.picture.startswith(("https://", "data:image/")):
            raise InvalidInput("a profile picture is an https:// address")
        created_at = max(ctx.now(), (account.profile_created_at or 0) + 1)
        event = await ctx.prepare(metadata_event(ctx.pubkey, meta, created_at=created_at))
        await ctx.db.run(accounts_repo.set_profile, event.content, created_at)
        profile = Profile(ctx.pubkey, event.content, created_at, event.id, ctx.now())
        await ctx.db.run(contacts_repo.save_profile, profile)
        await ctx.enqueue(event, self._relays.lookup, "profile")
        if nip05:
            await self.verify_nip05(ctx.pubkey, force=True)
        return await self.profile(ctx.pubkey)

    async def publish_profile_if_new(self) -> bool:
        """A profile stored at account creation (never published) goes out once."""
        account = await self._ctx.db.run(accounts_repo.require)
        if account.profile and not account.profile_created_at:
            await self.publish_profile()
            return True
        return False


def _metadata(content: str | None) -> Metadata:
    if not content:
        return Metadata()
    try:
        return Metadata.from_content(content)
    except DecodeError:
        return Metadata()


def _follow_tag(pubkey: str, hint: str, petname: str | None) -> tuple[str, ...]:
    if petname:
        return ("p", pubkey, hint, petname)
    return ("p", pubkey, hint) if hint else ("p", pubkey)


def _contact_info(  # noqa: PLR0917
    pubkey: str,
    petname: str | None,
    blocked: bool,
    profile: Profile | None,
    following: bool,
    verified: bool = False,
) -> ContactInfo:
    meta = _metadata(profile.content if profile else None)
    return ContactInfo(
        pubkey,
        PublicKey.from_hex(pubkey).to_bech32(),
        display_name(pubkey, profile, petname),
        petname,
        meta.about or "",
        blocked,
        following,
        meta.nip05 or "",
        verified,
        meta.picture or "",
    )


def _all_member_keys(conn: Connection) -> list[str]:
    """Every identity in any of our groups: their profiles and relay lists are worth having."""
    keys: dict[str, None] = {}
    for group in groups_repo.list_groups(conn):
        keys.update((m.pubkey, None) for m in groups_repo.members(conn, group.mls_group_id))
    return list(keys)


def _hints(urls: Sequence[str], limit: int = 3) -> tuple[str, ...]:
    """The first ``limit`` distinct relays an nprofile can carry: the lists are someone
    else's, and a URL longer than a NIP-19 TLV value (255 bytes) would make encoding fail."""
    fit = (u for u in dict.fromkeys(urls) if u.isascii() and len(u) <= _TLV_VALUE_MAX)
    return tuple(itertools.islice(fit, limit))
