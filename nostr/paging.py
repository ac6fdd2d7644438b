"""Paging stored events backwards past a relay's silent per-filter cap (pure), and the
per-subscription state a ``RelaySession`` keeps for it and for resuming after a reconnect.

Relays answer each REQ filter with at most N stored events (rust-nostr's LocalRelay and
strfry: 500, nostream: 5000; most do not advertise N) and then send EOSE as if that were
all. A filter whose stored phase brought ``threshold`` events or more is therefore taken
to be cut off, and the next older page is asked for with ``until`` = the oldest
``created_at`` received, down to the filter's own ``since``. ``until`` is inclusive, so
events sharing that second come again; the pool drops the copies by id.

Why ``DEFAULT_PAGE_THRESHOLD = 100``: it has to be at or below the smallest cap in use,
because a cap below it goes unnoticed, while a threshold below the real cap costs only one
extra REQ that returns the boundary second's copies. 100 lies below every common cap
(500, 1000, 5000) and is rarely reached by a live subscription's resume window, so the
extra REQ is rare too. A relay capping below 100 needs a lower ``page_threshold``.

A full page whose events all share its ``until`` second makes no progress: the next page
then starts one second earlier (if that second held more than N events, ``until`` cannot
reach the rest; nothing can). ``until`` thus falls with every page, so paging ends, and a
relay that repeats one page whatever it is asked ends it at once: its events then lie
outside the page asked for and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from nostr.filters import Filter

DEFAULT_PAGE_THRESHOLD = 100


@dataclass(slots=True)
class Page:
    """One filter of one REQ as sent, and what its stored phase has brought so far."""

    filter: Filter
    count: int = 0
    oldest: int | None = None

    def add(self, created_at: int) -> None:
        self.count += 1
        if self.oldest is None or created_at < self.oldest:
            self.oldest = created_at

    def next_page(self, threshold: int) -> Filter | None:
        """After EOSE: the next older page, or None when this filter is complete.

        A caller's ``limit`` asks for the newest ``limit`` events: it is honoured, so a
        page asks only for what is still missing (copies at the boundary count, so a
        paged answer may fall a few events short of ``limit``).
        """
        f = self.filter
        if self.oldest is None or self.count < threshold or f.search is not None:
            return None  # a short page: nothing more; or ranked by relevance, not by time
        # A full page inside its ``until`` second: that second is all the cap lets through.
        until = self.oldest - 1 if self.oldest == f.until else self.oldest
        remaining = None if f.limit is None else f.limit - self.count
        if (remaining is not None and remaining <= 0) or until < (f.since or 0):
            return None
        return replace(f, until=until, limit=remaining)


@dataclass(slots=True)
class SubscriptionState:
    """One subscription's filters, resume cursor and paging, as a ``RelaySession`` keeps it."""

    filters: tuple[Filter, ...]
    since_margin: int
    cursor: int | None = None
    eose: bool = False
    awaiting_auth: bool = False
    stored: list[Page] = field(default_factory=list)
    """The REQ's filters as sent, counted until its EOSE."""
    backfill: list[Filter] = field(default_factory=list)
    """Older pages still owed; kept across reconnects."""
    page_id: str | None = None
    paging: list[Page] = field(default_factory=list)
    """The page REQ in flight (``page_id``) and what it has brought."""

    def start(self) -> tuple[Filter, ...]:
        """The filters to send now (resumed from the cursor); counting starts anew."""
        filters = self.filters
        if self.cursor is not None:
            since = max(0, self.cursor - self.since_margin)
            # Dropping ``limit`` on resume: the events missed while away are all wanted.
            filters = tuple(
                f
                if f.since is not None and f.since >= since
                else replace(f, since=since, limit=None)
                for f in filters
            )
        self.stored = [Page(f) for f in filters]
        return filters

    def owed(self) -> list[Filter]:
        """The connection dropped: the unfinished page and stored phase, to ask again whole.

        NIP-01 fixes no order for stored events, so what came proves nothing about the
        rest. A stored phase that brought nothing moved no cursor and is simply replayed.
        """
        cut = self.paging
        if not self.eose and any(p.count for p in self.stored):
            cut = self.stored + cut  # the cursor moved: the replay starts later for all
        self.stored, self.paging, self.page_id = [], [], None
        return [p.filter for p in cut]
