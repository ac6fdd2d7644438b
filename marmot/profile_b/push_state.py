"""The push-token records of one group, as every member's client converges on them.

Local push state, never group state: nothing here touches MLS or decides a message's
validity. Per record key (member, leaf, platform, server) at most one live record; an
entry writes only when its ``(owner_ts, SHA-256(SignedRecord) hex)`` stamp is strictly
greater than both the live record's and the key's tombstone. A removal that wins deletes
the record and leaves a tombstone with its stamp, so a stale relayed 448 cannot bring a
revoked token back; a newer record clears it. Tombstones never expire by time or epoch,
only when their member leaves the group (:meth:`PushTokenState.forget_member`). Arrival
order therefore does not matter, and applying an entry twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from marmot.profile_b.push_gossip import SignedEntry

__all__ = ["PushTokenState", "RecordKey", "Stamp"]

RecordKey = tuple[str, int, str, str]
Stamp = tuple[int, str]


@dataclass(slots=True)
class PushTokenState:
    live: dict[RecordKey, SignedEntry] = field(default_factory=dict)
    tombstones: dict[RecordKey, Stamp] = field(default_factory=dict)

    def apply(self, entry: SignedEntry) -> bool:
        """Apply one accepted (already verified) record or removal; True if it wrote."""
        key, stamp = entry.key, entry.stamp
        live = self.live.get(key)
        if live is not None and not stamp > live.stamp:
            return False
        tomb = self.tombstones.get(key)
        if tomb is not None and not stamp > tomb:
            return False
        if entry.proof.removal:
            self.live.pop(key, None)
            self.tombstones[key] = stamp
        else:
            self.live[key] = entry
            self.tombstones.pop(key, None)
        return True

    def apply_all(self, entries: Iterable[SignedEntry]) -> int:
        """In array order; each entry decided by its own stamp. Returns how many wrote."""
        return sum(self.apply(e) for e in entries)

    def forget_member(self, member_hex: str) -> None:
        """A member left or was removed: drop its records and tombstones (no 449 needed)."""
        for table in (self.live, self.tombstones):
            for key in [k for k in table if k[0] == member_hex]:
                del table[key]

    def records(self) -> list[SignedEntry]:
        """Live records in record-key order (what a 448 list response relays)."""
        return [self.live[k] for k in sorted(self.live)]
